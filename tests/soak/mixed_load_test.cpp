#define BOOST_TEST_MODULE soak_mixed_load
#include <boost/test/unit_test.hpp>

// The soak test: 1,000,000 small tasks and 100,000 actor calls, chained in
// depth and breadth, about 1% throwing and 1% cancelled, from two threads at
// once. Every ref must end as exactly one of value, task_error or
// task_cancelled, as a model of the workload predicts; every task ran as
// often as its fate says (never twice, unless retried); the store is empty at
// the end and peak RSS stays under `rss_bound_mib`.
//
// RUSTYRAY_SOAK_PERCENT (default 100) scales the workload, e.g. for a quick
// local run or a sanitizer build.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "runtime_fixture.hpp"

using namespace rustyray;

namespace {

constexpr std::uint32_t tasks_per_batch = 10'000;
constexpr std::uint32_t task_batches = 100;
constexpr std::uint32_t calls_per_batch = 1'000;
constexpr std::uint32_t call_batches = 100;
constexpr std::uint32_t num_chains = 60;
constexpr std::uint32_t chain_depth = 50;
constexpr std::uint32_t num_accumulators = 4;
/// The bounds on peak RSS: the whole run holds at most one batch of refs and
/// results per thread (and a timeline ring that is full after the first
/// 100,000 tasks), so after the first quarter of the run memory must not grow
/// with the number of batches: it plateaus (0-2 MiB of growth measured),
/// where timeline slots that kept the longest error text they had ever held
/// grew it by 28 MiB.
/// ASan keeps freed memory in quarantine, so its builds only report the figure.
constexpr long rss_bound_mib = 256;
constexpr long rss_growth_bound_mib = 16;

/// What a task is told to do.
enum class fate : int { ok, throws, flaky };

/// How often each task index ran, written by the tasks themselves.
std::unique_ptr<std::atomic<std::uint8_t>[]> runs;

long step(long x, int what, std::uint32_t idx) {
  auto n = runs[idx].fetch_add(1) + 1;
  if (what == static_cast<int>(fate::throws) || (what == static_cast<int>(fate::flaky) && n == 1))
    throw std::runtime_error("planned failure of task " + std::to_string(idx));
  return x + 1;
}

long join(long a, long b, std::uint32_t idx) {
  runs[idx].fetch_add(1);
  return a + b;
}

/// A stateful actor that checks its calls arrive in order.
class Accumulator {
public:
  static Accumulator create() {
    return {};
  }

  long add(long x, std::uint32_t seq, bool fail) {
    if (seq != next_seq_)
      throw std::logic_error("call " + std::to_string(seq) + " ran out of order, expected "
                             + std::to_string(next_seq_));
    ++next_seq_;
    if (fail)
      throw std::runtime_error("planned failure of call " + std::to_string(seq));
    total_ += x;
    return total_;
  }

private:
  long total_ = 0;
  std::uint32_t next_seq_ = 0;
};

/// Boost.Test's assertions are not thread-safe: the two driver threads throw
/// this instead, and the test case reports it.
struct model_violation : std::runtime_error {
  using std::runtime_error::runtime_error;
};

#define SOAK_EXPECT(cond, what)                                                                    \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      std::ostringstream text_;                                                                    \
      text_ << what;                                                                               \
      throw model_violation(text_.str());                                                          \
    }                                                                                              \
  } while (false)

std::uint32_t scaled(std::uint32_t n) {
  static const long percent = [] {
    const char* text = std::getenv("RUSTYRAY_SOAK_PERCENT");
    return text != nullptr ? std::clamp(std::atol(text), 1L, 100L) : 100L;
  }();
  return static_cast<std::uint32_t>(std::max(1L, n * percent / 100));
}

/// How a ref ended.
struct outcome {
  enum kind_t { value, failed, cancelled } kind = value;
  long v = 0;
};

template <class T>
outcome settle(const object_ref<T>& ref) {
  try {
    return {outcome::value, ref.get()};
  } catch (const task_error&) {
    return {outcome::failed};
  } catch (const error& e) {
    if (e.code() == errc::task_cancelled)
      return {outcome::cancelled};
    throw;
  }
}

/// Totals over the whole run.
struct tally {
  std::uint64_t tasks = 0, values = 0, failed = 0, cancelled = 0;
  std::uint64_t planned_throws = 0, flaky = 0, cancel_requests = 0, ran_after_cancel = 0;
  std::uint64_t cancelled_before_run = 0; // the rest of `cancelled` are their dependants
  std::uint64_t cancelled_or_failed = 0;  // cancelled, and an input failed: either
  std::uint64_t calls = 0, call_values = 0, call_failures = 0;
  std::uint64_t call_tasks = 0, call_tasks_failed = 0; // tasks around the calls
};

/// One task of a batch, as the model sees it.
struct task_node {
  object_ref<long> ref;
  std::uint32_t idx = 0;
  fate what = fate::ok;
  bool is_join = false;
  bool cancelled = false; // cancel() returned true
  int in[2] = {-1, -1};   // inputs: node positions, or -1 for a plain value
  long value_in[2] = {0, 0};
};

class task_batch {
public:
  explicit task_batch(std::uint32_t first_idx) : next_idx_(first_idx) {}

  /// step(x) where x is a node's ref, or a value when `from` is -1.
  int step(int from, long value, fate what) {
    task_node n;
    n.idx = next_idx_++;
    n.what = what;
    n.in[0] = from;
    n.value_in[0] = value;
    auto builder = task(::step);
    if (what == fate::flaky)
      builder.max_retries(1).retry_exceptions(true);
    n.ref = from < 0 ? builder.remote(value, static_cast<int>(what), n.idx)
                     : builder.remote(nodes_[from].ref, static_cast<int>(what), n.idx);
    nodes_.push_back(std::move(n));
    return static_cast<int>(nodes_.size() - 1);
  }

  int join(int a, int b) {
    task_node n;
    n.idx = next_idx_++;
    n.is_join = true;
    n.in[0] = a;
    n.in[1] = b;
    n.ref = task(::join).remote(nodes_[a].ref, nodes_[b].ref, n.idx);
    nodes_.push_back(std::move(n));
    return static_cast<int>(nodes_.size() - 1);
  }

  void cancel_node(int at) {
    nodes_[at].cancelled = cancel(nodes_[at].ref);
  }

  /// Gets every ref and checks it against the model; throws model_violation
  /// at the first disagreement.
  void check(tally& t) {
    std::vector<outcome> got(nodes_.size());
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      const auto& n = nodes_[i];
      got[i] = settle(n.ref);
      auto ran = runs[n.idx].load();
      ++t.tasks;
      t.planned_throws += n.what == fate::throws;
      t.cancel_requests += n.cancelled;
      switch (got[i].kind) {
        case outcome::value:
          ++t.values;
          break;
        case outcome::failed:
          ++t.failed;
          break;
        case outcome::cancelled:
          ++t.cancelled;
          break;
      }
      bool inputs_ok = true;
      long in[2] = {n.value_in[0], n.value_in[1]};
      for (int k = 0; k < 2; ++k) {
        if (n.in[k] < 0)
          continue;
        if (got[n.in[k]].kind != outcome::value)
          inputs_ok = false;
        in[k] = got[n.in[k]].v;
      }
      std::string where = "task " + std::to_string(n.idx);
      if (n.cancelled && ran == 0 && inputs_ok) {
        SOAK_EXPECT(got[i].kind == outcome::cancelled, where << " was cancelled but failed");
        ++t.cancelled_before_run;
        continue;
      }
      if (n.cancelled && ran == 0) {
        // Cancelled, and an input failed too. Either the cancel came first
        // (task_cancelled, counted as cancelled), or a worker had taken the
        // task already (state running, so cancel() only asked it to stop)
        // and failed it on the input (the input's error, counted as failed).
        SOAK_EXPECT(got[i].kind != outcome::value, where << " has a value from a failed input");
        ++t.cancelled_or_failed;
        continue;
      }
      if (!inputs_ok) {
        // A task whose argument holds an error never runs and fails too.
        SOAK_EXPECT(ran == 0, where << " ran with a failed input");
        SOAK_EXPECT(got[i].kind != outcome::value, where << " has a value from a failed input");
        continue;
      }
      SOAK_EXPECT(ran > 0, where << " never ran, but was not cancelled");
      t.ran_after_cancel += n.cancelled;
      switch (n.what) {
        case fate::throws:
          SOAK_EXPECT(ran == 1 && got[i].kind == outcome::failed,
                      where << " should fail once, ran " << int{ran});
          break;
        case fate::flaky:
          ++t.flaky;
          SOAK_EXPECT(ran == 2 && got[i].kind == outcome::value && got[i].v == in[0] + 1,
                      where << " should succeed on its retry, ran " << int{ran});
          break;
        case fate::ok: {
          long want = n.is_join ? in[0] + in[1] : in[0] + 1;
          SOAK_EXPECT(ran == 1 && got[i].kind == outcome::value && got[i].v == want,
                      where << " ran " << int{ran} << " times, value " << got[i].v << " (kind "
                            << got[i].kind << "), want " << want);
          break;
        }
      }
    }
    for (const auto& n : nodes_)
      runs[n.idx].store(0);
  }

private:
  std::vector<task_node> nodes_;
  std::uint32_t next_idx_;
};

/// Chains in depth, fan-in joins, and a breadth of leaves that share the
/// chains' refs; about 1% of the tasks throw and 1% are cancelled.
void run_task_batch(std::uint32_t b, tally& t) {
  task_batch batch{0};
  std::vector<std::vector<int>> chains(num_chains);
  std::uint32_t submitted = 0;
  for (std::uint32_t c = 0; c < num_chains; ++c) {
    int at = -1;
    for (std::uint32_t d = 0; d < chain_depth; ++d, ++submitted) {
      // One chain in fifteen breaks halfway: its rest fails with the cause.
      auto what = c % 15 == 7 && d == chain_depth / 2 ? fate::throws : fate::ok;
      at = batch.step(at, static_cast<long>(b) * 1000 + c, what);
      chains[c].push_back(at);
      // And one in fifteen is cancelled early on: its rest fails as cancelled.
      if (c % 15 == 3 && d == chain_depth / 5)
        batch.cancel_node(at);
    }
  }
  for (std::uint32_t c = 0; c + 1 < num_chains; c += 2, ++submitted)
    batch.join(chains[c].back(), chains[c + 1].back());
  for (std::uint32_t j = 0; submitted < tasks_per_batch; ++j, ++submitted) {
    auto what = j % 71 == 5 ? fate::throws : j % 199 == 11 ? fate::flaky : fate::ok;
    // Odd leaves read a chain's intermediate ref: one ref, many readers.
    int from = j % 2 == 1 ? chains[j % num_chains][j % chain_depth] : -1;
    int at = batch.step(from, j, what);
    if (what == fate::ok && j % 67 == 3)
      batch.cancel_node(at);
  }
  batch.check(t);
}

/// Calls to a few accumulators, in order per actor; some take refs produced
/// by tasks, some throw, and every tenth result feeds a task.
void run_call_batch(std::vector<actor_handle<Accumulator>>& actors, std::vector<std::uint32_t>& seq,
                    std::vector<long>& totals, std::uint32_t first_idx, tally& t) {
  struct call {
    object_ref<long> ref;
    std::size_t actor;
    long x;
    bool fail;
    object_ref<long> next;     // a task reading the result, or nil
    std::int64_t arg_idx = -1; // the task producing the argument, if any
    std::int64_t next_idx = -1;
  };
  std::vector<call> calls;
  calls.reserve(calls_per_batch);
  std::uint32_t idx = first_idx;
  for (std::uint32_t i = 0; i < calls_per_batch; ++i) {
    call c;
    c.actor = i % actors.size();
    c.x = static_cast<long>(i % 13);
    c.fail = i % 97 == 41;
    auto s = seq[c.actor]++;
    auto method = actors[c.actor].task(&Accumulator::add);
    if (i % 5 == 0) { // the argument comes from a task that has not run yet
      c.arg_idx = idx++;
      auto arg = task(::step).remote(c.x - 1, 0, static_cast<std::uint32_t>(c.arg_idx));
      c.ref = method.remote(arg, s, c.fail);
    } else
      c.ref = method.remote(c.x, s, c.fail);
    if (i % 10 == 9) {
      c.next_idx = idx++;
      c.next = task(::step).remote(c.ref, 0, static_cast<std::uint32_t>(c.next_idx));
    }
    calls.push_back(std::move(c));
  }
  for (auto& c : calls) {
    ++t.calls;
    auto got = settle(c.ref);
    if (c.fail) {
      SOAK_EXPECT(got.kind == outcome::failed, "a throwing call did not fail");
      ++t.call_failures;
    } else {
      totals[c.actor] += c.x;
      SOAK_EXPECT(got.kind == outcome::value && got.v == totals[c.actor],
                  "call on actor " << c.actor << " returned " << got.v << " (kind " << got.kind
                                   << "), want " << totals[c.actor]);
      ++t.call_values;
    }
    t.call_tasks += (c.arg_idx >= 0) + !c.next.id().is_nil();
    t.call_tasks_failed += c.fail && !c.next.id().is_nil();
    if (c.arg_idx >= 0)
      SOAK_EXPECT(runs[c.arg_idx].exchange(0) == 1, "a call's argument task ran not once");
    if (!c.next.id().is_nil()) {
      auto next = settle(c.next);
      SOAK_EXPECT(next.kind == (c.fail ? outcome::failed : outcome::value)
                    && (c.fail || next.v == totals[c.actor] + 1),
                  "the task reading call " << c.actor << "'s result got " << next.v);
      // It runs exactly once, or never when the call failed.
      SOAK_EXPECT(runs[c.next_idx].exchange(0) == (c.fail ? 0 : 1),
                  "a task reading a call's result ran the wrong number of times");
    }
  }
}

long peak_rss_mib() {
  std::ifstream status{"/proc/self/status"};
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0)
      return std::atol(line.c_str() + 6) / 1024;
  return -1;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_million_tasks_and_a_hundred_thousand_calls_lose_nothing) {
  auto cfg = test::small_config();
  cfg.num_workers = 4;
  test::runtime_fixture rt{cfg};
  // Task indices: the task thread uses [0, tasks_per_batch), the call thread
  // the range after it, each reset after its batch is checked.
  runs.reset(new std::atomic<std::uint8_t>[tasks_per_batch + calls_per_batch]());
  auto started = std::chrono::steady_clock::now();

  tally tasks_tally;
  long early_peak_mib = -1;
  std::exception_ptr task_thread_failure;
  std::thread task_thread{[&] {
    try {
      auto batches = scaled(task_batches);
      for (std::uint32_t b = 0; b < batches; ++b) {
        run_task_batch(b, tasks_tally);
        if (b + 1 == batches / 4)
          early_peak_mib = peak_rss_mib();
      }
    } catch (...) {
      task_thread_failure = std::current_exception();
    }
  }};

  tally calls_tally;
  {
    std::vector<actor_handle<Accumulator>> actors;
    for (std::uint32_t a = 0; a < num_accumulators; ++a)
      actors.push_back(actor(Accumulator::create).remote());
    std::vector<std::uint32_t> seq(actors.size(), 0);
    std::vector<long> totals(actors.size(), 0);
    auto batches = scaled(call_batches);
    try {
      for (std::uint32_t b = 0; b < batches; ++b)
        run_call_batch(actors, seq, totals, tasks_per_batch, calls_tally);
    } catch (...) {
      task_thread.join();
      throw;
    }
  }
  task_thread.join();
  if (task_thread_failure)
    std::rethrow_exception(task_thread_failure);
  double seconds =
    std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  const auto& t = tasks_tally;
  auto state = rustyray::state();
  const auto& counters = state["counters"];
  // Printed, not logged: the figures are what a person running it wants.
  std::cout << "soak: " << t.tasks << " tasks (" << t.values << " values, " << t.failed
            << " task_error, " << t.cancelled << " task_cancelled; " << t.planned_throws
            << " planned throws, " << t.flaky << " retried, " << t.cancel_requests
            << " cancel requests of which " << t.ran_after_cancel << " too late), "
            << calls_tally.calls << " actor calls (" << calls_tally.call_failures
            << " task_error), peak RSS " << peak_rss_mib() << " MiB (" << early_peak_mib
            << " MiB after the first quarter), " << seconds << " s\ncounters " << counters.dump()
            << std::endl;

  BOOST_TEST(t.tasks == std::uint64_t{scaled(task_batches)} * tasks_per_batch);
  BOOST_TEST(t.values + t.failed + t.cancelled == t.tasks);
  BOOST_TEST(calls_tally.call_values + calls_tally.call_failures == calls_tally.calls);
  BOOST_TEST(calls_tally.calls == std::uint64_t{scaled(call_batches)} * calls_per_batch);
  // Every planned failure and cancellation shows up, at about 1% each.
  BOOST_TEST(t.planned_throws * 200 >= t.tasks);
  BOOST_TEST(t.cancelled > 0u);
  // The runtime's own counters agree with the model, retries included.
  const auto& c = calls_tally;
  auto counter = [&](const char* name) { return counters[name].get<std::uint64_t>(); };
  BOOST_TEST(counter("tasks_submitted") == t.tasks + c.call_tasks);
  BOOST_TEST(counter("tasks_finished") == t.values + c.call_tasks - c.call_tasks_failed);
  // A dependant of a cancelled task throws task_cancelled but counts as failed.
  BOOST_TEST(counter("tasks_failed") + counter("tasks_cancelled")
             == t.failed + t.cancelled + c.call_tasks_failed);
  BOOST_TEST(counter("tasks_cancelled") >= t.cancelled_before_run);
  BOOST_TEST(counter("tasks_cancelled") <= t.cancelled_before_run + t.cancelled_or_failed);
  BOOST_TEST(counter("tasks_retried") == t.flaky);
  BOOST_TEST(counter("actor_calls") == c.calls);
  BOOST_TEST(counter("actor_calls_failed") == c.call_failures);
#if !defined(__SANITIZE_ADDRESS__)
  BOOST_TEST(peak_rss_mib() <= rss_bound_mib);
  if (early_peak_mib > 0)
    BOOST_TEST(peak_rss_mib() - early_peak_mib <= rss_growth_bound_mib);
#endif
  // The fixture checks the store is empty at the end.
}
