#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

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
  object_links(std::uint64_t node, std::shared_ptr<link_outbox> out)
    : node_(node), out_(std::move(out)) {}

  /// The table; set before any ref is counted.
  void attach(std::shared_ptr<objstore::internal::object_table> table) {
    table_ = std::move(table);
  }

  void add_ref(const object_id& id) noexcept override;
  void release(const object_id& id) noexcept override;
  void fetch(const object_id& id) override;

  // The service's part (its actor only).

  /// Copies the owners sent: stored into the table (or their errors).
  void fetched(shipped_results& copies);
  /// Drops the copies whose last ref went since the last call.
  void drop_copies();
  /// `peer` borrows these objects of this node.
  void lent(std::uint64_t peer, const std::vector<object_id>& ids);
  /// `peer` no longer borrows them.
  void returned(std::uint64_t peer, const std::vector<object_id>& ids);
  /// `peer` asks for copies of these objects of this node: sent once each
  /// exists.
  void answer(std::uint64_t peer, const std::vector<object_id>& ids);
  /// `peer` died or left: its borrows end, fetches from it fail.
  void lost(std::uint64_t peer, const std::string& why);

private:
  struct borrow {
    std::uint32_t refs = 0;
    /// The table holds a copy (or one on its way), with one reference.
    bool copy = false;
  };

  const std::uint64_t node_;
  const std::shared_ptr<link_outbox> out_;
  std::shared_ptr<objstore::internal::object_table> table_;
  std::mutex mtx_;
  std::unordered_map<object_id, borrow> borrows_; // guarded by mtx_
  /// Copies whose last ref went: dropped by `drop_copies`.
  std::unordered_set<object_id> drops_; // guarded by mtx_
  /// Copies asked for and not received, by owner.
  std::unordered_map<std::uint64_t, std::unordered_set<object_id>> fetching_; // guarded by mtx_
  /// As an owner: how many times each node borrows each object (the
  /// service's actor only).
  std::unordered_map<std::uint64_t, std::unordered_map<object_id, std::uint32_t>> lent_;
};

} // namespace rustyray::cluster::internal
