#include "rustyray/internal/node.hpp"

#include <chrono>
#include <cstdio>
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

} // namespace rustyray::internal
