#include "rustyray/internal/host_port.hpp"

namespace rustyray::internal {

std::optional<std::pair<std::string, std::uint16_t>> parse_host_port(const std::string& text,
                                                                     bool any_port) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()
      || text.size() - colon - 1 > 5
      || text.find_first_not_of("0123456789", colon + 1) != std::string::npos)
    return std::nullopt;
  auto port = std::stoul(text.substr(colon + 1));
  if (port > 65535 || (port == 0 && !any_port))
    return std::nullopt;
  return std::make_pair(text.substr(0, colon), static_cast<std::uint16_t>(port));
}

} // namespace rustyray::internal
