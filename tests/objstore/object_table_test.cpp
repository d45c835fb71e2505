#define BOOST_TEST_MODULE objstore_object_table
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include <caf/all.hpp>

#include "rustyray/objstore/internal/object_table.hpp"
#include "rustyray/errc.hpp"
#include "test_printing.hpp"

using namespace rustyray;
using namespace rustyray::objstore;
using namespace rustyray::objstore::internal;

namespace {

object_id oid(std::uint64_t n) {
  return object_id{77, n};
}

caf::message blob(int tag) {
  return caf::make_message(tag);
}

/// The errc of a failed lookup (or 0 if it holds a value).
int code_of(const std::optional<lookup>& found) {
  BOOST_REQUIRE(found.has_value());
  return *found ? 0 : found->error().code();
}

std::string text_of(const std::optional<lookup>& found) {
  BOOST_REQUIRE(found.has_value() && !*found);
  return found->error().context().get_as<std::string>(0);
}

int value_of(const std::optional<lookup>& found) {
  BOOST_REQUIRE(found.has_value() && *found);
  return (*found)->get_as<int>(0);
}

constexpr int lost = static_cast<int>(errc::object_lost);
constexpr int full = static_cast<int>(errc::object_store_full);

/// A value whose destruction calls back into the table, as a value holding
/// object_refs does.
struct calls_back {
  std::shared_ptr<void> hook;
};

} // namespace

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(calls_back)

BOOST_AUTO_TEST_CASE(put_and_get_count_hits_and_misses) {
  object_table t{100};
  BOOST_REQUIRE(!t.put(oid(1), blob(1), 10));
  BOOST_TEST(value_of(t.try_get(oid(1))) == 1);
  BOOST_TEST(code_of(t.try_get(oid(2))) == lost);
  auto s = t.stats();
  BOOST_TEST(s.objects == 1u);
  BOOST_TEST(s.bytes_used == 10u);
  BOOST_TEST(s.capacity == 100u);
  BOOST_TEST(s.puts == 1u);
  BOOST_TEST(s.gets == 2u);
  BOOST_TEST(s.hits == 1u);
  BOOST_TEST(s.misses == 1u);
}

BOOST_AUTO_TEST_CASE(eviction_takes_the_least_recently_used_first) {
  object_table t{100};
  BOOST_REQUIRE(!t.put(oid(1), blob(1), 40));
  BOOST_REQUIRE(!t.put(oid(2), blob(2), 40));
  t.try_get(oid(1)); // 2 is now the least recently used
  BOOST_REQUIRE(!t.put(oid(3), blob(3), 40));
  BOOST_TEST(value_of(t.try_get(oid(1))) == 1);
  BOOST_TEST(code_of(t.try_get(oid(2))) == lost);
  BOOST_TEST(text_of(t.try_get(oid(2))).find("evicted") != std::string::npos);
  BOOST_TEST(value_of(t.try_get(oid(3))) == 3);
  auto s = t.stats();
  BOOST_TEST(s.evictions == 1u);
  BOOST_TEST(s.bytes_used == 80u);
  BOOST_TEST(s.objects == 2u);
  // Capacity-weighted: one large object displaces several small ones.
  BOOST_REQUIRE(!t.put(oid(4), blob(4), 90));
  BOOST_TEST(t.stats().evictions == 3u);
  BOOST_TEST(t.stats().bytes_used == 90u);
}

namespace {

/// A cluster's side as the table sees it: what it was asked to fetch again.
struct recording_remote : remote_objects {
  std::vector<object_id> refetched;
  void add_ref(const object_id&) noexcept override {}
  void release(const object_id&) noexcept override {}
  void fetch(const object_id&) override {}
  void refetch(const object_id& id) noexcept override {
    refetched.push_back(id);
  }
  void free(const object_id&) override {}
};

} // namespace

BOOST_AUTO_TEST_CASE(copies_of_other_nodes_objects_go_first_and_come_back_when_waited_for) {
  object_table t{100};
  auto remote = std::make_shared<recording_remote>();
  t.attach_remote(77, remote); // oid(n) names this node
  const object_id copy{88, 1}; // node 88 owns it
  BOOST_REQUIRE(t.add_placeholder(copy));
  BOOST_REQUIRE(!t.put(oid(1), blob(1), 40)); // older than the copy
  BOOST_REQUIRE(!t.fulfil(copy, blob(8), 40));
  BOOST_REQUIRE(!t.put(oid(2), blob(2), 40));
  // The copy made room, not this node's older object: its owner has it.
  BOOST_TEST(value_of(t.try_get(oid(1))) == 1);
  BOOST_TEST(!t.try_get(copy).has_value()); // pending again, not lost
  BOOST_TEST(t.stats().evictions == 1u);
  BOOST_TEST(t.stats().objects == 2u);
  BOOST_TEST(remote->refetched.empty()); // nobody asked for it yet
  // The first waiter asks the owner again; the copy's return wakes both.
  int first = 0;
  int second = 0;
  std::uint64_t token = 0;
  BOOST_TEST(!t.get_or_wait(
                 copy, [&](const lookup& r) { first = r ? r->get_as<int>(0) : -1; }, token)
                .has_value());
  BOOST_TEST(!t.get_or_wait(
                 copy, [&](const lookup& r) { second = r ? r->get_as<int>(0) : -1; }, token)
                .has_value());
  BOOST_TEST(remote->refetched == std::vector<object_id>{copy});
  BOOST_REQUIRE(!t.fulfil(copy, blob(8), 40));
  BOOST_TEST(first == 8);
  BOOST_TEST(second == 8);
  // With no copy left to evict, this node's least recently used goes (2:
  // 1 was read since).
  BOOST_TEST(code_of(t.try_get(oid(2))) == lost);
  BOOST_TEST(value_of(t.try_get(oid(1))) == 1);
}

BOOST_AUTO_TEST_CASE(eviction_follows_the_order_of_use_through_gets_and_unpins) {
  object_table t{100};
  for (int i = 1; i <= 5; ++i)
    BOOST_REQUIRE(!t.put(oid(i), blob(i), 20));
  // Used since, in this order: 3 (a get), 1 (a pin and an unpin), 5 (a get
  // of the most recent one). Least recently used first: 2, 4, 3, 1, 5.
  t.try_get(oid(3));
  BOOST_REQUIRE(!t.pin(oid(1)));
  BOOST_REQUIRE(!t.unpin(oid(1)));
  t.try_get(oid(5));
  auto evicted = [&] {
    std::vector<int> gone;
    for (int i = 1; i <= 5; ++i)
      if (t.status(oid(i)) == object_status::lost)
        gone.push_back(i);
    return gone;
  };
  BOOST_REQUIRE(!t.put(oid(6), blob(6), 40));
  BOOST_TEST(evicted() == (std::vector<int>{2, 4}), boost::test_tools::per_element());
  BOOST_REQUIRE(!t.put(oid(7), blob(7), 20));
  BOOST_TEST(evicted() == (std::vector<int>{2, 3, 4}), boost::test_tools::per_element());
  BOOST_REQUIRE(!t.put(oid(8), blob(8), 40));
  BOOST_TEST(evicted() == (std::vector<int>{1, 2, 3, 4, 5}), boost::test_tools::per_element());
  BOOST_TEST(value_of(t.try_get(oid(6))) == 6);
  BOOST_TEST(value_of(t.try_get(oid(7))) == 7);
  BOOST_TEST(t.stats().bytes_used == 100u);
}

// Reads leave an entry in its place in its shard's list; eviction must
// still take the least recently read, whatever order the reads came in.
// 40 objects: shards hold several each.
BOOST_AUTO_TEST_CASE(eviction_follows_reads_in_any_order) {
  constexpr int n = 40;
  object_table t{n};
  for (int i = 1; i <= n; ++i)
    BOOST_REQUIRE(!t.put(oid(i), blob(i), 1));
  std::vector<int> reads; // a permutation of 1..40: 17, 34, 10, ...
  for (int k = 1; k <= n; ++k)
    reads.push_back(k * 17 % (n + 1));
  for (int i : reads)
    t.try_get(oid(i));
  std::vector<int> evicted;
  for (int next = n + 1; next <= 2 * n; ++next) {
    BOOST_REQUIRE(!t.put(oid(next), blob(next), 1));
    for (int i = 1; i <= n; ++i)
      if (t.status(oid(i)) == object_status::lost
          && std::find(evicted.begin(), evicted.end(), i) == evicted.end())
        evicted.push_back(i);
  }
  BOOST_TEST(evicted == reads, boost::test_tools::per_element());
}

// With a capacity of 1 MiB, each shard takes bytes for small values in
// chunks of 1 KiB (credits): what stats report, and what eviction frees,
// must still be exact.
BOOST_AUTO_TEST_CASE(small_values_take_credits_and_the_counts_stay_exact) {
  constexpr std::uint64_t capacity = 1 << 20;
  object_table t{capacity};
  for (int i = 1; i <= 100; ++i)
    BOOST_REQUIRE(!t.put(oid(i), blob(i), 10));
  BOOST_TEST(t.stats().bytes_used == 1000u);
  for (int i = 1; i <= 60; ++i)
    t.release(oid(i));
  BOOST_TEST(t.stats().bytes_used == 400u);
  // Exactly what is left fits, with nothing evicted: the credits come back.
  BOOST_REQUIRE(!t.put(oid(1000), blob(0), capacity - 400));
  BOOST_TEST(t.stats().evictions == 0u);
  BOOST_TEST(t.stats().bytes_used == capacity);
  // One byte more evicts the least recently used small value, and only it.
  BOOST_REQUIRE(!t.put(oid(1001), blob(0), 1));
  BOOST_TEST(t.stats().evictions == 1u);
  BOOST_TEST((t.status(oid(61)) == object_status::lost));
  BOOST_TEST((t.status(oid(62)) == object_status::ready));
  BOOST_TEST(t.stats().bytes_used == capacity - 9);
}

BOOST_AUTO_TEST_CASE(an_object_larger_than_capacity_is_refused_and_nothing_changes) {
  object_table t{100};
  BOOST_REQUIRE(!t.put(oid(1), blob(1), 60));
  auto before = t.stats();
  auto err = t.put(oid(2), blob(2), 101);
  BOOST_TEST(err.code() == full);
  auto after = t.stats();
  BOOST_TEST(after.objects == before.objects);
  BOOST_TEST(after.bytes_used == before.bytes_used);
  BOOST_TEST(after.evictions == 0u);
  BOOST_TEST(value_of(t.try_get(oid(1))) == 1);
  BOOST_TEST((t.status(oid(2)) == object_status::unknown));
}

BOOST_AUTO_TEST_CASE(pinned_objects_are_never_evicted) {
  object_table t{100};
  BOOST_REQUIRE(!t.put(oid(1), blob(1), 40));
  BOOST_REQUIRE(!t.put(oid(2), blob(2), 40));
  BOOST_REQUIRE(!t.pin(oid(1)));
  BOOST_REQUIRE(!t.pin(oid(2)));
  BOOST_TEST(t.stats().pinned == 2u);
  BOOST_TEST(t.stats().pinned_bytes == 80u);
  // Cannot fit because the rest is pinned: refused, nothing evicted.
  BOOST_TEST(t.put(oid(3), blob(3), 40).code() == full);
  BOOST_TEST(t.stats().evictions == 0u);
  BOOST_REQUIRE(!t.unpin(oid(2)));
  BOOST_REQUIRE(!t.put(oid(3), blob(3), 40));
  BOOST_TEST(code_of(t.try_get(oid(2))) == lost);
  BOOST_TEST(value_of(t.try_get(oid(1))) == 1);
  BOOST_TEST(t.stats().pinned == 1u);
}

BOOST_AUTO_TEST_CASE(pins_count_and_bad_pins_are_errors) {
  object_table t{100};
  BOOST_REQUIRE(!t.put(oid(1), blob(1), 10));
  BOOST_REQUIRE(!t.pin(oid(1)));
  BOOST_REQUIRE(!t.pin(oid(1)));
  BOOST_REQUIRE(!t.unpin(oid(1)));
  BOOST_TEST(t.stats().pinned == 1u);
  BOOST_REQUIRE(!t.unpin(oid(1)));
  BOOST_TEST(t.stats().pinned == 0u);
  BOOST_TEST(t.unpin(oid(1)).code() == static_cast<int>(errc::invalid_argument));
  BOOST_TEST(t.pin(oid(9)).code() == lost);
  t.free(oid(1));
  BOOST_TEST(t.pin(oid(1)).code() == lost);
}

BOOST_AUTO_TEST_CASE(free_drops_the_value_but_keeps_the_reason) {
  object_table t{100};
  BOOST_REQUIRE(!t.put(oid(1), blob(1), 10));
  BOOST_REQUIRE(!t.pin(oid(1)));
  t.free(oid(1));
  BOOST_TEST(!t.contains(oid(1)));
  BOOST_TEST(text_of(t.try_get(oid(1))).find("freed") != std::string::npos);
  auto s = t.stats();
  BOOST_TEST(s.bytes_used == 0u);
  BOOST_TEST(s.objects == 0u);
  BOOST_TEST(s.pinned == 0u);
  BOOST_TEST(t.size() == 1u); // the ref still exists
  t.release(oid(1));
  BOOST_TEST(t.size() == 0u);
}

BOOST_AUTO_TEST_CASE(the_last_release_erases_the_object) {
  object_table t{100};
  BOOST_REQUIRE(!t.put(oid(1), blob(1), 10));
  t.add_ref(oid(1));
  t.release(oid(1));
  BOOST_TEST(t.contains(oid(1)));
  t.release(oid(1));
  BOOST_TEST((t.status(oid(1)) == object_status::unknown));
  BOOST_TEST(t.stats().bytes_used == 0u);
  BOOST_TEST(t.size() == 0u);
  t.release(oid(1)); // unknown IDs are ignored
  t.add_ref(oid(1));
  BOOST_TEST(t.size() == 0u);
}

BOOST_AUTO_TEST_CASE(a_get_of_many_that_looks_again_counts_each_object_once) {
  object_table t{100};
  BOOST_REQUIRE(!t.put(oid(1), blob(1), 1));
  BOOST_REQUIRE(!t.register_pending(oid(2)));
  BOOST_REQUIRE(!t.register_pending(oid(3)));
  std::vector<object_id> ids{oid(1), oid(2), oid(3), oid(4)};
  std::vector<std::optional<lookup>> found(ids.size());
  BOOST_TEST(t.try_get_into(ids, found, false)); // 2 and 3 are pending
  BOOST_TEST(found[0].has_value());
  BOOST_TEST(!found[1].has_value());
  BOOST_TEST(!found[2].has_value());
  BOOST_REQUIRE(found[3].has_value()); // unknown: an error, not a wait
  BOOST_TEST(!*found[3]);
  BOOST_TEST(t.stats().gets == 2u); // the pending ones are not counted yet
  BOOST_REQUIRE(!t.fulfil(oid(2), blob(2), 1));
  BOOST_TEST(t.try_get_into(ids, found, false));
  BOOST_TEST(found[1].has_value());
  BOOST_TEST(t.stats().gets == 3u);             // only 2 was looked at again
  BOOST_TEST(t.try_get_into(ids, found, true)); // 3 is still pending: a miss
  BOOST_TEST(!found[2].has_value());
  auto s = t.stats();
  BOOST_TEST(s.gets == 4u);
  BOOST_TEST(s.hits == 2u);
  BOOST_TEST(s.misses == 2u);
  BOOST_REQUIRE(!t.fulfil(oid(3), blob(3), 1));
  BOOST_TEST(!t.try_get_into(ids, found, true));
  BOOST_TEST(t.stats().gets == 5u);
  BOOST_TEST(!t.try_get_into(ids, found, true)); // nothing left to look at
  BOOST_TEST(t.stats().gets == 5u);
}

BOOST_AUTO_TEST_CASE(waiters_are_called_once_when_a_pending_object_resolves) {
  object_table t{100};
  BOOST_REQUIRE(!t.register_pending(oid(1)));
  BOOST_REQUIRE(!t.register_pending(oid(2)));
  BOOST_TEST(!t.try_get(oid(1)).has_value());
  BOOST_TEST((t.status(oid(1)) == object_status::pending));
  BOOST_REQUIRE(!t.put(oid(3), blob(3), 1));
  BOOST_TEST(t.count_resolved({oid(1), oid(2), oid(3), oid(4)}) == 2u); // 3, and unknown 4
  BOOST_TEST((t.last_pending({oid(1), oid(2), oid(3), oid(4)}) == oid(2)));
  BOOST_TEST(!t.last_pending({oid(3), oid(4)}).has_value());
  std::vector<int> seen;
  std::uint64_t token = 0;
  BOOST_TEST(!t.get_or_wait(
    oid(1), [&](const lookup& r) { seen.push_back(r->get_as<int>(0)); }, token));
  std::uint64_t cancelled = 0;
  BOOST_TEST(!t.get_or_wait(
    oid(1), [&](const lookup&) { seen.push_back(-1); }, cancelled));
  t.cancel_wait(oid(1), cancelled);
  int failures = 0;
  BOOST_TEST(!t.get_or_wait(
    oid(2), [&](const lookup& r) { failures += r ? 0 : 1; }, token));
  BOOST_REQUIRE(!t.fulfil(oid(1), blob(5), 10));
  t.fail(oid(2), make_error(errc::task_failed, "boom"));
  BOOST_TEST(seen == std::vector<int>{5});
  BOOST_TEST(failures == 1);
  BOOST_TEST((t.status(oid(2)) == object_status::failed));
  BOOST_TEST(code_of(t.try_get(oid(2))) == static_cast<int>(errc::task_failed));
  BOOST_TEST(t.stats().puts == 2u); // the put of 3 and the fulfil of 1
}

BOOST_AUTO_TEST_CASE(a_result_that_cannot_fit_becomes_object_store_full) {
  object_table t{100};
  BOOST_REQUIRE(!t.register_pending(oid(1)));
  int code = 0;
  std::uint64_t token = 0;
  t.get_or_wait(
    oid(1), [&](const lookup& r) { code = r.error().code(); }, token);
  BOOST_TEST(t.fulfil(oid(1), blob(1), 1000).code() == full);
  BOOST_TEST(code == full);
  BOOST_TEST(code_of(t.try_get(oid(1))) == full);
}

BOOST_AUTO_TEST_CASE(results_nobody_wants_are_dropped) {
  object_table t{100};
  BOOST_REQUIRE(!t.register_pending(oid(1)));
  t.release(oid(1));
  BOOST_REQUIRE(!t.fulfil(oid(1), blob(1), 10));
  BOOST_TEST(t.size() == 0u);
  BOOST_TEST(t.stats().bytes_used == 0u);
}

BOOST_AUTO_TEST_CASE(close_fails_waiters_and_refuses_new_objects) {
  object_table t{100};
  BOOST_REQUIRE(!t.register_pending(oid(1)));
  int code = 0;
  std::uint64_t token = 0;
  t.get_or_wait(
    oid(1), [&](const lookup& r) { code = r.error().code(); }, token);
  auto reason = make_error(errc::runtime_not_initialized, "shut down");
  t.close(reason);
  BOOST_TEST(code == static_cast<int>(errc::runtime_not_initialized));
  BOOST_TEST(t.put(oid(2), blob(2), 1) == reason);
  BOOST_TEST(code_of(t.try_get(oid(1))) == static_cast<int>(errc::runtime_not_initialized));
}

BOOST_AUTO_TEST_CASE(values_are_destroyed_outside_the_lock) {
  object_table t{100};
  BOOST_REQUIRE(!t.put(oid(2), blob(2), 10));
  int callbacks = 0;
  // The hook's deleter calls back into the table, as ~object_ref does; under
  // the table's lock this would deadlock.
  calls_back value{std::shared_ptr<void>(nullptr, [&](void*) {
    t.add_ref(oid(2));
    t.release(oid(2));
    ++callbacks;
  })};
  BOOST_REQUIRE(!t.put(oid(1), caf::make_message(std::move(value)), 95 - 10));
  BOOST_REQUIRE(!t.put(oid(3), blob(3), 20)); // evicts 2, then 1
  t.free(oid(3));
  BOOST_TEST(callbacks == 1);
  BOOST_TEST(t.stats().evictions == 2u);
}

// The table is split into shards, each with its own lock; capacity, counts
// and eviction span them all. Threads storing, pinning, reading, resolving
// and dropping objects of mixed sizes at once must leave the counts exact,
// never exceed the capacity, and never lose a pinned value.
BOOST_AUTO_TEST_CASE(counts_stay_exact_and_pins_hold_under_concurrent_use) {
  constexpr std::uint64_t capacity = 1000;
  constexpr int threads = 4;
  constexpr int rounds = 10000;
  object_table t{capacity};
  std::atomic<int> pinned_lost{0};
  std::atomic<int> over_capacity{0};
  std::atomic<int> puts{0};
  std::atomic<int> refused{0}; // Boost.Test's checks are for the main thread
  std::vector<std::thread> workers;
  for (int w = 0; w < threads; ++w)
    workers.emplace_back([&, w] {
      std::vector<object_id> held;
      for (int i = 0; i < rounds; ++i) {
        auto id = object_id{77, static_cast<std::uint64_t>(w) * rounds + i + 1};
        auto size = static_cast<std::uint64_t>(1 + (i * 37 + w) % 200);
        if (i % 3 == 0) { // a task's result
          if (t.register_pending(id))
            ++refused;
          if (!t.fulfil(id, blob(i), size))
            ++puts;
        } else if (!t.put(id, blob(i), size)) {
          ++puts;
        }
        if (!t.pin(id)) {
          auto found = t.try_get(id);
          if (!found || !*found || (*found)->get_as<int>(0) != i)
            ++pinned_lost;
          if (t.unpin(id))
            ++refused;
        }
        held.push_back(id);
        // 12 held: about 1,200 bytes, past the capacity even when the
        // threads happen to run one after another (a loaded machine).
        if (held.size() > 12) {
          t.release(held.front());
          held.erase(held.begin());
        }
        if (i % 64 == 0 && t.stats().bytes_used > capacity)
          ++over_capacity;
      }
      for (const auto& id : held)
        t.release(id);
    });
  for (auto& w : workers)
    w.join();
  BOOST_TEST(pinned_lost.load() == 0);
  BOOST_TEST(over_capacity.load() == 0);
  BOOST_TEST(refused.load() == 0);
  BOOST_TEST(puts.load() == threads * rounds); // 800 bytes pinned at most, +200: all fit
  BOOST_TEST(t.size() == 0u);
  auto s = t.stats();
  BOOST_TEST(s.bytes_used == 0u);
  BOOST_TEST(s.objects == 0u);
  BOOST_TEST(s.pinned == 0u);
  BOOST_TEST(s.pinned_bytes == 0u);
  BOOST_TEST(s.puts == static_cast<std::uint64_t>(puts.load()));
  BOOST_TEST(s.evictions > 0u); // each thread's 12 held need about 1,200 bytes
}

namespace {

/// A run of a task or call on argument `arg`, as a submission and its host
/// see the table: the body's copy of the ref counted and the argument pinned
/// in one trip (this), then `complete` (`complete_run`). False if the
/// argument was not found ready. No Boost.Test checks: threads call it.
bool submit_run(object_table& t, const object_id& arg, const object_id& result,
                dependency_wait& deps) {
  std::vector<object_id> body_refs{arg};
  deps.ids = {arg};
  std::size_t resolved = 0;
  auto no_waiter = [](std::size_t) -> waiter { return [](const lookup&) {}; };
  return !t.register_and_pin(&body_refs, result, nullptr, deps, no_waiter, resolved)
         && resolved == 1 && deps.pinned == 1 && deps.value(0);
}

void complete_run(object_table& t, const object_id& result, dependency_wait& deps) {
  std::vector<object_id> released{deps.ids[0]};
  completion done;
  done.result = result;
  done.output = blob(0);
  done.size = 1;
  done.released = &released;
  (void)t.complete(done, deps);
}

/// Two runs in flight on one stored argument, oid(1) of `size` bytes, in a
/// table of 100: results `ra` and `rb`.
struct two_runs {
  object_table t{100};
  dependency_wait a, b;
  object_id ra = oid(10);
  object_id rb = oid(11);

  explicit two_runs(std::uint64_t size = 10) {
    BOOST_REQUIRE(!t.put(oid(1), blob(1), size));
    BOOST_REQUIRE(submit_run(t, oid(1), ra, a));
    BOOST_REQUIRE(submit_run(t, oid(1), rb, b));
  }
};

} // namespace

BOOST_FIXTURE_TEST_CASE(completions_drop_an_arguments_last_pin_and_ref_as_unpin_and_release_do,
                        two_runs) {
  BOOST_TEST(t.stats().pinned == 1u);
  complete_run(t, ra, a); // neither its pin nor its ref was the last
  BOOST_TEST(t.stats().pinned == 1u);
  BOOST_TEST(t.stats().pinned_bytes == 10u);
  t.release(oid(1)); // the caller's own ref: the run's is the last now
  BOOST_TEST(t.contains(oid(1)));
  complete_run(t, rb, b); // the last pin and the last ref
  BOOST_TEST(t.stats().pinned == 0u);
  BOOST_TEST(t.stats().pinned_bytes == 0u);
  BOOST_TEST((t.status(oid(1)) == object_status::unknown));
  BOOST_TEST(value_of(t.try_get(ra)) == 0);
  t.release(ra);
  t.release(rb);
  BOOST_TEST(t.size() == 0u);
  BOOST_TEST(t.stats().bytes_used == 0u);
}

struct two_big_runs : two_runs {
  two_big_runs() : two_runs(60) {}
};

BOOST_FIXTURE_TEST_CASE(an_argument_unpinned_by_its_last_completion_can_be_evicted_again,
                        two_big_runs) {
  complete_run(t, ra, a);
  BOOST_TEST(t.put(oid(2), blob(2), 60).code() == full); // still pinned by b
  complete_run(t, rb, b);
  BOOST_REQUIRE(!t.put(oid(2), blob(2), 60)); // evicts it
  BOOST_TEST(code_of(t.try_get(oid(1))) == lost);
  for (auto id : {oid(1), oid(2), ra, rb})
    t.release(id);
  BOOST_TEST(t.size() == 0u);
}

BOOST_AUTO_TEST_CASE(runs_on_one_argument_from_many_threads_leave_exact_counts) {
  constexpr int threads = 4;
  constexpr int rounds = 5000;
  object_table t{1000};
  BOOST_REQUIRE(!t.put(oid(1), blob(1), 10));
  std::atomic<int> wrong{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < threads; ++w)
    workers.emplace_back([&, w] {
      // Several runs in flight per thread, completed oldest first, as a host
      // completes what its callers submitted meanwhile.
      std::vector<std::pair<object_id, std::unique_ptr<dependency_wait>>> open;
      for (int i = 0; i < rounds; ++i) {
        auto deps = std::make_unique<dependency_wait>();
        auto result = object_id{78, static_cast<std::uint64_t>(w) * rounds + i + 1};
        if (!submit_run(t, oid(1), result, *deps) || deps->value(0)->get_as<int>(0) != 1)
          ++wrong;
        open.emplace_back(result, std::move(deps));
        if (open.size() > 3 || i + 1 == rounds) {
          while (!open.empty()) {
            complete_run(t, open.front().first, *open.front().second);
            t.release(open.front().first);
            open.erase(open.begin());
          }
        }
      }
    });
  for (auto& w : workers)
    w.join();
  BOOST_TEST(wrong.load() == 0);
  BOOST_TEST(t.stats().pinned == 0u);
  BOOST_TEST(t.size() == 1u); // the argument, with the ref put gave it
  t.release(oid(1));
  BOOST_TEST(t.size() == 0u);
  BOOST_TEST(t.stats().bytes_used == 0u);
}
