#pragma once

#include <cstdint>

#include <caf/meta/type_name.hpp>

namespace rustyray {

/// Counters of the object store, exact at the moment they were read.
struct store_stats {
  /// Objects that hold a value now.
  std::uint64_t objects = 0;
  /// Bytes those values occupy (see `put` for how a value is sized).
  std::uint64_t bytes_used = 0;
  /// `config.object_store_capacity`.
  std::uint64_t capacity = 0;
  /// Values stored since start: `put` calls plus task results.
  std::uint64_t puts = 0;
  /// `get` calls (and `try_get`, `get_async`) since start.
  std::uint64_t gets = 0;
  /// Gets that found the value (or its stored error) at once.
  std::uint64_t hits = 0;
  /// Gets that did not: the object was pending, lost or unknown.
  std::uint64_t misses = 0;
  /// Objects evicted to make room since start.
  std::uint64_t evictions = 0;
  /// Objects pinned now (never evicted while pinned).
  std::uint64_t pinned = 0;
  /// Bytes of the pinned objects.
  std::uint64_t pinned_bytes = 0;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, store_stats& x) {
    return f(caf::meta::type_name("rustyray::store_stats"), x.objects, x.bytes_used, x.capacity,
             x.puts, x.gets, x.hits, x.misses, x.evictions, x.pinned, x.pinned_bytes);
  }
};

} // namespace rustyray
