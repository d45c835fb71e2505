#include "rustyray/internal/node.hpp"

#include <chrono>
#include <cstdio>
#include <optional>
#include <random>

#include "rustyray/internal/recorder.hpp"
#include "rustyray/error.hpp"

namespace rustyray::internal {

namespace {

std::uint64_t random_node_id() {
  std::random_device rd;
  std::uint64_t id = 0;
  while (id == 0)
    id = (std::uint64_t{rd()} << 32) ^ rd()
         ^ static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  return id;
}

} // namespace

node::node(config cfg, caf::actor_system& system)
  : id_(random_node_id()), cfg_(std::move(cfg)),
    ray_namespace_(cfg_.ray_namespace.empty() ? "anonymous-" + node_text(id_) : cfg_.ray_namespace),
    system_(system), recording_(std::make_shared<recorder>(cfg_.timeline_capacity)) {}

void node::check_accepting() const {
  if (stopping())
    throw error{errc::runtime_not_initialized,
                "rustyray::shutdown() is running: no new work is accepted"};
}

std::string node_text(std::uint64_t node) {
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(node));
  return text;
}

void node::join_namespace(std::uint64_t head) {
  if (cfg_.ray_namespace.empty())
    ray_namespace_ = "anonymous-" + node_text(head);
}

std::optional<std::uint64_t> parse_node_text(const std::string& text) {
  if (text.size() != 16)
    return std::nullopt;
  std::uint64_t id = 0;
  for (char c : text) {
    int digit = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
    if (digit < 0)
      return std::nullopt;
    id = id << 4 | static_cast<std::uint64_t>(digit);
  }
  if (id == 0)
    return std::nullopt; // no node has ID 0
  return id;
}

} // namespace rustyray::internal
