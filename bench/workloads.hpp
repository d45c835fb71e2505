#pragma once

// The RustyRay side of the benchmark loops: Ray's benchmark functions and
// actor, and the submit-then-get pattern of its async metrics.

#include <cstddef>
#include <functional>
#include <thread>
#include <vector>

#include <rustyray/rustyray.hpp>

namespace bench {

/// Ray's small_value task: the work of every task and call.
inline int small_value() {
  return 1;
}

/// One link of a chain: receives the previous link's result.
inline int plus_one(int x) {
  return x + 1;
}

/// Ray's create_object_containing_ref: a task returning 10,000 refs.
inline std::vector<rustyray::object_ref<int>> create_object_containing_refs() {
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
    return bench::small_value();
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
  refs.reserve(static_cast<std::size_t>(calls));
  for (int i = 0; i < calls; ++i)
    refs.push_back(submit(i));
  (void)rustyray::get(refs);
}

/// `calls` calls of `small_value` round robin over `actors`, then one get.
inline void calls_round_robin(int calls,
                              const std::vector<rustyray::actor_handle<bench_actor>>& actors) {
  const auto n = actors.size();
  submit_then_get(calls, [&](int i) {
    return actors[static_cast<std::size_t>(i) % n].task(&bench_actor::small_value).remote();
  });
}

/// `n` new actors of Ray's benchmark class.
inline std::vector<rustyray::actor_handle<bench_actor>> start_actors(std::size_t n) {
  std::vector<rustyray::actor_handle<bench_actor>> actors;
  actors.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    actors.push_back(rustyray::actor(bench_actor::create).remote());
  return actors;
}

/// Runs `fn(i)` on `n` threads at once and waits for all.
inline void on_threads(std::size_t n, const std::function<void(std::size_t)>& fn) {
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < n; ++i)
    threads.emplace_back(fn, i);
  for (auto& t : threads)
    t.join();
}

} // namespace bench
