#pragma once

#include <string>

#include <caf/error.hpp>

namespace rustyray::internal {

/// What a rustyray error says (its message, without the code), or CAF's
/// rendering of any other error.
std::string error_text(const caf::error& err);

} // namespace rustyray::internal
