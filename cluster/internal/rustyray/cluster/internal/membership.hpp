#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/expected.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/io/middleman_actor.hpp>
#include <caf/meta/type_name.hpp>

#include "rustyray/cluster.hpp"
#include "rustyray/cluster/internal/wire.hpp"
#include "rustyray/config.hpp"
#include "rustyray/internal/resources.hpp"
#include "rustyray/object_id.hpp"

namespace rustyray::internal {
class node;
}

namespace rustyray::tasks::internal {
struct task_runtime;
}

namespace rustyray::actors::internal {
struct actor_runtime;
}

namespace rustyray::cluster::internal {

/// What a node says about itself for `rustyray status`.
struct node_report {
  std::uint64_t objects = 0;
  std::uint64_t bytes = 0;
  std::map<std::string, std::uint64_t> tasks;
  std::map<std::string, std::uint64_t> actors;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_report& x) {
  return f(caf::meta::type_name("rustyray::node_report"), x.objects, x.bytes, x.tasks, x.actors);
}

/// A node as the head's table keeps it (and sends it to `nodes()`).
struct node_record {
  std::uint64_t id = 0;
  std::string address;
  /// Where its service for other nodes listens (tasks, objects).
  std::string service;
  std::map<std::string, double> total;
  std::map<std::string, double> available;
  bool alive = true;
  bool head = false;
  /// Filled for a status query only: what the node reported, and its
  /// named actors ("namespace/name").
  node_report report;
  std::vector<std::string> names;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_record& x) {
  return f(caf::meta::type_name("rustyray::node_record"), x.id, x.address, x.service, x.total,
           x.available, x.alive, x.head, x.report, x.names);
}

/// The version a node must share with the head.
extern const char* const rustyray_version;

/// (join_atom, join_request) to the head's table, the actor its address
/// publishes: the records of the cluster and the head's service, or the
/// error `join_refused` saying why.
using join_atom = caf::atom_constant<caf::atom("rr_join")>;

/// What a node presents to join: checked by the head before anything else
/// is accepted from it.
struct join_request {
  std::uint64_t id = 0;
  std::string address;
  std::map<std::string, double> resources;
  /// The names `RUSTYRAY_REMOTE` registered, sorted: nodes run the same
  /// program.
  std::vector<std::string> functions;
  std::string version;
  std::string token;
  /// The node's service, reached over the join's connection.
  caf::actor service;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, join_request& x) {
  return f(caf::meta::type_name("rustyray::join_request"), x.id, x.address, x.resources,
           x.functions, x.version, x.token, x.service);
}

/// Whether `given` is the cluster token `token`, compared in a time that
/// does not depend on where they differ.
bool same_token(const std::string& given, const std::string& token);

/// Registers the cluster's message types in an actor system's config.
void add_cluster_types(caf::actor_system_config& cfg);

/// Loads CAF's network layer into a config: the io middleman, and with
/// `tls` the OpenSSL module with its files.
void load_network(caf::actor_system_config& cfg, const config::tls_files& tls);

class task_router;
class object_links;
class actor_links;

/// This node's part of a cluster: the head's table (on the head), the
/// handle of the head, and whether it is still reachable.
class cluster_runtime {
public:
  /// Starts the cluster side of `node` as its config says: a head
  /// publishes its table on `listen`; any other node joins the head at
  /// `head_address` (throws `join_refused` naming why, `node_lost` if the
  /// head cannot be reached). `available` reports this node's free
  /// resources for heartbeats.
  static std::shared_ptr<cluster_runtime>
  start(rustyray::internal::node& node, std::map<std::string, double> total,
        std::function<std::map<std::string, double>()> available,
        std::function<node_report()> report);

  ~cluster_runtime();

  /// The nodes the head knows.
  std::vector<node_info> nodes();

  /// Blocks until `stop` or until the head is lost.
  void serve();

  /// Shutdown: leaves the cluster, stops the head's table or this node's
  /// agent, unpublishes; wakes `serve`.
  void stop();

  /// Where the head listens (on the head: its bound port).
  [[nodiscard]] const std::string& head_address() const noexcept {
    return head_address_;
  }

  /// The agent learned the head is gone (`why`): what needs the head fails
  /// with `node_lost` from now on, and `serve` returns, after
  /// `config.head_grace` unless the head `stopped` (shut down).
  void head_lost(const std::string& why, bool stopped);

  /// The head declared this node dead (`why`): every other node is gone for
  /// it, and `serve` returns at once.
  void cut_off(const std::string& why);

  /// Runs tasks through `tasks` and actors through `actors` (the
  /// runtime's, once built): tasks, objects and actors now cross nodes.
  void attach(const std::shared_ptr<tasks::internal::task_runtime>& tasks,
              actors::internal::actor_runtime& actors);

  /// The head's table of actor names (see `actors::internal::remote_actors`):
  /// claims `name` in `ns` for actor `id` of class `cls` (mangled).
  caf::error claim_name(const std::string& ns, const std::string& name, const object_id& id,
                        const std::string& cls);
  /// The actor named so, and its class; a nil ID for none. Throws
  /// `node_lost` if the head does not answer.
  std::pair<object_id, std::string> find_name(const std::string& ns, const std::string& name);
  /// A detached actor (named, `recipe`) for the head to own and start on
  /// `host`: its ID, or `name_taken`, `node_lost`.
  caf::expected<object_id> adopt_detached(shipped_actor recipe, std::uint64_t host, bool pinned,
                                          const std::string& cls);
  /// The head: owns the detached actor `recipe` (see `actor_links::adopt`).
  caf::expected<object_id> adopt_here(shipped_actor recipe, std::uint64_t host, bool pinned,
                                      const std::string& cls);

  /// Gives a claimed name back.
  void release_name(const std::string& ns, const std::string& name, const object_id& id);

  /// The head's table, as a join or a heartbeat's answer brought it.
  void table_changed(const std::vector<node_record>& table);

private:
  cluster_runtime(rustyray::internal::node& node) : node_(node) {}

  /// Whom to ask the head's tables through (the agent, or on the head the
  /// table itself); `node_lost` once the head is gone.
  caf::expected<caf::actor> head_route();

  /// Has this node's service give up `nodes` (`why`: this node was cut
  /// off; empty: the head's table says they are dead).
  void give_up(std::vector<std::uint64_t> nodes, std::string why);

  rustyray::internal::node& node_;
  std::string head_address_;
  caf::actor head_;  // the table (local on the head, a proxy elsewhere)
  caf::actor agent_; // this node's heartbeat sender (not on the head)
  /// CAF's connection manager for every link (the OpenSSL module's with TLS).
  caf::io::middleman_actor network_;
  std::uint16_t port_ = 0;
  /// This node's service for the others, and its port.
  caf::actor service_;
  std::uint16_t service_port_ = 0;
  std::shared_ptr<task_router> router_;
  std::shared_ptr<object_links> objects_;
  std::shared_ptr<actor_links> actors_;
  std::vector<node_record> table_; // guarded by mtx_, for attach
  std::mutex mtx_;
  std::condition_variable changed_;
  bool stopped_ = false; // guarded by mtx_
  /// Why the head cannot be reached (empty while it can).
  std::string gone_;          // guarded by mtx_
  bool cut_off_ = false;      // guarded by mtx_
  bool head_stopped_ = false; // guarded by mtx_
  /// The nodes the table says are dead, once handed to the service.
  std::set<std::uint64_t> buried_; // guarded by mtx_
  int serving_ = 0;                // guarded by mtx_: threads in serve()
};

/// `nodes(head_address, token)`: asks the head with an actor system of its
/// own, without joining; the head asks every live node for its report.
std::vector<node_info> query_nodes(const std::string& head_address, const std::string& token,
                                   const config::tls_files& tls);

/// The running runtime's cluster side, or null (a single node).
std::shared_ptr<cluster_runtime> current_cluster() noexcept;

/// Makes `cluster` the current one (null: none), for `init` and `shutdown`.
void publish_cluster(std::shared_ptr<cluster_runtime> cluster);

/// Thousandths (the scheduler's count) as units.
std::map<std::string, double> resource_units(const rustyray::internal::resource_amounts& amounts);

} // namespace rustyray::cluster::internal
