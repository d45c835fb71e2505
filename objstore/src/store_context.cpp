#include "rustyray/objstore/internal/store_context.hpp"

#include "rustyray/internal/published.hpp"
#include "rustyray/error.hpp"

namespace rustyray::objstore {

namespace {

// Never destroyed: refs dropped by static destructors at exit still look.
internal::published<store_context>& store_slot = *new internal::published<store_context>;

} // namespace

std::shared_ptr<store_context> current_store() noexcept {
  return store_slot.get();
}

std::shared_ptr<store_context> current_store_or_throw() {
  if (auto store = store_slot.get())
    return store;
  throw error{errc::runtime_not_initialized,
              "no RustyRay runtime is running in this process; call rustyray::init() "
              "first (and do not use object refs after rustyray::shutdown())"};
}

void publish_store(std::shared_ptr<store_context> store) {
  store_slot.publish(std::move(store));
}

} // namespace rustyray::objstore
