// Checks a report written by `microbenchmark --out DIR`: that latest.json
// parses and holds every metric with sound figures and ratios, that
// latest.md and latest.svg show what the JSON holds, and that the stdout
// lines (if saved) are JSON. Prints every problem found; exits 1 if any.
//
// Usage: check_report DIR RAY_FIGURES_JSON [STDOUT_FILE]

#include <cmath>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

using json = nlohmann::ordered_json;

std::vector<std::string> problems;

void problem(const std::string& what) {
  problems.push_back(what);
}

std::string read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in) {
    problem("cannot read " + path);
    return {};
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool positive_number(const json& x) {
  return x.is_number() && std::isfinite(x.get<double>()) && x.get<double>() > 0;
}

bool close(double x, double y) {
  // Ratios are stored with 4 significant digits, values with 6.
  return std::fabs(x - y) <= 1e-3 * std::fabs(y) + 1e-12;
}

const json* find(const json& metrics, const std::string& name) {
  for (const auto& m : metrics)
    if (m.value("name", "") == name)
      return &m;
  return nullptr;
}

void check_metric(const json& m, const json& metrics, const json& ray_metrics) {
  auto name = m.value("name", std::string{});
  if (name.empty()) {
    problem("a metric without a name: " + m.dump());
    return;
  }
  const std::string at = "metric " + name + ": ";
  static const std::set<std::string> kinds{"rustyray", "peer", "floor"};
  if (!kinds.count(m.value("kind", "")))
    problem(at + "kind is not rustyray, peer or floor");
  if (!positive_number(m.value("value", json{})))
    problem(at + "value is not a positive number");
  if (!m.contains("sd") || !m["sd"].is_number() || m["sd"].get<double>() < 0)
    problem(at + "sd is not a number >= 0");
  for (const char* key : {"unit", "series", "about"})
    if (m.value(key, std::string{}).empty())
      problem(at + "no " + key);
  for (const auto& c : m.value("compared_with", json::array())) {
    auto key = c.value("key", std::string{});
    auto other = find(metrics, c.value("metric", std::string{}));
    if (other == nullptr) {
      problem(at + "compared with a metric the report lacks: " + c.dump());
      continue;
    }
    if (!positive_number(c.value("ratio", json{})) || !m.contains(key) || m[key] != c["ratio"])
      problem(at + "ratio " + key + " missing or differs from compared_with");
    else if (!close(c["ratio"].get<double>(),
                    m["value"].get<double>() / (*other)["value"].get<double>()))
      problem(at + key + " is not value / " + (*other)["name"].get<std::string>() + "'s value");
  }
  if (m.value("kind", "") == "rustyray" && ray_metrics.contains(name)) {
    if (!m.contains("ray_2_48") || m["ray_2_48"]["value"] != ray_metrics[name]["value"])
      problem(at + "Ray 2.48's figure missing or not the one in the figures file");
    else if (!m.contains("vs_ray_2_48")
             || !close(m["vs_ray_2_48"].get<double>(),
                       m["value"].get<double>() / ray_metrics[name]["value"].get<double>()))
      problem(at + "vs_ray_2_48 missing or not value / Ray's value");
  }
}

void check_scaling(const json& s) {
  auto name = s.value("name", std::string{});
  const std::string at = "scaling series " + name + ": ";
  if (s.contains("error"))
    problem(at + "failed: " + s["error"].get<std::string>());
  const auto& points = s.value("points", json::array());
  if (points.empty())
    problem(at + "no points");
  double last_x = 0;
  for (const auto& p : points) {
    if (!positive_number(p.value("x", json{})) || p["x"].get<double>() <= last_x)
      problem(at + "x missing or not increasing: " + p.dump());
    else
      last_x = p["x"].get<double>();
    for (const auto& c : s.value("columns", json::array())) {
      auto v = p.value(c.value("key", std::string{}), json{});
      if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0)
        problem(at + "column " + c.value("key", std::string{}) + " not a number >= 0 in "
                + p.dump());
    }
    // The per-item costs the report compares across points must be measured.
    for (const auto& key : s.value("flat", json::array()))
      if (!positive_number(p.value(key.get<std::string>(), json{})))
        problem(at + key.get<std::string>() + " not a positive number in " + p.dump());
  }
  if (s.value("flat", json::array()).empty())
    problem(at + "no per-item column named in flat");
}

/// Tags balance: every element opened is closed, in order (a small XML
/// well-formedness check: no attributes containing '>' are written).
void check_svg(const std::string& svg, const json& report) {
  if (svg.rfind("<?xml", 0) != 0
      || svg.find("<svg xmlns=\"http://www.w3.org/2000/svg\"") == std::string::npos)
    problem("latest.svg: no XML declaration or no svg root element");
  std::vector<std::string> open;
  std::size_t pos = 0;
  int elements = 0;
  while ((pos = svg.find('<', pos)) != std::string::npos) {
    auto end = svg.find('>', pos);
    if (end == std::string::npos) {
      problem("latest.svg: a tag is not closed");
      break;
    }
    auto tag = svg.substr(pos + 1, end - pos - 1);
    pos = end + 1;
    if (tag.empty() || tag[0] == '?' || tag[0] == '!')
      continue;
    ++elements;
    if (tag[0] == '/') {
      auto name = tag.substr(1);
      if (open.empty() || open.back() != name) {
        problem("latest.svg: </" + name + "> closes " + (open.empty() ? "nothing" : open.back()));
        return;
      }
      open.pop_back();
    } else if (tag.back() != '/') {
      open.push_back(tag.substr(0, tag.find_first_of(" \n")));
    }
  }
  if (!open.empty())
    problem("latest.svg: <" + open.back() + "> is never closed");
  if (svg.find("</svg>") == std::string::npos || elements < 10)
    problem("latest.svg: no </svg> or hardly any elements");
  // Every charted metric (RustyRay in ops/s with Ray's figure) has its group.
  for (const auto& m : report["metrics"])
    if (m.value("kind", "") == "rustyray" && m.value("unit", "") == "ops/s"
        && m.contains("ray_2_48")
        && svg.find(">" + m["name"].get<std::string>() + "<") == std::string::npos)
      problem("latest.svg: no bars for " + m["name"].get<std::string>());
}

void check_markdown(const std::string& md, const json& report) {
  if (md.rfind("# RustyRay microbenchmark", 0) != 0)
    problem("latest.md: does not start with its title");
  for (const auto& m : report["metrics"])
    if (md.find("| `" + m["name"].get<std::string>() + "` |") == std::string::npos)
      problem("latest.md: no table row for " + m["name"].get<std::string>());
  for (const auto& s : report["scaling"])
    if (md.find("(`" + s["name"].get<std::string>() + "`)") == std::string::npos)
      problem("latest.md: no section for " + s["name"].get<std::string>());
  if (md.find("(latest.svg)") == std::string::npos)
    problem("latest.md: does not show latest.svg");
  auto commit = report["ray"]["source"].value("commit", std::string{"?"});
  if (md.find(commit) == std::string::npos)
    problem("latest.md: does not name the Ray figures' commit " + commit);
  if (md.find("## Reproduce") == std::string::npos)
    problem("latest.md: no Reproduce section");
}

void check_stdout(const std::string& text, const json& report) {
  std::istringstream lines{text};
  std::set<std::string> names;
  for (std::string line; std::getline(lines, line);) {
    try {
      names.insert(json::parse(line).at("name").get<std::string>());
    } catch (const std::exception& e) {
      problem("stdout: not a JSON line with a name: " + line);
    }
  }
  for (const auto& m : report["metrics"])
    if (!names.count(m["name"].get<std::string>()))
      problem("stdout: no line for " + m["name"].get<std::string>());
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    std::cerr << "usage: check_report DIR RAY_FIGURES_JSON [STDOUT_FILE]\n";
    return 2;
  }
  const std::string dir = argv[1];
  json report;
  json ray;
  try {
    report = json::parse(read_file(dir + "/latest.json"));
    ray = json::parse(read_file(argv[2]));
  } catch (const std::exception& e) {
    problem(std::string{"JSON does not parse: "} + e.what());
  }
  if (problems.empty()) {
    for (const char* key : {"generated_utc", "revision", "mode", "machine", "schedule", "ray",
                            "metrics", "scaling", "failures"})
      if (!report.contains(key))
        problem(std::string{"latest.json: no "} + key);
  }
  if (problems.empty()) {
    const auto& metrics = report["metrics"];
    if (!metrics.is_array() || metrics.empty())
      problem("latest.json: no metrics");
    for (const auto& m : metrics)
      check_metric(m, metrics, ray["metrics"]);
    for (const auto& s : report["scaling"])
      check_scaling(s);
    for (const auto& f : report["failures"])
      problem("the run reports a failure: " + f.get<std::string>());
    if (report["ray"]["source"] != ray["source"])
      problem("latest.json: the Ray source differs from the figures file's");
    const auto& sched = report["schedule"];
    if (!sched.value("passes", json{}).is_number_integer() || sched["passes"].get<int>() < 1
        || !sched.value("runs", json{}).is_number_integer()
        || sched["runs"].get<int>() % sched["passes"].get<int>() != 0)
      problem("latest.json: the schedule's passes are missing or do not divide its runs");
    if (!report.contains("filter")) {
      // An unfiltered run has every Ray metric, the peers and every series.
      for (const auto& [name, figure] : ray["metrics"].items())
        if (find(metrics, name) == nullptr)
          problem("latest.json: no line for Ray's metric " + name);
      for (const char* name : {"asio_pool_tasks_sync", "asio_pool_tasks_async",
                               "std_async_tasks_sync", "std_async_tasks_async"})
        if (find(metrics, name) == nullptr)
          problem(std::string{"latest.json: no peer "} + name);
      if (auto m = find(metrics, "single_client_tasks_sync"))
        for (const char* key : {"vs_asio_pool", "vs_std_async", "vs_caf_request_response_sync"})
          if (!m->contains(key))
            problem(std::string{"single_client_tasks_sync: no "} + key);
      for (const char* name : {"scaling_tasks_async", "scaling_object_size", "scaling_chain_depth",
                               "scaling_actors"}) {
        bool found = false;
        for (const auto& s : report["scaling"])
          found = found || s["name"] == name;
        if (!found)
          problem(std::string{"latest.json: no scaling series "} + name);
      }
    }
    check_markdown(read_file(dir + "/latest.md"), report);
    check_svg(read_file(dir + "/latest.svg"), report);
    if (argc == 4)
      check_stdout(read_file(argv[3]), report);
  }
  for (const auto& p : problems)
    std::cerr << "check_report: " << p << "\n";
  if (!problems.empty())
    return 1;
  std::cout << "check_report: " << dir << " is a complete report (" << report["metrics"].size()
            << " metrics, " << report["scaling"].size() << " scaling series)\n";
  return 0;
}
