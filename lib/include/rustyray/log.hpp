#pragma once

#include <cstdint>
#include <functional>
#include <sstream>
#include <string>

namespace rustyray {

/// How much a log line matters. RustyRay itself logs warnings (a `get`
/// waiting long, a blocking wait on a CAF scheduler thread, an unknown
/// `RUSTYRAY_` variable) and errors (a shutdown that failed at exit).
enum class log_level : std::uint8_t { debug, info, warning, error };

/// "debug", "info", "warning" or "error".
const char* to_string(log_level level) noexcept;

/// Reads one of those names into `out`; false (and `out` unchanged) for any
/// other text.
bool parse_log_level(const std::string& text, log_level& out) noexcept;

/// Where log lines go: called with each line at or above the threshold,
/// from whichever thread logs it (several at once: the sink synchronizes
/// itself), without a trailing newline. It must not log in turn.
using log_sink = std::function<void(log_level level, const std::string& message)>;

/// Sends every later line to `sink`; an empty one restores the default,
/// standard error ("rustyray: warning: ..."). CAF 0.17's logger is compiled
/// out of Debian's build: to have RustyRay's lines in an application's own
/// log (CAF's included, where it has one), set a sink that writes there.
void set_log_sink(log_sink sink);

/// Drops lines below `threshold` before they are formatted (default:
/// `info`; `config.log_level` sets it at `init`).
void set_log_level(log_level threshold) noexcept;

[[nodiscard]] log_level get_log_level() noexcept;

/// Whether a line at `level` would reach the sink.
[[nodiscard]] bool log_enabled(log_level level) noexcept;

/// Sends `message` to the sink if `level` passes the threshold.
void log(log_level level, const std::string& message);

namespace detail {

/// One line of `RUSTYRAY_LOG`, sent when it goes out of scope.
class log_line {
public:
  explicit log_line(log_level level) : level_(level) {}
  log_line(const log_line&) = delete;
  log_line& operator=(const log_line&) = delete;
  ~log_line() {
    log(level_, out_.str());
  }
  std::ostream& stream() {
    return out_;
  }

private:
  log_level level_;
  std::ostringstream out_;
};

} // namespace detail

} // namespace rustyray

/// Logs a line through RustyRay's sink, as Ray's `RAYLOG(INFO) << ...`:
/// `RUSTYRAY_LOG(warning) << "queue at " << n;`. Below the threshold the
/// operands are not evaluated.
#define RUSTYRAY_LOG(level)                                                                        \
  if (!::rustyray::log_enabled(::rustyray::log_level::level)) {                                    \
  } else                                                                                           \
    ::rustyray::detail::log_line{::rustyray::log_level::level}.stream()
