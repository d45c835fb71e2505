#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace rustyray {

/// One node of the cluster, as `nodes()` lists it.
struct node_info {
  /// The node's ID: 16 hex digits, the first half of every object ID it owns.
  std::string id;
  /// Where it accepts connections, `"host:port"`; empty for a node that
  /// listens on no port (a single node, or a node that only joined).
  std::string address;
  /// Its resources in all, and free when it last reported them.
  std::map<std::string, double> total;
  std::map<std::string, double> available;
  /// False once it left, or missed its heartbeats: it never comes back
  /// under the same ID.
  bool alive = true;
  /// It is the cluster's head.
  bool head = false;
  /// It is the node the calling process runs.
  bool local = false;

  // What `nodes(head_address, token)` (and so `rustyray status`) asks each
  // live node for; `nodes()` leaves them empty.

  /// Objects in its store, and their bytes.
  std::uint64_t objects = 0;
  std::uint64_t object_bytes = 0;
  /// Its tasks by state: "waiting_for_arguments", "queued", "running" now;
  /// "finished", "failed", "cancelled" since it started.
  std::map<std::string, std::uint64_t> tasks;
  /// The actors it hosts by state: "starting", "alive", "dead".
  std::map<std::string, std::uint64_t> actors;
  /// The named actors it runs, as "namespace/name".
  std::vector<std::string> named_actors;
};

/// The cluster's nodes: with `config.head_address` or `config.is_head` set,
/// every node that joined (as the head knows them; dead ones too, with
/// `alive` false); otherwise the one local node. Throws
/// `runtime_not_initialized` without a runtime, `node_lost` if the head
/// does not answer.
[[nodiscard]] std::vector<node_info> nodes();

/// The nodes of the cluster whose head listens at `head_address`
/// ("host:port"), asked with `token` (its cluster token) without joining it
/// and without a runtime, as `rustyray status` does (a cluster with TLS:
/// with the files `RUSTYRAY_TLS` names, as `config.tls`). Throws `join_refused`
/// for a wrong token, `node_lost` if the head cannot be reached,
/// `invalid_argument` for a malformed address.
[[nodiscard]] std::vector<node_info> nodes(const std::string& head_address,
                                           const std::string& token);

/// Makes this process a worker node: after `init` with
/// `config.head_address`, blocks while the node runs what the cluster sends
/// it, until `shutdown` (from another thread, or a signal handler's thread)
/// or until the head goes away. Throws `invalid_argument` without a head
/// address, `runtime_not_initialized` without a runtime.
void serve();

} // namespace rustyray
