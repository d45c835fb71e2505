#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string>

namespace rustyray::detail {

/// The bytes of a function pointer or member function pointer: with its
/// type, what finds its registered name. Empty for other callables. Fixed
/// size, so a submission does not allocate for it.
class function_identity {
public:
  function_identity() = default;

  template <class F>
  static function_identity of(const F& f) {
    static_assert(sizeof(F) <= capacity, "a function pointer larger than 16 bytes");
    function_identity id;
    std::memcpy(id.bytes_.data(), &f, sizeof(F));
    id.size_ = static_cast<std::uint8_t>(sizeof(F));
    return id;
  }

  friend bool operator==(const function_identity& a, const function_identity& b) noexcept {
    return a.size_ == b.size_ && a.bytes_ == b.bytes_;
  }

  [[nodiscard]] bool empty() const noexcept {
    return size_ == 0;
  }

  /// The bytes, as a key of the registry.
  [[nodiscard]] std::string bytes() const {
    return std::string(bytes_.data(), size_);
  }

private:
  static constexpr std::size_t capacity = 16;
  std::array<char, capacity> bytes_{};
  std::uint8_t size_ = 0;
};

} // namespace rustyray::detail
