// Actors across nodes: the proxies that ship calls to another node's actors,
// the owner's count of borrowing nodes, and the actors hosted for others.

#include "actor_links.hpp"

#include <algorithm>
#include <deque>
#include <optional>
#include <utility>

#include <caf/all.hpp>

#include "rustyray/actors/internal/actor_runtime.hpp"
#include "rustyray/cluster/internal/membership.hpp"
#include "rustyray/errc.hpp"
#include "rustyray/error.hpp"
#include "rustyray/internal/demangle.hpp"
#include "rustyray/internal/error_text.hpp"
#include "rustyray/internal/node.hpp"
#include "rustyray/internal/resources.hpp"
#include "rustyray/objstore/internal/dependencies.hpp"
#include "rustyray/objstore/internal/run_record.hpp"
#include "shipped_args.hpp"
#include "task_router.hpp"

namespace rustyray::cluster::internal {

using namespace rustyray::internal; // the base layer's internals
using actors::internal::call_ptr;

namespace {

/// Fails calls (with no lock held: a waiter may call again at once).
void fail_calls(std::vector<std::pair<call_ptr, caf::error>>& failed) {
  auto rt = actors::internal::current_actors();
  for (auto& [call, why] : failed)
    if (rt)
      (void)objstore::internal::complete_run(rt->table(), *call, call->body,
                                             objstore::internal::lookup{std::move(why)});
  failed.clear();
}

/// How an actor ships: its factory, its arguments' values and its options.
shipped_actor recipe_of(const object_id& id, const detail::actor_spec& spec, caf::message args) {
  shipped_actor shipped;
  shipped.id = id;
  shipped.factory = spec.factory_name;
  shipped.args = std::move(args);
  shipped.max_restarts = spec.max_restarts;
  shipped.max_task_retries = spec.max_task_retries;
  shipped.max_concurrency = spec.max_concurrency;
  shipped.dedicated_thread = spec.dedicated_thread;
  shipped.num_cpus = spec.num_cpus;
  shipped.resources = spec.resources;
  return shipped;
}

/// What an actor shipped as `recipe` holds for its lifetime.
resource_amounts request_of(const shipped_actor& recipe, const std::string& label) {
  auto request = placed_request("actor " + label, recipe.num_cpus, recipe.resources, nullptr, -1);
  return request ? std::move(*request) : resource_amounts{};
}

} // namespace

/// The record of an actor another node hosts, shared by its handles here.
class actor_proxy final : public actors::internal::remote_actor,
                          public std::enable_shared_from_this<actor_proxy> {
public:
  /// `host`: 0 until the owner says where it runs.
  actor_proxy(std::shared_ptr<actor_links> links, const object_id& id, std::uint64_t host,
              std::string label)
    : links_(std::move(links)), id_(id), host_(host), label_(std::move(label)) {}

  ~actor_proxy() override {
    links_->proxy_gone(id_, host_, started_);
  }

  void send(const call_ptr& call) override {
    std::vector<std::pair<call_ptr, caf::error>> failed;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (dead_)
        failed.emplace_back(call, dead_);
      else
        queues_[call->caller].push_back(call);
      if (!dead_)
        pump(call->caller, failed);
    }
    fail_calls(failed);
  }

  void ready(const call_ptr& call) override {
    std::vector<std::pair<call_ptr, caf::error>> failed;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      pump(call->caller, failed);
    }
    fail_calls(failed);
  }

  void kill(bool no_restart) override {
    std::lock_guard<std::mutex> guard{mtx_};
    if (dead_)
      return;
    if (!started_) {
      // Once it runs, after the calls made before.
      pending_kill_ = pending_kill_.value_or(false) || no_restart;
      return;
    }
    send_kill(no_restart);
  }

  /// The head, owner of a detached actor: starts it from `recipe`.
  void adopt(shipped_actor recipe, bool pinned) {
    std::vector<std::pair<call_ptr, caf::error>> failed;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      ship_recipe(std::move(recipe), pinned, failed);
    }
    fail_calls(failed);
  }

  /// The owner: starts the actor on the host once the factory's arguments
  /// exist.
  void create(detail::actor_spec spec) {
    auto rt = actors::internal::current_actors_or_throw();
    creation_ = std::make_unique<creation>();
    creation_->spec = std::move(spec);
    if (!creation_->spec.deps.empty()) {
      creation_->deps.ids = std::move(creation_->spec.deps);
      creation_->pinned = true;
      auto self = shared_from_this();
      auto on_ready = [self] { self->ship_creation(); };
      if (!objstore::internal::await_dependencies(rt->table(), creation_->deps,
                                                  [&] { return on_ready; }))
        return; // the last argument to arrive ships it
    }
    ship_creation();
  }

  /// Where the actor runs (the owner's answer to this borrower, or the
  /// host's to the owner), or why it does not. Returns the nodes that
  /// asked the owner meanwhile, to be told, and whether every borrower is
  /// to be told (the owner restarted the actor on another node).
  std::pair<std::vector<std::uint64_t>, bool> located(std::uint64_t host, caf::error why) {
    std::vector<std::pair<call_ptr, caf::error>> failed;
    std::vector<std::uint64_t> waiting;
    bool moved = false;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (dead_)
        return {};
      confirmed_ = true;
      waiting.swap(awaiting_);
      moved = std::exchange(moved_, false);
      if (why) {
        die(std::move(why), failed);
      } else if (!started_ || (host != host_ && !owned())) {
        // A borrower: the first answer, or the owner's word that the
        // actor runs elsewhere now (its host died).
        host_ = host;
        started_ = true;
        flush_all(failed);
      }
    }
    fail_calls(failed);
    return {std::move(waiting), moved};
  }

  /// The host `peer` is gone (`why`; its calls in flight failed). The
  /// owner starts the actor again elsewhere while `max_restarts` allows
  /// (calls made from now on reach the new instance), else it dies; a
  /// borrower waits for the owner's word. Returns the owner's error if
  /// the actor died now (its borrowers are to hear it).
  caf::error host_lost(std::uint64_t peer, const std::string& why) {
    std::vector<std::pair<call_ptr, caf::error>> failed;
    caf::error died;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (dead_ || host_ != peer)
        return {};
      if (!owned()) {
        // The owner says where it runs next, or that it died.
        started_ = false;
        host_ = 0;
        return {};
      }
      std::string cannot;
      if (!recipe_)
        cannot = "it was not started from a recipe this node keeps";
      else if (pinned_)
        cannot = "it was pinned to that node (.node)";
      else if (restarts_left_ == 0)
        cannot = "its max_restarts are used up";
      caf::expected<std::uint64_t> where{std::uint64_t{0}};
      if (cannot.empty()) {
        where = links_->place(label_, request_, 0, true);
        if (!where)
          cannot = "no node can hold it (" + message_of(where.error()) + ")";
      }
      if (!cannot.empty()) {
        died =
          make_error(errc::actor_died, "actor " + label_ + " ran on " + why
                                         + ", which is gone; it does not start again: " + cannot);
        die(died, failed);
      } else {
        if (restarts_left_ > 0)
          --restarts_left_;
        host_ = *where == 0 ? links_->node() : *where;
        auto shipped = *recipe_;
        shipped.max_restarts = restarts_left_;
        links_->out().add(host_, [&](link_batch& b) { b.actors.push_back(std::move(shipped)); });
        confirmed_ = false;
        moved_ = true;
        flush_all(failed);
      }
    }
    fail_calls(failed);
    return died;
  }

  /// The owner, for a borrower `peer`: where the actor runs, or nothing
  /// yet (the host has not confirmed it; `peer` is told then).
  std::optional<actor_location> where(std::uint64_t peer) {
    std::lock_guard<std::mutex> guard{mtx_};
    actor_location loc;
    loc.actor = id_;
    if (dead_) {
      loc.error = dead_;
      return loc;
    }
    if (!confirmed_) {
      awaiting_.push_back(peer);
      return std::nullopt;
    }
    loc.host = host_;
    return loc;
  }

  /// The host (or the owner) is gone: every call fails with `why`.
  void lost(caf::error why) {
    std::vector<std::pair<call_ptr, caf::error>> failed;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (!dead_)
        die(std::move(why), failed);
    }
    fail_calls(failed);
  }

  [[nodiscard]] std::uint64_t host() {
    std::lock_guard<std::mutex> guard{mtx_};
    return host_;
  }

  [[nodiscard]] const object_id& id() const noexcept {
    return id_;
  }

private:
  /// This node owns the actor (it created it).
  [[nodiscard]] bool owned() const noexcept {
    return id_.node() == links_->node();
  }

  struct creation {
    detail::actor_spec spec;
    objstore::internal::dependency_wait deps;
    bool pinned = false;
  };

  void ship_creation() {
    std::vector<std::pair<call_ptr, caf::error>> failed;
    auto rt = actors::internal::current_actors();
    {
      std::lock_guard<std::mutex> guard{mtx_};
      auto made = std::move(creation_);
      if (!made || dead_)
        return;
      auto packed = made->spec.pack ? made->spec.pack()
                                    : caf::expected<detail::task_output>{detail::cannot_ship()};
      if (made->pinned && rt)
        objstore::internal::unpin_all(rt->table(), made->deps);
      if (!packed) {
        die(make_error(errc_of(packed.error()),
                       "actor " + label_ + " could not start: " + message_of(packed.error())),
            failed);
      } else {
        ship_recipe(recipe_of(id_, made->spec, std::move(packed->value)), !made->spec.node.empty(),
                    failed);
      }
    }
    fail_calls(failed);
  }

  /// Under mtx_: ships `recipe` to the host, and keeps it to start the
  /// actor again elsewhere if that node dies (unless `pinned` there).
  void ship_recipe(shipped_actor recipe, bool pinned,
                   std::vector<std::pair<call_ptr, caf::error>>& failed) {
    restarts_left_ = recipe.max_restarts;
    pinned_ = pinned;
    request_ = request_of(recipe, label_);
    recipe_ = recipe;
    links_->out().add(host_, [&](link_batch& b) { b.actors.push_back(std::move(recipe)); });
    started_ = true;
    flush_all(failed);
  }

  /// Under mtx_: ships the ready calls at the front of `caller`'s queue.
  void pump(std::uint64_t caller, std::vector<std::pair<call_ptr, caf::error>>& failed) {
    if (!started_ || dead_)
      return;
    auto q = queues_.find(caller);
    if (q == queues_.end())
      return;
    auto& queue = q->second;
    while (!queue.empty() && queue.front()->ready.load(std::memory_order_acquire)) {
      auto call = std::move(queue.front());
      queue.pop_front();
      auto packed = call->body(nullptr, detail::body_mode::pack);
      if (!packed) {
        failed.emplace_back(std::move(call), std::move(packed.error()));
        continue;
      }
      auto method = call->method == nullptr ? call->by_name
                                            : detail::remote_name_of(*call->method, call->identity);
      if (method.empty()) {
        failed.emplace_back(std::move(call),
                            make_error(errc::function_not_registered,
                                       "call " + call->name() + " of actor " + label_
                                         + " cannot run on node " + node_text(host_)
                                         + ", which hosts the actor: register the method with "
                                           "RUSTYRAY_REMOTE(&Class::method) in every process"));
        continue;
      }
      std::vector<detail::arg_ref> refs;
      auto args = args_for(host_, *call, *packed, refs);
      if (!args) {
        failed.emplace_back(std::move(call), std::move(args.error()));
        continue;
      }
      if (auto err =
            links_->ship_call(host_, call, std::move(*args), std::move(refs), std::move(method)))
        failed.emplace_back(std::move(call), std::move(err));
    }
    if (queue.empty())
      queues_.erase(q);
  }

  /// Under mtx_: every caller's ready calls, then a kill that waited.
  void flush_all(std::vector<std::pair<call_ptr, caf::error>>& failed) {
    std::vector<std::uint64_t> callers;
    for (const auto& [caller, queue] : queues_)
      callers.push_back(caller);
    for (auto caller : callers)
      pump(caller, failed);
    if (pending_kill_) {
      send_kill(*pending_kill_);
      pending_kill_.reset();
    }
  }

  /// Under mtx_: after the calls shipped before, in the same stream.
  void send_kill(bool no_restart) {
    shipped_call kill;
    kill.kind = no_restart ? shipped_call::kill_for_good : shipped_call::kill;
    kill.actor = id_;
    links_->out().add(host_, [&](link_batch& b) { b.calls.push_back(std::move(kill)); });
  }

  /// Under mtx_: the actor is unreachable for good.
  void die(caf::error why, std::vector<std::pair<call_ptr, caf::error>>& failed) {
    dead_ = std::move(why);
    for (auto& [caller, queue] : queues_)
      for (auto& call : queue)
        failed.emplace_back(std::move(call), dead_);
    queues_.clear();
    pending_kill_.reset();
  }

  const std::shared_ptr<actor_links> links_;
  const object_id id_;
  std::mutex mtx_;
  std::uint64_t host_ = 0; // guarded by mtx_
  const std::string label_;
  /// Calls may go to the host: it was created (the owner), or the owner
  /// said where it runs (a borrower).
  bool started_ = false; // guarded by mtx_
  /// The host has the actor: borrowers may be told where it runs.
  bool confirmed_ = false; // guarded by mtx_
  caf::error dead_;        // guarded by mtx_
  /// Calls not shipped yet, per caller, in submission order.
  std::unordered_map<std::uint64_t, std::deque<call_ptr>> queues_; // guarded by mtx_
  std::optional<bool> pending_kill_;                               // guarded by mtx_
  std::unique_ptr<creation> creation_;                             // guarded by mtx_
  /// Borrowers to tell where it runs once the host confirmed it.
  std::vector<std::uint64_t> awaiting_; // guarded by mtx_
  /// The owner's: how it was shipped (its factory and arguments), what it
  /// holds, and how often it may start again on another node.
  std::optional<shipped_actor> recipe_;          // guarded by mtx_
  rustyray::internal::resource_amounts request_; // guarded by mtx_
  bool pinned_ = false;                          // guarded by mtx_
  int restarts_left_ = 0;                        // guarded by mtx_
  /// Started again elsewhere: every borrower hears where, once confirmed.
  bool moved_ = false; // guarded by mtx_
};

namespace {

actor_proxy& proxy_of(const detail::actor_core& core) {
  return static_cast<actor_proxy&>(*core.remote());
}

} // namespace

caf::expected<std::uint64_t> actor_links::place(const std::string& who,
                                                const rustyray::internal::resource_amounts& request,
                                                std::uint64_t pinned, bool ships) {
  return router_->place_actor(who, request, pinned, ships);
}

std::shared_ptr<detail::actor_core> actor_links::start(const object_id& id, std::uint64_t host,
                                                       detail::actor_spec spec) {
  auto label = demangle(spec.cls->name()) + " (" + to_string(id) + ")";
  auto proxy = std::make_shared<actor_proxy>(shared_from_this(), id, host, std::move(label));
  auto core =
    std::make_shared<detail::actor_core>(id, *spec.cls, spec.name, spec.ray_namespace, proxy);
  {
    std::lock_guard<std::mutex> guard{mtx_};
    proxies_[id] = core;
  }
  proxy->create(std::move(spec));
  return core;
}

std::shared_ptr<detail::actor_core> actor_links::attach(const object_id& id,
                                                        const std::type_info& cls) {
  std::shared_ptr<actor_proxy> fresh;
  std::shared_ptr<detail::actor_core> core;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    auto& slot = proxies_[id];
    core = slot.lock();
    if (core && core->cls != cls && detached_.count(id) != 0)
      // The head's record of a detached actor knows no class: a handle
      // here gets one of its own, through the same proxy.
      return std::make_shared<detail::actor_core>(id, cls, std::string{}, std::string{},
                                                  core->remote());
    if (core || id.node() == node_ || stopped_) {
      if (!core)
        proxies_.erase(id);
      return core; // an actor of this node's that is gone: null
    }
    fresh = std::make_shared<actor_proxy>(shared_from_this(), id, 0,
                                          demangle(cls.name()) + " (" + to_string(id) + ")");
    core = std::make_shared<detail::actor_core>(id, cls, std::string{}, std::string{}, fresh);
    slot = core;
  }
  // The owner keeps the actor for this node and says where it runs.
  out_->add(id.node(), [&](link_batch& b) { b.actor_borrow.push_back(id); });
  return core;
}

caf::error actor_links::claim_name(const std::string& ns, const std::string& name,
                                   const object_id& id, const std::type_info& cls) {
  auto cluster = cluster_.lock();
  if (!cluster)
    return make_error(errc::runtime_not_initialized, "the cluster is shutting down");
  return cluster->claim_name(ns, name, id, cls.name());
}

std::pair<object_id, std::string> actor_links::find_name(const std::string& ns,
                                                         const std::string& name) {
  auto cluster = cluster_.lock();
  if (!cluster)
    return {};
  return cluster->find_name(ns, name);
}

void actor_links::release_name(const std::string& ns, const std::string& name,
                               const object_id& id) {
  if (id.node() != node_) {
    // A detached actor hosted here ended for good: its owner (the head)
    // lets it and its name go.
    actor_location ended;
    ended.actor = id;
    ended.host = node_;
    ended.error = make_error(errc::actor_died, "actor \"" + name + "\" (" + to_string(id)
                                                 + ") ended on node " + node_text(node_));
    out_->add(id.node(), [&](link_batch& b) { b.locations.push_back(std::move(ended)); });
    return;
  }
  if (auto cluster = cluster_.lock())
    cluster->release_name(ns, name, id);
}

std::shared_ptr<detail::actor_core> actor_links::start_detached(std::uint64_t host,
                                                                detail::actor_spec spec) {
  auto rt = actors::internal::current_actors_or_throw();
  auto label = "detached actor \"" + spec.name + "\" (" + demangle(spec.cls->name()) + ")";
  for (const auto& dep : spec.deps)
    if (rt->table().status(dep) == objstore::internal::object_status::pending)
      throw error{errc::invalid_argument, label + ": its factory's argument " + to_string(dep)
                                            + " does not exist yet; get it first"};
  if (spec.factory_name.empty() || !spec.pack)
    throw error{errc::function_not_registered,
                label
                  + ": the head starts it on any node, so its factory must be registered "
                    "with RUSTYRAY_REMOTE (and its arguments serializable)"};
  auto packed = spec.pack();
  if (!packed)
    throw error{errc_of(packed.error()), label + " could not start: " + message_of(packed.error())};
  auto recipe = recipe_of(object_id{}, spec, std::move(packed->value));
  recipe.name = spec.name;
  recipe.ns = spec.ray_namespace;
  auto cluster = cluster_.lock();
  if (!cluster)
    throw error{errc::runtime_not_initialized, "the cluster is shutting down"};
  auto id = cluster->adopt_detached(std::move(recipe), host, !spec.node.empty(), spec.cls->name());
  if (!id)
    detail::throw_caf_error(id.error());
  auto core = attach(*id, *spec.cls);
  if (!core)
    throw error{errc::actor_died, label + " ended before it could be reached"};
  return core;
}

caf::expected<object_id> actor_links::adopt(shipped_actor recipe, std::uint64_t host, bool pinned,
                                            const std::string& cls) {
  auto rt = actors::internal::current_actors();
  if (!rt)
    return make_error(errc::runtime_not_initialized, "the head is shutting down");
  auto id = rt->node().next_id();
  recipe.id = id;
  auto label = "\"" + recipe.name + "\" (" + demangle(cls.c_str()) + ", " + to_string(id) + ")";
  auto proxy = std::make_shared<actor_proxy>(shared_from_this(), id, host, std::move(label));
  auto core = std::make_shared<detail::actor_core>(id, typeid(void), recipe.name, recipe.ns, proxy);
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (stopped_)
      return make_error(errc::runtime_not_initialized, "the head is shutting down");
    proxies_[id] = core;
    detached_[id] = core;
  }
  proxy->adopt(std::move(recipe), pinned);
  return id;
}

void actor_links::let_go(const object_id& id) {
  std::shared_ptr<detail::actor_core> core; // destroyed unlocked
  {
    std::lock_guard<std::mutex> guard{mtx_};
    auto i = detached_.find(id);
    if (i == detached_.end())
      return;
    core = std::move(i->second);
    detached_.erase(i);
  }
  if (auto cluster = cluster_.lock())
    cluster->release_name(core->ray_namespace, core->name, id);
}

caf::error actor_links::ship_call(std::uint64_t host, const call_ptr& call, caf::message args,
                                  std::vector<detail::arg_ref> refs, std::string method) {
  shipped_call shipped;
  shipped.result = call->result;
  shipped.actor = call->actor;
  shipped.method = std::move(method);
  shipped.caller = call->caller;
  shipped.args = std::move(args);
  shipped.refs = std::move(refs);
  shipped.name = call->by_name;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (stopped_)
      return make_error(errc::runtime_not_initialized,
                        "rustyray::shutdown() ran before the call went to the actor's node");
    flights_.emplace(call->result, flight{call, host});
  }
  out_->add(host, [&](link_batch& b) { b.calls.push_back(std::move(shipped)); });
  return {};
}

void actor_links::proxy_gone(const object_id& id, std::uint64_t host, bool started) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (auto i = proxies_.find(id); i != proxies_.end() && i->second.expired())
      proxies_.erase(i);
  }
  if (id.node() != node_)
    out_->add(id.node(), [&](link_batch& b) { b.actor_return.push_back(id); });
  else if (started)
    out_->add(host, [&](link_batch& b) { b.actor_release.push_back(id); });
}

std::shared_ptr<detail::actor_core> actor_links::find(const object_id& id) {
  if (auto rt = actors::internal::current_actors())
    if (auto core = rt->actors->find(id))
      return core;
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = proxies_.find(id);
  return i == proxies_.end() ? nullptr : i->second.lock();
}

void actor_links::lent(std::uint64_t peer, const std::vector<object_id>& ids) {
  std::vector<actor_location> answers;
  for (const auto& id : ids) {
    auto core = id.node() == node_ ? find(id) : nullptr;
    if (!core) {
      actor_location gone;
      gone.actor = id;
      gone.error = make_error(errc::actor_died, "actor " + to_string(id) + " has stopped");
      answers.push_back(std::move(gone));
      continue;
    }
    std::optional<actor_location> where;
    if (core->remote()) {
      where = proxy_of(*core).where(peer);
    } else {
      where.emplace();
      where->actor = id;
      where->host = node_;
    }
    if (where)
      answers.push_back(std::move(*where));
    std::lock_guard<std::mutex> guard{mtx_};
    auto& kept = lent_[peer][id];
    ++kept.count;
    kept.core = std::move(core);
  }
  if (!answers.empty())
    out_->add(peer, [&](link_batch& b) {
      b.locations.insert(b.locations.end(), answers.begin(), answers.end());
    });
}

void actor_links::returned(std::uint64_t peer, const std::vector<object_id>& ids) {
  std::vector<std::shared_ptr<detail::actor_core>> dropped; // destroyed unlocked
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = lent_.find(peer);
  if (i == lent_.end())
    return;
  for (const auto& id : ids) {
    auto j = i->second.find(id);
    if (j == i->second.end() || --j->second.count > 0)
      continue;
    dropped.push_back(std::move(j->second.core));
    i->second.erase(j);
  }
  if (i->second.empty())
    lent_.erase(i);
}

void actor_links::located(std::vector<actor_location>& where) {
  for (auto& loc : where) {
    std::shared_ptr<detail::actor_core> core;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (auto i = proxies_.find(loc.actor); i != proxies_.end())
        core = i->second.lock();
    }
    if (!core || !core->remote())
      continue; // every handle here went meanwhile
    auto [waiting, moved] = proxy_of(*core).located(loc.host, loc.error);
    if (loc.error)
      let_go(loc.actor); // a detached actor of this head ended for good
    if (moved) {
      std::lock_guard<std::mutex> guard{mtx_};
      for (const auto& [peer, leases] : lent_)
        if (leases.count(loc.actor) != 0
            && std::find(waiting.begin(), waiting.end(), peer) == waiting.end())
          waiting.push_back(peer);
    }
    for (auto peer : waiting) {
      auto answer = loc;
      out_->add(peer, [&](link_batch& b) { b.locations.push_back(std::move(answer)); });
    }
  }
}

void actor_links::finished(std::uint64_t peer, shipped_results& results,
                           std::vector<object_id>& stored) {
  auto rt = actors::internal::current_actors();
  for (auto& r : results) {
    if (!r.copy.is_nil())
      stored.push_back(r.copy);
    call_ptr call;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      auto i = flights_.find(r.result);
      if (i == flights_.end() || i->second.host != peer)
        continue; // its node was given up on meanwhile
      call = std::move(i->second.call);
      flights_.erase(i);
    }
    if (!rt)
      continue;
    objstore::internal::lookup output{caf::error{}};
    if (r.error)
      output = objstore::internal::lookup{std::move(r.error)};
    else
      output = objstore::internal::lookup{std::move(r.value)};
    (void)objstore::internal::complete_run(rt->table(), *call, call->body, std::move(output),
                                           r.size);
  }
}

void actor_links::host(std::uint64_t peer, std::vector<shipped_actor>& actors) {
  for (auto& shipped : actors) {
    actor_location answer;
    answer.actor = shipped.id;
    answer.host = node_;
    if (shipped.id.node() != peer) {
      answer.error = make_error(errc::invalid_argument,
                                "node " + node_text(peer) + " placed an actor it does not own");
    } else if (auto factory = detail::find_actor_factory(shipped.factory); !factory) {
      answer.error = factory.error();
    } else {
      detail::actor_spec spec;
      spec.cls = factory->builds;
      spec.max_restarts = shipped.max_restarts;
      spec.max_task_retries = shipped.max_task_retries;
      spec.max_concurrency = shipped.max_concurrency;
      spec.dedicated_thread = shipped.dedicated_thread;
      spec.num_cpus = shipped.num_cpus;
      spec.resources = std::move(shipped.resources);
      // A detached actor is known by name where it runs, too.
      spec.name = std::move(shipped.name);
      spec.ray_namespace = std::move(shipped.ns);
      spec.factory = [build = factory->build, args = std::move(shipped.args)] {
        return build(args);
      };
      spec.on_start = factory->on_start;
      spec.on_stop = factory->on_stop;
      try {
        auto core = actors::internal::start_placed_actor(shipped.id, std::move(spec));
        std::lock_guard<std::mutex> guard{mtx_};
        hosted_[peer][shipped.id] = std::move(core);
      } catch (const rustyray::error& e) {
        answer.error = make_error(e.code(), e.message());
      }
    }
    if (answer.error)
      answer.error = make_error(errc_of(answer.error),
                                message_of(answer.error) + " [on node " + node_text(node_) + "]");
    out_->add(peer, [&](link_batch& b) { b.locations.push_back(std::move(answer)); });
  }
}

void actor_links::kill(const object_id& actor, bool no_restart) {
  auto rt = actors::internal::current_actors();
  if (!rt)
    return;
  if (auto core = rt->actors->find(actor))
    detail::kill_actor(core, actor, no_restart);
}

void actor_links::release(std::uint64_t peer, const std::vector<object_id>& ids) {
  std::vector<std::shared_ptr<detail::actor_core>> dropped; // destroyed unlocked
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = hosted_.find(peer);
  if (i == hosted_.end())
    return;
  for (const auto& id : ids)
    if (auto j = i->second.find(id); j != i->second.end()) {
      dropped.push_back(std::move(j->second));
      i->second.erase(j);
    }
  if (i->second.empty())
    hosted_.erase(i);
}

void actor_links::lost(std::uint64_t peer, const std::string& who, const std::string& why) {
  std::vector<std::pair<call_ptr, caf::error>> failed;
  std::vector<std::shared_ptr<detail::actor_core>> cut;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto i = flights_.begin(); i != flights_.end();) {
      if (i->second.host != peer) {
        ++i;
        continue;
      }
      failed.emplace_back(
        std::move(i->second.call),
        make_error(errc::actor_died, who + ", which hosts actor " + to_string(i->second.call->actor)
                                       + ", is gone before the call ended: " + why));
      i = flights_.erase(i);
    }
    for (auto& [id, weak] : proxies_)
      if (auto core = weak.lock())
        cut.push_back(std::move(core));
  }
  fail_calls(failed);
  std::vector<actor_location> dead;
  for (auto& core : cut) {
    auto& proxy = proxy_of(*core);
    if (proxy.id().node() != peer) {
      if (auto err = proxy.host_lost(peer, who + " (" + why + ")"))
        dead.push_back(actor_location{proxy.id(), 0, std::move(err)});
    } else {
      proxy.lost(make_error(errc::actor_died, "actor " + to_string(proxy.id()) + " belonged to "
                                                + who + ", which is gone (an actor ends with "
                                                + "its owner): " + why));
    }
  }
  cut.clear();
  std::unordered_map<object_id, std::shared_ptr<detail::actor_core>> hosted;
  std::unordered_map<object_id, lease> lent; // destroyed unlocked
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (auto i = hosted_.find(peer); i != hosted_.end()) {
      hosted = std::move(i->second);
      hosted_.erase(i);
    }
    if (auto i = lent_.find(peer); i != lent_.end()) {
      lent = std::move(i->second);
      lent_.erase(i);
    }
    // The borrowers of an actor this node owns that died with its host.
    for (const auto& loc : dead)
      for (const auto& [borrower, leases] : lent_)
        if (leases.count(loc.actor) != 0)
          out_->add(borrower, [&](link_batch& b) { b.locations.push_back(loc); });
  }
  for (const auto& loc : dead)
    let_go(loc.actor);
}

void actor_links::stop() {
  std::vector<std::pair<call_ptr, caf::error>> failed;
  // Destroyed unlocked: the records kept for other nodes hold proxies,
  // which hold this object.
  decltype(hosted_) hosted;
  decltype(lent_) lent;
  decltype(detached_) detached; // the head's: they end with the cluster
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopped_ = true;
    detached.swap(detached_);
    for (auto& [id, f] : flights_)
      failed.emplace_back(std::move(f.call),
                          make_error(errc::runtime_not_initialized,
                                     "rustyray::shutdown() ran before the call to actor "
                                       + to_string(f.call->actor) + " on another node ended"));
    flights_.clear();
    hosted.swap(hosted_);
    lent.swap(lent_);
  }
  fail_calls(failed);
}

} // namespace rustyray::cluster::internal
