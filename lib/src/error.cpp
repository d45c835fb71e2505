#include "rustyray/error.hpp"

namespace rustyray {

error::error(errc code, const std::string& message)
  : std::runtime_error(to_string(code) + ": " + message), code_(code), message_(message) {}

task_error::task_error(const std::string& message) : error(errc::task_failed, message) {}

void throw_error(errc code, const std::string& message) {
  if (code == errc::task_failed)
    throw task_error{message};
  throw error{code, message};
}

} // namespace rustyray
