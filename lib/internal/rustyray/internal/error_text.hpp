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

/// A number for messages, without trailing zeros: "100", "0.5", "-2.25".
std::string number_text(double x);

/// A duration for messages: "50 ms", "0.25 ms", "-5 ms".
std::string milliseconds_text(std::chrono::nanoseconds d);

/// The message `get` throws with for `err` (the code is `errc_of(err)`):
/// a RustyRay error's own text, a sentence around CAF's rendering of any
/// other error.
std::string message_of(const caf::error& err);

/// `err` as a RustyRay error: itself if it is one, else an error of code
/// `errc_of(err)` and text `message_of(err)`. Errors that arrive from CAF
/// (replies of an application's actors) are stored so, and every path that
/// reads them (get, try_get, a dependent task) sees the same code.
caf::error as_rustyray_error(const caf::error& err);

/// An argument error of a call that did not run, as its result: the code
/// `errc_of(cause)`, "<what> did not run: <cause>".
caf::error did_not_run(const std::string& what, const caf::error& cause);

} // namespace rustyray::internal
