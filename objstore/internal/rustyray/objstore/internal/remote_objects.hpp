#pragma once

#include "rustyray/object_id.hpp"

namespace rustyray::objstore::internal {

/// How this node reaches the objects other nodes own: a cluster implements
/// it (without one, an ID of another node names nothing here). The object
/// table hands it every reference counted to such an ID, and the object
/// API asks it for a copy before looking one up.
class remote_objects {
public:
  virtual ~remote_objects() = default;

  /// One more reference to `id` in this process: the first makes this node
  /// a borrower, which keeps the object alive at its owner. Called under a
  /// shard's lock of the table: it must not call into the table.
  virtual void add_ref(const object_id& id) noexcept = 0;

  /// One fewer: the last ends the borrow and drops the local copy. Under a
  /// shard's lock too.
  virtual void release(const object_id& id) noexcept = 0;

  /// Before a look-up of `id`: makes sure the table has an entry for it, a
  /// copy or one pending while the copy comes from the owner. Not under
  /// any lock of the table.
  virtual void fetch(const object_id& id) = 0;

  /// A caller waits for `id`, whose value is on another node: a copy of
  /// another node's object that was evicted here (its entry is pending
  /// again), asked for once more; or an object of this node that another
  /// node keeps (`object_table::hand_over`), fetched from there. Under a
  /// shard's lock of the table.
  virtual void refetch(const object_id& id) noexcept = 0;

  /// `free` of `id` on this node (the table dropped its value here): every
  /// other copy in the cluster goes too, the owner's included.
  virtual void free(const object_id& id) = 0;
};

} // namespace rustyray::objstore::internal
