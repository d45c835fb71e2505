#pragma once

#include <stdexcept>
#include <string>

#include "rustyray/errc.hpp"

namespace rustyray {

/// The one exception type of the blocking API: a code to branch on and a
/// message that says what happened and what to do about it.
///
/// ~~~
/// try { auto v = rustyray::get(ref); }
/// catch (const rustyray::error& e) {
///   if (e.code() == rustyray::errc::object_lost) { /* recompute */ }
/// }
/// ~~~
class error : public std::runtime_error {
public:
  /// `what()` reads `"<code>: <message>"`.
  error(errc code, const std::string& message);

  [[nodiscard]] errc code() const noexcept {
    return code_;
  }

  /// The message without the code prefix.
  [[nodiscard]] const std::string& message() const noexcept {
    return message_;
  }

private:
  errc code_;
  std::string message_;
};

/// A task or actor method threw: `message()` names the function, the
/// exception's type and its `what()`.
class task_error : public error {
public:
  explicit task_error(const std::string& message);
};

/// Throws the exception type that matches `code` (`task_error` for
/// `task_failed`, `error` otherwise).
[[noreturn]] void throw_error(errc code, const std::string& message);

} // namespace rustyray
