#pragma once

#include <cstdint>

#include <caf/serializer.hpp>

namespace rustyray::detail {

/// A CAF serializer that writes nothing and counts the bytes that CAF's
/// binary serializer would write, so sizing an object costs no allocation.
class size_counter final : public caf::serializer {
public:
  [[nodiscard]] std::uint64_t bytes() const noexcept {
    return bytes_;
  }

  caf::error begin_object(uint16_t& nr, std::string& name) override;
  caf::error end_object() override;
  caf::error begin_sequence(size_t& list_size) override;
  caf::error end_sequence() override;
  caf::error apply_raw(size_t num_bytes, void* data) override;

protected:
  caf::error apply_impl(int8_t&) override;
  caf::error apply_impl(uint8_t&) override;
  caf::error apply_impl(int16_t&) override;
  caf::error apply_impl(uint16_t&) override;
  caf::error apply_impl(int32_t&) override;
  caf::error apply_impl(uint32_t&) override;
  caf::error apply_impl(int64_t&) override;
  caf::error apply_impl(uint64_t&) override;
  caf::error apply_impl(float&) override;
  caf::error apply_impl(double&) override;
  caf::error apply_impl(long double&) override;
  caf::error apply_impl(std::string&) override;
  caf::error apply_impl(std::u16string&) override;
  caf::error apply_impl(std::u32string&) override;

private:
  caf::error add(std::uint64_t n) noexcept {
    bytes_ += n;
    return caf::none;
  }

  std::uint64_t bytes_ = 0;
};

} // namespace rustyray::detail
