// RustyRay's microbenchmark: Ray's metric names and Ray's timeit schedule
// (python/ray/_private/ray_microbenchmark_helpers.py): a warm-up of 1 s, then
// 4 timed runs of 2 s each, reporting their mean and standard deviation.
// Next to each RustyRay metric, the same loop with what a C++ programmer
// would otherwise use (peers.hpp) and with plain CAF (caf_floors.hpp),
// measured in the same process run; then the scaling series (scaling.hpp).
//
// Prints one JSON line per metric on stdout, progress on stderr, and with
// --out a report (report.hpp): latest.json, latest.md and latest.svg.
//
// Usage: microbenchmark [--quick] [--filter SUBSTRING[,SUBSTRING...]] [--out DIR]
//                       [--revision TEXT]
//   --quick     0.1 s warm-up, 2 runs of 0.2 s, 64 MiB instead of 800 MiB
//               buffers, a few small scaling points (a smoke run, not a measurement)
//   --filter    only the metrics and scaling series whose name contains one of
//               the substrings
//   --out       write the report into DIR
//   --revision  the code's revision, for the report (./dev bench passes git's)
// Exits 1 if a scaling series failed (the report still says which and why).

#include <algorithm>
#include <cstring>
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
#include "peers.hpp"
#include "ray_figures.hpp"
#include "report.hpp"
#include "scaling.hpp"
#include "timeit.hpp"
#include "workloads.hpp"

namespace {

using json = nlohmann::ordered_json;
using bench::result;

/// One line of the benchmark: a RustyRay metric, a peer or a floor.
struct metric {
  std::string name;
  std::string kind;   // "rustyray", "peer" or "floor"
  std::string series; // its bar colour in the chart: "RustyRay", "std::async", ...
  std::string unit;
  std::string about;  // what the loop does, for the report
  std::function<result()> measure;
  /// The lines this one is compared with: {ratio key, metric name}.
  std::vector<std::pair<std::string, std::string>> against = {};
  json extra = json::object(); // more fields of the line, e.g. n
};

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

std::string mib_text(std::size_t bytes) {
  return std::to_string(bytes >> 20) + " MiB";
}

rustyray::object_ref<int> small_task(int) {
  return rustyray::task(bench::small_value).remote();
}

/// Submits call i of the async actor loops to `a`.
auto small_call(const rustyray::actor_handle<bench::bench_actor>& a) {
  return [a](int) { return a.task(&bench::bench_actor::small_value).remote(); };
}

/// Filled only when a bandwidth metric runs: touching 1.6 GB takes seconds.
void fill_buffers(std::vector<std::uint8_t>& buffer, std::vector<std::uint8_t>& target,
                  std::size_t bytes) {
  buffer.resize(bytes, 1);
  target.resize(bytes, 0);
}

/// Every metric, in run order: peers and floors before the RustyRay lines
/// that are compared with them.
std::vector<metric> all_metrics(const bench::schedule& s, bench::caf_floors& floors,
                                bench::asio_pool& pool, bench::mutex_map& map,
                                std::size_t pool_threads, std::size_t n,
                                const rustyray::object_ref<int>& small,
                                std::vector<std::uint8_t>& buffer,
                                std::vector<std::uint8_t>& target) {
  // The measuring functions run after this function returns: they capture
  // by reference only what the caller owns, everything else by value.
  using bench::timeit;
  const double gb = static_cast<double>(s.big_buffer) / 1e9;
  const json n_field = {{"n", n}};
  const std::string pool_text = "a `boost::asio::thread_pool` of " + std::to_string(pool_threads) +
                                " threads (as many as RustyRay's task workers)";
  const std::string strand_text = "a `boost::asio::strand` on that pool (calls run one at a time "
                                  "in submission order: an actor in plain C++)";
  return {
    {"mutex_map_get_calls", "peer", "unordered_map + mutex", "ops/s",
     "copy a small int out of an `std::unordered_map<id, std::any>` under one `std::mutex`; "
     "repeated",
     [&] {
       auto id = map.put(0);
       return timeit(s, [&] { (void)map.get<int>(id); });
     }},
    {"single_client_get_calls_Plasma_Store", "rustyray", "RustyRay", "ops/s",
     "`rustyray::get` of a small stored int; repeated",
     [&] { return timeit(s, [&] { (void)rustyray::get(small); }); },
     {{"vs_mutex_map", "mutex_map_get_calls"}}},
    {"mutex_map_put_calls", "peer", "unordered_map + mutex", "ops/s",
     "insert a small int into that map under a new ID, then erase it; repeated",
     [&] { return timeit(s, [&] { map.free(map.put(0)); }); }},
    {"single_client_put_calls_Plasma_Store", "rustyray", "RustyRay", "ops/s",
     "`rustyray::put(0)`, its ref dropped at once (which frees the object); repeated",
     [&] { return timeit(s, [] { (void)rustyray::put(0); }); },
     {{"vs_mutex_map", "mutex_map_put_calls"}}},
    {"caf_request_response_sync", "floor", "raw CAF", "ops/s",
     "a `caf::scoped_actor` sends an int to a CAF actor and waits for the reply; repeated",
     [&] { return floors.request_response_sync(s); }},
    {"asio_pool_tasks_sync", "peer", "Boost.Asio thread_pool", "ops/s",
     "post `small_value` to " + pool_text + " with a `std::promise`, wait on its future; repeated",
     [&] { return timeit(s, [&] { (void)pool.submit_and_get(bench::small_value); }); }},
    {"std_async_tasks_sync", "peer", "std::async", "ops/s",
     "`std::async(std::launch::async, small_value).get()` (a new thread each); repeated",
     [&] { return timeit(s, [] { (void)bench::std_async_submit_and_get(bench::small_value); }); }},
    {"single_client_tasks_sync", "rustyray", "RustyRay", "ops/s",
     "`task(small_value).remote().get()`; repeated",
     [&] {
       return timeit(s, [] { (void)rustyray::task(bench::small_value).remote().get(); });
     },
     {{"vs_asio_pool", "asio_pool_tasks_sync"},
      {"vs_std_async", "std_async_tasks_sync"},
      {"vs_caf_request_response_sync", "caf_request_response_sync"}}},
    {"caf_request_response_async", "floor", "raw CAF", "ops/s",
     "a `caf::scoped_actor` sends 1,000 ints to one CAF actor, then receives the 1,000 replies",
     [&] { return floors.request_response_async(s); }},
    {"asio_pool_tasks_async", "peer", "Boost.Asio thread_pool", "ops/s",
     "post 1,000 `small_value` tasks to the pool, each with a `std::promise`, then wait for every "
     "future",
     [&] { return timeit(s, [&] { pool.submit_then_get(1000, bench::small_value); }, 1000); }},
    {"std_async_tasks_async", "peer", "std::async", "ops/s",
     "1,000 `std::async(std::launch::async, small_value)` (1,000 threads), then get every future",
     [&] {
       return timeit(s, [] { bench::std_async_submit_then_get(1000, bench::small_value); }, 1000);
     }},
    {"single_client_tasks_async", "rustyray", "RustyRay", "ops/s",
     "1,000 `task(small_value).remote()`, then one `get` of all 1,000 refs",
     [&] { return timeit(s, [&] { bench::submit_then_get(1000, small_task); }, 1000); },
     {{"vs_asio_pool", "asio_pool_tasks_async"},
      {"vs_std_async", "std_async_tasks_async"},
      {"vs_caf_request_response_async", "caf_request_response_async"}}},
    {"single_client_tasks_and_get_batch", "rustyray", "RustyRay", "batches/s",
     "the same 1,000 tasks and get, counted in batches",
     [&] { return timeit(s, [&] { bench::submit_then_get(1000, small_task); }); }},
    {"single_client_wait_1k_refs", "rustyray", "RustyRay", "ops/s",
     "1,000 tasks, then `wait(refs, 1)` on the rest until none is left",
     [&] {
       return timeit(s, [] {
         std::vector<rustyray::object_ref<int>> not_ready;
         for (int i = 0; i < 1000; ++i)
           not_ready.push_back(rustyray::task(bench::small_value).remote());
         while (!not_ready.empty())
           not_ready = rustyray::wait(not_ready, 1).not_ready;
       });
     }},
    {"single_client_get_object_containing_10k_refs", "rustyray", "RustyRay", "ops/s",
     "get the result of a task that puts 10,000 ints and returns their refs",
     [&] {
       return timeit(s, [] {
         (void)rustyray::task(bench::create_object_containing_refs).remote().get();
       });
     }},
    {"asio_strand_calls_sync", "peer", "Boost.Asio strand", "ops/s",
     "post `small_value` through " + strand_text + " with a `std::promise`, wait; repeated",
     [&] { return timeit(s, [&] { (void)pool.call_and_get(bench::small_value); }); }},
    {"1_1_actor_calls_sync", "rustyray", "RustyRay", "ops/s",
     "`actor.task(&bench_actor::small_value).remote().get()` on one actor; repeated",
     [&] {
       auto a = rustyray::actor(bench::bench_actor::create).remote();
       return timeit(s, [&] { (void)a.task(&bench::bench_actor::small_value).remote().get(); });
     },
     {{"vs_asio_strand", "asio_strand_calls_sync"},
      {"vs_caf_request_response_sync", "caf_request_response_sync"}}},
    {"asio_strand_calls_async", "peer", "Boost.Asio strand", "ops/s",
     "post 1,000 calls through the strand, each with a `std::promise`, then wait for every future",
     [&] { return timeit(s, [&] { pool.call_then_get(1000, bench::small_value); }, 1000); }},
    {"1_1_actor_calls_async", "rustyray", "RustyRay", "ops/s",
     "1,000 calls to one actor, then one get of all",
     [&] {
       auto a = rustyray::actor(bench::bench_actor::create).remote();
       return timeit(s, [&] { bench::submit_then_get(1000, small_call(a)); }, 1000);
     },
     {{"vs_asio_strand", "asio_strand_calls_async"},
      {"vs_caf_request_response_async", "caf_request_response_async"}}},
    {"1_1_actor_calls_concurrent", "rustyray", "RustyRay", "ops/s",
     "1,000 calls to one actor with `max_concurrency(16)`, then one get of all",
     [&] {
       auto a = rustyray::actor(bench::bench_actor::create).max_concurrency(16).remote();
       return timeit(s, [&] { bench::submit_then_get(1000, small_call(a)); }, 1000);
     },
     {{"vs_asio_pool", "asio_pool_tasks_async"},
      {"vs_caf_request_response_async", "caf_request_response_async"}}},
    {"caf_1_n_calls_async", "floor", "raw CAF", "ops/s",
     "a `caf::scoped_actor` sends 1,000 ints round robin to n CAF actors, then receives every reply",
     [&] { return floors.one_to_n_async(s); }, {}, n_field},
    {"1_n_actor_calls_async", "rustyray", "RustyRay", "ops/s",
     "1,000 calls round robin over n actors, then one get of all",
     [&, n] {
       auto actors = bench::start_actors(n);
       return timeit(
         s,
         [&] {
           bench::submit_then_get(1000, [&](int i) {
             return actors[static_cast<std::size_t>(i) % n]
               .task(&bench::bench_actor::small_value)
               .remote();
           });
         },
         1000);
     },
     {{"vs_caf_1_n_calls_async", "caf_1_n_calls_async"}}, n_field},
    {"caf_n_n_calls_async", "floor", "raw CAF", "ops/s",
     "n threads, each with a `caf::scoped_actor` that sends 1,000 ints to its own CAF actor and "
     "receives the replies",
     [&] { return floors.n_to_n_async(s); }, {}, n_field},
    {"n_n_actor_calls_async", "rustyray", "RustyRay", "ops/s",
     "n threads, each making 1,000 calls to its own actor, then one get of all",
     [&, n] {
       auto actors = bench::start_actors(n);
       return timeit(
         s,
         [&] {
           bench::on_threads(
             n, [&](std::size_t t) { bench::submit_then_get(1000, small_call(actors[t])); });
         },
         1000.0 * static_cast<double>(n));
     },
     {{"vs_caf_n_n_calls_async", "caf_n_n_calls_async"}}, n_field},
    {"n_n_actor_calls_with_arg_async", "rustyray", "RustyRay", "ops/s",
     "as `n_n_actor_calls_async`, each call taking a stored `object_ref<int>` as its argument",
     [&, n] {
       auto actors = bench::start_actors(n);
       auto arg = rustyray::put(1);
       return timeit(
         s,
         [&] {
           bench::on_threads(n, [&](std::size_t t) {
             bench::submit_then_get(1000, [&](int) {
               return actors[t].task(&bench::bench_actor::small_value_arg).remote(arg);
             });
           });
         },
         1000.0 * static_cast<double>(n));
     },
     {{"vs_caf_n_n_calls_async", "caf_n_n_calls_async"}}, n_field},
    {"memcpy_gigabytes", "floor", "memcpy", "GB/s",
     "`std::memcpy` of a " + mib_text(s.big_buffer) + " buffer into another, both touched before",
     [&, gb] {
       fill_buffers(buffer, target, s.big_buffer);
       return timeit(s, [&] { std::memcpy(target.data(), buffer.data(), buffer.size()); }, gb);
     }},
    {"single_client_put_gigabytes", "rustyray", "RustyRay", "GB/s",
     "`rustyray::put` of a copy of that " + mib_text(s.big_buffer) +
       " `std::vector<uint8_t>`, its ref dropped at once",
     [&, gb] {
       fill_buffers(buffer, target, s.big_buffer);
       return timeit(s, [&] { (void)rustyray::put(buffer); }, gb);
     },
     {{"vs_memcpy", "memcpy_gigabytes"}}},
  };
}

} // namespace

int main(int argc, char** argv) {
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
  {
    bench::caf_floors floors{n};
    bench::asio_pool pool{workers};
    bench::mutex_map map;
    auto small = rustyray::put(0);
    std::vector<std::uint8_t> buffer;
    std::vector<std::uint8_t> target;
    auto metrics = all_metrics(opts.sched, floors, pool, map, workers, n, small, buffer, target);
    auto series = bench::scaling_series_list();

    std::size_t metrics_left = 0;
    for (const auto& m : metrics)
      metrics_left += selected(opts.filter, m.name) ? 1 : 0;
    std::size_t total = metrics_left;
    for (const auto& s : series)
      total += selected(opts.filter, s.name) ? 1 : 0;
    const double per_metric_s = opts.sched.warmup_s + opts.sched.runs * opts.sched.run_s;
    std::size_t step = 0;

    std::map<std::string, result> measured;
    for (const auto& m : metrics) {
      if (!selected(opts.filter, m.name))
        continue;
      ++step;
      --metrics_left;
      std::cerr << "[" << step << "/" << total << "] " << m.name << " (" << total - step
                << " left; about " << static_cast<long>(per_metric_s * metrics_left)
                << " s of timed metrics after this one, then the scaling series)" << std::endl;
      auto r = m.measure();
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
        scaling_entries.push_back({{"name", s.name}, {"error", e.what()}, {"points", json::array()}});
      }
    }
  } // the floors' actors, the pool and every ref go before the runtime
  rustyray::shutdown();

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
