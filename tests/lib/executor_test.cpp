#define BOOST_TEST_MODULE lib_executor
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <memory>
#include <mutex>

#include "conditions.hpp"
#include "sync.hpp"
#include "rustyray/errc.hpp"
#include "rustyray/internal/executor.hpp"
#include "rustyray/internal/threads.hpp"

using namespace rustyray::internal;
using namespace std::chrono_literals;
using rustyray::test::gate;

namespace {

/// A job that runs a function.
class fn_job : public job {
public:
  explicit fn_job(std::function<void()> f) : f_(std::move(f)) {}
  void run() noexcept override {
    f_();
  }

private:
  std::function<void()> f_;
};

job_ptr make_job(std::function<void()> f) {
  return std::make_shared<fn_job>(std::move(f));
}

/// Stops the executor when the test ends and waits (30 s at most) for its
/// threads.
struct stop_at_exit {
  std::shared_ptr<executor> ex;
  ~stop_at_exit() {
    ex->stop();
    BOOST_CHECK(ex->join(30s));
  }
};

executor_options one_thread() {
  executor_options opts;
  opts.threads = 1;
  opts.max_threads = 8;
  opts.what = "test thread";
  return opts;
}

/// Posts a job that waits for a second job to open its gate (in a blocking
/// scope if `says_it_blocks`, else in a plain wait), then the second; true
/// once the first has passed the gate, which takes a second thread.
bool first_job_waits_for_the_second(executor& ex, bool says_it_blocks) {
  gate opened;
  gate first_done;
  BOOST_REQUIRE(!ex.post(make_job([&] {
    std::optional<blocking_scope> blocked;
    if (says_it_blocks)
      blocked.emplace();
    if (opened.pass())
      first_done.open();
  })));
  BOOST_REQUIRE(!ex.post(make_job([&] { opened.open(); })));
  return first_done.pass();
}

} // namespace

BOOST_AUTO_TEST_CASE(every_posted_job_runs_once_on_the_executors_threads) {
  auto ex_ptr = executor::make(one_thread());
  stop_at_exit stopper{ex_ptr};
  auto& ex = *ex_ptr;
  std::atomic<int> ran{0};
  std::atomic<int> elsewhere{0};
  gate all_done;
  constexpr int jobs = 10000;
  for (int i = 0; i < jobs; ++i)
    BOOST_REQUIRE(!ex.post(make_job([&] {
      if (!ex.on_own_thread())
        ++elsewhere;
      if (++ran == jobs)
        all_done.open();
    })));
  BOOST_REQUIRE(all_done.pass());
  BOOST_TEST(ran.load() == jobs);
  BOOST_TEST(elsewhere.load() == 0);
  BOOST_TEST(!ex.on_own_thread());
}

BOOST_AUTO_TEST_CASE(a_job_blocked_in_a_get_lends_its_thread_to_the_queued_jobs) {
  // One thread: the first job waits (as a get does, in a blocking scope) for
  // the second to open its gate. Only a second thread can run it.
  auto ex_ptr = executor::make(one_thread());
  stop_at_exit stopper{ex_ptr};
  BOOST_TEST(first_job_waits_for_the_second(*ex_ptr, true));
}

BOOST_AUTO_TEST_CASE(a_job_stalled_without_saying_so_gets_a_thread_beside_it) {
  // As above, but the wait is a plain condition variable (a lock, a sleep):
  // the monitor sees the queue stand still and starts a thread.
  auto opts = one_thread();
  opts.stall_after = 5ms;
  auto ex_ptr = executor::make(opts);
  stop_at_exit stopper{ex_ptr};
  BOOST_TEST(first_job_waits_for_the_second(*ex_ptr, false));
}

BOOST_AUTO_TEST_CASE(no_more_threads_than_the_bound_however_many_jobs_block) {
  auto opts = one_thread();
  opts.max_threads = 2;
  opts.stall_after = 5ms;
  auto ex_ptr = executor::make(opts);
  stop_at_exit stopper{ex_ptr};
  auto& ex = *ex_ptr;
  gate release;
  std::atomic<int> started{0};
  std::atomic<int> finished{0};
  for (int i = 0; i < 3; ++i)
    BOOST_REQUIRE(!ex.post(make_job([&] {
      ++started;
      blocking_scope blocked;
      if (release.pass())
        ++finished;
    })));
  // Two threads, both blocked: the third job waits in the queue. (A job
  // counts as started a moment before it blocks.)
  BOOST_REQUIRE(rustyray::test::eventually([&] { return ex.snapshot().blocked == 2u; }));
  BOOST_TEST(started.load() == 2);
  auto s = ex.snapshot();
  BOOST_TEST(s.threads == 2u);
  BOOST_TEST(s.blocked == 2u);
  BOOST_TEST(s.queued == 1u);
  release.open();
  BOOST_TEST(rustyray::test::eventually([&] { return finished.load() == 3; }));
}

BOOST_AUTO_TEST_CASE(extra_threads_end_once_they_idle) {
  auto opts = one_thread();
  opts.idle_exit = 20ms;
  auto ex_ptr = executor::make(opts);
  stop_at_exit stopper{ex_ptr};
  auto& ex = *ex_ptr;
  BOOST_REQUIRE(first_job_waits_for_the_second(ex, true));
  BOOST_TEST(ex.snapshot().threads >= 1u);
  // No event marks a thread's end: its idle timeout passes, then it ends.
  BOOST_TEST(rustyray::test::eventually([&] { return ex.snapshot().threads == 1u; }));
}

BOOST_AUTO_TEST_CASE(a_refused_thread_is_a_typed_error_when_no_thread_runs) {
  auto ex_ptr = executor::make(one_thread());
  stop_at_exit stopper{ex_ptr};
  auto& ex = *ex_ptr;
  ex.fail_thread_starts(true);
  auto err = ex.post(make_job([] {}));
  BOOST_REQUIRE(err);
  BOOST_TEST((rustyray::errc_of(err) == rustyray::errc::system_error));
  BOOST_TEST(rustyray::describe(err).find("could not start a test thread") != std::string::npos);
  BOOST_TEST(ex.snapshot().failed_starts == 1u);
  BOOST_TEST(ex.snapshot().queued == 0u);
}

BOOST_AUTO_TEST_CASE(a_post_fails_when_every_thread_is_blocked_and_none_can_start) {
  // Once the only thread blocks, nothing would run a new job until it
  // returns, which may wait for that very job. The post says so instead of
  // queueing it.
  auto ex_ptr = executor::make(one_thread());
  stop_at_exit stopper{ex_ptr};
  auto& ex = *ex_ptr;
  gate release;
  BOOST_REQUIRE(!ex.post(make_job([&] {
    blocking_scope blocked;
    (void)release.pass();
  })));
  BOOST_REQUIRE(rustyray::test::eventually([&] { return ex.snapshot().blocked == 1u; }));
  ex.fail_thread_starts(true);
  auto err = ex.post(make_job([] {}));
  BOOST_TEST((rustyray::errc_of(err) == rustyray::errc::system_error));
  BOOST_TEST(rustyray::describe(err).find("1 running, all blocked") != std::string::npos);
  BOOST_TEST(ex.snapshot().queued == 0u);
  // A job that must not be refused waits for the blocked thread instead.
  gate queued_ran;
  BOOST_REQUIRE(!ex.post(make_job([&] { queued_ran.open(); }), false));
  BOOST_TEST(ex.snapshot().queued == 1u);
  release.open();
  BOOST_TEST(queued_ran.pass());
  // Once it returns, posts work again.
  gate ran;
  BOOST_REQUIRE(!ex.post(make_job([&] { ran.open(); })));
  BOOST_TEST(ran.pass());
}

BOOST_AUTO_TEST_CASE(a_dedicated_executor_has_one_thread_and_no_monitor) {
  auto opts = one_thread();
  opts.max_threads = 1;
  auto ex_ptr = executor::make(opts);
  stop_at_exit stopper{ex_ptr};
  auto& ex = *ex_ptr;
  gate ran;
  BOOST_REQUIRE(!ex.post(make_job([&] { ran.open(); })));
  BOOST_REQUIRE(ran.pass());
  BOOST_TEST(ex.snapshot().threads == 1u);
}

BOOST_AUTO_TEST_CASE(posts_after_stop_fail_and_queued_jobs_still_run) {
  auto ex_ptr = executor::make(one_thread());
  stop_at_exit stopper{ex_ptr};
  auto& ex = *ex_ptr;
  gate hold;
  std::atomic<int> ran{0};
  BOOST_REQUIRE(!ex.post(make_job([&] {
    (void)hold.pass();
    ++ran;
  })));
  BOOST_REQUIRE(!ex.post(make_job([&] { ++ran; })));
  ex.stop();
  auto err = ex.post(make_job([&] { ++ran; }));
  BOOST_TEST((rustyray::errc_of(err) == rustyray::errc::runtime_not_initialized));
  hold.open();
  ex.join();
  BOOST_TEST(ran.load() == 2);
}

BOOST_AUTO_TEST_CASE(a_job_may_drop_the_last_reference_to_its_executor) {
  auto ex = executor::make(one_thread());
  std::weak_ptr<executor> watch = ex;
  gate ran;
  auto* raw = ex.get();
  BOOST_REQUIRE(!raw->post(make_job([&ran, owner = std::move(ex)]() mutable {
    owner->stop();
    owner.reset(); // the thread's own share keeps it alive until it ends
    ran.open();
  })));
  BOOST_REQUIRE(ran.pass());
  BOOST_TEST(rustyray::test::eventually([&] { return watch.expired(); }));
}
