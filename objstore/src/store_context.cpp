#include "rustyray/objstore/internal/store_context.hpp"

#include "rustyray/internal/published.hpp"

namespace rustyray::objstore::internal {

namespace {

// Never destroyed: refs dropped by static destructors at exit still look.
rustyray::internal::published<store_context>& store_slot =
  *new rustyray::internal::published<store_context>;

} // namespace

std::shared_ptr<store_context> current_store() noexcept {
  return store_slot.get();
}

std::shared_ptr<store_context> current_store_or_throw() {
  return store_slot.get_or_throw();
}

void publish_store(std::shared_ptr<store_context> store) {
  store_slot.publish(std::move(store));
}

} // namespace rustyray::objstore::internal
