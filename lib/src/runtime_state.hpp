#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "buffer_pool.hpp"
#include "object_table.hpp"
#include "rustyray/config.hpp"
#include "rustyray/object_id.hpp"

namespace rustyray::internal {

/// Everything one runtime (one `init` … `shutdown`) owns.
struct runtime_state {
  config cfg;
  /// This runtime's node ID: random, nonzero, new at every `init`.
  std::uint64_t node = 0;
  std::atomic<std::uint64_t> next_sequence{1};

  // Declared before the handles below so that it is destroyed after them.
  std::unique_ptr<caf::actor_system_config> own_config;
  std::unique_ptr<caf::actor_system> own_system;
  caf::actor_system* system = nullptr;

  std::shared_ptr<buffer_pool> pool;
  std::shared_ptr<objstore::object_table> table;
  caf::actor store;

  object_id next_id() noexcept {
    return {node, next_sequence.fetch_add(1, std::memory_order_relaxed)};
  }
};

/// The running runtime, or null. Callers keep the pointer only for the call.
std::shared_ptr<runtime_state> current() noexcept;

/// The running runtime; throws `runtime_not_initialized` without one.
std::shared_ptr<runtime_state> current_or_throw();

} // namespace rustyray::internal
