#include "report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace bench {

double round_sig(double x, int digits) {
  if (x == 0 || !std::isfinite(x))
    return x;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.*g", digits, x);
  return std::strtod(buf, nullptr);
}

namespace {

using json = nlohmann::ordered_json;

std::string printf_string(const char* fmt, double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, x);
  return buf;
}

/// 1234567 -> "1,234,567".
std::string with_separators(long long n) {
  auto digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0)
      out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

/// Three significant digits for people: 0.156, 13.4, 981, 20,800, 12.9 M.
std::string human(double x) {
  if (!std::isfinite(x))
    return "n/a";
  double mag = std::fabs(x);
  if (mag >= 1e9)
    return printf_string("%.3g G", x / 1e9);
  if (mag >= 1e6)
    return printf_string("%.3g M", x / 1e6);
  if (mag >= 1000)
    return with_separators(std::llround(round_sig(x, 3)));
  return printf_string("%.3g", x);
}

std::string human_bytes(double bytes) {
  static const char* const units[] = {"B", "KiB", "MiB", "GiB"};
  int u = 0;
  while (bytes >= 1024 && u < 3) {
    bytes /= 1024;
    ++u;
  }
  return printf_string("%.4g", bytes) + " " + units[u];
}

/// A value and its standard deviation on the value's scale: "12.9 M ± 0.38 M".
std::string human_with_sd(double value, double sd) {
  double mag = std::fabs(value);
  if (mag >= 1e9)
    return human(value) + " ± " + printf_string("%.2g G", sd / 1e9);
  if (mag >= 1e6)
    return human(value) + " ± " + printf_string("%.2g M", sd / 1e6);
  return human(value) + " ± " + human(sd);
}

/// Three significant digits, trailing zeros kept (1.00×, 0.0911×, 21.2×).
std::string ratio_text(double r) {
  return (std::fabs(r) >= 100 ? human(r) : printf_string("%#.3g", r)) + "×";
}

/// Markdown table cells may not contain a bare '|'.
std::string cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|')
      out += '\\';
    out += c;
  }
  return out;
}

std::string xml_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

const json* find_metric(const json& report, const std::string& name) {
  for (const auto& m : report["metrics"])
    if (m["name"] == name)
      return &m;
  return nullptr;
}

std::string kind_label(const json& m) {
  auto kind = m.value("kind", "");
  auto series = m.value("series", "");
  if (kind == "rustyray")
    return "RustyRay";
  return kind + ": " + series;
}

std::string load_text(const json& load) {
  if (!load.is_array() || load.empty())
    return "unknown";
  return printf_string("%.2f", load[0].get<double>());
}

std::string duration_text(double s) {
  auto total = static_cast<long>(std::lround(s));
  if (total < 60)
    return std::to_string(total) + " s";
  return std::to_string(total / 60) + " min " + std::to_string(total % 60) + " s";
}

void markdown_header(std::ostringstream& md, const json& report) {
  const auto& machine = report["machine"];
  const auto& sched = report["schedule"];
  md << "# RustyRay microbenchmark\n\n";
  if (report.value("mode", "") == "quick")
    md << "> **Quick run** (`--quick`): short timings, small buffers and few scaling points. "
          "It proves that every code path runs and writes this report; its figures mean "
          "nothing.\n\n";
  md << "Generated " << report.value("generated_utc", "?") << " from revision `"
     << report.value("revision", "unknown") << "` by `" << report.value("command", "?") << "`, in "
     << duration_text(report.value("duration_s", 0.0)) << ".\n\n";
  md << "Machine: " << machine.value("cpu", "unknown CPU") << ", "
     << machine.value("hardware_threads", 0) << " hardware threads; load average "
     << load_text(machine["load_average_before"]) << " before the run, "
     << load_text(machine["load_average_after_metrics"]) << " after the metrics, "
     << load_text(machine["load_average_after"])
     << " at the end (the actors series alone starts thousands of threads). Other work on "
        "the machine moves every figure: compare the ratios within one run.\n\n";
  md << "Schedule: Ray's timeit, " << sched.value("runs", 0) << " timed runs of "
     << sched.value("run_s", 0.0) << " s after " << sched.value("warmup_s", 0.0)
     << " s of warm-up, spread over " << sched.value("passes", 1)
     << " passes over the metrics (each pass warms up again), so that lines compared with "
        "each other are measured in turns and a slow phase of the machine falls on both; a "
        "value is the mean rate of the runs, ± their standard deviation. RustyRay runs with "
     << report.value("rustyray_workers", 0) << " task workers; n = " << report.value("n", 0)
     << " in the 1:n and n:n patterns.";
  if (report.contains("filter"))
    md << " Only the metrics matching `--filter " << report["filter"].get<std::string>()
       << "` ran.";
  md << "\n\n";
  const auto& ray = report["ray"];
  if (ray.is_object() && ray.contains("source")) {
    const auto& src = ray["source"];
    md << "Ray " << ray.value("version", "?") << ": the figures Ray publishes in "
       << src.value("repository", "?") << ", `" << src.value("file", "?") << "` at commit `"
       << src.value("commit", "?") << "` (" << src.value("pull_request", "") << "), measured on "
       << "Ray's release-test machines, not on this one. `× Ray` is RustyRay's value divided "
          "by Ray's.\n\n";
  }
}

void markdown_metrics(std::ostringstream& md, const json& report) {
  md << "## Every metric\n\n";
  md << "Peers are the same loop written with what a C++ programmer would otherwise use; "
        "floors are the same pattern with plain CAF actors (or memcpy) and nothing in "
        "between. All of them ran in this process, just before the RustyRay line they are "
        "compared with. A ratio is RustyRay's rate divided by the other's: above 1, RustyRay "
        "is faster.\n\n";
  md << "| metric | kind | value | Ray 2.48 | × Ray | RustyRay ÷ the same loop in this run |\n";
  md << "|---|---|---|---|---|---|\n";
  for (const auto& m : report["metrics"]) {
    auto unit = m.value("unit", "");
    md << "| `" << m.value("name", "") << "` | " << kind_label(m) << " | "
       << human_with_sd(m.value("value", 0.0), m.value("sd", 0.0)) << " " << unit;
    if (m.contains("n"))
      md << " (n = " << m["n"].get<int>() << ")";
    md << " | ";
    if (m.contains("ray_2_48"))
      md << human(m["ray_2_48"]["value"].get<double>()) << " " << unit << " | "
         << ratio_text(m.value("vs_ray_2_48", 0.0));
    else
      md << "— | —";
    md << " | ";
    bool first = true;
    for (const auto& c : m.value("compared_with", json::array())) {
      md << (first ? "" : ", ") << ratio_text(c["ratio"].get<double>()) << " `"
         << c["metric"].get<std::string>() << "`";
      first = false;
    }
    md << " |\n";
  }
  md << "\n![RustyRay, its peers and floors, and Ray 2.48 in ops/s on a log scale](latest.svg)"
        "\n\n";
  md << "### What each line runs\n\n";
  for (const auto& m : report["metrics"])
    md << "- `" << m.value("name", "") << "`: " << m.value("about", "") << "\n";
  md << "\n";
}

std::string x_text(const json& series, const json& x) {
  if (series.value("x", "") == "bytes")
    return human_bytes(x.get<double>());
  return with_separators(x.get<long long>());
}

void markdown_scaling(std::ostringstream& md, const json& report) {
  if (!report.contains("scaling") || report["scaling"].empty())
    return;
  md << "## Scaling\n\n";
  md << "How the cost grows with the amount of work. Each point is the median of its "
        "repeats; per item it should stay flat, and each section says what bends it where "
        "it does not.\n\n";
  for (const auto& s : report["scaling"]) {
    md << "### " << s.value("title", s.value("name", "")) << " (`" << s.value("name", "")
       << "`)\n\n";
    md << s.value("about", "") << ".\n\n";
    if (s.contains("error"))
      md << "**Failed:** " << s["error"].get<std::string>() << "\n\n";
    const auto& points = s["points"];
    if (points.empty())
      continue;
    md << "| " << s.value("x", "x");
    for (const auto& c : s["columns"])
      md << " | " << c["label"].get<std::string>();
    md << " | repeats |\n|---";
    for (std::size_t i = 0; i <= s["columns"].size(); ++i)
      md << "|---";
    md << "|\n";
    for (const auto& p : points) {
      md << "| " << x_text(s, p["x"]);
      for (const auto& c : s["columns"]) {
        auto key = c["key"].get<std::string>();
        md << " | " << (p.contains(key) ? human(p[key].get<double>()) : "—");
      }
      md << " | " << p.value("repeats", 0) << " |\n";
    }
    md << "\n";
    for (const auto& key : s.value("flat", json::array())) {
      auto k = key.get<std::string>();
      std::string label = k;
      for (const auto& c : s["columns"])
        if (c["key"] == k)
          label = c["label"].get<std::string>();
      double lo = INFINITY;
      double hi = 0;
      for (const auto& p : points) {
        lo = std::min(lo, p[k].get<double>());
        hi = std::max(hi, p[k].get<double>());
      }
      double first = points.front()[k].get<double>();
      double last = points.back()[k].get<double>();
      md << "- " << label << ": " << human(first) << " at " << x_text(s, points.front()["x"])
         << ", " << human(last) << " at " << x_text(s, points.back()["x"]) << " ("
         << ratio_text(last / first) << " the first point's; largest ÷ smallest over all "
         << "points " << ratio_text(lo > 0 ? hi / lo : 0) << ").\n";
    }
    md << "\n" << s.value("note", "") << "\n\n";
  }
}

void markdown_failures(std::ostringstream& md, const json& report) {
  if (!report.contains("failures") || report["failures"].empty())
    return;
  md << "## Failures\n\n";
  for (const auto& f : report["failures"])
    md << "- " << cell(f.get<std::string>()) << "\n";
  md << "\n";
}

void markdown_reproduce(std::ostringstream& md) {
  md << "## Reproduce\n\n"
        "```sh\n"
        "./dev bench                        # Release build, every metric and scaling series,\n"
        "                                   # this report into bench/results/ (latest.json, .md, "
        ".svg)\n"
        "./dev bench --quick                # seconds: every code path, meaningless figures\n"
        "./dev bench --filter tasks,scaling_chain   # only metrics whose name contains a part\n"
        "```\n\n"
        "The numbers are only comparable within one run on a quiet machine; the ratios are "
        "what carries over.\n";
}

} // namespace

std::string render_markdown(const json& report) {
  std::ostringstream md;
  markdown_header(md, report);
  markdown_metrics(md, report);
  markdown_scaling(md, report);
  markdown_failures(md, report);
  markdown_reproduce(md);
  return md.str();
}

namespace {

struct bar {
  std::string series;
  double value;
};

struct bar_group {
  std::string name;
  std::vector<bar> bars;
};

const char* const ray_series = "Ray 2.48 (published)";

std::vector<bar_group> chart_groups(const json& report) {
  std::vector<bar_group> groups;
  for (const auto& m : report["metrics"]) {
    if (m.value("kind", "") != "rustyray" || m.value("unit", "") != "ops/s")
      continue;
    bar_group g{m["name"].get<std::string>(), {{"RustyRay", m["value"].get<double>()}}};
    for (const auto& c : m.value("compared_with", json::array())) {
      auto other = find_metric(report, c["metric"].get<std::string>());
      if (other != nullptr && (*other)["unit"] == m["unit"])
        g.bars.push_back({(*other)["series"].get<std::string>(), (*other)["value"].get<double>()});
    }
    if (m.contains("ray_2_48"))
      g.bars.push_back({ray_series, m["ray_2_48"]["value"].get<double>()});
    if (g.bars.size() >= 2)
      groups.push_back(std::move(g));
  }
  return groups;
}

std::string decade_label(int e) {
  static const char* const labels[] = {"1",  "10",  "100",  "1k", "10k", "100k",
                                       "1M", "10M", "100M", "1G", "10G"};
  if (e >= 0 && e <= 10)
    return labels[e];
  return "1e" + std::to_string(e);
}

} // namespace

std::string render_svg(const json& report) {
  auto groups = chart_groups(report);
  // Colours: fixed ones for RustyRay, Ray and the CAF floors, the rest in order.
  std::map<std::string, std::string> colour{
    {"RustyRay", "#e8590c"}, {ray_series, "#7048e8"}, {"raw CAF", "#868e96"}};
  std::vector<std::string> legend{"RustyRay"};
  const char* const palette[] = {"#1c7ed6", "#37b24d", "#f59f00", "#d6336c", "#0ca678", "#495057"};
  std::size_t next = 0;
  double lo_v = INFINITY;
  double hi_v = 0;
  for (const auto& g : groups)
    for (const auto& b : g.bars) {
      if (!colour.count(b.series))
        colour[b.series] = palette[next++ % std::size(palette)];
      if (std::find(legend.begin(), legend.end(), b.series) == legend.end())
        legend.push_back(b.series);
      if (b.value > 0) {
        lo_v = std::min(lo_v, b.value);
        hi_v = std::max(hi_v, b.value);
      }
    }
  // The legend in the groups' order: RustyRay, the peers, the floor, Ray.
  for (const char* last : {"raw CAF", ray_series})
    if (auto it = std::find(legend.begin(), legend.end(), last); it != legend.end()) {
      legend.erase(it);
      legend.push_back(last);
    }
  int lo = groups.empty() ? 0 : static_cast<int>(std::floor(std::log10(lo_v)));
  int hi = groups.empty() ? 1 : static_cast<int>(std::ceil(std::log10(hi_v)));
  if (hi <= lo)
    hi = lo + 1;

  const double width = 1000;
  const double x0 = 340;
  const double x1 = 900;
  const double bar_h = 13;
  const double bar_gap = 2;
  const double group_gap = 12;
  const double legend_y = 62;
  const double legend_rows = std::ceil(static_cast<double>(legend.size()) / 4);
  const double axis_y = legend_y + legend_rows * 18 + 16;
  double plot_top = axis_y + 8;
  double height = plot_top;
  for (const auto& g : groups)
    height += static_cast<double>(g.bars.size()) * (bar_h + bar_gap) + group_gap;
  double plot_bottom = height;
  height += 40;
  auto x_of = [&](double v) { return x0 + (std::log10(v) - lo) / (hi - lo) * (x1 - x0); };

  std::ostringstream svg;
  svg << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
      << "\" viewBox=\"0 0 " << width << " " << height
      << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  svg << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg << "<text x=\"" << width / 2
      << "\" y=\"24\" text-anchor=\"middle\" font-size=\"16\" "
         "font-weight=\"bold\">RustyRay, the same loops in plain C++ and CAF, and Ray 2.48 "
         "(ops/s, log scale)</text>\n";
  std::string sub = "revision " + report.value("revision", std::string{"unknown"}) + ", "
                    + report.value("generated_utc", std::string{"?"});
  if (report.value("mode", "") == "quick")
    sub += " — QUICK RUN: figures mean nothing";
  svg << "<text x=\"" << width / 2 << "\" y=\"42\" text-anchor=\"middle\" fill=\"#495057\">"
      << xml_escape(sub) << "</text>\n";
  for (std::size_t i = 0; i < legend.size(); ++i) {
    double lx = 60 + static_cast<double>(i % 4) * 230;
    double ly = legend_y + std::floor(static_cast<double>(i) / 4) * 18;
    svg << "<rect x=\"" << lx << "\" y=\"" << ly - 10 << "\" width=\"12\" height=\"12\" fill=\""
        << colour[legend[i]] << "\"/><text x=\"" << lx + 18 << "\" y=\"" << ly << "\">"
        << xml_escape(legend[i]) << "</text>\n";
  }
  for (int e = lo; e <= hi; ++e) {
    double x = x_of(std::pow(10.0, e));
    svg << "<line x1=\"" << x << "\" y1=\"" << plot_top << "\" x2=\"" << x << "\" y2=\""
        << plot_bottom << "\" stroke=\"#dee2e6\"/><text x=\"" << x << "\" y=\"" << axis_y
        << "\" text-anchor=\"middle\" fill=\"#495057\">" << decade_label(e) << "</text>\n";
  }
  double y = plot_top;
  for (const auto& g : groups) {
    double group_h = static_cast<double>(g.bars.size()) * (bar_h + bar_gap);
    svg << "<text x=\"" << x0 - 8 << "\" y=\"" << y + group_h / 2 + 4
        << "\" text-anchor=\"end\" font-family=\"monospace\">" << xml_escape(g.name) << "</text>\n";
    for (const auto& b : g.bars) {
      double w = b.value > 0 ? std::max(1.0, x_of(b.value) - x0) : 0;
      svg << "<rect x=\"" << x0 << "\" y=\"" << y << "\" width=\"" << w << "\" height=\"" << bar_h
          << "\" fill=\"" << colour[b.series] << "\"><title>" << xml_escape(b.series) << ": "
          << human(b.value) << " ops/s</title></rect><text x=\"" << x0 + w + 4 << "\" y=\""
          << y + bar_h - 3 << "\" font-size=\"10\">" << human(b.value) << "</text>\n";
      y += bar_h + bar_gap;
    }
    y += group_gap;
  }
  svg << "<text x=\"" << width / 2 << "\" y=\"" << plot_bottom + 24
      << "\" text-anchor=\"middle\" font-size=\"11\" fill=\"#495057\">Ray's bars are its "
         "published 2.48 figures from Ray's release-test machines; every other bar was "
         "measured in this run.</text>\n";
  svg << "</svg>\n";
  return svg.str();
}

namespace {

void write_file(const std::filesystem::path& path, const std::string& text) {
  auto tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out{tmp, std::ios::binary | std::ios::trunc};
    out << text;
    out.close();
    if (!out)
      throw std::runtime_error("cannot write " + tmp.string());
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec)
    throw std::runtime_error("cannot rename " + tmp.string() + " to " + path.string() + ": "
                             + ec.message());
}

} // namespace

void write_report(const std::string& dir, const json& report) {
  std::filesystem::path out{dir};
  std::error_code ec;
  std::filesystem::create_directories(out, ec);
  if (ec)
    throw std::runtime_error("cannot create " + dir + ": " + ec.message());
  write_file(out / "latest.json", report.dump(2) + "\n");
  write_file(out / "latest.md", render_markdown(report));
  write_file(out / "latest.svg", render_svg(report));
}

} // namespace bench
