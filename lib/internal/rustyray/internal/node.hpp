#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <caf/fwd.hpp>

#include "rustyray/config.hpp"
#include "rustyray/object_id.hpp"

namespace rustyray::internal {

class recorder;

/// What every layer needs of the runtime that composed it: this node's ID
/// and the object IDs it hands out, the config, the actor system, the
/// recorder, and whether it still takes work. The runtime makes one per
/// `init`; the store, the task system and the actors each hold it in their
/// context, so that no layer reaches up to the runtime.
class node {
public:
  /// A node with a new random ID.
  node(config cfg, caf::actor_system& system);

  node(const node&) = delete;
  node& operator=(const node&) = delete;

  [[nodiscard]] std::uint64_t id() const noexcept {
    return id_;
  }

  /// A new object ID owned by this node.
  object_id next_id() noexcept {
    return {id_, next_sequence_.fetch_add(1, std::memory_order_relaxed)};
  }

  [[nodiscard]] const config& cfg() const noexcept {
    return cfg_;
  }

  /// The namespace of named actors: the config's, or `anonymous-<node ID>`
  /// (in a cluster: the head's ID, the same on every node).
  [[nodiscard]] const std::string& ray_namespace() const noexcept {
    return ray_namespace_;
  }

  /// In a cluster whose head is `head`, before the runtime is published:
  /// the default namespace is the cluster's, so that a name given on one
  /// node is found on every other.
  void join_namespace(std::uint64_t head);

  [[nodiscard]] caf::actor_system& system() const noexcept {
    return system_;
  }

  /// Counters and executed work, for `state()` and `timeline()`.
  [[nodiscard]] recorder& recording() const noexcept {
    return *recording_;
  }

  [[nodiscard]] const std::shared_ptr<recorder>& recording_ptr() const noexcept {
    return recording_;
  }

  /// Set by shutdown: new submissions and puts are refused.
  void stop_accepting() noexcept {
    stopping_ = true;
  }

  [[nodiscard]] bool stopping() const noexcept {
    return stopping_.load();
  }

  /// Throws `runtime_not_initialized` once `shutdown` has begun.
  void check_accepting() const;

private:
  std::uint64_t id_;
  std::atomic<std::uint64_t> next_sequence_{1};
  config cfg_;
  std::string ray_namespace_;
  caf::actor_system& system_;
  std::shared_ptr<recorder> recording_;
  std::atomic<bool> stopping_{false};
};

/// A node ID as object IDs print it: 16 hex digits.
std::string node_text(std::uint64_t node);

/// The node ID `node_text` printed; nothing for other text.
std::optional<std::uint64_t> parse_node_text(const std::string& text);

} // namespace rustyray::internal
