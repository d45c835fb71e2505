#include "rustyray/log.hpp"

#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>
#include <utility>

namespace rustyray {

namespace {

std::atomic<std::uint8_t> threshold{static_cast<std::uint8_t>(log_level::info)};

std::mutex sink_mtx;
/// Null: standard error. Copied out under the lock and called without it,
/// so a slow sink holds up no other thread's logging, and a sink replaced
/// meanwhile lives until its last line is written.
std::shared_ptr<const log_sink> current_sink; // guarded by sink_mtx

void to_stderr(log_level level, const std::string& message) {
  auto line = std::string{"rustyray: "} + to_string(level) + ": " + message + "\n";
  // One write, so lines from several threads do not interleave.
  std::fwrite(line.data(), 1, line.size(), stderr);
}

} // namespace

const char* to_string(log_level level) noexcept {
  switch (level) {
    case log_level::debug:
      return "debug";
    case log_level::info:
      return "info";
    case log_level::warning:
      return "warning";
    case log_level::error:
      return "error";
  }
  return "unknown";
}

bool parse_log_level(const std::string& text, log_level& out) noexcept {
  for (auto level : {log_level::debug, log_level::info, log_level::warning, log_level::error})
    if (text == to_string(level)) {
      out = level;
      return true;
    }
  return false;
}

void set_log_sink(log_sink sink) {
  auto next = sink ? std::make_shared<const log_sink>(std::move(sink)) : nullptr;
  std::lock_guard<std::mutex> guard{sink_mtx};
  current_sink.swap(next);
}

void set_log_level(log_level level) noexcept {
  threshold.store(static_cast<std::uint8_t>(level), std::memory_order_relaxed);
}

log_level get_log_level() noexcept {
  return static_cast<log_level>(threshold.load(std::memory_order_relaxed));
}

bool log_enabled(log_level level) noexcept {
  return static_cast<std::uint8_t>(level) >= threshold.load(std::memory_order_relaxed);
}

void log(log_level level, const std::string& message) {
  if (!log_enabled(level))
    return;
  std::shared_ptr<const log_sink> sink;
  {
    std::lock_guard<std::mutex> guard{sink_mtx};
    sink = current_sink;
  }
  if (!sink) {
    to_stderr(level, message);
    return;
  }
  try {
    (*sink)(level, message);
  } catch (...) {
    // A sink that throws must not end the caller's work (lines are logged
    // from destructors and RustyRay's own threads): the line goes to
    // standard error instead.
    to_stderr(level, message);
  }
}

} // namespace rustyray
