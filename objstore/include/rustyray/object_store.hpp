#pragma once

#include "rustyray/object_ref.hpp"
#include "rustyray/objstore/store_stats.hpp"

namespace rustyray {

namespace detail {

bool contains_object(const object_id& id);
void pin_object(const object_id& id);
void unpin_object(const object_id& id);
void free_object(const object_id& id);

} // namespace detail

/// The object store's counters: objects, bytes used, capacity, puts, gets,
/// hits, misses, evictions, pinned.
[[nodiscard]] store_stats object_store_stats();

/// Whether this node's store holds the object's value (or the error stored in
/// its place) right now; false while it is pending and after it is lost.
template <class T>
[[nodiscard]] bool contains(const object_ref<T>& ref) {
  return detail::contains_object(ref.id());
}

/// Keeps the object from being evicted until a matching `unpin`. Pins count:
/// pin twice, unpin twice. Throws `object_lost` if the object is gone,
/// `invalid_argument` for a ref that names no object.
template <class T>
void pin(const object_ref<T>& ref) {
  detail::pin_object(ref.id());
}

/// Undoes one `pin`; throws `invalid_argument` if the object is not pinned
/// (or the ref names no object).
template <class T>
void unpin(const object_ref<T>& ref) {
  detail::unpin_object(ref.id());
}

/// Drops the object's value now, although refs to it remain (Ray's
/// `ray.internal.free`); later gets throw `object_lost`. Freeing twice is
/// harmless; a ref that names no object is `invalid_argument`.
template <class T>
void free(const object_ref<T>& ref) {
  detail::free_object(ref.id());
}

} // namespace rustyray
