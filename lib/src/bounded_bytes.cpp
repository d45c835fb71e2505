#include "rustyray/internal/bounded_bytes.hpp"

#include <cstdint>
#include <typeindex>
#include <vector>

#include <caf/actor_system_config.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/detail/type_erased_value_impl.hpp>
#include <caf/deserializer.hpp>
#include <caf/sec.hpp>

namespace rustyray::internal {

namespace {

using bytes = std::vector<std::uint8_t>;

/// Whether a sequence of `size` elements, each at least one byte, cannot fit
/// in what is left of the input. Only a binary deserializer knows how much is
/// left (BASP and RustyRay's own decoding use one); others read as CAF does.
bool longer_than_input(caf::deserializer& source, std::size_t size) {
  auto* binary = dynamic_cast<caf::binary_deserializer*>(&source);
  return binary != nullptr && size > binary->remaining();
}

} // namespace

caf::error load_bounded_bytes(caf::deserializer& source, bytes& out) {
  std::size_t size = 0;
  if (auto err = source.begin_sequence(size))
    return err;
  if (longer_than_input(source, size))
    return caf::sec::end_of_stream;
  out.resize(size);
  if (size > 0)
    if (auto err = source.apply_raw(size, out.data()))
      return err;
  return source.end_sequence();
}

namespace {

caf::error load_bytes(caf::deserializer& source, bytes& out) {
  return load_bounded_bytes(source, out);
}

caf::error load_bytes(caf::deserializer& source, std::vector<bytes>& out) {
  std::size_t size = 0;
  if (auto err = source.begin_sequence(size))
    return err;
  // Each element takes at least its one-byte length.
  if (longer_than_input(source, size))
    return caf::sec::end_of_stream;
  out.clear();
  out.reserve(size);
  for (std::size_t i = 0; i < size; ++i)
    if (auto err = load_bytes(source, out.emplace_back()))
      return err;
  return source.end_sequence();
}

/// CAF's type-erased value for T, loading through `load_bytes`.
template <class T>
class bounded_value final : public caf::detail::type_erased_value_impl<T> {
public:
  using super = caf::detail::type_erased_value_impl<T>;
  using super::super;

  caf::error load(caf::deserializer& source) override {
    return load_bytes(source, *static_cast<T*>(this->get_mutable()));
  }

  caf::type_erased_value_ptr copy() const override {
    return caf::type_erased_value_ptr{new bounded_value(*static_cast<const T*>(this->get()))};
  }
};

template <class T>
void replace_factory(caf::actor_system_config& cfg, const std::string& name) {
  auto factory = [] { return caf::type_erased_value_ptr{new bounded_value<T>}; };
  cfg.value_factories_by_name[name] = factory;
  cfg.value_factories_by_rtti[std::type_index(typeid(T))] = factory;
}

} // namespace

void bound_byte_buffers(caf::actor_system_config& cfg) {
  // Names as add_message_type<bytes>("rustyray::bytes") registered them.
  replace_factory<bytes>(cfg, "rustyray::bytes");
  replace_factory<std::vector<bytes>>(cfg, "std::vector<rustyray::bytes>");
}

} // namespace rustyray::internal
