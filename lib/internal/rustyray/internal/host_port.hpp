#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace rustyray::internal {

/// "host:port" split into its host and port; nothing unless the host is not
/// empty and the port a number from 1 (from 0 with `any_port`: any free
/// port) to 65535.
std::optional<std::pair<std::string, std::uint16_t>> parse_host_port(const std::string& text,
                                                                     bool any_port);

} // namespace rustyray::internal
