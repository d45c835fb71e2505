// A node's service for the other nodes: one actor per node that keeps the
// connections to the nodes it talks to, sends each one batch per burst and
// handles the batches they send (tasks to run, their results, borrows and
// copies of objects).

#include <algorithm>
#include <chrono>
#include <mutex>
#include <unordered_map>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actor_links.hpp"
#include "object_links.hpp"
#include "rustyray/errc.hpp"
#include "rustyray/internal/error_text.hpp"
#include "rustyray/internal/host_port.hpp"
#include "rustyray/internal/node.hpp"
#include "rustyray/log.hpp"
#include "rustyray/actors/internal/remote_actors.hpp"
#include "rustyray/objstore/internal/object_table.hpp"
#include "rustyray/tasks/internal/task_runtime.hpp"
#include "task_router.hpp"

namespace rustyray::cluster::internal {

using namespace rustyray::internal; // the base layer's internals

namespace {

/// Connecting to a node never waits forever.
constexpr auto connect_timeout = std::chrono::seconds(10);

/// How long an owner keeps an object after a borrower's last ref went: a
/// ref on its way from that borrower to a third node registers its borrow
/// with the owner directly, by another path, and may arrive a little later.
constexpr auto release_grace = std::chrono::seconds(1);

using retry_atom = caf::atom_constant<caf::atom("rr_retry")>;
using reconnect_atom = caf::atom_constant<caf::atom("rr_recon")>;
/// (dial_deadline_atom, peer): a peer asked to connect to this node has
/// not done so in time.
using dial_deadline_atom = caf::atom_constant<caf::atom("rr_dialdl")>;

/// A peer not (yet) in this node's table is looked for again this often,
/// this many times: the head tells every node of a join at once, but a
/// message from the new node may overtake that news.
constexpr auto unknown_peer_retry = std::chrono::milliseconds(50);
constexpr int unknown_peer_attempts = 100;
using returned_atom = caf::atom_constant<caf::atom("rr_return")>;
using actors_returned_atom = caf::atom_constant<caf::atom("rr_areturn")>;

struct service_state {
  std::uint64_t node = 0;
  std::string token;
  std::shared_ptr<link_outbox> out;
  std::shared_ptr<task_router> router;
  std::shared_ptr<object_links> objects;
  std::shared_ptr<actor_links> actors;
  /// CAF's connection manager: the OpenSSL module's with config.tls.
  caf::io::middleman_actor network;
  /// The head's table, once this node joined (on the head: itself).
  caf::actor head;
  /// The service of each node this one talks to, and back.
  std::unordered_map<std::uint64_t, caf::actor> links;
  std::unordered_map<caf::actor_addr, std::uint64_t> nodes;
  /// Batches for nodes being connected to.
  std::unordered_map<std::uint64_t, std::vector<link_batch>> waiting;
  /// Copies of results this node sent each node and that node did not
  /// store yet (to the owner's ID): their references hold the objects
  /// inside.
  std::unordered_map<std::uint64_t, std::unordered_map<object_id, object_id>> unstored;
  /// The tasks other nodes shipped here, from their results' IDs to this
  /// node's, until the owner stored the result: for a cancel.
  std::unordered_map<object_id, object_id> shipped_here;
  /// Nodes this one gave up (their connection broke, or the head's table
  /// says they are dead), with who they were and why: what they send is
  /// ignored, and what this node would send them fails at once.
  std::unordered_map<std::uint64_t, std::pair<std::string, std::string>> dead;
  /// The head cut this node off: every peer is gone for it.
  bool cut_off = false;
  static inline const char* name = "rustyray.node_service";
};

using service_ptr = caf::stateful_actor<service_state>*;

/// `err` with the node where it happened, for the error chain.
caf::error located(const caf::error& err, std::uint64_t node) {
  return make_error(errc_of(err), message_of(err) + " [on node " + node_text(node) + "]");
}

/// The table of the running runtime, or null.
objstore::internal::object_table*
table_of(const std::shared_ptr<tasks::internal::task_runtime>& rt) {
  return rt ? &rt->table() : nullptr;
}

/// Drops the copies of results `peer` stored (or will never store).
void drop_results(service_ptr self, std::uint64_t peer, const std::vector<object_id>* which) {
  auto rt = tasks::internal::current_tasks();
  auto i = self->state.unstored.find(peer);
  if (i == self->state.unstored.end())
    return;
  auto* table = table_of(rt);
  auto drop = [&](const object_id& local, const object_id& owner_id) {
    self->state.shipped_here.erase(owner_id);
    if (table != nullptr) {
      (void)table->unpin(local); // a large one was kept pinned; others were not
      table->release(local);
    }
  };
  if (which == nullptr) {
    for (const auto& [local, owner_id] : i->second)
      drop(local, owner_id);
    self->state.unstored.erase(i);
    return;
  }
  for (const auto& id : *which)
    if (auto j = i->second.find(id); j != i->second.end()) {
      drop(j->first, j->second);
      i->second.erase(j);
    }
}

/// Sends `peer` the value of `local` (this node's copy of the result
/// `owner_id`, which `peer` owns) once it exists: a task's result, or an
/// actor call's (`call`). The copy is kept until `peer` stored it.
void answer_when_done(service_ptr self, objstore::internal::object_table& table, std::uint64_t peer,
                      const object_id& owner_id, const object_id& local,
                      std::shared_ptr<std::atomic<std::int64_t>> run_ns, bool call) {
  auto& st = self->state;
  st.unstored[peer].emplace(local, owner_id);
  auto deliver = [out = st.out, peer, owner_id, local, node = st.node, run_ns = std::move(run_ns),
                  call](const objstore::internal::lookup& found) {
    shipped_result r;
    r.result = owner_id;
    r.copy = local;
    if (run_ns)
      r.run_ns = run_ns->load(std::memory_order_relaxed);
    if (found) {
      r.size = detail::message_size(*found);
      // A large one stays here until the owner wants it, then travels
      // slice by slice; eviction must not take it meanwhile.
      r.in_slices = r.size > object_links::chunk_bytes && peer != node;
      if (!r.in_slices)
        r.value = *found;
      else if (auto rt = tasks::internal::current_tasks())
        (void)rt->table().pin(local);
    } else {
      r.error = located(found.error(), node);
    }
    out->add(peer,
             [&](link_batch& b) { (call ? b.call_results : b.results).push_back(std::move(r)); });
  };
  std::uint64_t token = 0;
  if (auto found = table.get_or_wait(local, deliver, token))
    deliver(*found);
}

/// The caller of a shipped call as the host's queues know it: one per
/// calling node and caller there, apart from this node's callers (small
/// numbers) and plain CAF senders (bit 63).
std::uint64_t remote_caller(std::uint64_t peer, std::uint64_t caller) {
  auto mixed = (peer * 0x9e3779b97f4a7c15ull) ^ caller;
  return (std::uint64_t{1} << 62) | (mixed & ((std::uint64_t{1} << 62) - 1));
}

/// Queues the calls `peer` shipped to actors hosted here, in order; their
/// results go back as they end.
void run_calls(service_ptr self, std::uint64_t peer, std::vector<shipped_call>& calls) {
  auto rt = tasks::internal::current_tasks();
  if (!rt)
    return; // shutting down: the caller's calls fail there
  auto& table = rt->table();
  for (auto& shipped : calls) {
    if (shipped.kind != shipped_call::call) {
      self->state.actors->kill(shipped.actor, shipped.kind == shipped_call::kill_for_good);
      continue;
    }
    object_id local;
    try {
      local = actors::internal::submit_shipped_call(
        shipped.actor, std::move(shipped.method), remote_caller(peer, shipped.caller),
        std::move(shipped.args), std::move(shipped.refs), std::move(shipped.name));
    } catch (const rustyray::error& e) {
      shipped_result r;
      r.result = shipped.result;
      r.error = located(make_error(e.code(), e.message()), self->state.node);
      self->state.out->add(peer, [&](link_batch& b) { b.call_results.push_back(std::move(r)); });
      continue;
    }
    answer_when_done(self, table, peer, shipped.result, local, nullptr, true);
  }
}

/// Runs the tasks `peer` shipped here; their results go back as they end.
void run_tasks(service_ptr self, std::uint64_t peer, shipped_tasks& batch) {
  auto rt = tasks::internal::current_tasks();
  if (!rt) {
    // Between the join and the runtime's start: moments.
    self->delayed_send(self, std::chrono::milliseconds(10), retry_atom::value, peer,
                       std::move(batch));
    return;
  }
  auto& st = self->state;
  auto out = st.out;
  auto node = st.node;
  auto& table = rt->table();
  for (auto& shipped : batch) {
    task_options options;
    options.name = shipped.name;
    if (shipped.timeout > 0)
      options.timeout = std::chrono::nanoseconds{shipped.timeout};
    options.max_retries = shipped.max_retries;
    options.retry_exceptions = shipped.retry_exceptions;
    options.num_cpus = shipped.num_cpus;
    options.resources = shipped.resources;
    object_id local;
    auto run_ns = std::make_shared<std::atomic<std::int64_t>>(0);
    try {
      local = tasks::internal::submit_shipped(*rt, shipped.function, std::move(shipped.args),
                                              std::move(shipped.refs), std::move(options), run_ns);
    } catch (const rustyray::error& e) {
      shipped_result r;
      r.result = shipped.result;
      r.error = located(make_error(e.code(), e.message()), node);
      out->add(peer, [&](link_batch& b) { b.results.push_back(std::move(r)); });
      continue;
    }
    st.shipped_here.emplace(shipped.result, local);
    answer_when_done(self, table, peer, shipped.result, local, std::move(run_ns), false);
  }
}

/// `peer` cancelled tasks it shipped here: cancelled here as `cancel` would
/// (one not started never runs, one running sees `cancel_requested()`).
void cancel_tasks(service_ptr self, std::uint64_t peer, const std::vector<object_id>& results) {
  if (!tasks::internal::current_tasks())
    return;
  for (const auto& id : results)
    if (auto i = self->state.shipped_here.find(id);
        i != self->state.shipped_here.end() && id.node() == peer)
      (void)cancel_task(i->second);
}

/// Results of tasks and calls `peer` ran for this node: stored; `peer` may
/// then drop its copies.
void finish(service_ptr self, std::uint64_t peer, shipped_results& results,
            shipped_results& call_results) {
  auto& st = self->state;
  std::vector<object_id> stored;
  if (!results.empty())
    st.router->finished(peer, results, stored);
  if (!call_results.empty())
    st.actors->finished(peer, call_results, stored);
  if (!stored.empty())
    st.out->add(
      peer, [&](link_batch& b) { b.stored.insert(b.stored.end(), stored.begin(), stored.end()); });
}

/// Takes out of `results` (of actor calls) those too large for one message
/// and fetches each (`object_links::pull`); each is finished once it
/// arrived.
void pull_large(service_ptr self, std::uint64_t peer, shipped_results& results) {
  auto large = std::stable_partition(results.begin(), results.end(),
                                     [](const shipped_result& r) { return !r.in_slices; });
  for (auto i = large; i != results.end(); ++i)
    self->state.objects->pull(i->copy,
                              [self, peer, r = std::move(*i)](caf::expected<caf::message> value,
                                                              std::uint64_t size) mutable {
                                if (value) {
                                  r.value = std::move(*value);
                                  r.size = size;
                                } else {
                                  r.error = std::move(value.error());
                                }
                                shipped_results one{std::move(r)};
                                shipped_results none;
                                finish(self, peer, none, one);
                              });
  results.erase(large, results.end());
}

/// A batch from `peer`, in the order `link_batch` gives.
void handle(service_ptr self, link_batch& batch) {
  auto& st = self->state;
  auto peer = batch.from;
  if (!batch.borrow.empty())
    st.objects->lent(peer, batch.borrow);
  if (!batch.actor_borrow.empty())
    st.actors->lent(peer, batch.actor_borrow);
  if (!batch.freed.empty())
    st.objects->freed(peer, batch.freed);
  if (!batch.results.empty() || !batch.call_results.empty()) {
    // A task's large result stays where it was made (the router holds a
    // record of it); an actor call's comes here now.
    pull_large(self, peer, batch.call_results);
    finish(self, peer, batch.results, batch.call_results);
  }
  if (!batch.stored.empty())
    drop_results(self, peer, &batch.stored);
  if (!batch.release.empty())
    self->delayed_send(self, release_grace, returned_atom::value, peer, std::move(batch.release));
  if (!batch.actor_return.empty())
    self->delayed_send(self, release_grace, actors_returned_atom::value, peer,
                       std::move(batch.actor_return));
  if (!batch.fetched.empty())
    st.objects->fetched(batch.fetched);
  if (!batch.chunks.empty())
    st.objects->chunks_received(peer, batch.chunks);
  if (!batch.chunk_acks.empty())
    st.objects->chunks_acked(peer, batch.chunk_acks);
  if (!batch.fetch.empty())
    st.objects->answer(peer, batch.fetch);
  if (!batch.locations.empty())
    st.actors->located(batch.locations);
  if (!batch.tasks.empty())
    run_tasks(self, peer, batch.tasks);
  if (!batch.cancel.empty())
    cancel_tasks(self, peer, batch.cancel);
  if (!batch.actors.empty())
    st.actors->host(peer, batch.actors);
  if (!batch.calls.empty())
    run_calls(self, peer, batch.calls);
  if (!batch.actor_release.empty())
    st.actors->release(peer, batch.actor_release);
}

/// `peer` is gone for good: what it ran for this node runs elsewhere or
/// fails, its borrows end, fetches from it fail, the tasks it shipped here
/// are cancelled (their results would have no owner), and nothing it sends
/// later is used.
void forget(service_ptr self, std::uint64_t peer, const std::string& why) {
  auto& st = self->state;
  auto who = st.router->describe(peer);
  if (!st.dead.emplace(peer, std::make_pair(who, why)).second)
    return;
  if (auto i = st.links.find(peer); i != st.links.end()) {
    st.nodes.erase(i->second.address());
    self->demonitor(i->second);
    st.links.erase(i);
  }
  st.waiting.erase(peer);
  std::vector<object_id> orphaned;
  for (const auto& [result, local] : st.shipped_here)
    if (result.node() == peer)
      orphaned.push_back(result);
  cancel_tasks(self, peer, orphaned);
  drop_results(self, peer, nullptr);
  rustyray::log(log_level::warning, "cluster: " + who + " is gone: " + why);
  st.router->lost(peer, who, why);
  st.objects->lost(peer, who, why);
  st.actors->lost(peer, who, why);
}

void link_to(service_ptr self, std::uint64_t peer, const caf::actor& service) {
  auto& st = self->state;
  if (st.links.count(peer) != 0)
    return;
  st.links.emplace(peer, service);
  st.nodes.emplace(service.address(), peer);
  self->monitor(service);
  // Batches that waited for a connection of this node's own go first, in
  // order: a borrow counted while the peer's message was decoded must
  // reach it before the results that follow.
  if (auto i = st.waiting.find(peer); i != st.waiting.end()) {
    auto batches = std::move(i->second);
    st.waiting.erase(i);
    for (auto& b : batches)
      self->send(service, link_atom::value, st.token, std::move(b));
  }
}

void connect(service_ptr self, std::uint64_t peer, int attempt);

void send_batch(service_ptr self, std::uint64_t peer, link_batch batch) {
  auto& st = self->state;
  batch.from = st.node;
  if (peer == st.node) {
    // An actor this node hosts, reached through a handle loaded before it
    // arrived here: its calls take the same path as other nodes' calls.
    handle(self, batch);
    return;
  }
  if (auto i = st.links.find(peer); i != st.links.end()) {
    self->send(i->second, link_atom::value, st.token, std::move(batch));
    return;
  }
  if (auto i = st.dead.find(peer); i != st.dead.end()) {
    // Fetches and calls for it asked since it died fail as those before.
    st.objects->lost(peer, i->second.first, i->second.second);
    st.actors->lost(peer, i->second.first, i->second.second);
    return;
  }
  if (st.cut_off)
    return;
  auto& queued = st.waiting[peer];
  queued.push_back(std::move(batch));
  if (queued.size() > 1)
    return; // connecting already
  connect(self, peer, 0);
}

/// Connects to `peer`'s service, or asks it to connect here (one
/// connection per pair: see `dial_atom`); what waits for it goes once
/// linked.
void connect(service_ptr self, std::uint64_t peer, int attempt) {
  auto& st = self->state;
  if (st.waiting.count(peer) == 0 || st.links.count(peer) != 0)
    return;
  if (peer < st.node && st.head) {
    self->request(st.head, connect_timeout, dial_atom::value, st.token, peer)
      .then([](bool) {},
            [=](caf::error& err) {
              if (self->state.links.count(peer) == 0)
                forget(self, peer,
                       "the head could not ask it to connect (" + error_text(err) + ")");
            });
    self->delayed_send(self, connect_timeout, dial_deadline_atom::value, peer);
    return;
  }
  auto address = st.router->address_of(peer);
  auto parsed = parse_host_port(address, true);
  if (!parsed) {
    if (attempt < unknown_peer_attempts && st.router->may_join(peer))
      self->delayed_send(self, unknown_peer_retry, reconnect_atom::value, peer, attempt + 1);
    else
      forget(self, peer, "it is not in the cluster's table");
    return;
  }
  self
    ->request(st.network, connect_timeout, caf::connect_atom::value, parsed->first, parsed->second)
    .then(
      [=](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>&) {
        auto service = caf::actor_cast<caf::actor>(ptr);
        if (!service && self->state.links.count(peer) != 0)
          return;
        if (!service) {
          forget(self, peer, "nothing listens at " + address);
          return;
        }
        link_to(self, peer, service); // sends what waited
      },
      [=](caf::error& err) {
        if (self->state.links.count(peer) != 0)
          return; // it reached this node meanwhile
        forget(self, peer, "it cannot be reached at " + address + " (" + error_text(err) + ")");
      });
}

void flush(service_ptr self) {
  auto& st = self->state;
  st.objects->drop_copies();
  for (auto& order : st.router->pulls_due())
    st.objects->pull(order.copy, [router = st.router, result = order.result](
                                   caf::expected<caf::message> value, std::uint64_t size) {
      router->held_arrived(result, std::move(value), size);
    });
  auto batches = st.out->take();
  for (auto& [peer, tasks] : st.router->flush()) {
    auto& b = batches[peer];
    b.tasks = std::move(tasks);
  }
  for (auto& [peer, batch] : batches)
    if (!batch.empty())
      send_batch(self, peer, std::move(batch));
}

caf::behavior node_service(service_ptr self, std::uint64_t node, std::string token,
                           caf::io::middleman_actor network, std::shared_ptr<link_outbox> out,
                           std::shared_ptr<task_router> router,
                           std::shared_ptr<object_links> objects,
                           std::shared_ptr<actor_links> actors) {
  auto& st = self->state;
  st.node = node;
  st.network = std::move(network);
  st.token = std::move(token);
  st.out = std::move(out);
  st.router = std::move(router);
  st.objects = std::move(objects);
  st.actors = std::move(actors);
  st.objects->bind_sender(
    [self](std::uint64_t peer, link_batch batch) { send_batch(self, peer, std::move(batch)); });
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    if (st.head && dm.source == st.head.address() && st.head.node() != self->node()) {
      // No one asks a peer to connect here any more: this node connects
      // to the peers it waits for itself.
      st.head = nullptr;
      std::vector<std::uint64_t> waiting;
      for (const auto& [peer, batches] : st.waiting)
        waiting.push_back(peer);
      for (auto peer : waiting)
        connect(self, peer, 0);
      return;
    }
    auto i = self->state.nodes.find(dm.source);
    if (i == self->state.nodes.end())
      return;
    forget(self, i->second, "its connection broke (" + error_text(dm.reason) + ")");
  });
  return {
    [self](link_atom, const std::string& given, link_batch& batch) {
      auto sender = caf::actor_cast<caf::actor>(self->current_sender());
      if (!sender || !same_token(given, self->state.token) || batch.from == 0
          || batch.from == self->state.node) {
        rustyray::log(log_level::warning,
                      "cluster: refused a message from a connection without the cluster token");
        return;
      }
      if (self->state.cut_off || self->state.dead.count(batch.from) != 0)
        return; // declared dead: it acts on a state the cluster left behind
      // A node that reached this one first is answered on its connection.
      link_to(self, batch.from, sender);
      handle(self, batch);
    },
    [self](retry_atom, std::uint64_t peer, shipped_tasks& batch) { run_tasks(self, peer, batch); },
    [self](reconnect_atom, std::uint64_t peer, int attempt) { connect(self, peer, attempt); },
    [self](introduce_atom, std::uint64_t peer, const caf::actor& service, const caf::actor& head) {
      if (!self->current_sender() || self->current_sender()->node() != self->node())
        return; // only this node's membership introduces
      if (head && self->state.head != head) {
        self->state.head = head;
        self->monitor(head);
      }
      if (service)
        link_to(self, peer, service);
    },
    [self](dial_atom, const std::string& given, std::uint64_t peer) {
      auto& st = self->state;
      const auto& sender = self->current_sender();
      if (!st.head || !sender || sender->node() != st.head.node() || !same_token(given, st.token))
        return; // only the head asks for a connection
      // An empty batch: the peer links this node's service when it comes.
      send_batch(self, peer, link_batch{});
    },
    [self](dial_deadline_atom, std::uint64_t peer) {
      if (self->state.waiting.count(peer) != 0 && self->state.links.count(peer) == 0)
        forget(self, peer,
               "it did not connect to this node within "
                 + milliseconds_text(std::chrono::milliseconds(connect_timeout))
                 + " (asked through the head)");
    },
    [self](returned_atom, std::uint64_t peer, const std::vector<object_id>& ids) {
      self->state.objects->returned(peer, ids);
    },
    [self](actors_returned_atom, std::uint64_t peer, const std::vector<object_id>& ids) {
      self->state.actors->returned(peer, ids);
    },
    [self](flush_atom) { flush(self); },
    [self](dead_atom, const std::vector<std::uint64_t>& peers, const std::string& why) {
      if (!self->current_sender() || self->current_sender()->node() != self->node())
        return; // only this node's membership says so
      if (!why.empty())
        self->state.cut_off = true;
      for (auto peer : peers)
        forget(self, peer,
               why.empty() ? "it missed its heartbeats (the head declared it dead)" : why);
    },
    [self](copy_ready_atom, std::uint64_t peer, const object_id& id, caf::message& value,
           caf::error& err) {
      if (err)
        self->state.objects->copy_ready(peer, id, std::move(err));
      else
        self->state.objects->copy_ready(peer, id, std::move(value));
    },
  };
}

} // namespace

caf::actor spawn_node_service(caf::actor_system& system, std::uint64_t node, std::string token,
                              caf::io::middleman_actor network, std::shared_ptr<link_outbox> out,
                              std::shared_ptr<task_router> router,
                              std::shared_ptr<object_links> objects,
                              std::shared_ptr<actor_links> actors) {
  auto service =
    system.spawn<caf::hidden>(node_service, node, std::move(token), std::move(network), out,
                              std::move(router), std::move(objects), std::move(actors));
  out->bind(service);
  return service;
}

} // namespace rustyray::cluster::internal
