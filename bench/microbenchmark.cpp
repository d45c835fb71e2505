// RustyRay's microbenchmark: Ray's metric names and Ray's timeit schedule
// (python/ray/_private/ray_microbenchmark_helpers.py): 4 timed runs of 2 s
// each after a warm-up of 1 s, reporting their mean and standard deviation.
// The runs are spread over 4 passes over the metrics (timeit.hpp), so the
// lines compared with each other are measured in turns.
// Next to each RustyRay metric (metric.hpp), the same loop with what a C++
// programmer would otherwise use (peers.hpp) and with plain CAF
// (caf_floors.hpp), measured in the same process run; then the scaling
// series (scaling.hpp); then, in a runtime of its own, the multi-node lines
// with this process as the head of a cluster of 3 processes on loopback
// (cluster_bench.hpp; `--node ADDRESS TOKEN` runs one of its workers).
//
// Prints one JSON line per metric on stdout, progress on stderr, and with
// --out a report (report.hpp): latest.json, latest.md and latest.svg.
//
// Usage: microbenchmark [--quick] [--filter SUBSTRING[,SUBSTRING...]] [--out DIR]
//                       [--revision TEXT]
//   --quick     0.1 s warm-up, 2 runs of 0.2 s in 2 passes, 64 MiB instead of 800 MiB
//               buffers, a few small scaling points (a smoke run, not a measurement)
//   --filter    only the metrics and scaling series whose name contains one of
//               the substrings
//   --out       write the report into DIR
//   --revision  the code's revision, for the report (./dev bench passes git's)
// Exits 2 on bad arguments or a --filter that matches nothing (writing no
// report), 1 if a scaling series failed (the report still says which and why).

#include <algorithm>
#include <ctime>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <rustyray/rustyray.hpp>

#include "caf_floors.hpp"
#include "cluster_bench.hpp"
#include "metric.hpp"
#include "peers.hpp"
#include "ray_figures.hpp"
#include "report.hpp"
#include "scaling.hpp"
#include "timeit.hpp"

namespace {

using json = nlohmann::ordered_json;
using bench::result;

struct options {
  bench::schedule sched;
  bool quick = false;
  std::string filter;
  std::string out;
  std::string revision = "unknown";
  std::string command;
};

std::optional<options> parse(int argc, char** argv) {
  options opts;
  opts.command = "microbenchmark";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    opts.command += " " + arg;
    auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= argc)
        return std::nullopt;
      opts.command += std::string{" "} + argv[i + 1];
      return argv[++i];
    };
    if (arg == "--quick") {
      opts.quick = true;
      opts.sched = bench::schedule::quick();
    } else if (arg == "--filter" || arg == "--out" || arg == "--revision") {
      auto v = value();
      if (!v)
        return std::nullopt;
      (arg == "--filter" ? opts.filter : arg == "--out" ? opts.out : opts.revision) = *v;
    } else {
      return std::nullopt;
    }
  }
  return opts;
}

bool selected(const std::string& filter, const std::string& name) {
  if (filter.empty())
    return true;
  std::istringstream parts{filter};
  for (std::string part; std::getline(parts, part, ',');)
    if (!part.empty() && name.find(part) != std::string::npos)
      return true;
  return false;
}

json load_average() {
  std::ifstream in{"/proc/loadavg"};
  double a = 0, b = 0, c = 0;
  if (in >> a >> b >> c)
    return {a, b, c};
  return json::array();
}

std::string cpu_model() {
  std::ifstream in{"/proc/cpuinfo"};
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos)
        return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  return "unknown CPU";
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

} // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::string{argv[1]} == "--node")
    return bench::run_cluster_node(argv[2], argv[3]);
  auto parsed = parse(argc, argv);
  if (!parsed) {
    std::cerr << "usage: microbenchmark [--quick] [--filter SUBSTRING[,SUBSTRING...]] "
                 "[--out DIR] [--revision TEXT]\n";
    return 2;
  }
  const options& opts = *parsed;
  const double started = bench::now_s();
  const std::string generated = utc_now();
  const json load_before = load_average();
  const json ray = json::parse(bench::ray_figures_json());
  const json& ray_metrics = ray["metrics"];

  rustyray::config cfg;
  cfg.object_store_capacity = std::uint64_t{4} << 30; // room for the 800 MiB buffer
  rustyray::init(cfg);
  const std::size_t workers = rustyray::state()["node"]["workers"]["limit"].get<std::size_t>();
  // Ray scales n to the machine's CPUs; so do we (stated in each line).
  const std::size_t n = std::max(2u, std::thread::hardware_concurrency());

  json metric_entries = json::array();
  json scaling_entries = json::array();
  json failures = json::array();
  json load_after_metrics;
  bool no_match = false;
  std::size_t cluster_chosen = 0;
  std::size_t metrics_left = 0;
  std::size_t total = 0;
  std::size_t step = 0;
  // Runs the selected metrics in passes (each pass measures every metric
  // once, so lines compared with each other are measured in turns), then
  // prints and records each with its ratios.
  auto measure = [&](const std::vector<bench::metric>& metrics, const bench::schedule& pass_sched) {
    const auto passes = static_cast<std::size_t>(opts.sched.passes);
    const double per_step_s = pass_sched.warmup_s + pass_sched.runs * pass_sched.run_s;

    std::map<std::string, std::vector<double>> rates;
    for (std::size_t pass = 1; pass <= passes; ++pass) {
      for (const auto& m : metrics) {
        if (!selected(opts.filter, m.name))
          continue;
        ++step;
        --metrics_left;
        std::cerr << "[" << step << "/" << total << "] " << m.name << ", pass " << pass << " of "
                  << passes << " (" << total - step << " left; about "
                  << static_cast<long>(per_step_s * metrics_left)
                  << " s of timed metrics after this one, then the scaling series)" << std::endl;
        auto r = m.measure();
        auto& all = rates[m.name];
        all.insert(all.end(), r.rates.begin(), r.rates.end());
      }
    }

    std::map<std::string, result> measured;
    for (const auto& m : metrics) {
      if (!selected(opts.filter, m.name))
        continue;
      auto r = bench::summarize(std::move(rates[m.name]));
      measured[m.name] = r;
      json line = {{"name", m.name},
                   {"kind", m.kind},
                   {"value", bench::round_sig(r.mean, 6)},
                   {"sd", bench::round_sig(r.sd, 6)},
                   {"unit", m.unit}};
      line.update(m.extra);
      json compared = json::array();
      for (const auto& [key, other] : m.against) {
        auto found = measured.find(other);
        if (found == measured.end() || found->second.mean <= 0)
          continue; // filtered out: no ratio rather than a wrong one
        double ratio = bench::round_sig(r.mean / found->second.mean, 4);
        line[key] = ratio;
        compared.push_back({{"key", key}, {"metric", other}, {"ratio", ratio}});
      }
      json entry = line;
      if (m.kind == "rustyray" && ray_metrics.contains(m.name)) {
        const auto& figure = ray_metrics[m.name];
        line["vs_ray_2_48"] = bench::round_sig(r.mean / figure["value"].get<double>(), 4);
        entry["vs_ray_2_48"] = line["vs_ray_2_48"];
        entry["ray_2_48"] = {{"value", figure["value"]}, {"sd", figure["sd"]}};
      }
      std::cout << line.dump() << std::endl;
      entry["series"] = m.series;
      entry["compared_with"] = compared;
      entry["about"] = m.about;
      metric_entries.push_back(std::move(entry));
    }
  };
  {
    bench::caf_floors floors{n};
    bench::asio_pool pool{workers};
    bench::mutex_map map;
    auto small = rustyray::put(0);
    std::vector<std::uint8_t> buffer;
    std::vector<std::uint8_t> target;
    // The metrics time one pass's share of the runs each time they measure.
    const auto pass_sched = opts.sched.per_pass();
    auto metrics =
      bench::all_metrics({pass_sched, floors, pool, map, workers, n, small, buffer, target});
    auto series = bench::scaling_series_list();

    std::size_t chosen = 0;
    for (const auto& m : metrics)
      chosen += selected(opts.filter, m.name) ? 1 : 0;
    for (const auto& name : bench::bench_cluster::metric_names())
      cluster_chosen += selected(opts.filter, name) ? 1 : 0;
    chosen += cluster_chosen;
    const auto passes = static_cast<std::size_t>(opts.sched.passes);
    metrics_left = chosen * passes;
    total = metrics_left;
    for (const auto& s : series)
      total += selected(opts.filter, s.name) ? 1 : 0;
    if (total == 0) {
      // A typo must not produce an empty report (or overwrite a real one).
      std::cerr << "microbenchmark: --filter " << opts.filter
                << " matches no metric or scaling series; the names are:";
      for (const auto& m : metrics)
        std::cerr << ' ' << m.name;
      for (const auto& name : bench::bench_cluster::metric_names())
        std::cerr << ' ' << name;
      for (const auto& s : series)
        std::cerr << ' ' << s.name;
      std::cerr << std::endl;
      no_match = true;
    }
    measure(metrics, pass_sched);

    load_after_metrics = load_average();
    const auto plan = opts.quick ? bench::scaling_plan::quick() : bench::scaling_plan::full();
    for (const auto& s : series) {
      if (!selected(opts.filter, s.name))
        continue;
      ++step;
      auto progress = [&](const std::string& what) {
        std::cerr << "[" << step << "/" << total << "] " << s.name << ": " << what << std::endl;
      };
      try {
        auto entry = s.run(plan, progress);
        std::cout << json{{"name", s.name}, {"points", entry["points"]}}.dump() << std::endl;
        scaling_entries.push_back(std::move(entry));
      } catch (const std::exception& e) {
        std::cerr << s.name << " failed: " << e.what() << std::endl;
        failures.push_back(s.name + ": " + e.what());
        scaling_entries.push_back(
          {{"name", s.name}, {"error", e.what()}, {"points", json::array()}});
      }
    }
  } // the floors' actors, the pool and every ref go before the runtime
  rustyray::shutdown();
  if (no_match)
    return 2;
  if (cluster_chosen > 0) {
    std::cerr << "starting the cluster for the multi-node metrics: this process and 2 workers"
              << std::endl;
    try {
      const auto pass_sched = opts.sched.per_pass();
      bench::bench_cluster cluster{"/proc/self/exe", 2};
      measure(cluster.metrics(pass_sched), pass_sched);
    } catch (const std::exception& e) {
      std::cerr << "the multi-node metrics failed: " << e.what() << std::endl;
      failures.push_back(std::string{"multi-node metrics: "} + e.what());
    }
  }

  json report = {{"generated_utc", generated},
                 {"revision", opts.revision},
                 {"mode", opts.quick ? "quick" : "full"},
                 {"command", opts.command},
                 {"duration_s", bench::round_sig(bench::now_s() - started, 4)},
                 {"machine",
                  {{"cpu", cpu_model()},
                   {"hardware_threads", std::thread::hardware_concurrency()},
                   {"load_average_before", load_before},
                   {"load_average_after_metrics", load_after_metrics},
                   {"load_average_after", load_average()}}},
                 {"schedule",
                  {{"warmup_s", opts.sched.warmup_s},
                   {"runs", opts.sched.runs},
                   {"run_s", opts.sched.run_s},
                   {"passes", opts.sched.passes},
                   {"big_buffer_bytes", opts.sched.big_buffer}}},
                 {"rustyray_workers", workers},
                 {"n", n}};
  if (!opts.filter.empty())
    report["filter"] = opts.filter;
  report["ray"] = {{"version", ray["version"]}, {"source", ray["source"]}};
  report["metrics"] = std::move(metric_entries);
  report["scaling"] = std::move(scaling_entries);
  report["failures"] = failures;
  if (!opts.out.empty()) {
    try {
      bench::write_report(opts.out, report);
      std::cerr << "report: " << opts.out << "/latest.{json,md,svg}" << std::endl;
    } catch (const std::exception& e) {
      std::cerr << "microbenchmark: " << e.what() << std::endl;
      return 1;
    }
  }
  return failures.empty() ? 0 : 1;
}
