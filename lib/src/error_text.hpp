#pragma once

#include <chrono>
#include <string>

#include <caf/error.hpp>

namespace rustyray::internal {

/// What a rustyray error says (its message, without the code), or CAF's
/// rendering of any other error.
std::string error_text(const caf::error& err);

/// Inside a catch handler: the exception's type and, for a std::exception,
/// its what(): "std::runtime_error: no database".
std::string current_exception_text();

/// A duration for messages: "50 ms", "0.25 ms", "-5 ms".
std::string milliseconds_text(std::chrono::nanoseconds d);

/// An argument error of a call that did not run, as its result: same code,
/// "<what> did not run: <cause>".
caf::error did_not_run(const std::string& what, const caf::error& cause);

} // namespace rustyray::internal
