#include "caf_floors.hpp"
#include "caf_loops.hpp"

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>

namespace bench {

namespace {

caf::behavior caf_worker(caf::event_based_actor*) {
  return {[](int x) { return x; }};
}

} // namespace

struct caf_floors::impl {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  caf::actor target;
  std::vector<caf::actor> targets;
};

caf_floors::caf_floors(std::size_t n) : impl_(std::make_unique<impl>()) {
  impl_->target = impl_->sys.spawn(caf_worker);
  for (std::size_t i = 0; i < n; ++i)
    impl_->targets.push_back(impl_->sys.spawn(caf_worker));
}

caf_floors::~caf_floors() {
  // Live actors would keep ~actor_system waiting (CAF notes, gotcha 6).
  caf::anon_send_exit(impl_->target, caf::exit_reason::user_shutdown);
  for (auto& t : impl_->targets)
    caf::anon_send_exit(t, caf::exit_reason::user_shutdown);
}

result caf_floors::request_response_sync(const schedule& s) {
  caf::scoped_actor self{impl_->sys};
  return timeit(s, [&] {
    self->request(impl_->target, caf::infinite, 1).receive([](int) {}, [](caf::error&) {});
  });
}

result caf_floors::request_response_async(const schedule& s) {
  caf::scoped_actor self{impl_->sys};
  return timeit(
    s, [&] { send_then_receive(self, 1000, [&](int) { return impl_->target; }); }, 1000);
}

result caf_floors::one_to_n_async(const schedule& s) {
  caf::scoped_actor self{impl_->sys};
  const auto n = impl_->targets.size();
  return timeit(
    s,
    [&] {
      send_then_receive(self, 1000,
                        [&](int i) { return impl_->targets[static_cast<std::size_t>(i) % n]; });
    },
    1000);
}

result caf_floors::n_to_n_async(const schedule& s) {
  const auto n = impl_->targets.size();
  return timeit(
    s,
    [&] {
      std::vector<std::thread> threads;
      for (std::size_t t = 0; t < n; ++t)
        threads.emplace_back([&, t] {
          caf::scoped_actor self{impl_->sys};
          send_then_receive(self, 1000, [&](int) { return impl_->targets[t]; });
        });
      for (auto& t : threads)
        t.join();
    },
    1000.0 * static_cast<double>(n));
}

double caf_floors::spawn_and_call(std::size_t actors) {
  // A system of its own, gone before the next run: a million actors' exit
  // messages and memory left to the next run slow it down severalfold.
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  std::vector<caf::actor> spawned;
  spawned.reserve(actors);
  auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < actors; ++i)
    spawned.push_back(sys.spawn<caf::hidden + caf::lazy_init>(caf_worker));
  send_then_receive(self, static_cast<int>(actors),
                    [&](int i) { return spawned[static_cast<std::size_t>(i)]; });
  std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  for (auto& a : spawned)
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  return elapsed.count();
}

} // namespace bench
