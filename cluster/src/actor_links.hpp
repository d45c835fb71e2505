#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "link_outbox.hpp"
#include "rustyray/actors/internal/remote_actors.hpp"

namespace rustyray::cluster::internal {

class task_router;
class actor_proxy;
class cluster_runtime;

/// Actors across nodes. The node that creates an actor owns it (its ID
/// names that node), wherever it runs; the node that runs it hosts it.
///
/// Here, as a caller: every actor of another host has one record (an
/// `actor_proxy`, shared by its handles here) that ships its calls to the
/// host in each caller's order, once their arguments exist, and stores
/// the results that come back. A handle loaded for another node's actor
/// makes this node a borrower: the owner answers with the host, and keeps
/// the actor while any borrower holds a handle.
///
/// As an owner: it keeps the actor's record here alive for each borrowing
/// node; when the last handle anywhere is gone, it tells the host.
///
/// As a host: it keeps the actors others placed here until their owner
/// lets them go, and runs the calls shipped to them.
class actor_links final : public actors::internal::remote_actors,
                          public std::enable_shared_from_this<actor_links> {
public:
  actor_links(std::uint64_t node, std::shared_ptr<link_outbox> out,
              std::shared_ptr<task_router> router, std::weak_ptr<cluster_runtime> cluster)
    : node_(node), out_(std::move(out)), router_(std::move(router)), cluster_(std::move(cluster)) {}

  std::shared_ptr<detail::actor_core> start_detached(std::uint64_t host,
                                                     detail::actor_spec spec) override;
  caf::expected<std::uint64_t> place(const std::string& who,
                                     const rustyray::internal::resource_amounts& request,
                                     std::uint64_t pinned, bool ships) override;
  std::shared_ptr<detail::actor_core> start(const object_id& id, std::uint64_t host,
                                            detail::actor_spec spec) override;
  std::shared_ptr<detail::actor_core> attach(const object_id& id,
                                             const std::type_info& cls) override;
  caf::error claim_name(const std::string& ns, const std::string& name, const object_id& id,
                        const std::type_info& cls) override;
  std::pair<object_id, std::string> find_name(const std::string& ns,
                                              const std::string& name) override;
  void release_name(const std::string& ns, const std::string& name, const object_id& id) override;

  /// The head: owns the detached actor `recipe` describes (class `cls`,
  /// mangled) and starts it on `host`; its new ID. The caller claimed its
  /// name.
  caf::expected<object_id> adopt(shipped_actor recipe, std::uint64_t host, bool pinned,
                                 const std::string& cls);

  // The proxies' part.

  [[nodiscard]] link_outbox& out() noexcept {
    return *out_;
  }

  [[nodiscard]] std::uint64_t node() const noexcept {
    return node_;
  }

  /// Ships a call to `host` (its arguments as `args_for` gave them) and
  /// keeps it until its result comes back; an error if shutdown has begun.
  caf::error ship_call(std::uint64_t host, const actors::internal::call_ptr& call,
                       caf::message args, std::vector<detail::arg_ref> refs, std::string method);
  /// A proxy's last handle is gone: its owner (or, for the owner, the
  /// host) hears of it.
  void proxy_gone(const object_id& id, std::uint64_t host, bool started);

  // The service's part (its actor only).

  /// `peer` borrows these actors of this node: each is kept, and `peer`
  /// learns where it runs.
  void lent(std::uint64_t peer, const std::vector<object_id>& ids);
  /// `peer` no longer holds handles to these actors of this node.
  void returned(std::uint64_t peer, const std::vector<object_id>& ids);
  /// Where the actors this node borrows run.
  void located(std::vector<actor_location>& where);
  /// What calls this node shipped to `peer` produced: stored as their
  /// results. Adds to `stored` the copies `peer` may now drop.
  void finished(std::uint64_t peer, shipped_results& results, std::vector<object_id>& stored);
  /// Starts the actors `peer` placed here.
  void host(std::uint64_t peer, std::vector<shipped_actor>& actors);
  /// `kill` for an actor hosted here.
  void kill(const object_id& actor, bool no_restart);
  /// The owner `peer` no longer needs these actors hosted here.
  void release(std::uint64_t peer, const std::vector<object_id>& ids);
  /// `peer` (`who`) died or left: calls to actors it hosted fail with
  /// `actor_died`, actors it owned end here, its borrows end.
  void lost(std::uint64_t peer, const std::string& who, const std::string& why);
  /// Shutdown: every call still out fails.
  void stop();

private:
  struct flight {
    actors::internal::call_ptr call;
    std::uint64_t host = 0;
  };

  /// The cores kept for one node: by actor, how many handles it holds.
  struct lease {
    std::uint32_t count = 0;
    std::shared_ptr<detail::actor_core> core;
  };

  /// The record (local or a proxy) of actor `id`, if it lives here.
  std::shared_ptr<detail::actor_core> find(const object_id& id);
  /// The head: the detached actor `id` ended for good; its name is free.
  void let_go(const object_id& id);

  const std::uint64_t node_;
  const std::shared_ptr<link_outbox> out_;
  const std::shared_ptr<task_router> router_;
  /// The head's table of names, through the cluster's runtime.
  const std::weak_ptr<cluster_runtime> cluster_;
  std::mutex mtx_;
  /// The proxies here, by actor.
  std::unordered_map<object_id, std::weak_ptr<detail::actor_core>> proxies_; // guarded by mtx_
  /// Calls shipped and not answered, by result.
  std::unordered_map<object_id, flight> flights_; // guarded by mtx_
  bool stopped_ = false;                          // guarded by mtx_
  /// As an owner: the records kept for each borrowing node.
  std::unordered_map<std::uint64_t, std::unordered_map<object_id, lease>> lent_; // guarded by mtx_
  /// As the head: the detached actors it owns, kept until they end.
  std::unordered_map<object_id, std::shared_ptr<detail::actor_core>> detached_; // guarded by mtx_
  /// As a host: the actors kept for each owner.
  std::unordered_map<std::uint64_t,
                     std::unordered_map<object_id, std::shared_ptr<detail::actor_core>>>
    hosted_; // guarded by mtx_
};

} // namespace rustyray::cluster::internal
