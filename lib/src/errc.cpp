#include "rustyray/errc.hpp"

#include <cmath>
#include <cxxabi.h>
#include <exception>

#include <caf/make_message.hpp>
#include <caf/sec.hpp>

#include "rustyray/internal/demangle.hpp"
#include "rustyray/detail/invoke.hpp"
#include "rustyray/internal/error_text.hpp"

namespace rustyray {

std::string to_string(errc code) {
  // No default: -Werror=switch makes a new enumerator without a name a build error.
  switch (code) {
    case errc::runtime_not_initialized:
      return "runtime_not_initialized";
    case errc::already_initialized:
      return "already_initialized";
    case errc::object_lost:
      return "object_lost";
    case errc::object_store_full:
      return "object_store_full";
    case errc::task_failed:
      return "task_failed";
    case errc::task_cancelled:
      return "task_cancelled";
    case errc::actor_died:
      return "actor_died";
    case errc::timeout:
      return "timeout";
    case errc::type_mismatch:
      return "type_mismatch";
    case errc::function_not_registered:
      return "function_not_registered";
    case errc::node_lost:
      return "node_lost";
    case errc::invalid_config:
      return "invalid_config";
    case errc::invalid_argument:
      return "invalid_argument";
    case errc::task_unschedulable:
      return "task_unschedulable";
    case errc::system_error:
      return "system_error";
    case errc::name_taken:
      return "name_taken";
    case errc::worker_died:
      return "worker_died";
    case errc::join_refused:
      return "join_refused";
  }
  return "errc(" + std::to_string(static_cast<int>(code)) + ")";
}

caf::error make_error(errc code, std::string message) {
  return caf::error{static_cast<std::uint8_t>(code), errc_category,
                    caf::make_message(std::move(message))};
}

caf::error make_error(errc code) {
  return make_error(code, to_string(code));
}

std::string internal::error_text(const caf::error& err) {
  // caf::error::category() and context() dereference null on an empty error
  // (one decoded from another process can be empty).
  if (!err)
    return "no error";
  const auto& context = err.context();
  if (err.category() == errc_category && context.match_elements<std::string>())
    return context.get_as<std::string>(0);
  return caf::to_string(err);
}

std::string internal::current_exception_text() {
  auto* type = abi::__cxa_current_exception_type();
  std::string name = type == nullptr ? "an unknown exception" : demangle(type->name());
  try {
    throw;
  } catch (const std::exception& e) {
    return name + ": " + e.what();
  } catch (...) {
    return name;
  }
}

std::string internal::number_text(double x) {
  if (!std::isfinite(x))
    return std::to_string(x); // "inf", "nan"
  auto text = std::to_string(x);
  // "50.000000" -> "50", "0.250000" -> "0.25"
  text.erase(text.find_last_not_of('0') + 1);
  if (text.back() == '.')
    text.pop_back();
  return text;
}

std::string internal::milliseconds_text(std::chrono::nanoseconds d) {
  return number_text(std::chrono::duration<double, std::milli>(d).count()) + " ms";
}

namespace {

/// Whether a `rustyray` error's code is one this build knows.
bool known_code(const caf::error& err) {
  return err.code() >= static_cast<std::uint8_t>(errc::runtime_not_initialized)
         && err.code() <= static_cast<std::uint8_t>(last_errc);
}

} // namespace

errc errc_of(const caf::error& err) {
  if (!err)
    return errc::system_error;
  if (err.category() == errc_category)
    return known_code(err) ? static_cast<errc>(err.code()) : errc::system_error;
  if (err == caf::sec::request_timeout)
    return errc::timeout;
  if (err == caf::sec::request_receiver_down)
    return errc::actor_died;
  return errc::system_error;
}

std::string internal::message_of(const caf::error& err) {
  if (!err)
    return "no error";
  if (err.category() == errc_category) {
    if (known_code(err))
      return error_text(err);
    // Only bytes from another process can carry a code we do not know.
    return "an error with the unknown RustyRay code " + std::to_string(err.code())
           + " arrived (from a newer version, or corrupt): " + error_text(err);
  }
  switch (errc_of(err)) {
    case errc::timeout:
      return "a request timed out (CAF: " + caf::to_string(err) + ")";
    case errc::actor_died:
      return "the actor that should answer is gone (CAF: " + caf::to_string(err) + ")";
    default:
      return "CAF reported " + caf::to_string(err);
  }
}

caf::error internal::as_rustyray_error(const caf::error& err) {
  if (err && err.category() == errc_category)
    return err;
  return make_error(errc_of(err), message_of(err));
}

std::string describe(const caf::error& err) {
  if (!err)
    return "no error";
  return to_string(errc_of(err)) + ": " + internal::message_of(err);
}

caf::error detail::argument_error(std::size_t position, const object_id& id,
                                  const caf::error& cause) {
  return make_error(errc_of(cause), "argument " + std::to_string(position) + " (object "
                                      + to_string(id) + ") failed: " + internal::message_of(cause));
}

caf::error detail::cannot_ship() {
  return make_error(errc::function_not_registered,
                    "the task cannot run on another node: its function is not registered with "
                    "RUSTYRAY_REMOTE, or a parameter or its result is a type CAF cannot "
                    "serialize (give it an inspect() overload); it runs only where it was "
                    "submitted");
}

caf::error internal::did_not_run(const std::string& what, const caf::error& cause) {
  return make_error(errc_of(cause), what + " did not run: " + message_of(cause));
}

} // namespace rustyray
