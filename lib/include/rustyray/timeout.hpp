#pragma once

#include <chrono>

namespace rustyray {

/// The timeout that never expires: `get(ref, rustyray::forever)`.
inline constexpr std::chrono::milliseconds forever = std::chrono::milliseconds::max();

} // namespace rustyray
