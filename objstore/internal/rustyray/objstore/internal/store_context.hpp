#pragma once

#include <memory>

#include <caf/actor.hpp>

#include "rustyray/internal/buffer_pool.hpp"
#include "rustyray/internal/node.hpp"
#include "rustyray/objstore/internal/object_table.hpp"

namespace rustyray::objstore::internal {

/// The running runtime's object store, as the object API (put, get, wait,
/// free, refs) and the layers above reach it.
struct store_context {
  std::shared_ptr<rustyray::internal::node> node;
  std::shared_ptr<object_table> table;
  std::shared_ptr<rustyray::internal::buffer_pool> pool;
  /// The store actor, for `get_async` and CAF clients.
  caf::actor actor;
};

/// The running runtime's store, or null. Callers keep it only for the call.
std::shared_ptr<store_context> current_store() noexcept;

/// The running runtime's store; throws `runtime_not_initialized` without one.
std::shared_ptr<store_context> current_store_or_throw();

/// Makes `store` the current one (null: none), for the runtime's `init` and
/// `shutdown`.
void publish_store(std::shared_ptr<store_context> store);

} // namespace rustyray::objstore::internal
