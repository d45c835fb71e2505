#include "metric.hpp"

#include <cstring>

#include "workloads.hpp"

namespace bench {

namespace {

using json = nlohmann::ordered_json;

std::string mib_text(std::size_t bytes) {
  return std::to_string(bytes >> 20) + " MiB";
}

rustyray::object_ref<int> small_task(int) {
  return rustyray::task(small_value).remote();
}

/// Submits call i of the async actor loops to `a`.
auto small_call(const rustyray::actor_handle<bench_actor>& a) {
  return [a](int) { return a.task(&bench_actor::small_value).remote(); };
}

/// Filled only when a bandwidth metric runs: touching 1.6 GB takes seconds.
void fill_buffers(std::vector<std::uint8_t>& buffer, std::vector<std::uint8_t>& target,
                  std::size_t bytes) {
  buffer.resize(bytes, 1);
  target.resize(bytes, 0);
}

} // namespace

std::vector<metric> all_metrics(const metric_context& ctx) {
  const schedule& s = ctx.sched;
  auto& floors = ctx.floors;
  auto& pool = ctx.pool;
  auto& map = ctx.map;
  auto& buffer = ctx.buffer;
  auto& target = ctx.target;
  const auto& small = ctx.small;
  const std::size_t n = ctx.n;
  const std::size_t pool_threads = ctx.pool_threads;
  // The measuring functions run after this function returns: they capture
  // by reference only what the caller owns (the references above), the
  // values below by value.
  const double gb = static_cast<double>(s.big_buffer) / 1e9;
  const json n_field = {{"n", n}};
  const std::string pool_text = "a `boost::asio::thread_pool` of " + std::to_string(pool_threads)
                                + " threads (as many as RustyRay's task workers)";
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
    {"single_client_get_calls_Plasma_Store",
     "rustyray",
     "RustyRay",
     "ops/s",
     "`rustyray::get` of a small stored int; repeated",
     [&] { return timeit(s, [&] { (void)rustyray::get(small); }); },
     {{"vs_mutex_map", "mutex_map_get_calls"}}},
    {"mutex_map_put_calls", "peer", "unordered_map + mutex", "ops/s",
     "insert a small int into that map under a new ID, then erase it; repeated",
     [&] { return timeit(s, [&] { map.free(map.put(0)); }); }},
    {"single_client_put_calls_Plasma_Store",
     "rustyray",
     "RustyRay",
     "ops/s",
     "`rustyray::put(0)`, its ref dropped at once (which frees the object); repeated",
     [&] { return timeit(s, [] { (void)rustyray::put(0); }); },
     {{"vs_mutex_map", "mutex_map_put_calls"}}},
    {"caf_request_response_sync", "floor", "raw CAF", "ops/s",
     "a `caf::scoped_actor` sends an int to a CAF actor and waits for the reply; repeated",
     [&] { return floors.request_response_sync(s); }},
    {"asio_pool_tasks_sync", "peer", "Boost.Asio thread_pool", "ops/s",
     "post `small_value` to " + pool_text + " with a `std::promise`, wait on its future; repeated",
     [&] { return timeit(s, [&] { (void)pool.submit_and_get(small_value); }); }},
    {"std_async_tasks_sync", "peer", "std::async", "ops/s",
     "`std::async(std::launch::async, small_value).get()` (a new thread each); repeated",
     [&] { return timeit(s, [] { (void)std_async_submit_and_get(small_value); }); }},
    {"single_client_tasks_sync",
     "rustyray",
     "RustyRay",
     "ops/s",
     "`task(small_value).remote().get()`; repeated",
     [&] { return timeit(s, [] { (void)rustyray::task(small_value).remote().get(); }); },
     {{"vs_asio_pool", "asio_pool_tasks_sync"},
      {"vs_std_async", "std_async_tasks_sync"},
      {"vs_caf_request_response_sync", "caf_request_response_sync"}}},
    {"caf_request_response_async", "floor", "raw CAF", "ops/s",
     "a `caf::scoped_actor` sends 1,000 ints to one CAF actor, then receives the 1,000 replies",
     [&] { return floors.request_response_async(s); }},
    {"asio_pool_tasks_async", "peer", "Boost.Asio thread_pool", "ops/s",
     "post 1,000 `small_value` tasks to the pool, each with a `std::promise`, then wait for every "
     "future",
     [&] {
       return timeit(
         s, [&] { pool.submit_then_get(1000, small_value); }, 1000);
     }},
    {"std_async_tasks_async", "peer", "std::async", "ops/s",
     "1,000 `std::async(std::launch::async, small_value)` (1,000 threads), then get every future",
     [&] {
       return timeit(
         s, [] { std_async_submit_then_get(1000, small_value); }, 1000);
     }},
    {"single_client_tasks_async",
     "rustyray",
     "RustyRay",
     "ops/s",
     "1,000 `task(small_value).remote()`, then one `get` of all 1,000 refs",
     [&] {
       return timeit(
         s, [&] { submit_then_get(1000, small_task); }, 1000);
     },
     {{"vs_asio_pool", "asio_pool_tasks_async"},
      {"vs_std_async", "std_async_tasks_async"},
      {"vs_caf_request_response_async", "caf_request_response_async"}}},
    {"single_client_tasks_with_arg_async",
     "rustyray",
     "RustyRay",
     "ops/s",
     "as `single_client_tasks_async`, first putting an int and passing its `object_ref<int>` to "
     "each of the 1,000 tasks (`plus_one`): the argument pinned and fetched at submission, "
     "released at completion",
     [&] {
       auto arg = rustyray::put(1);
       return timeit(
         s,
         [&] { submit_then_get(1000, [&](int) { return rustyray::task(plus_one).remote(arg); }); },
         1000);
     },
     {{"vs_asio_pool", "asio_pool_tasks_async"},
      {"vs_caf_request_response_async", "caf_request_response_async"}}},
    {"single_client_tasks_and_get_batch", "rustyray", "RustyRay", "batches/s",
     "the same 1,000 tasks and get, counted in batches",
     [&] { return timeit(s, [&] { submit_then_get(1000, small_task); }); }},
    {"single_client_wait_1k_refs", "rustyray", "RustyRay", "ops/s",
     "1,000 tasks, then `wait(refs, 1)` on the rest until none is left",
     [&] {
       return timeit(s, [] {
         std::vector<rustyray::object_ref<int>> not_ready;
         for (int i = 0; i < 1000; ++i)
           not_ready.push_back(rustyray::task(small_value).remote());
         while (!not_ready.empty())
           not_ready = rustyray::wait(not_ready, 1).not_ready;
       });
     }},
    {"single_client_get_object_containing_10k_refs", "rustyray", "RustyRay", "ops/s",
     "get the result of a task that puts 10,000 ints and returns their refs",
     [&] {
       return timeit(s, [] { (void)rustyray::task(create_object_containing_refs).remote().get(); });
     }},
    {"asio_strand_calls_sync", "peer", "Boost.Asio strand", "ops/s",
     "post `small_value` through " + strand_text + " with a `std::promise`, wait; repeated",
     [&] { return timeit(s, [&] { (void)pool.call_and_get(small_value); }); }},
    {"1_1_actor_calls_sync",
     "rustyray",
     "RustyRay",
     "ops/s",
     "`actor.task(&bench_actor::small_value).remote().get()` on one actor; repeated",
     [&] {
       auto a = rustyray::actor(bench_actor::create).remote();
       return timeit(s, [&] { (void)a.task(&bench_actor::small_value).remote().get(); });
     },
     {{"vs_asio_strand", "asio_strand_calls_sync"},
      {"vs_caf_request_response_sync", "caf_request_response_sync"}}},
    {"asio_strand_calls_async", "peer", "Boost.Asio strand", "ops/s",
     "post 1,000 calls through the strand, each with a `std::promise`, then wait for every future",
     [&] {
       return timeit(
         s, [&] { pool.call_then_get(1000, small_value); }, 1000);
     }},
    {"1_1_actor_calls_async",
     "rustyray",
     "RustyRay",
     "ops/s",
     "1,000 calls to one actor, then one get of all",
     [&] {
       auto a = rustyray::actor(bench_actor::create).remote();
       return timeit(
         s, [&] { submit_then_get(1000, small_call(a)); }, 1000);
     },
     {{"vs_asio_strand", "asio_strand_calls_async"},
      {"vs_caf_request_response_async", "caf_request_response_async"}}},
    {"1_1_actor_calls_concurrent",
     "rustyray",
     "RustyRay",
     "ops/s",
     "1,000 calls to one actor with `max_concurrency(16)`, then one get of all",
     [&] {
       auto a = rustyray::actor(bench_actor::create).max_concurrency(16).remote();
       return timeit(
         s, [&] { submit_then_get(1000, small_call(a)); }, 1000);
     },
     {{"vs_asio_pool", "asio_pool_tasks_async"},
      {"vs_caf_request_response_async", "caf_request_response_async"}}},
    {"caf_1_n_calls_async",
     "floor",
     "raw CAF",
     "ops/s",
     "a `caf::scoped_actor` sends 1,000 ints round robin to n CAF actors, then receives every "
     "reply",
     [&] { return floors.one_to_n_async(s); },
     {},
     n_field},
    {"1_n_actor_calls_async",
     "rustyray",
     "RustyRay",
     "ops/s",
     "1,000 calls round robin over n actors, then one get of all",
     [&, n] {
       auto actors = start_actors(n);
       return timeit(
         s, [&] { calls_round_robin(1000, actors); }, 1000);
     },
     {{"vs_caf_1_n_calls_async", "caf_1_n_calls_async"}},
     n_field},
    {"caf_n_n_calls_async",
     "floor",
     "raw CAF",
     "ops/s",
     "n threads, each with a `caf::scoped_actor` that sends 1,000 ints to its own CAF actor and "
     "receives the replies",
     [&] { return floors.n_to_n_async(s); },
     {},
     n_field},
    {"n_n_actor_calls_async",
     "rustyray",
     "RustyRay",
     "ops/s",
     "n threads, each making 1,000 calls to its own actor, then one get of all",
     [&, n] {
       auto actors = start_actors(n);
       return timeit(
         s,
         [&] {
           on_threads(n, [&](std::size_t t) { submit_then_get(1000, small_call(actors[t])); });
         },
         1000.0 * static_cast<double>(n));
     },
     {{"vs_caf_n_n_calls_async", "caf_n_n_calls_async"}},
     n_field},
    {"n_n_actor_calls_with_arg_async",
     "rustyray",
     "RustyRay",
     "ops/s",
     "as `n_n_actor_calls_async`, each thread first putting an int and passing its "
     "`object_ref<int>` to each of its calls (Ray's `small_value_batch_arg`)",
     [&, n] {
       auto actors = start_actors(n);
       return timeit(
         s,
         [&] {
           on_threads(n, [&](std::size_t t) {
             auto arg = rustyray::put(1);
             submit_then_get(1000, [&](int) {
               return actors[t].task(&bench_actor::small_value_arg).remote(arg);
             });
           });
         },
         1000.0 * static_cast<double>(n));
     },
     {{"vs_caf_n_n_calls_async", "caf_n_n_calls_async"}},
     n_field},
    {"memcpy_gigabytes", "floor", "memcpy", "GB/s",
     "`std::memcpy` of a " + mib_text(s.big_buffer) + " buffer into another, both touched before",
     [&, gb] {
       fill_buffers(buffer, target, s.big_buffer);
       return timeit(
         s, [&] { std::memcpy(target.data(), buffer.data(), buffer.size()); }, gb);
     }},
    {"single_client_put_gigabytes",
     "rustyray",
     "RustyRay",
     "GB/s",
     "`rustyray::put` of a copy of that " + mib_text(s.big_buffer)
       + " `std::vector<uint8_t>`, its ref dropped at once",
     [&, gb] {
       fill_buffers(buffer, target, s.big_buffer);
       return timeit(
         s, [&] { (void)rustyray::put(buffer); }, gb);
     },
     {{"vs_memcpy", "memcpy_gigabytes"}}},
  };
}

} // namespace bench
