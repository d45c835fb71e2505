#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "rustyray/internal/resources.hpp"
#include "rustyray/placement_group.hpp"

namespace rustyray::detail {

/// One placement group, shared by its handles and the runtime that
/// reserves it.
struct placement_state {
  enum phase { pending, created, removed };

  placement_state(object_id id, std::vector<bundle> bundles, placement_strategy strategy)
    : id(id), bundles(std::move(bundles)), strategy(strategy), text(to_string(id)) {}

  const object_id id;
  const std::vector<bundle> bundles;
  const placement_strategy strategy;
  /// The ID as resource names carry it.
  const std::string text;

  /// Sets the phase (and why it is pending) and wakes `wait`; a removed
  /// group stays removed.
  void set(phase ph, std::string why = {});

  [[nodiscard]] phase current() const;

  /// Why it is still pending (empty otherwise).
  [[nodiscard]] std::string pending_why() const;

  /// Waits until the group is no longer pending, up to `timeout`: whether it
  /// is created.
  bool wait_created(std::chrono::milliseconds timeout) const;

  /// The runtime's part, under `mtx`: the lease on the node's resources
  /// (all bundles at once), and what the group added to the node.
  std::shared_ptr<rustyray::internal::resource_lease> lease;
  rustyray::internal::resource_amounts offered;
  /// `remove_placement_group` ran.
  bool withdrawn = false;

  mutable std::mutex mtx;

private:
  mutable std::condition_variable changed_;
  phase phase_ = pending; // guarded by mtx
  std::string why_;       // guarded by mtx
};

} // namespace rustyray::detail
