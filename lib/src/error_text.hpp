#pragma once

#include <chrono>
#include <string>

#include <caf/error.hpp>

#include "rustyray/errc.hpp"

namespace rustyray::internal {

/// What a rustyray error says (its message, without the code), or CAF's
/// rendering of any other error ("no error" for an empty one).
std::string error_text(const caf::error& err);

/// Inside a catch handler: the exception's type and, for a std::exception,
/// its what(): "std::runtime_error: no database".
std::string current_exception_text();

/// A duration for messages: "50 ms", "0.25 ms", "-5 ms".
std::string milliseconds_text(std::chrono::nanoseconds d);

/// The code `get` reports for `err`: its own for a `rustyray` error,
/// `timeout` and `actor_died` for CAF's failed requests, `system_error` for
/// any other error (also an empty one), and for a `rustyray` code no `errc`
/// has (bytes from a newer peer, or corrupt ones).
errc errc_of(const caf::error& err);

/// An argument error of a call that did not run, as its result: the code
/// `errc_of(cause)`, "<what> did not run: <cause>".
caf::error did_not_run(const std::string& what, const caf::error& cause);

} // namespace rustyray::internal
