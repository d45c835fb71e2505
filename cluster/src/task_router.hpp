#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/io/middleman_actor.hpp>

#include "rustyray/cluster/internal/membership.hpp"
#include "rustyray/cluster/internal/wire.hpp"
#include "link_outbox.hpp"
#include "rustyray/tasks/internal/task_offload.hpp"
#include "rustyray/tasks/internal/task_runtime.hpp"

namespace rustyray::cluster::internal {

using rustyray::internal::resource_amounts;
using tasks::internal::task_ptr;
using tasks::internal::task_record;

/// A submitting node's side of tasks that run elsewhere: the pool offers it
/// the ready tasks this node cannot start (`take`, under the pool's lock);
/// its actor packs them, ships each node's share in one message straight to
/// that node's service (the head is on no task's path), and stores the
/// results that come back, as a worker would. Each node holds a pipeline of
/// this node's tasks (it queues them): deep for short functions, so the
/// round trip hides behind the queue; shallow for long ones, so a queue
/// there does not wait while this node or another one idles. A node that dies hands its
/// tasks back to the pool (a retry, on any node) or fails them with
/// `node_lost`.
class task_router final : public tasks::internal::task_offload,
                          public std::enable_shared_from_this<task_router> {
public:
  /// Tasks of one function that this node keeps in flight per CPU of
  /// another node: enough for about `pipeline_ns` of their measured run
  /// time there (the round trip hides behind the queue), within these
  /// bounds; `min_depth` until a run was measured.
  static constexpr std::int64_t min_depth = 2;
  static constexpr std::int64_t max_depth = 512;
  static constexpr double pipeline_ns = 2e6;

  task_router(rustyray::internal::node& node, std::shared_ptr<link_outbox> out);

  /// The runtime's task system: tasks flow from now on.
  void attach(std::weak_ptr<tasks::internal::task_runtime> tasks);

  verdict take(const task_ptr& task) override;
  bool has_room() override;
  caf::error placeable(const task_record& task, std::uint64_t node) override;
  void cancel(const task_record& task) override;

  /// Where an actor holding `request` for its lifetime starts (see
  /// `actors::internal::remote_actors::place`): this node (0) while it has
  /// room now, else the node with the most room now, else a node where it
  /// will fit once others free their resources.
  caf::expected<std::uint64_t> place_actor(const std::string& who, const resource_amounts& request,
                                           std::uint64_t pinned, bool ships);

  /// The head's table changed: new nodes to use, dead ones to give up.
  void update(const std::vector<node_record>& table);

  /// Where node `id`'s service listens; empty for a node not (or no
  /// longer) in the table.
  [[nodiscard]] std::string address_of(std::uint64_t id);

  /// "node <ID> (at host:port)", for messages about it.
  [[nodiscard]] std::string describe(std::uint64_t id);

  /// Whether `id` may still show up in the table: it is not known dead.
  [[nodiscard]] bool may_join(std::uint64_t id);

  /// Shutdown: tasks not finished elsewhere fail; nothing is taken again.
  void stop();

  // The node service's part (its actor only).

  /// The tasks taken since the last call, packed, by node.
  std::vector<std::pair<std::uint64_t, shipped_tasks>> flush();
  /// What `peer` ran: stored as the tasks' results. Adds to `stored` the
  /// copies `peer` may now drop. A result too large for a batch
  /// (`shipped_result::in_slices`) stays on `peer`, as in Ray: this node's
  /// object stays pending, produced by a record of where it is, until a
  /// caller here waits for it (`wanted`); then it is fetched (`pulls_due`,
  /// `held_arrived`). If `peer` dies first, the task runs again while
  /// `max_retries` allows (lineage reconstruction), else the object is
  /// `object_lost`.
  void finished(std::uint64_t peer, shipped_results& results, std::vector<object_id>& stored);

  /// A caller waits for `result`, kept by the node that made it: fetched
  /// from the next flush on. Any thread (under a lock of the table).
  void wanted(const object_id& result);
  /// Nothing here refers to `result`, kept by the node that made it, any
  /// more: that node drops it with the next flush. Any thread.
  void unheld(const object_id& result);

  /// A result to fetch from the node that keeps it (`copy`: its ID there).
  struct pull_order {
    std::uint64_t peer = 0;
    object_id copy;
    object_id result;
  };

  /// The results wanted since the last call; settles the ones no longer
  /// referred to.
  std::vector<pull_order> pulls_due();
  /// A result `pulls_due` named arrived (or failed): stored as its task's
  /// result, and its node drops its copy.
  void held_arrived(const object_id& result, caf::expected<caf::message> value, std::uint64_t size);
  /// `peer` (`who`, as `describe` says) died or cannot be reached: its
  /// tasks run again elsewhere or fail.
  void lost(std::uint64_t peer, const std::string& who, const std::string& why);

private:
  struct peer {
    std::string address;    // its service
    resource_amounts total; // thousandths
    /// Free as it last reported, less what actors placed there since hold.
    resource_amounts available;
    resource_amounts in_flight;
    std::size_t tasks = 0; // in flight or in the outbox
    bool alive = true;
    /// Taken, not shipped yet.
    std::vector<task_ptr> outbox;
  };

  struct flight {
    task_ptr task;
    std::uint64_t peer;
    std::int64_t started;
  };

  class held_result;

  /// A finished task whose result its node keeps.
  struct held {
    flight done;
    object_id copy;
    std::weak_ptr<held_result> record;
    bool wanted = false;
  };

  /// Makes the result of `done` a held one (see `finished`).
  void hold(flight done, const shipped_result& r);
  /// Ends the task of a result no longer held with `output` (its arguments
  /// go), and has the node that kept the result drop it.
  void settle(held h, caf::expected<detail::task_output> output);
  /// Under mtx_: `id` is no longer held; its record stays quiet when it goes.
  held unhold(std::unordered_map<object_id, held>::iterator i);

  /// Under mtx_: whether `p` takes another task asking for `request`,
  /// `depth` per CPU.
  bool room(const peer& p, const resource_amounts& request, std::int64_t depth) const;
  /// Under mtx_: of the nodes with room for `task`, the one that owns most
  /// bytes of its arguments (they need not travel there); null if none
  /// owns any.
  peer* holder_of_arguments(task_record& task, std::int64_t depth);
  /// Under mtx_: the depth for tasks of `function`.
  std::int64_t depth_of(const std::string& function) const;
  /// Under mtx_: gives back what `task` held on `p`.
  void release(peer& p, const task_record& task);
  /// Under mtx_: `p` is gone; its tasks are moved to `orphans`.
  void bury(std::uint64_t id, peer& p, std::vector<task_ptr>& orphans);
  /// Retries (on any node) or fails the tasks of a node that died.
  void rehome(std::vector<task_ptr>& orphans, const std::string& who, const std::string& why);
  /// Stores a task's output as its result, as a worker does.
  void complete(const task_ptr& task, std::int64_t started,
                caf::expected<detail::task_output> output);
  std::shared_ptr<tasks::internal::task_runtime> tasks();

  rustyray::internal::node& node_;
  const std::shared_ptr<link_outbox> out_;
  std::mutex mtx_;
  std::weak_ptr<tasks::internal::task_runtime> tasks_; // guarded by mtx_
  std::map<std::uint64_t, peer> peers_;                // guarded by mtx_
  std::unordered_map<object_id, flight> flights_;      // guarded by mtx_
  std::unordered_map<object_id, held> held_;           // guarded by mtx_
  /// Held results to fetch, and ones no longer referred to.
  std::vector<object_id> wanted_;  // guarded by mtx_
  std::vector<object_id> dropped_; // guarded by mtx_
  /// Mean run time of each function elsewhere (moving average), in ns.
  std::unordered_map<std::string, double> run_ns_;       // guarded by mtx_
  std::vector<std::pair<task_ptr, caf::error>> refused_; // guarded by mtx_
  bool stopped_ = false;                                 // guarded by mtx_
};

class object_links;
class actor_links;

/// A node's service for the other nodes, one actor: it keeps a connection
/// to each node it talks to, sends each one batch per burst of what this
/// node has for it (tasks, results, borrows, copies: `link_outbox`, the
/// router's tasks), and handles the batches others send (checking the
/// cluster token on each).
caf::actor spawn_node_service(caf::actor_system& system, std::uint64_t node, std::string token,
                              caf::io::middleman_actor network, std::shared_ptr<link_outbox> out,
                              std::shared_ptr<task_router> router,
                              std::shared_ptr<object_links> objects,
                              std::shared_ptr<actor_links> actors);

} // namespace rustyray::cluster::internal
