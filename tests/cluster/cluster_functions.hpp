#pragma once

// The functions every program of the cluster tests registers: a node joins
// only a head with the same registry.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "rustyray/rustyray.hpp"

namespace cluster_test {

inline int square(int x) {
  return x * x;
}

/// The process that ran the task: which node.
inline std::int64_t pid_here() {
  return static_cast<std::int64_t>(getpid());
}

/// As `pid_here`, after `ms` milliseconds of work.
inline std::int64_t pid_after(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return static_cast<std::int64_t>(getpid());
}

/// Returns nothing: its result is an empty message.
inline void do_nothing(int) {}

inline int fail_with(int x) {
  throw std::runtime_error("no luck with " + std::to_string(x));
}

/// A user type CAF ships once RUSTYRAY_REMOTE announced it.
struct point {
  int x = 0;
  int y = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, point& p) {
  return f(caf::meta::type_name("cluster_test::point"), p.x, p.y);
}

inline point mirror(point p, std::vector<double> scale) {
  return point{static_cast<int>(p.y * scale.at(0)), static_cast<int>(p.x * scale.at(1))};
}

/// Gets the object a ref names (fetched from its owner) and adds one.
inline int plus_one_of(rustyray::object_ref<int> ref) {
  return ref.get() + 1;
}

/// Objects put here, on the node that runs it: this node owns them.
inline std::vector<rustyray::object_ref<int>> put_here(int n) {
  std::vector<rustyray::object_ref<int>> refs;
  for (int i = 0; i < n; ++i)
    refs.push_back(rustyray::put(i * 10));
  return refs;
}

/// A ref this node keeps after the task returned: a borrow that outlives
/// the task.
inline rustyray::object_ref<int>& kept() {
  static rustyray::object_ref<int> ref;
  return ref;
}

inline int keep(rustyray::object_ref<int> ref) {
  kept() = std::move(ref);
  return 0;
}

inline int read_kept() {
  return kept().get();
}

inline int drop_kept() {
  kept() = {};
  return 0;
}

/// Objects holding a value in this node's store.
inline std::int64_t objects_here() {
  return static_cast<std::int64_t>(rustyray::object_store_stats().objects);
}

/// `n` bytes of a pattern that `pattern_byte` tells, put here.
inline std::uint8_t pattern_byte(std::size_t i) {
  return static_cast<std::uint8_t>((i * 131 + 7) & 0xff);
}

inline rustyray::object_ref<std::vector<std::uint8_t>> put_bytes_here(std::int64_t n) {
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = pattern_byte(i);
  return rustyray::put(std::move(bytes));
}

/// This process's ID if `bytes` hold the pattern `put_bytes_here` puts,
/// else -1. Takes them by reference: a value kept in the store here is not
/// copied for the call.
inline std::int64_t pid_if_pattern(const std::vector<std::uint8_t>& bytes) {
  for (std::size_t i = 0; i < bytes.size(); ++i)
    if (bytes[i] != pattern_byte(i))
      return -1;
  return pid_here();
}

/// This process's peak resident memory (VmHWM) in KiB; `reset` first sets
/// the peak to what it holds now.
inline std::int64_t peak_rss_kib(bool reset) {
  if (reset) {
    std::ofstream clear{"/proc/self/clear_refs"};
    clear << "5";
  }
  std::ifstream status{"/proc/self/status"};
  for (std::string line; std::getline(status, line);)
    if (line.rfind(getenv("RR_RSS") ? "VmRSS:" : "VmHWM:", 0) == 0)
      return std::stoll(line.substr(6));
  return -1;
}

/// The resident memory `bytes_of` saw last, in KiB.
inline std::int64_t& rss_mark_kib() {
  static std::int64_t kib = 0;
  return kib;
}

/// `n` bytes of the pattern, returned as the task's result; the peak
/// resident memory is reset once they exist (`rss_mark_kib`).
inline std::vector<std::uint8_t> bytes_of(std::int64_t n) {
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = pattern_byte(i);
  rss_mark_kib() = peak_rss_kib(true);
  return bytes;
}

inline std::int64_t rss_mark() {
  return rss_mark_kib();
}

/// Appends `line` and a newline to the file `path` in one write (lines of
/// several processes do not mix).
inline void append_line(const std::string& path, const std::string& line) {
  auto text = line + "\n";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (fd < 0)
    throw std::runtime_error("cannot open " + path);
  auto written = ::write(fd, text.data(), text.size());
  ::close(fd);
  if (written != static_cast<ssize_t>(text.size()))
    throw std::runtime_error("cannot write " + path);
}

/// One step of a chain for the fault tests: a millisecond of work, then
/// "<chain> <step> <pid>" in the log `path` (its side effect, counted by
/// the test), and `x + step`.
inline std::int64_t logged_step(std::string path, int chain, int step, std::int64_t x) {
  std::this_thread::sleep_for(std::chrono::milliseconds(1));
  append_line(path,
              std::to_string(chain) + " " + std::to_string(step) + " " + std::to_string(getpid()));
  return x + step;
}

/// Writes this process's ID to the log `path` as it starts, works `ms`
/// milliseconds, and returns the ID.
inline std::int64_t pid_logged_after(std::string path, int ms) {
  append_line(path, std::to_string(getpid()));
  return pid_after(ms);
}

/// `n` bytes of the pattern `pid_if_pattern` checks, after writing this
/// process's ID to the log `path`.
inline std::vector<std::uint8_t> logged_bytes(std::string path, std::int64_t n) {
  append_line(path, std::to_string(getpid()));
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = pattern_byte(i);
  return bytes;
}

/// A step of the cluster soak: throws if `fails`; else writes "<idx>
/// <pid>" to the log `path` (it ran to completion here) and returns x + 1.
inline std::int64_t soak_step(std::string path, std::int64_t idx, bool fails, std::int64_t x) {
  std::this_thread::sleep_for(std::chrono::microseconds(100)); // a little work
  if (fails)
    throw std::runtime_error("planned failure of step " + std::to_string(idx));
  append_line(path, std::to_string(idx) + " " + std::to_string(getpid()));
  return x + 1;
}

/// Instances of `tally` alive in this process.
inline std::atomic<int>& live_tallies() {
  static std::atomic<int> count{0};
  return count;
}

inline std::int64_t tallies_here() {
  return live_tallies().load();
}

/// An actor class every node can build: counts, keeps the order of what it
/// was sent, and says where it runs.
class tally {
public:
  static tally create(int start) {
    return tally{start};
  }

  explicit tally(int start) : value_(start) {
    ++live_tallies();
  }
  tally(const tally& other) : value_(other.value_), log_(other.log_) {
    ++live_tallies();
  }
  tally& operator=(const tally&) = delete;
  ~tally() {
    --live_tallies();
  }

  int add(int x) {
    return value_ += x;
  }

  void append(int x) {
    log_.push_back(x);
  }

  std::vector<int> log() const {
    return log_;
  }

  std::int64_t where() const {
    return static_cast<std::int64_t>(getpid());
  }

  /// Appends 99 to the log; this process's ID if `bytes` hold the pattern
  /// `put_bytes_here` puts, else -1.
  std::int64_t checked(const std::vector<std::uint8_t>& bytes) {
    log_.push_back(99);
    for (std::size_t i = 0; i < bytes.size(); ++i)
      if (bytes[i] != pattern_byte(i))
        return -1;
    return where();
  }

  bool restarted() const {
    return rustyray::was_restarted();
  }

  int fail(int x) {
    throw std::runtime_error("tally refuses " + std::to_string(x));
  }

  void quit() {
    rustyray::exit_actor();
  }

private:
  int value_;
  std::vector<int> log_;
};

/// Calls the actor through a handle that travelled here.
inline int add_through(rustyray::actor_handle<tally> h, int x) {
  return h.task(&tally::add).remote(x).get();
}

/// A handle this node keeps after the task returned.
inline rustyray::actor_handle<tally>& kept_tally() {
  static rustyray::actor_handle<tally> handle;
  return handle;
}

inline int keep_tally(rustyray::actor_handle<tally> h) {
  kept_tally() = std::move(h);
  return 0;
}

/// Adds `x` through the handle this node keeps (`keep_tally`).
inline int add_to_kept_tally(int x) {
  return kept_tally().task(&tally::add).remote(x).get();
}

inline int drop_tally() {
  kept_tally() = {};
  return 0;
}

/// Starts a `tally` named `name` on this node: "started", or the error's
/// code.
inline std::string start_named(std::string name) {
  try {
    (void)rustyray::actor(tally::create).name(name).remote(0);
    return "started";
  } catch (const rustyray::error& e) {
    return rustyray::to_string(e.code());
  }
}

/// Starts a detached `tally` named `name` holding half a "slot" (so it
/// runs on a node that offers one; the head owns it): "started", or the
/// error's code.
inline std::string start_detached(std::string name) {
  try {
    (void)rustyray::actor(tally::create)
      .name(name)
      .detached()
      .resources({{"slot", 0.5}})
      .max_restarts(1)
      .remote(5);
    return "started";
  } catch (const rustyray::error& e) {
    return rustyray::to_string(e.code()) + ": " + e.what();
  }
}

/// Adds `x` to the tally named `name`, found by name on this node.
inline int add_to_named(std::string name, int x) {
  auto h = rustyray::get_actor<tally>(name);
  if (!h)
    return -1;
  return h->task(&tally::add).remote(x).get();
}

/// Runs until `cancel` reaches it, `ms` milliseconds at most: whether it
/// did.
inline bool until_cancelled(int ms) {
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!rustyray::cancel_requested() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return rustyray::cancel_requested();
}

} // namespace cluster_test

RUSTYRAY_REMOTE(cluster_test::start_named, cluster_test::add_to_named,
                cluster_test::start_detached);

RUSTYRAY_REMOTE(cluster_test::tally::create, &cluster_test::tally::add,
                &cluster_test::tally::append, &cluster_test::tally::log,
                &cluster_test::tally::where, &cluster_test::tally::checked,
                &cluster_test::tally::restarted, &cluster_test::tally::fail,
                &cluster_test::tally::quit, cluster_test::tallies_here, cluster_test::add_through,
                cluster_test::keep_tally, cluster_test::drop_tally,
                cluster_test::add_to_kept_tally);

RUSTYRAY_REMOTE(cluster_test::do_nothing, cluster_test::put_bytes_here, cluster_test::peak_rss_kib,
                cluster_test::square, cluster_test::pid_here, cluster_test::pid_after,
                cluster_test::fail_with, cluster_test::mirror, cluster_test::plus_one_of,
                cluster_test::put_here, cluster_test::keep, cluster_test::read_kept,
                cluster_test::drop_kept, cluster_test::objects_here, cluster_test::until_cancelled,
                cluster_test::pid_if_pattern, cluster_test::bytes_of, cluster_test::rss_mark,
                cluster_test::logged_step, cluster_test::pid_logged_after,
                cluster_test::logged_bytes, cluster_test::soak_step);
