#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/message.hpp>

#include "rustyray/detail/id_list.hpp"
#include "rustyray/object_id.hpp"

namespace rustyray::objstore::internal {

/// What a get finds: the value, or the error stored in its place or
/// explaining its absence.
using lookup = caf::expected<caf::message>;

/// The objects one task or call waits for, pinned while it waits and runs.
struct dependency_wait {
  /// The first `pinned` of them hold this wait's pins (an object already
  /// gone cannot be pinned; the task then finds its error).
  detail::id_list ids;
  std::size_t pinned = 0;
  /// Not resolved yet, counted down by the store's waiters.
  std::atomic<std::size_t> unresolved{0};
  /// Makes room for what each of `ids` resolves to (`value(i)`).
  void prepare_values() {
    if (ids.size() > inline_values)
      more_values_.assign(ids.size() - inline_values, lookup{caf::message{}});
  }

  /// What the pinned `ids[i]` resolved to: taken with the pin (or by the
  /// waiter), so the run needs no second look-up in the table. Only the
  /// pin's holder may read it, once `unresolved` is zero.
  lookup& value(std::size_t i) noexcept {
    return i < inline_values ? inline_values_[i] : more_values_[i - inline_values];
  }

  /// Drops the values (and the memory they hold on to).
  void clear_values() {
    for (auto& v : inline_values_)
      v = caf::message{};
    more_values_.clear();
  }

  /// The table's own handle on the pinned `ids[i]` (its entry), kept for
  /// the first few: `object_table::complete` drops their pins and refs with
  /// it. Null for the rest.
  [[nodiscard]] void* pinned_entry(std::size_t i) const noexcept {
    return i < inline_values ? entries_[i] : nullptr;
  }
  void set_pinned_entry(std::size_t i, void* entry) noexcept {
    if (i < inline_values)
      entries_[i] = entry;
  }

  /// The table's count of `free`s when the pins were taken: a pinned object
  /// can lose its value only that way, so while the count is the same,
  /// the values are what a get would find.
  std::uint64_t frees_seen = 0;

  /// The value fetched for `id`, if it is one of the pinned ones.
  [[nodiscard]] const lookup* fetched(const object_id& id) noexcept {
    for (std::size_t i = 0; i < pinned; ++i)
      if (ids[i] == id)
        return &value(i);
    return nullptr;
  }

private:
  // Calls take one or two refs as arguments, mostly: their values need no
  // allocation.
  static constexpr std::size_t inline_values = 2;
  lookup inline_values_[inline_values] = {caf::message{}, caf::message{}};
  void* entries_[inline_values] = {nullptr, nullptr};
  std::vector<lookup> more_values_;
};

} // namespace rustyray::objstore::internal
