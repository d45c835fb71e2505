#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/message.hpp>

#include "rustyray/object_id.hpp"

namespace rustyray::objstore {

/// What a get finds: the value, or the error stored in its place or
/// explaining its absence.
using lookup = caf::expected<caf::message>;

/// The objects one task or call waits for, pinned while it waits and runs.
struct dependency_wait {
  dependency_wait() = default;
  explicit dependency_wait(std::vector<object_id> ids) : ids(std::move(ids)) {
  }
  /// The first `pinned` of them hold this wait's pins (an object already
  /// gone cannot be pinned; the task then finds its error).
  std::vector<object_id> ids;
  std::size_t pinned = 0;
  /// Not resolved yet, counted down by the store's waiters.
  std::atomic<std::size_t> unresolved{0};
  /// What each pinned one resolved to, `values[i]` for `ids[i]`: taken with
  /// the pin (or by the waiter), so the run needs no second look-up in the
  /// table. Only the pin's holder may read them, once `unresolved` is zero.
  std::vector<lookup> values;
  /// The table's count of `free`s when the pins were taken: a pinned object
  /// can lose its value only that way, so while the count is the same,
  /// `values` are what a get would find.
  std::uint64_t frees_seen = 0;

  /// The value fetched for `id`, if it is one of the pinned ones.
  [[nodiscard]] const lookup* fetched(const object_id& id) const noexcept {
    for (std::size_t i = 0; i < pinned && i < values.size(); ++i)
      if (ids[i] == id)
        return &values[i];
    return nullptr;
  }
};

} // namespace rustyray::objstore
