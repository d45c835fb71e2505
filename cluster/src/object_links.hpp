#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <utility>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <caf/expected.hpp>
#include <caf/fwd.hpp>
#include <caf/message.hpp>

#include "link_outbox.hpp"
#include "rustyray/objstore/internal/object_table.hpp"
#include "rustyray/objstore/internal/remote_objects.hpp"

namespace rustyray::cluster::internal {

/// Objects across nodes, Ray's ownership model: the node that created an
/// object owns it; a node holding refs to another's object is a borrower,
/// and the owner keeps the object while any borrower holds a ref.
///
/// As a borrower, this node counts its refs to each object of another node
/// here (the object table hands them over): the first makes it tell the
/// owner it borrows the object, the last that it no longer does, and drops
/// its copy. A `get` fetches a copy from the owner into this node's table.
/// As an owner, it keeps one reference in its table for each borrowing
/// node, answers fetches, and ends a node's borrows when that node dies.
class object_links final : public objstore::internal::remote_objects {
public:
  /// Copies larger than this travel in slices of this size...
  static constexpr std::uint64_t chunk_bytes = std::uint64_t{1} << 20;
  /// ... at most this many of one copy unacknowledged at a time.
  static constexpr int chunk_window = 8;

  object_links(caf::actor_system& system, std::uint64_t node, std::shared_ptr<link_outbox> out)
    : system_(system), node_(node), out_(std::move(out)) {}

  /// Sends a batch to a node at once, not with the next flush: each slice
  /// of a copy (and each acknowledgement) travels in a message of its own,
  /// so the receiver handles one while the next is on its way. Set by the
  /// service when it starts; called only from its actor.
  void bind_sender(std::function<void(std::uint64_t, link_batch)> send_now) {
    send_now_ = std::move(send_now);
  }

  /// Who fetches this node's own results that the nodes which made them
  /// keep, when a caller waits for one (the task router); set before
  /// tasks flow.
  void on_held_wanted(std::function<void(const object_id&)> wanted) {
    held_wanted_ = std::move(wanted);
  }

  /// The table; set before any ref is counted.
  void attach(const std::shared_ptr<objstore::internal::object_table>& table) {
    table_ = table;
  }

  void add_ref(const object_id& id) noexcept override;
  void release(const object_id& id) noexcept override;
  void fetch(const object_id& id) override;
  void refetch(const object_id& id) noexcept override;
  void free(const object_id& id) override;

  // The service's part (its actor only).

  /// What `pull` hands over: the value and its size in the store, or why
  /// it did not come.
  using pulled = std::function<void(caf::expected<caf::message> value, std::uint64_t size)>;

  /// Fetches `id` (another node's object) for the service instead of the
  /// table: a result too large for one message (`shipped_result::in_slices`)
  /// arrives in slices as copies do, and `done` gets it, in the service's
  /// actor. Not called if the owner dies first.
  void pull(const object_id& id, pulled done);

  /// Copies the owners sent: stored into the table (or their errors).
  void fetched(shipped_results& copies);
  /// Drops the copies whose last ref went since the last call.
  void drop_copies();
  /// `peer` borrows these objects of this node.
  void lent(std::uint64_t peer, const std::vector<object_id>& ids);
  /// `peer` no longer borrows them.
  void returned(std::uint64_t peer, const std::vector<object_id>& ids);
  /// `peer` asks for copies of these objects of this node: sent once each
  /// exists (`copy_ready`).
  void answer(std::uint64_t peer, const std::vector<object_id>& ids);
  /// The object `peer` asked for exists: sends it whole, or its first
  /// slices.
  void copy_ready(std::uint64_t peer, const object_id& id, objstore::internal::lookup found);
  /// Slices of copies from their owner `peer`; each is acknowledged, a
  /// complete copy stored.
  void chunks_received(std::uint64_t peer, std::vector<object_chunk>& chunks);
  /// `peer` received slices of copies this node sends: the next go out.
  void chunks_acked(std::uint64_t peer, const std::vector<object_id>& ids);
  /// `free` of these objects on `peer` (or this node): this node's copies
  /// go; as their owner, it tells every other borrower.
  void freed(std::uint64_t peer, const std::vector<object_id>& ids);
  /// `peer` (`who`) died or left: its borrows end, fetches of its objects
  /// fail with `object_lost`.
  void lost(std::uint64_t peer, const std::string& who, const std::string& why);

private:
  struct borrow {
    std::uint32_t refs = 0;
    /// The table holds a copy (or one on its way), with one reference.
    bool copy = false;
  };

  /// A copy on its way to a node, slice by slice (the service's actor
  /// only). The stored message keeps the bytes; a value of another type
  /// than a byte buffer or string is serialized into `serialized` first.
  struct transfer {
    caf::message value;
    std::vector<std::uint8_t> serialized;
    const std::uint8_t* data = nullptr;
    std::uint64_t total = 0;
    std::uint64_t size = 0;
    std::uint8_t form = 0;
    std::uint64_t next = 0;
    int in_flight = 0;
  };

  /// A copy arriving slice by slice (the service's actor only).
  struct arrival {
    std::vector<std::uint8_t> bytes;
    std::string text;
    std::uint64_t received = 0;
  };

  void send_chunk(std::uint64_t peer, const object_id& id, transfer& t);
  /// A complete copy, or its error: stored in the table.
  void store_copy(const object_id& id, caf::expected<caf::message> value, std::uint64_t size);

  caf::actor_system& system_;
  const std::uint64_t node_;
  std::function<void(std::uint64_t, link_batch)> send_now_;
  std::function<void(const object_id&)> held_wanted_;
  const std::shared_ptr<link_outbox> out_;
  /// Weak: the table holds this object (its remote side).
  std::weak_ptr<objstore::internal::object_table> table_;
  std::mutex mtx_;
  std::unordered_map<object_id, borrow> borrows_; // guarded by mtx_
  /// Copies whose last ref went: dropped by `drop_copies`.
  std::unordered_set<object_id> drops_; // guarded by mtx_
  /// Copies asked for and not received, by owner.
  std::unordered_map<std::uint64_t, std::unordered_set<object_id>> fetching_; // guarded by mtx_
  /// As an owner: how many times each node borrows each object (the
  /// service's actor only).
  std::unordered_map<std::uint64_t, std::unordered_map<object_id, std::uint32_t>> lent_;
  std::map<std::pair<std::uint64_t, object_id>, transfer> sending_;
  std::unordered_map<object_id, arrival> arriving_;
  /// What gets the objects `pull` fetches (the service's actor only).
  std::unordered_map<object_id, pulled> pulls_;
};

} // namespace rustyray::cluster::internal
