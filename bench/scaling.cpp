#include "scaling.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include <sys/resource.h>
#include <unistd.h>

#include "caf_floors.hpp"
#include "report.hpp"
#include "timeit.hpp"
#include "workloads.hpp"

namespace bench {

scaling_plan scaling_plan::full() {
  scaling_plan plan;
  plan.outstanding_tasks = {1000, 10000, 100000, 1000000};
  for (std::size_t size = 1024; size <= (std::size_t{256} << 20); size *= 4)
    plan.object_sizes.push_back(size);
  plan.chain_depths = {1, 10, 100, 1000, 10000};
  plan.actor_counts = {1, 10, 100, 1000, 10000, 100000, 1000000};
  return plan;
}

scaling_plan scaling_plan::quick() {
  scaling_plan plan;
  plan.outstanding_tasks = {1000, 10000};
  plan.object_sizes = {1024, 64 * 1024, 1024 * 1024};
  plan.chain_depths = {1, 10, 100};
  plan.actor_counts = {1, 10};
  plan.min_repeats = 1;
  plan.min_seconds = 0;
  plan.max_repeats = 1;
  return plan;
}

namespace {

double median(std::vector<double> xs) {
  std::sort(xs.begin(), xs.end());
  auto mid = xs.size() / 2;
  return xs.size() % 2 == 1 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
}

/// Calls `once` (which returns the seconds of its timed part) as often as the
/// plan says; the median of its results and how many there were. The first
/// point of a series runs once more before, untimed, so that it does not pay
/// for what the earlier series left behind (or for cold caches).
template <class Once>
std::pair<double, int> repeat(const scaling_plan& plan, bool first_point, Once once) {
  if (first_point)
    (void)once();
  std::vector<double> seconds;
  double total = 0;
  auto runs = [&] { return static_cast<int>(seconds.size()); };
  while (runs() < plan.min_repeats || (total < plan.min_seconds && runs() < plan.max_repeats)) {
    seconds.push_back(once());
    total += seconds.back();
  }
  return {median(seconds), runs()};
}

/// Bytes of this process in RAM now (0 where /proc is missing).
double resident_bytes() {
  std::ifstream statm{"/proc/self/statm"};
  double size = 0;
  double resident = 0;
  statm >> size >> resident;
  return resident * static_cast<double>(sysconf(_SC_PAGESIZE));
}

/// Threads of this process now (0 where /proc is missing).
double thread_count() {
  std::ifstream status{"/proc/self/status"};
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("Threads:", 0) == 0)
      return std::stod(line.substr(8));
  return 0;
}

/// Minor page faults of this process so far (pages the kernel mapped on first touch).
double minor_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_minflt);
}

/// The median of `xs` without the untimed first run's entry, if `repeat` made one.
double median_of_timed(std::vector<double> xs, int repeats) {
  if (xs.size() > static_cast<std::size_t>(repeats))
    xs.erase(xs.begin());
  return median(std::move(xs));
}

nlohmann::ordered_json column(const char* key, const char* label) {
  return {{"key", key}, {"label", label}};
}

nlohmann::ordered_json tasks_async(const scaling_plan& plan, const progress_fn& progress) {
  nlohmann::ordered_json series{
    {"name", "scaling_tasks_async"},
    {"title", "Outstanding tasks"},
    {"about", "`single_client_tasks_async` with N tasks in place of 1,000: submit N `small_value` "
              "tasks, then one `get` of all N"},
    {"note", "The time includes submitting, scheduling, running and getting every task. Every "
             "task holds a record and a pending result object until it has run, so memory grows "
             "with N: the resident bytes per task are the process's growth in RAM from before "
             "the first submission to after the last (tasks run meanwhile, so fewer than N are "
             "waiting then; 0 where the allocator reused freed memory). Once that no longer "
             "fits in the CPU's caches, each task costs some cache misses more."},
    {"x", "outstanding tasks"},
    {"columns",
     {column("seconds", "seconds per run"), column("us_per_item", "µs per task"),
      column("resident_bytes_per_item", "resident bytes per task")}},
    {"flat", {"us_per_item"}},
    {"points", nlohmann::ordered_json::array()}};
  for (auto n : plan.outstanding_tasks) {
    progress(std::to_string(n) + " tasks");
    std::vector<double> growth;
    auto [seconds, repeats] = repeat(plan, n == plan.outstanding_tasks.front(), [&, n = n] {
      double start = now_s();
      double before = resident_bytes();
      std::vector<rustyray::object_ref<int>> refs;
      refs.reserve(n);
      for (std::size_t i = 0; i < n; ++i)
        refs.push_back(rustyray::task(small_value).remote());
      growth.push_back(std::max(0.0, resident_bytes() - before));
      (void)rustyray::get(refs);
      return now_s() - start;
    });
    series["points"].push_back(
      {{"x", n},
       {"repeats", repeats},
       {"seconds", round_sig(seconds, 4)},
       {"us_per_item", round_sig(seconds * 1e6 / static_cast<double>(n), 4)},
       {"resident_bytes_per_item",
        round_sig(median_of_timed(growth, repeats) / static_cast<double>(n), 4)}});
  }
  return series;
}

nlohmann::ordered_json object_size(const scaling_plan& plan, const progress_fn& progress) {
  nlohmann::ordered_json series{
    {"name", "scaling_object_size"},
    {"title", "Object size"},
    {"about", "`put` of a `std::vector<uint8_t>` of the given size (its ref dropped at once), and "
              "`get` of a stored one (a copy); each run does as many operations as fit in "
              "64 MiB, at most 10,000"},
    {"note", "Small objects cost a fixed amount per call, so µs per MiB falls as they grow; "
             "from a few MiB on the copies dominate: put copies the buffer into the store once "
             "(buffers of 4 MiB and more into reused, already mapped memory), get copies it into "
             "a new vector, whose fresh memory the kernel maps and zeroes on first touch (the "
             "page-fault columns count those faults: 256 per MiB with 4 KiB pages, 0.5 with "
             "transparent huge pages, each of which zeroes 2 MiB); and once objects outgrow "
             "the CPU's caches, a copy runs at memory bandwidth (compare `memcpy_gigabytes`)."},
    {"x", "bytes"},
    {"columns",
     {column("ops", "operations per run"), column("put_us_per_op", "put µs"),
      column("put_gb_per_s", "put GB/s"), column("put_us_per_mib", "put µs per MiB"),
      column("put_faults_per_mib", "put page faults per MiB"), column("get_us_per_op", "get µs"),
      column("get_gb_per_s", "get GB/s"), column("get_us_per_mib", "get µs per MiB"),
      column("get_faults_per_mib", "get page faults per MiB")}},
    {"flat", {"put_us_per_mib", "get_us_per_mib"}},
    {"points", nlohmann::ordered_json::array()}};
  for (auto size : plan.object_sizes) {
    progress(std::to_string(size) + " bytes");
    const std::vector<std::uint8_t> value(size, 1);
    const auto ops = std::clamp<std::size_t>((std::size_t{64} << 20) / size, 1, 10000);
    const bool first = size == plan.object_sizes.front();
    std::vector<double> put_faults;
    auto [put_s, put_repeats] = repeat(plan, first, [&] {
      double faults = minor_faults();
      double start = now_s();
      for (std::size_t i = 0; i < ops; ++i)
        (void)rustyray::put(value);
      double elapsed = now_s() - start;
      put_faults.push_back(minor_faults() - faults);
      return elapsed;
    });
    auto stored = rustyray::put(value);
    std::vector<double> get_faults;
    auto [get_s, get_repeats] = repeat(plan, first, [&] {
      double faults = minor_faults();
      double start = now_s();
      for (std::size_t i = 0; i < ops; ++i)
        if (rustyray::get(stored).size() != size)
          throw std::runtime_error("get returned an object of the wrong size");
      double elapsed = now_s() - start;
      get_faults.push_back(minor_faults() - faults);
      return elapsed;
    });
    const double mib = static_cast<double>(size) / (1 << 20);
    const double all_mib = mib * static_cast<double>(ops);
    const double per_put = put_s / static_cast<double>(ops);
    const double per_get = get_s / static_cast<double>(ops);
    series["points"].push_back(
      {{"x", size},
       {"repeats", std::min(put_repeats, get_repeats)},
       {"ops", ops},
       {"put_us_per_op", round_sig(per_put * 1e6, 4)},
       {"put_gb_per_s", round_sig(static_cast<double>(size) / per_put / 1e9, 4)},
       {"put_us_per_mib", round_sig(per_put * 1e6 / mib, 4)},
       {"put_faults_per_mib", round_sig(median_of_timed(put_faults, put_repeats) / all_mib, 4)},
       {"get_us_per_op", round_sig(per_get * 1e6, 4)},
       {"get_gb_per_s", round_sig(static_cast<double>(size) / per_get / 1e9, 4)},
       {"get_us_per_mib", round_sig(per_get * 1e6 / mib, 4)},
       {"get_faults_per_mib", round_sig(median_of_timed(get_faults, get_repeats) / all_mib, 4)}});
  }
  return series;
}

nlohmann::ordered_json chain_depth(const scaling_plan& plan, const progress_fn& progress) {
  nlohmann::ordered_json series{
    {"name", "scaling_chain_depth"},
    {"title", "Chain depth"},
    {"about", "a chain of d tasks, each taking the previous one's result as its argument "
              "(`b = plus_one(a)`, `c = plus_one(b)`, ...), all submitted at once, then a `get` of "
              "the last"},
    {"note", "The links run one after another, so µs per link is the latency of resolving an "
             "argument and dispatching the next task, not a throughput."},
    {"x", "depth"},
    {"columns", {column("seconds", "seconds per run"), column("us_per_item", "µs per link")}},
    {"flat", {"us_per_item"}},
    {"points", nlohmann::ordered_json::array()}};
  for (auto depth : plan.chain_depths) {
    progress("depth " + std::to_string(depth));
    auto [seconds, repeats] = repeat(plan, depth == plan.chain_depths.front(), [depth = depth] {
      double start = now_s();
      auto link = rustyray::task(plus_one).remote(0);
      for (std::size_t i = 1; i < depth; ++i)
        link = rustyray::task(plus_one).remote(link);
      if (link.get() != static_cast<int>(depth))
        throw std::runtime_error("a chain of depth " + std::to_string(depth)
                                 + " returned the wrong value");
      return now_s() - start;
    });
    series["points"].push_back(
      {{"x", depth},
       {"repeats", repeats},
       {"seconds", round_sig(seconds, 4)},
       {"us_per_item", round_sig(seconds * 1e6 / static_cast<double>(depth), 4)}});
  }
  return series;
}

/// Instances of `counted_actor` alive: an actor's instance is destroyed when
/// its host ends, so this falls to zero once every actor has stopped. (Asking
/// `state()` instead would build a JSON entry per actor on every poll.)
std::atomic<std::int64_t> counted_alive{0};

struct counted_actor {
  counted_actor() {
    counted_alive.fetch_add(1, std::memory_order_relaxed);
  }
  counted_actor(const counted_actor&) = delete;
  counted_actor& operator=(const counted_actor&) = delete;
  ~counted_actor() {
    counted_alive.fetch_sub(1, std::memory_order_relaxed);
  }
  static std::unique_ptr<counted_actor> create() {
    return std::make_unique<counted_actor>();
  }
  int small_value() {
    return bench::small_value();
  }
};

/// Waits until every `counted_actor` has stopped.
void await_no_counted_actors() {
  using namespace std::chrono_literals;
  double start = now_s();
  while (counted_alive.load(std::memory_order_relaxed) > 0) {
    if (now_s() - start > 120)
      throw std::runtime_error(std::to_string(counted_alive.load())
                               + " actors still ran 120 s after their handles were dropped");
    std::this_thread::sleep_for(100us);
  }
}

nlohmann::ordered_json actors(const scaling_plan& plan, const progress_fn& progress) {
  nlohmann::ordered_json series{
    {"name", "scaling_actors"},
    {"title", "Number of actors"},
    {"about", "start N actors, call `small_value` on each once, get every result; then drop "
              "the handles and wait until every actor has stopped and destroyed its instance "
              "(teardown, timed apart)"},
    {"note", "An actor holds no thread while idle: its calls run on the shared actor threads "
             "(about one per core, more while calls block). Resident bytes per actor: the "
             "process's growth while the N actors live, after their calls (the first run's, "
             "before the allocator has memory to reuse). Threads: the process's threads at that "
             "moment. CAF floor: spawning N event-based CAF actors (hidden, lazily started), one "
             "message each, every reply awaited, in a CAF system of its own."},
    {"x", "actors"},
    {"columns",
     {column("seconds", "seconds per run"), column("us_per_item", "µs per actor"),
      column("caf_floor_us_per_item", "CAF floor µs per actor"),
      column("teardown_us_per_item", "teardown µs per actor"),
      column("resident_bytes_per_item", "resident bytes per actor"),
      column("threads", "threads while they live")}},
    {"flat", {"us_per_item"}},
    {"points", nlohmann::ordered_json::array()}};
  for (auto n : plan.actor_counts) {
    progress(std::to_string(n) + " actors");
    std::vector<double> teardowns;
    std::vector<double> growth;
    std::vector<double> threads;
    auto [seconds, repeats] = repeat(plan, n == plan.actor_counts.front(), [&, n = n] {
      double start = now_s();
      double before = resident_bytes();
      std::vector<rustyray::actor_handle<counted_actor>> handles;
      handles.reserve(n);
      for (std::size_t i = 0; i < n; ++i)
        handles.push_back(rustyray::actor(counted_actor::create).remote());
      submit_then_get(static_cast<int>(n), [&](int i) {
        return handles[static_cast<std::size_t>(i)].task(&counted_actor::small_value).remote();
      });
      double elapsed = now_s() - start;
      growth.push_back(std::max(0.0, resident_bytes() - before));
      threads.push_back(thread_count());
      double teardown_start = now_s();
      handles.clear();
      await_no_counted_actors();
      teardowns.push_back(now_s() - teardown_start);
      return elapsed;
    });
    std::vector<double> floor_seconds;
    for (int i = 0; i < repeats; ++i)
      floor_seconds.push_back(caf_floors::spawn_and_call(n));
    series["points"].push_back(
      {{"x", n},
       {"repeats", repeats},
       {"seconds", round_sig(seconds, 4)},
       {"us_per_item", round_sig(seconds * 1e6 / static_cast<double>(n), 4)},
       {"caf_floor_us_per_item",
        round_sig(median(floor_seconds) * 1e6 / static_cast<double>(n), 4)},
       {"teardown_us_per_item",
        round_sig(median_of_timed(teardowns, repeats) * 1e6 / static_cast<double>(n), 4)},
       {"resident_bytes_per_item", round_sig(growth.front() / static_cast<double>(n), 4)},
       {"threads", *std::max_element(threads.begin(), threads.end())}});
  }
  return series;
}

} // namespace

std::vector<scaling_series> scaling_series_list() {
  return {{"scaling_tasks_async", tasks_async},
          {"scaling_object_size", object_size},
          {"scaling_chain_depth", chain_depth},
          {"scaling_actors", actors}};
}

} // namespace bench
