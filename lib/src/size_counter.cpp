#include "rustyray/detail/size_counter.hpp"

#include <string>
#include <vector>

#include <caf/message.hpp>

#include "rustyray/detail/value_size.hpp"

namespace rustyray::detail {

// The sizes mirror caf::serializer_impl (CAF 0.17's binary serializer).

caf::error size_counter::begin_object(uint16_t& nr, std::string& name) {
  return add(nr != 0 ? 2 : 2 + 1 + name.size());
}

caf::error size_counter::end_object() {
  return caf::none;
}

caf::error size_counter::begin_sequence(size_t& list_size) {
  auto x = static_cast<uint32_t>(list_size);
  std::uint64_t n = 1;
  for (; x > 0x7f; x >>= 7)
    ++n;
  return add(n);
}

caf::error size_counter::end_sequence() {
  return caf::none;
}

caf::error size_counter::apply_raw(size_t num_bytes, void*) {
  return add(num_bytes);
}

caf::error size_counter::apply_impl(int8_t&) {
  return add(1);
}

caf::error size_counter::apply_impl(uint8_t&) {
  return add(1);
}

caf::error size_counter::apply_impl(int16_t&) {
  return add(2);
}

caf::error size_counter::apply_impl(uint16_t&) {
  return add(2);
}

caf::error size_counter::apply_impl(int32_t&) {
  return add(4);
}

caf::error size_counter::apply_impl(uint32_t&) {
  return add(4);
}

caf::error size_counter::apply_impl(int64_t&) {
  return add(8);
}

caf::error size_counter::apply_impl(uint64_t&) {
  return add(8);
}

caf::error size_counter::apply_impl(float&) {
  return add(4);
}

caf::error size_counter::apply_impl(double&) {
  return add(8);
}

caf::error size_counter::apply_impl(long double&) {
  return add(2 + 32); // CAF writes long double as a decimal string
}

caf::error size_counter::apply_impl(std::string& x) {
  auto n = x.size();
  begin_sequence(n);
  return add(n);
}

caf::error size_counter::apply_impl(std::u16string& x) {
  auto n = x.size();
  begin_sequence(n);
  return add(2 * n);
}

caf::error size_counter::apply_impl(std::u32string& x) {
  auto n = x.size();
  begin_sequence(n);
  return add(4 * n);
}

std::uint64_t message_size(const caf::message& value) {
  if (value.empty())
    return 0; // a void result: no content to look at
  if (value.match_elements<std::vector<std::uint8_t>>())
    return value.get_as<std::vector<std::uint8_t>>(0).size();
  if (value.match_elements<std::vector<char>>())
    return value.get_as<std::vector<char>>(0).size();
  if (value.match_elements<std::string>())
    return value.get_as<std::string>(0).size();
  // Element by element: serializing the message itself needs an actor
  // system for the type names.
  size_counter counter;
  const auto& content = value.content();
  for (std::size_t i = 0; i < content.size(); ++i)
    if (content.save(i, counter))
      return counter.bytes() + sizeof(caf::message);
  return counter.bytes();
}

} // namespace rustyray::detail
