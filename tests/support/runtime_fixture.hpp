#pragma once

// Shared by the test suites: a runtime per test case, and a check at teardown
// that the test left nothing behind in the object store.

#include <string>
#include <thread>

#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>

#include "rustyray/objstore/internal/object_table.hpp"
#include "runtime_state.hpp"
#include "test_printing.hpp"
#include "rustyray/rustyray.hpp"

namespace rustyray::test {

/// Objects the running runtime's table tracks in any state.
inline std::size_t tracked_objects() {
  return internal::current_or_throw()->table().size();
}

/// A config for tests: 2 workers, 64 MiB of store.
inline config small_config() {
  config cfg;
  cfg.num_workers = 2;
  cfg.object_store_capacity = 64u << 20;
  return cfg;
}

/// Checks that the test dropped every object, then shuts the runtime down.
inline void check_clean_and_shutdown() {
  if (!is_initialized())
    return;
  BOOST_CHECK_EQUAL(tracked_objects(), 0u);
  BOOST_CHECK_EQUAL(object_store_stats().bytes_used, 0u);
  shutdown();
}

/// A runtime with its own actor system for the test case.
struct runtime_fixture {
  explicit runtime_fixture(config cfg = small_config()) {
    init(cfg);
  }

  ~runtime_fixture() {
    check_clean_and_shutdown();
  }
};

/// A CAF application's system with a runtime embedded in it, and a scoped
/// actor to talk to actors. The system outlives the runtime.
struct embedded_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::scoped_actor self;

  embedded_fixture() : sys{(configure(cfg), cfg)}, self{sys} {
    init(sys, small_config());
  }

  ~embedded_fixture() {
    check_clean_and_shutdown();
  }
};

} // namespace rustyray::test

namespace rustyray::test {

/// A pending object, as a task submission would register it.
template <class T>
object_ref<T> make_pending() {
  auto rt = internal::current_or_throw();
  auto id = rt->node->next_id();
  BOOST_REQUIRE(!rt->table().register_pending(id));
  return object_ref<T>::adopt(id);
}

/// Gives a pending object its value, as a finishing task would.
template <class T, class... Value>
caf::error fulfil(const object_ref<T>& ref, Value... value) {
  std::uint64_t size = (std::uint64_t{0} + ... + detail::value_size(value));
  auto msg = caf::make_message(std::move(value)...);
  return internal::current_or_throw()->table().fulfil(ref.id(), std::move(msg), size);
}

/// Stores an error in place of a pending object, as a failing task would.
template <class T>
void fail(const object_ref<T>& ref, errc code, std::string message) {
  internal::current_or_throw()->table().fail(ref.id(), make_error(code, std::move(message)));
}

/// A second ref to the same object, typed as `U` (to provoke type_mismatch).
template <class U, class T>
object_ref<U> retype(const object_ref<T>& ref) {
  detail::add_ref(ref.id());
  return object_ref<U>::adopt(ref.id());
}

/// This node's free amount of resource `name` now.
inline double available(const std::string& name) {
  return state()["node"]["resources"]["available"].value(name, 0.0);
}

/// Waits until this node has `amount` of `name` free: a task's CPU comes
/// back just after its result is stored, when its worker finishes the batch.
inline void wait_available(const std::string& name, double amount) {
  while (available(name) != amount)
    std::this_thread::yield();
}

/// Tasks ready to run that wait for resources or a worker, now.
inline int queued_tasks() {
  return state()["tasks"]["queued"].get<int>();
}

/// Runs `f` and returns the code of the rustyray::error it throws.
template <class F>
errc code_of(F&& f) {
  try {
    f();
  } catch (const error& e) {
    return e.code();
  }
  BOOST_FAIL("expected a rustyray::error");
  return errc::system_error;
}

} // namespace rustyray::test
