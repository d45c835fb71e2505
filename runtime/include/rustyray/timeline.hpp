#pragma once

#include <string>

namespace rustyray {

/// Writes every task run and actor call this runtime executed so far (the
/// most recent `config.timeline_capacity` of them) to `path` as Chrome
/// trace-event JSON, which opens in https://ui.perfetto.dev and
/// chrome://tracing: one complete event per execution with its name, start
/// and duration in microseconds, the worker thread as `tid`, the node as
/// `pid`, and the task ID, result ID and outcome as arguments (Ray's
/// `ray timeline`). Throws `invalid_argument` if the file cannot be written,
/// `runtime_not_initialized` without a runtime.
///
/// ~~~
/// rustyray::timeline("timeline.json");   // then open it in Perfetto
/// ~~~
void timeline(const std::string& path);

} // namespace rustyray
