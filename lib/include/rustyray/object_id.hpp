#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <caf/meta/type_name.hpp>

namespace rustyray {

/// Names one object in the whole cluster: the 64-bit ID of the node that owns
/// it (random per runtime start, so IDs never repeat across processes or
/// across `init` → `shutdown` → `init`) and a sequence number on that node.
/// The owner is part of the ID, so any node can tell where to fetch an object
/// without a global directory.
class object_id {
public:
  /// The nil ID: names no object.
  constexpr object_id() noexcept = default;

  constexpr object_id(std::uint64_t node, std::uint64_t sequence) noexcept
    : node_(node), sequence_(sequence) {}

  /// The node that created, and owns, the object.
  [[nodiscard]] constexpr std::uint64_t node() const noexcept {
    return node_;
  }

  [[nodiscard]] constexpr std::uint64_t sequence() const noexcept {
    return sequence_;
  }

  [[nodiscard]] constexpr bool is_nil() const noexcept {
    return node_ == 0 && sequence_ == 0;
  }

  friend constexpr bool operator==(const object_id& x, const object_id& y) noexcept {
    return x.node_ == y.node_ && x.sequence_ == y.sequence_;
  }

  friend constexpr bool operator!=(const object_id& x, const object_id& y) noexcept {
    return !(x == y);
  }

  friend constexpr bool operator<(const object_id& x, const object_id& y) noexcept {
    return x.node_ != y.node_ ? x.node_ < y.node_ : x.sequence_ < y.sequence_;
  }

  /// Serializes exactly the two 64-bit fields (16 bytes in CAF's binary format).
  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, object_id& x) {
    return f(caf::meta::type_name("rustyray::object_id"), x.node_, x.sequence_);
  }

private:
  std::uint64_t node_ = 0;
  std::uint64_t sequence_ = 0;
};

/// `"<node hex>.<sequence>"`, e.g. `"9f2c01d4e5a6b7c8.42"`.
std::string to_string(const object_id& id);

} // namespace rustyray

template <>
struct std::hash<rustyray::object_id> {
  std::size_t operator()(const rustyray::object_id& id) const noexcept {
    // Sequences are dense and nodes random: mixing in the node is enough.
    return static_cast<std::size_t>(id.sequence() * 0x9e3779b97f4a7c15ull ^ id.node());
  }
};
