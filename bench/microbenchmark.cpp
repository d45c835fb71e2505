// RustyRay's microbenchmark: Ray's metric names and Ray's timeit schedule
// (python/ray/_private/ray_microbenchmark_helpers.py): a warm-up of 1 s, then
// 4 timed runs of 2 s each, reporting their mean and standard deviation.
// Prints one JSON line per metric on stdout, progress on stderr.
//
// Usage: microbenchmark [--quick] [--filter SUBSTRING[,SUBSTRING...]]
//   --filter  only the metrics whose name contains one of the substrings
//   --quick   0.1 s warm-up, 2 runs of 0.2 s, 64 MiB instead of 800 MiB buffers
//             (a smoke run, not a measurement)

#include <chrono>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <cstring>
#include <functional>
#include <iostream>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>
#include <rustyray/rustyray.hpp>

namespace {

int small_value() {
  return 1;
}

/// Ray's create_object_containing_ref: a task returning 10,000 refs.
std::vector<rustyray::object_ref<int>> create_object_containing_refs() {
  std::vector<rustyray::object_ref<int>> refs;
  refs.reserve(10000);
  for (int i = 0; i < 10000; ++i)
    refs.push_back(rustyray::put(1));
  return refs;
}

/// Ray's benchmark actor: answers a small value.
struct bench_actor {
  static bench_actor create() {
    return {};
  }
  int small_value() {
    return 1;
  }
  int small_value_arg(int x) {
    return x;
  }
};

/// Ray's async pattern: `calls` submissions (`submit(i)` returns the ref of
/// call i), then one get of them all.
template <class Submit>
void submit_then_get(int calls, Submit submit) {
  std::vector<rustyray::object_ref<int>> refs;
  refs.reserve(calls);
  for (int i = 0; i < calls; ++i)
    refs.push_back(submit(i));
  (void)rustyray::get(refs);
}

/// The raw-CAF floor of that pattern: `calls` messages (call i to
/// `target_of(i)`), then every reply.
template <class Target>
void send_then_receive(caf::scoped_actor& self, int calls, Target target_of) {
  for (int i = 0; i < calls; ++i)
    self->send(target_of(i), 1);
  int received = 0;
  self->receive_for(received, calls)([](int) {});
}

std::vector<rustyray::actor_handle<bench_actor>> start_actors(std::size_t n) {
  std::vector<rustyray::actor_handle<bench_actor>> actors;
  for (std::size_t i = 0; i < n; ++i)
    actors.push_back(rustyray::actor(bench_actor::create).remote());
  return actors;
}

/// Runs `fn(i)` on `n` threads at once and waits for all.
void on_threads(std::size_t n, const std::function<void(std::size_t)>& fn) {
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < n; ++i)
    threads.emplace_back(fn, i);
  for (auto& t : threads)
    t.join();
}

/// The raw-CAF floor: a worker actor answering requests, the same pattern
/// without RustyRay in between.
caf::behavior caf_worker(caf::event_based_actor*) {
  return {[](int x) { return x; }};
}

using clock_type = std::chrono::steady_clock;

struct schedule {
  double warmup_s = 1.0;
  int runs = 4;
  double run_s = 2.0;
  std::size_t big_buffer = std::size_t{800} << 20;
};

struct result {
  double mean = 0;
  double sd = 0;
};

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

/// Ray's timeit: `fn` performs one operation worth `multiplier` units.
result timeit(const schedule& s, const std::function<void()>& fn, double multiplier = 1) {
  auto start = clock_type::now();
  long count = 0;
  while (seconds_since(start) < s.warmup_s) {
    fn();
    ++count;
  }
  long step = count / 10 + 1;
  std::vector<double> stats;
  for (int r = 0; r < s.runs; ++r) {
    start = clock_type::now();
    count = 0;
    while (seconds_since(start) < s.run_s) {
      for (long i = 0; i < step; ++i)
        fn();
      count += step;
    }
    stats.push_back(multiplier * static_cast<double>(count) / seconds_since(start));
  }
  result res;
  res.mean = std::accumulate(stats.begin(), stats.end(), 0.0) / static_cast<double>(stats.size());
  for (auto x : stats)
    res.sd += (x - res.mean) * (x - res.mean);
  res.sd = std::sqrt(res.sd / static_cast<double>(stats.size()));
  return res;
}

void emit(const std::string& name, const result& r, const std::string& unit,
          const std::string& extra = "") {
  std::printf("{\"name\":\"%s\",\"value\":%.6g,\"sd\":%.6g,\"unit\":\"%s\"%s}\n", name.c_str(),
              r.mean, r.sd, unit.c_str(), extra.c_str());
  std::fflush(stdout);
}

} // namespace

int main(int argc, char** argv) {
  schedule s;
  std::string filter;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--quick") {
      s = schedule{0.1, 2, 0.2, std::size_t{64} << 20};
    } else if (arg == "--filter" && i + 1 < argc) {
      filter = argv[++i];
    } else {
      std::cerr << "usage: microbenchmark [--quick] [--filter SUBSTRING[,SUBSTRING...]]\n";
      return 2;
    }
  }
  rustyray::config cfg;
  cfg.object_store_capacity = std::uint64_t{4} << 30; // room for the 800 MiB buffer
  rustyray::init(cfg);

  struct metric {
    std::string name;
    std::function<void()> run;
  };
  auto selected = [&](const std::string& name) {
    if (filter.empty())
      return true;
    std::istringstream parts{filter};
    for (std::string part; std::getline(parts, part, ',');)
      if (!part.empty() && name.find(part) != std::string::npos)
        return true;
    return false;
  };

  auto small = rustyray::put(0);
  // Filled only when a bandwidth metric runs: touching 1.6 GB takes seconds.
  std::vector<std::uint8_t> buffer;
  std::vector<std::uint8_t> target;
  auto fill_buffers = [&] {
    buffer.resize(s.big_buffer, 1);
    target.resize(s.big_buffer, 0);
  };
  double gb = static_cast<double>(s.big_buffer) / 1e9;
  result memcpy_result;

  caf::actor_system_config caf_cfg;
  caf::actor_system caf_sys{caf_cfg};
  auto caf_target = caf_sys.spawn(caf_worker);
  result caf_sync_result;
  result caf_async_result;
  auto ratio = [](const char* key, const result& r, const result& floor) {
    return floor.mean > 0 ? ",\"" + std::string{key} + "\":" + std::to_string(r.mean / floor.mean)
                          : std::string{};
  };

  // Ray scales n to the machine's CPUs; so do we (stated in each line).
  const std::size_t n = std::max(2u, std::thread::hardware_concurrency());
  const std::string n_field = ",\"n\":" + std::to_string(n);
  std::vector<caf::actor> caf_targets;
  for (std::size_t i = 0; i < n; ++i)
    caf_targets.push_back(caf_sys.spawn(caf_worker));
  result caf_1_n_result;
  result caf_n_n_result;
  auto small_task = [](int) { return rustyray::task(small_value).remote(); };
  auto small_call = [](const rustyray::actor_handle<bench_actor>& a) {
    return [a](int) { return a.task(&bench_actor::small_value).remote(); };
  };

  std::vector<metric> metrics{
    {"single_client_get_calls_Plasma_Store",
     [&] { emit("single_client_get_calls_Plasma_Store",
                timeit(s, [&] { (void)rustyray::get(small); }), "ops/s"); }},
    {"single_client_put_calls_Plasma_Store",
     [&] { emit("single_client_put_calls_Plasma_Store",
                timeit(s, [] { (void)rustyray::put(0); }), "ops/s"); }},
    {"caf_request_response_sync",
     [&] {
       caf::scoped_actor self{caf_sys};
       caf_sync_result = timeit(s, [&] {
         self->request(caf_target, caf::infinite, 1).receive([](int) {}, [](caf::error&) {});
       });
       emit("caf_request_response_sync", caf_sync_result, "ops/s");
     }},
    {"caf_request_response_async",
     [&] {
       caf::scoped_actor self{caf_sys};
       caf_async_result = timeit(
         s, [&] { send_then_receive(self, 1000, [&](int) { return caf_target; }); }, 1000);
       emit("caf_request_response_async", caf_async_result, "ops/s");
     }},
    {"single_client_tasks_sync",
     [&] {
       auto r = timeit(s, [] { (void)rustyray::task(small_value).remote().get(); });
       emit("single_client_tasks_sync", r, "ops/s",
            ratio("vs_caf_request_response_sync", r, caf_sync_result));
     }},
    {"single_client_tasks_async",
     [&] {
       auto r = timeit(s, [&] { submit_then_get(1000, small_task); }, 1000);
       emit("single_client_tasks_async", r, "ops/s",
            ratio("vs_caf_request_response_async", r, caf_async_result));
     }},
    {"single_client_tasks_and_get_batch",
     [&] {
       auto r = timeit(s, [&] { submit_then_get(1000, small_task); });
       emit("single_client_tasks_and_get_batch", r, "batches/s");
     }},
    {"single_client_wait_1k_refs",
     [&] {
       auto r = timeit(s, [] {
         std::vector<rustyray::object_ref<int>> not_ready;
         for (int i = 0; i < 1000; ++i)
           not_ready.push_back(rustyray::task(small_value).remote());
         while (!not_ready.empty())
           not_ready = rustyray::wait(not_ready, 1).not_ready;
       });
       emit("single_client_wait_1k_refs", r, "ops/s");
     }},
    {"single_client_get_object_containing_10k_refs",
     [&] {
       auto r = timeit(s, [] {
         (void)rustyray::task(create_object_containing_refs).remote().get();
       });
       emit("single_client_get_object_containing_10k_refs", r, "ops/s");
     }},
    {"1_1_actor_calls_sync",
     [&] {
       auto a = rustyray::actor(bench_actor::create).remote();
       auto r = timeit(s, [&] { (void)a.task(&bench_actor::small_value).remote().get(); });
       emit("1_1_actor_calls_sync", r, "ops/s",
            ratio("vs_caf_request_response_sync", r, caf_sync_result));
     }},
    {"1_1_actor_calls_async",
     [&] {
       auto a = rustyray::actor(bench_actor::create).remote();
       auto r = timeit(s, [&] { submit_then_get(1000, small_call(a)); }, 1000);
       emit("1_1_actor_calls_async", r, "ops/s",
            ratio("vs_caf_request_response_async", r, caf_async_result));
     }},
    {"1_1_actor_calls_concurrent",
     [&] {
       auto a = rustyray::actor(bench_actor::create).max_concurrency(16).remote();
       auto r = timeit(s, [&] { submit_then_get(1000, small_call(a)); }, 1000);
       emit("1_1_actor_calls_concurrent", r, "ops/s",
            ratio("vs_caf_request_response_async", r, caf_async_result));
     }},
    {"caf_1_n_calls_async",
     [&] {
       caf::scoped_actor self{caf_sys};
       caf_1_n_result = timeit(
         s, [&] { send_then_receive(self, 1000, [&](int i) { return caf_targets[i % n]; }); },
         1000);
       emit("caf_1_n_calls_async", caf_1_n_result, "ops/s", n_field);
     }},
    {"1_n_actor_calls_async",
     [&] {
       auto actors = start_actors(n);
       auto r = timeit(
         s,
         [&] {
           submit_then_get(
             1000, [&](int i) { return actors[i % n].task(&bench_actor::small_value).remote(); });
         },
         1000);
       emit("1_n_actor_calls_async", r, "ops/s",
            n_field + ratio("vs_caf_1_n_calls_async", r, caf_1_n_result));
     }},
    {"caf_n_n_calls_async",
     [&] {
       caf_n_n_result = timeit(
         s,
         [&] {
           on_threads(n, [&](std::size_t t) {
             caf::scoped_actor self{caf_sys};
             send_then_receive(self, 1000, [&](int) { return caf_targets[t]; });
           });
         },
         1000.0 * n);
       emit("caf_n_n_calls_async", caf_n_n_result, "ops/s", n_field);
     }},
    {"n_n_actor_calls_async",
     [&] {
       auto actors = start_actors(n);
       auto r = timeit(
         s,
         [&] { on_threads(n, [&](std::size_t t) { submit_then_get(1000, small_call(actors[t])); }); },
         1000.0 * n);
       emit("n_n_actor_calls_async", r, "ops/s",
            n_field + ratio("vs_caf_n_n_calls_async", r, caf_n_n_result));
     }},
    {"n_n_actor_calls_with_arg_async",
     [&] {
       auto actors = start_actors(n);
       auto arg = rustyray::put(1);
       auto r = timeit(
         s,
         [&] {
           on_threads(n, [&](std::size_t t) {
             submit_then_get(1000, [&](int) {
               return actors[t].task(&bench_actor::small_value_arg).remote(arg);
             });
           });
         },
         1000.0 * n);
       emit("n_n_actor_calls_with_arg_async", r, "ops/s",
            n_field + ratio("vs_caf_n_n_calls_async", r, caf_n_n_result));
     }},
    {"memcpy_gigabytes",
     [&] {
       fill_buffers();
       memcpy_result = timeit(s, [&] { std::memcpy(target.data(), buffer.data(), buffer.size()); },
                              gb);
       emit("memcpy_gigabytes", memcpy_result, "GB/s");
     }},
    {"single_client_put_gigabytes",
     [&] {
       fill_buffers();
       auto r = timeit(s, [&] { (void)rustyray::put(buffer); }, gb);
       std::string extra;
       if (memcpy_result.mean > 0)
         extra = ",\"vs_memcpy\":" + std::to_string(r.mean / memcpy_result.mean);
       emit("single_client_put_gigabytes", r, "GB/s", extra);
     }},
  };
  std::size_t total = 0;
  for (auto& m : metrics)
    total += selected(m.name) ? 1 : 0;
  std::size_t done = 0;
  for (auto& m : metrics) {
    if (!selected(m.name))
      continue;
    std::cerr << "[" << ++done << "/" << total << "] " << m.name << " ..." << std::endl;
    m.run();
  }
  small = {};
  rustyray::shutdown();
  caf::anon_send_exit(caf_target, caf::exit_reason::user_shutdown);
  for (auto& t : caf_targets)
    caf::anon_send_exit(t, caf::exit_reason::user_shutdown);
}
