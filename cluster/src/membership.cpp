// Membership: the head's node table, the join handshake (token, version,
// registered functions) and heartbeats, over CAF's io middleman.

#include "rustyray/cluster/internal/membership.hpp"

#include <algorithm>
#include <cstdio>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/manager.hpp>

#include "rustyray/errc.hpp"
#include "rustyray/error.hpp"
#include "rustyray/detail/object_access.hpp"
#include "rustyray/internal/error_text.hpp"
#include "rustyray/internal/function_registry.hpp"
#include "rustyray/internal/host_port.hpp"
#include "rustyray/internal/node.hpp"
#include "rustyray/internal/published.hpp"
#include "rustyray/log.hpp"
#include "rustyray/actors/internal/actor_runtime.hpp"
#include "rustyray/tasks/internal/task_runtime.hpp"
#include "actor_links.hpp"
#include "object_links.hpp"
#include "task_router.hpp"

namespace rustyray::cluster::internal {

using namespace rustyray::internal; // the base layer's internals

namespace {

using nodes_atom = caf::atom_constant<caf::atom("rr_nodes")>;
using beat_atom = caf::atom_constant<caf::atom("rr_beat")>;
using tick_atom = caf::atom_constant<caf::atom("rr_tick")>;
using claim_atom = caf::atom_constant<caf::atom("rr_claim")>;
using table_atom = caf::atom_constant<caf::atom("rr_table")>;
using status_atom = caf::atom_constant<caf::atom("rr_status")>;
using report_atom = caf::atom_constant<caf::atom("rr_report")>;

/// How long a status query waits for each node's report.
constexpr auto report_timeout = std::chrono::seconds(3);
using lookup_atom = caf::atom_constant<caf::atom("rr_lookup")>;
using unclaim_atom = caf::atom_constant<caf::atom("rr_unclaim")>;
/// (adopt_atom, recipe, host, pinned, class): a node asks the head to own
/// a detached actor and start it on `host`; the head answers its ID.
using adopt_atom = caf::atom_constant<caf::atom("rr_adopt")>;

/// Requests between nodes never wait forever (a dead peer's promise is
/// never broken in CAF 0.17).
constexpr auto request_timeout = std::chrono::seconds(10);

/// CAF's connection manager for the cluster's links: the OpenSSL module's
/// with `config.tls`, else the io middleman's. One interface for both, so
/// every publish and connect below is the same code with or without TLS.
caf::io::middleman_actor network_of(caf::actor_system& system, bool tls) {
  return tls ? system.openssl_manager().actor_handle() : system.middleman().actor_handle();
}

/// Publishes `whom` on `host:port` (0: any free port); the port bound.
caf::expected<std::uint16_t> publish_on(caf::actor_system& system,
                                        const caf::io::middleman_actor& network,
                                        const caf::actor& whom, std::uint16_t port,
                                        const std::string& host) {
  caf::expected<std::uint16_t> bound{caf::sec::runtime_error};
  caf::scoped_actor self{system};
  self
    ->request(network, request_timeout, caf::publish_atom::value, port,
              caf::actor_cast<caf::strong_actor_ptr>(whom), std::set<std::string>{}, host, true)
    .receive([&](std::uint16_t p) { bound = p; }, [&](caf::error& err) { bound = std::move(err); });
  return bound;
}

/// The actor published at `host:port`, with a deadline: a TLS handshake the
/// peer refused never ends by itself in CAF 0.17.
caf::expected<caf::actor> reach(caf::actor_system& system, const caf::io::middleman_actor& network,
                                const std::string& host, std::uint16_t port) {
  caf::expected<caf::actor> found{caf::sec::runtime_error};
  caf::scoped_actor self{system};
  self->request(network, request_timeout, caf::connect_atom::value, host, port)
    .receive(
      [&](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>&) {
        if (ptr)
          found = caf::actor_cast<caf::actor>(std::move(ptr));
        else
          found = caf::make_error(caf::sec::no_actor_published_at_port);
      },
      [&](caf::error& err) { found = std::move(err); });
  return found;
}

/// What to do when the head cannot be reached, after the error itself.
std::string unreachable_hint(const caf::error& err) {
  if (err == caf::sec::disconnect_during_handshake)
    return "; the head closed the connection in the handshake: with TLS on one side, set "
           "config.tls (or RUSTYRAY_TLS) on both, with certificates signed by the same CA";
  return "; start it (rustyray start --head) or fix config.head_address / RUSTYRAY_ADDRESS";
}

/// What one registry has that the other lacks, for the refusal's message.
std::string registry_difference(const std::vector<std::string>& head,
                                const std::vector<std::string>& joining) {
  std::vector<std::string> missing, extra;
  std::set_difference(head.begin(), head.end(), joining.begin(), joining.end(),
                      std::back_inserter(missing));
  std::set_difference(joining.begin(), joining.end(), head.begin(), head.end(),
                      std::back_inserter(extra));
  auto list = [](const std::vector<std::string>& names) {
    std::string text;
    for (std::size_t i = 0; i < names.size() && i < 5; ++i)
      text += (i == 0 ? "" : ", ") + names[i];
    return names.size() > 5 ? text + ", ..." : text;
  };
  std::string why;
  if (!missing.empty())
    why += "the head registers " + list(missing) + " that this node does not";
  if (!extra.empty())
    why += std::string{why.empty() ? "" : "; "} + "this node registers " + list(extra)
           + " that the head does not";
  return why;
}

struct member {
  node_record record;
  caf::actor agent; // null for the head itself
  caf::actor service;
  std::chrono::steady_clock::time_point last_seen;
};

/// A named actor in the head's table: its ID (which names its node) and
/// class.
struct named_actor {
  object_id id;
  std::string cls;
};

struct head_state {
  std::map<std::uint64_t, member> members;
  /// Every named actor of the cluster, by (namespace, name).
  std::map<std::pair<std::string, std::string>, named_actor> names;
  /// The program's registered functions every node must have. A head whose
  /// program registers none (`rustyray start --head`) takes the first
  /// joining node's.
  std::vector<std::string> functions;
  bool adopt_functions = false;
  static inline const char* name = "rustyray.cluster_head";
};

using head_ptr = caf::stateful_actor<head_state>*;

std::vector<node_record> records_of(const head_state& st) {
  std::vector<node_record> result;
  for (const auto& [id, m] : st.members)
    result.push_back(m.record);
  return result;
}

caf::behavior head_table(head_ptr self, node_record own, caf::actor own_service, std::string token,
                         std::chrono::milliseconds timeout,
                         std::function<std::map<std::string, double>()> available,
                         std::function<node_report()> report,
                         std::weak_ptr<cluster_runtime> owner) {
  // The head's own runtime places tasks by the same table as every node;
  // every other node hears of a change at once (not with its next
  // heartbeat): a node that just joined may send it work or refs.
  auto changed = [self, owner] {
    auto table = records_of(self->state);
    for (const auto& [id, m] : self->state.members)
      if (m.agent && m.record.alive)
        self->send(m.agent, table_atom::value, table);
    if (auto rt = owner.lock())
      rt->table_changed(table);
  };
  self->state.members[own.id] =
    member{std::move(own), {}, own_service, std::chrono::steady_clock::now()};
  self->state.functions = remote_names();
  self->state.adopt_functions = self->state.functions.empty();
  auto own_id = self->state.members.begin()->first;
  // A node's names go with it.
  auto forget_dead_names = [self] {
    auto& st = self->state;
    for (auto i = st.names.begin(); i != st.names.end();) {
      auto m = st.members.find(i->second.id.node());
      if (m == st.members.end() || !m->second.record.alive)
        i = st.names.erase(i);
      else
        ++i;
    }
  };
  // Only a node's own process speaks for its actors' names.
  auto speaks_for = [self, own_id](std::uint64_t node) {
    const auto& sender = self->current_sender();
    if (!sender)
      return false;
    if (node == own_id)
      return sender->node() == self->node();
    auto m = self->state.members.find(node);
    return m != self->state.members.end() && m->second.record.alive
           && m->second.agent.node() == sender->node();
  };
  self->set_down_handler([=](caf::down_msg& dm) {
    for (auto& [id, m] : self->state.members)
      if (m.agent && m.agent.address() == dm.source && m.record.alive) {
        m.record.alive = false;
        rustyray::log(log_level::warning,
                      "cluster: node " + node_text(id) + " left (" + error_text(dm.reason) + ")");
      }
    forget_dead_names();
    changed();
  });
  self->delayed_send(self, timeout / 4, tick_atom::value);
  return {
    [=](join_atom,
        join_request& r) -> caf::result<std::vector<node_record>, caf::actor, std::int64_t> {
      if (!same_token(r.token, token))
        return make_error(errc::join_refused,
                          "the cluster refused this node: its cluster token is not the head's; "
                          "set config.cluster_token (or RUSTYRAY_CLUSTER_TOKEN) to the token "
                          "`rustyray start --head` printed");
      if (r.version != rustyray_version)
        return make_error(errc::join_refused, "the cluster refused this node: it runs RustyRay "
                                                + r.version + ", the head " + rustyray_version
                                                + "; run one version");
      auto& st = self->state;
      if (st.adopt_functions) {
        st.functions = r.functions;
        st.adopt_functions = false;
      }
      if (r.functions != st.functions)
        return make_error(errc::join_refused,
                          "the cluster refused this node: it is not the cluster's program ("
                            + registry_difference(st.functions, r.functions)
                            + "); run the same build of the program on every node");
      if (self->state.members.count(r.id) != 0)
        return make_error(errc::join_refused, "the cluster refused this node: node ID "
                                                + node_text(r.id)
                                                + " is taken (a node cannot come back under "
                                                  "its old ID); start it again");
      auto agent = caf::actor_cast<caf::actor>(self->current_sender());
      if (!agent || !r.service || r.service.node() != agent.node())
        return make_error(errc::join_refused,
                          "the cluster refused a join without its node's service");
      self->monitor(agent);
      node_record rec;
      rec.id = r.id;
      rec.address = r.address;
      rec.service = r.address;
      rec.total = r.resources;
      rec.available = r.resources;
      self->state.members[r.id] = member{rec, agent, r.service, std::chrono::steady_clock::now()};
      // The head's service and the node's reach each other over the
      // join's connection (see dial_atom).
      self->send(own_service, introduce_atom::value, r.id, r.service, caf::actor{self});
      changed();
      // The node beats as often as this head expects, whatever its own
      // config says.
      return {records_of(self->state), own_service, static_cast<std::int64_t>(timeout.count())};
    },
    [=](dial_atom, const std::string& with_token, std::uint64_t target) -> caf::result<bool> {
      auto& st = self->state;
      const auto& sender = self->current_sender();
      auto asking = std::find_if(st.members.begin(), st.members.end(), [&](const auto& m) {
        return sender && m.second.service && m.second.service.node() == sender->node();
      });
      if (!same_token(with_token, token) || asking == st.members.end()
          || !asking->second.record.alive)
        return make_error(errc::join_refused, "only a node of the cluster asks for a connection");
      auto i = st.members.find(target);
      if (i == st.members.end() || !i->second.record.alive || !i->second.service)
        return make_error(errc::node_lost, "node " + node_text(target) + " is not in the cluster");
      self->send(i->second.service, dial_atom::value, token, asking->first);
      return true;
    },
    [=](nodes_atom, const std::string& with_token) -> caf::result<std::vector<node_record>> {
      if (!same_token(with_token, token))
        return make_error(errc::join_refused, "the cluster refused the query: its cluster token "
                                              "is not the head's");
      self->state.members[own_id].record.available = available();
      return records_of(self->state);
    },
    [=](status_atom, const std::string& with_token) -> caf::result<std::vector<node_record>> {
      if (!same_token(with_token, token))
        return make_error(errc::join_refused, "the cluster refused the query: its cluster token "
                                              "is not the head's");
      auto& st = self->state;
      st.members[own_id].record.available = available();
      auto table = std::make_shared<std::vector<node_record>>(records_of(st));
      std::map<std::uint64_t, std::size_t> index;
      for (std::size_t i = 0; i < table->size(); ++i)
        index[(*table)[i].id] = i;
      for (const auto& [key, named] : st.names)
        if (auto i = index.find(named.id.node()); i != index.end())
          (*table)[i->second].names.push_back(key.first + "/" + key.second);
      (*table)[index[own_id]].report = report();
      auto rp = self->make_response_promise<std::vector<node_record>>();
      auto left = std::make_shared<std::size_t>(0);
      for (const auto& [id, m] : st.members)
        if (m.agent && m.record.alive)
          ++*left;
      if (*left == 0) {
        rp.deliver(std::move(*table));
        return rp;
      }
      for (const auto& [id, m] : st.members) {
        if (!m.agent || !m.record.alive)
          continue;
        auto slot = index[id];
        // A node that does not answer in time is listed without its report.
        self->request(m.agent, report_timeout, report_atom::value)
          .then(
            [=](node_report& r) mutable {
              (*table)[slot].report = std::move(r);
              if (--*left == 0)
                rp.deliver(std::move(*table));
            },
            [=](caf::error&) mutable {
              if (--*left == 0)
                rp.deliver(std::move(*table));
            });
      }
      return rp;
    },
    [=](beat_atom, std::uint64_t id,
        std::map<std::string, double>& free) -> caf::result<std::vector<node_record>> {
      auto i = self->state.members.find(id);
      // Only the node's own agent speaks for it.
      if (i == self->state.members.end() || i->second.agent.address() != self->current_sender())
        return std::vector<node_record>{};
      // A node that comes back after the cluster gave it up (a stopped
      // process, a cut network) learns so and acts on nothing more.
      if (!i->second.record.alive)
        return make_error(errc::node_lost,
                          "the cluster's head declared node " + node_text(id)
                            + " dead: it sent no heartbeat for " + milliseconds_text(timeout)
                            + " (config.heartbeat_timeout; was the process stopped, or the "
                              "network cut?); the cluster has retried or failed its tasks and "
                              "let its objects and actors go");
      i->second.record.available = std::move(free);
      i->second.last_seen = std::chrono::steady_clock::now();
      return records_of(self->state);
    },
    [=](claim_atom, const std::string& ns, const std::string& name, const object_id& id,
        const std::string& cls) -> caf::result<bool> {
      if (!speaks_for(id.node()))
        return make_error(errc::join_refused,
                          "the cluster refused to name an actor for a node that did not ask");
      auto [i, fresh] = self->state.names.emplace(std::make_pair(ns, name), named_actor{id, cls});
      if (!fresh && i->second.id != id)
        return make_error(errc::name_taken,
                          "an actor named \"" + name + "\" already exists in namespace \"" + ns
                            + "\" (on node " + node_text(i->second.id.node())
                            + "); names are cluster-wide: pick another, kill that one first, or "
                              "get it with get_actor");
      return true;
    },
    [=](adopt_atom, shipped_actor& recipe, std::uint64_t host, bool pinned,
        const std::string& cls) -> caf::result<object_id> {
      const auto& sender = self->current_sender();
      auto& st = self->state;
      bool member = sender && sender->node() == self->node();
      for (const auto& [id, m] : st.members)
        member =
          member || (sender && m.agent && m.record.alive && m.agent.node() == sender->node());
      if (!member)
        return make_error(errc::join_refused,
                          "the cluster refused to own an actor for a process not in it");
      auto key = std::make_pair(recipe.ns, recipe.name);
      if (auto i = st.names.find(key); i != st.names.end())
        return make_error(errc::name_taken,
                          "an actor named \"" + recipe.name + "\" already exists in namespace \""
                            + recipe.ns + "\" (on node " + node_text(i->second.id.node())
                            + "); names are cluster-wide: pick another, kill that one first, or "
                              "get it with get_actor");
      auto rt = owner.lock();
      if (!rt)
        return make_error(errc::runtime_not_initialized, "the head is shutting down");
      auto id = rt->adopt_here(std::move(recipe), host, pinned, cls);
      if (!id)
        return std::move(id.error());
      st.names.emplace(key, named_actor{*id, cls});
      return *id;
    },
    [=](lookup_atom, const std::string& ns, const std::string& name,
        const std::string& with_token) -> caf::result<object_id, std::string> {
      if (!same_token(with_token, token))
        return make_error(errc::join_refused, "the cluster refused the query: its cluster token "
                                              "is not the head's");
      auto i = self->state.names.find(std::make_pair(ns, name));
      if (i == self->state.names.end())
        return {object_id{}, std::string{}};
      return {i->second.id, i->second.cls};
    },
    [=](unclaim_atom, const std::string& ns, const std::string& name, const object_id& id) {
      auto i = self->state.names.find(std::make_pair(ns, name));
      if (i != self->state.names.end() && i->second.id == id && speaks_for(id.node()))
        self->state.names.erase(i);
    },
    [=](tick_atom) {
      auto now = std::chrono::steady_clock::now();
      bool died = false;
      for (auto& [id, m] : self->state.members)
        if (m.agent && m.record.alive && now - m.last_seen > timeout) {
          m.record.alive = false;
          died = true;
          rustyray::log(log_level::warning,
                        "cluster: node " + node_text(id) + " sent no heartbeat for "
                          + milliseconds_text(timeout) + " and is dead for the cluster");
        }
      if (died) {
        forget_dead_names();
        changed();
      }
      self->delayed_send(self, timeout / 4, tick_atom::value);
    },
  };
}

struct agent_state {
  /// How often it sends a heartbeat: a quarter of the head's timeout.
  std::chrono::milliseconds interval{1000};
  /// Requests of this node's runtime to the head, failed with `node_lost`
  /// when the head goes (a CAF request to a dead node would only time out).
  std::map<std::uint64_t, std::function<void(const caf::error&)>> pending;
  std::uint64_t next = 0;
  static inline const char* name = "rustyray.cluster_agent";
};

using agent_ptr = caf::stateful_actor<agent_state>*;

/// Asks the head for this node's runtime: the answer, or the head's error,
/// or `node_lost` as soon as the head is gone.
template <class... Rs, class... Ts>
caf::typed_response_promise<Rs...> ask_head(agent_ptr self, const caf::actor& head, Ts... xs) {
  auto rp = self->make_response_promise<Rs...>();
  auto key = ++self->state.next;
  self->state.pending.emplace(key, [rp](const caf::error& err) mutable { rp.deliver(err); });
  self->request(head, request_timeout, std::move(xs)...)
    .then(
      [self, key, rp](Rs&... answer) mutable {
        self->state.pending.erase(key);
        rp.deliver(std::move(answer)...);
      },
      [self, key, rp](caf::error& err) mutable {
        self->state.pending.erase(key);
        rp.deliver(std::move(err));
      });
  return rp;
}

/// A node's link to the head: joins, then sends heartbeats; tells the
/// runtime when the head is gone.
caf::behavior node_agent(agent_ptr self, caf::actor head, std::uint64_t id, caf::actor service,
                         std::function<std::map<std::string, double>()> available,
                         std::function<node_report()> report, std::weak_ptr<cluster_runtime> owner,
                         std::string head_address) {
  self->monitor(head);
  // Whatever waits on the head fails at once; the runtime hears why.
  enum class gone { crashed, stopped, cut_off };
  auto leave = [=](const std::string& why, gone how) {
    auto pending = std::move(self->state.pending);
    for (auto& [key, fail] : pending)
      fail(make_error(errc::node_lost, why));
    if (auto rt = owner.lock()) {
      if (how == gone::cut_off)
        rt->cut_off(why);
      else
        rt->head_lost(why, how == gone::stopped);
    }
    self->quit();
  };
  self->set_down_handler([=](caf::down_msg& dm) {
    // A head that shut down ended the cluster; one whose connection broke
    // may have crashed with work still on its way to the drivers.
    auto stopped = dm.reason == caf::exit_reason::user_shutdown;
    leave("the cluster's head at " + head_address
            + (stopped ? " stopped" : " is gone (" + error_text(dm.reason) + ")"),
          stopped ? gone::stopped : gone::crashed);
  });
  return {
    [=](join_atom, join_request& r) {
      auto rp = self->make_response_promise();
      self->request(head, request_timeout, join_atom::value, std::move(r))
        .then(
          [=](std::vector<node_record>& table, caf::actor& head_service,
              std::int64_t timeout_ms) mutable {
            for (const auto& r : table)
              if (r.head)
                self->send(service, introduce_atom::value, r.id, head_service, head);
            self->state.interval =
              std::chrono::milliseconds(std::max<std::int64_t>(timeout_ms / 4, 1));
            self->delayed_send(self, self->state.interval, tick_atom::value);
            if (auto rt = owner.lock())
              rt->table_changed(table);
            rp.deliver(std::move(table));
          },
          [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
    [=](nodes_atom, std::string& with_token) {
      return ask_head<std::vector<node_record>>(self, head, nodes_atom::value,
                                                std::move(with_token));
    },
    [=](claim_atom, std::string& ns, std::string& name, const object_id& actor, std::string& cls) {
      return ask_head<bool>(self, head, claim_atom::value, std::move(ns), std::move(name), actor,
                            std::move(cls));
    },
    [=](adopt_atom, shipped_actor& recipe, std::uint64_t host, bool pinned, std::string& cls) {
      return ask_head<object_id>(self, head, adopt_atom::value, std::move(recipe), host, pinned,
                                 std::move(cls));
    },
    [=](lookup_atom, std::string& ns, std::string& name, std::string& with_token) {
      return ask_head<object_id, std::string>(self, head, lookup_atom::value, std::move(ns),
                                              std::move(name), std::move(with_token));
    },
    [=](report_atom) -> caf::result<node_report> {
      if (self->current_sender() != head.address())
        return make_error(errc::join_refused, "only the head asks a node for its report");
      return report();
    },
    [=](table_atom, const std::vector<node_record>& table) {
      if (self->current_sender() != head.address())
        return; // only the head's word counts
      if (auto rt = owner.lock())
        rt->table_changed(table);
    },
    [=](tick_atom) {
      self->request(head, request_timeout, beat_atom::value, id, available())
        .then(
          [=](std::vector<node_record>& table) {
            if (auto rt = owner.lock(); rt && !table.empty())
              rt->table_changed(table);
          },
          [=](caf::error& err) {
            // Declared dead while it could not beat: it leaves the cluster.
            // A timeout says nothing yet: the down message or the next
            // beat tells.
            if (errc_of(err) == errc::node_lost)
              leave(message_of(err), gone::cut_off);
          });
      self->delayed_send(self, self->state.interval, tick_atom::value);
    },
  };
}

/// "host:port" split; the config checked the form.
std::pair<std::string, std::uint16_t> split_address(const std::string& address) {
  return *parse_host_port(address, true);
}

node_info info_of(const node_record& r, std::uint64_t local) {
  node_info info;
  info.id = node_text(r.id);
  info.address = r.address;
  info.total = r.total;
  info.available = r.available;
  info.alive = r.alive;
  info.head = r.head;
  info.local = r.id == local;
  info.objects = r.report.objects;
  info.object_bytes = r.report.bytes;
  info.tasks = r.report.tasks;
  info.actors = r.report.actors;
  info.named_actors = r.names;
  return info;
}

published<cluster_runtime>& cluster_slot = *new published<cluster_runtime>; // never destroyed

} // namespace

const char* const rustyray_version = "0.1.0";

bool same_token(const std::string& given, const std::string& token) {
  // No early exit: how long the check takes says nothing about the token.
  unsigned char diff = given.size() == token.size() ? 0 : 1;
  for (std::size_t i = 0; i < given.size(); ++i)
    diff |=
      static_cast<unsigned char>(given[i] ^ token[i % std::max<std::size_t>(token.size(), 1)]);
  return diff == 0;
}

void add_cluster_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<node_record>("rustyray::node_record");
  cfg.add_message_type<node_report>("rustyray::node_report");
  cfg.add_message_type<std::vector<node_record>>("rustyray::node_records");
  cfg.add_message_type<join_request>("rustyray::join_request");
  cfg.add_message_type<std::map<std::string, double>>("rustyray::resource_map");
  cfg.add_message_type<shipped_task>("rustyray::shipped_task");
  cfg.add_message_type<shipped_actor>("rustyray::shipped_actor");
  cfg.add_message_type<shipped_result>("rustyray::shipped_result");
  cfg.add_message_type<object_chunk>("rustyray::object_chunk");
  cfg.add_message_type<link_batch>("rustyray::link_batch");
}

void load_network(caf::actor_system_config& cfg, const config::tls_files& tls) {
  cfg.load<caf::io::middleman>();
  if (tls.enabled()) {
    cfg.load<caf::openssl::manager>();
    cfg.openssl_certificate = tls.certificate;
    cfg.openssl_key = tls.key;
    cfg.openssl_cafile = tls.ca_file;
  }
}

std::shared_ptr<cluster_runtime>
cluster_runtime::start(rustyray::internal::node& node, std::map<std::string, double> total,
                       std::function<std::map<std::string, double>()> available,
                       std::function<node_report()> report) {
  const auto& cfg = node.cfg();
  auto& system = node.system();
  if (!system.has_middleman())
    throw error{errc::invalid_config,
                "a cluster needs CAF's io middleman: load it in the application's "
                "actor_system_config (cfg.load<caf::io::middleman>()) before creating the system"};
  if (cfg.tls.enabled()
      && (!system.has_openssl_manager() || system.config().openssl_certificate.empty()))
    throw error{errc::invalid_config,
                "config.tls needs CAF's OpenSSL module with the same files: load it in the "
                "application's actor_system_config (cfg.load<caf::openssl::manager>() after the "
                "middleman) and set its openssl_certificate, openssl_key and openssl_cafile "
                "before creating the system"};
  std::shared_ptr<cluster_runtime> rt{new cluster_runtime(node)};
  rt->network_ = network_of(system, cfg.tls.enabled());
  // Every node serves the others (tasks they ship here): on `listen`, or
  // on the head, on an ephemeral port beside the head's own.
  auto [listen_host, listen_port] = split_address(cfg.listen);
  auto out = std::make_shared<link_outbox>();
  rt->router_ = std::make_shared<task_router>(node, out);
  rt->objects_ = std::make_shared<object_links>(system, node.id(), out);
  rt->actors_ = std::make_shared<actor_links>(node.id(), out, rt->router_, rt);
  rt->objects_->on_held_wanted(
    [router = std::weak_ptr<task_router>(rt->router_)](const object_id& id) {
      if (auto r = router.lock())
        r->wanted(id);
    });
  rt->service_ = spawn_node_service(system, node.id(), cfg.cluster_token, rt->network_, out,
                                    rt->router_, rt->objects_, rt->actors_);
  auto service_port =
    publish_on(system, rt->network_, rt->service_, cfg.is_head ? 0 : listen_port, listen_host);
  if (!service_port) {
    caf::anon_send_exit(rt->service_, caf::exit_reason::user_shutdown);
    throw error{errc::invalid_config, "this node cannot listen on " + cfg.listen + ": "
                                        + system.render(service_port.error())
                                        + "; pick another config.listen"};
  }
  rt->service_port_ = *service_port;
  auto service_address = listen_host + ":" + std::to_string(*service_port);
  if (cfg.is_head) {
    auto [host, port] = split_address(cfg.listen);
    node_record own;
    own.id = node.id();
    own.service = service_address;
    // A head whose program registers no function (`rustyray start --head`,
    // `rustyray up`) can run no task: it offers nothing.
    if (remote_names().empty())
      available = [] { return std::map<std::string, double>{}; };
    else
      own.total = total;
    own.available = available();
    own.head = true;
    rt->head_ =
      system.spawn<caf::hidden>(head_table, own, rt->service_, cfg.cluster_token,
                                cfg.heartbeat_timeout, available, report, std::weak_ptr{rt});
    auto bound = publish_on(system, rt->network_, rt->head_, port, host);
    if (!bound) {
      rt->stop();
      throw error{errc::invalid_config, "the head cannot listen on " + cfg.listen + ": "
                                          + system.render(bound.error())
                                          + "; pick another config.listen"};
    }
    rt->port_ = *bound;
    rt->head_address_ = host + ":" + std::to_string(*bound);
    node.join_namespace(node.id());
    return rt;
  }
  auto [host, port] = split_address(cfg.head_address);
  auto head = reach(system, rt->network_, host, port);
  if (!head) {
    rt->stop();
    throw error{errc::node_lost, "cannot reach the cluster's head at " + cfg.head_address + ": "
                                   + system.render(head.error()) + unreachable_hint(head.error())};
  }
  rt->head_ = *head;
  rt->head_address_ = cfg.head_address;
  rt->agent_ =
    system.spawn<caf::hidden>(node_agent, rt->head_, node.id(), rt->service_, available, report,
                              std::weak_ptr<cluster_runtime>{rt}, cfg.head_address);
  join_request request;
  request.id = node.id();
  request.address = service_address;
  request.service = rt->service_;
  request.resources = std::move(total);
  request.functions = remote_names();
  request.version = rustyray_version;
  request.token = cfg.cluster_token;
  caf::error failure;
  {
    caf::scoped_actor self{system};
    self
      ->request(rt->agent_, request_timeout + std::chrono::seconds(1), join_atom::value,
                std::move(request))
      .receive(
        [&](std::vector<node_record>& table) {
          for (const auto& r : table)
            if (r.head)
              node.join_namespace(r.id);
        },
        [&](caf::error& err) { failure = err; });
  }
  if (failure) {
    rt->stop();
    if (errc_of(failure) == errc::join_refused)
      detail::throw_caf_error(failure);
    throw error{errc::node_lost, "the cluster's head at " + cfg.head_address
                                   + " did not answer the join: " + error_text(failure)};
  }
  return rt;
}

cluster_runtime::~cluster_runtime() = default;

caf::expected<caf::actor> cluster_runtime::head_route() {
  std::lock_guard<std::mutex> guard{mtx_};
  if (!gone_.empty())
    return make_error(errc::node_lost, gone_);
  if (!head_)
    return make_error(errc::runtime_not_initialized,
                      "rustyray::shutdown() ran: this node left the cluster");
  // Through the agent, which fails the request as soon as the head is
  // gone; the head asks itself.
  return agent_ ? agent_ : head_;
}

std::vector<node_info> cluster_runtime::nodes() {
  std::vector<node_record> table;
  auto route = head_route();
  if (!route)
    detail::throw_caf_error(route.error());
  caf::error failure;
  {
    caf::scoped_actor self{node_.system()};
    self
      ->request(*route, request_timeout + std::chrono::seconds(1), nodes_atom::value,
                node_.cfg().cluster_token)
      .receive([&](std::vector<node_record>& got) { table = std::move(got); },
               [&](caf::error& err) { failure = err; });
  }
  if (failure)
    throw error{errc::node_lost, "the cluster's head at " + head_address_
                                   + " did not answer: " + message_of(failure)};
  std::vector<node_info> result;
  for (const auto& r : table) {
    auto info = info_of(r, node_.id());
    if (r.head && info.address.empty())
      info.address = head_address_;
    result.push_back(std::move(info));
  }
  return result;
}

caf::error cluster_runtime::claim_name(const std::string& ns, const std::string& name,
                                       const object_id& id, const std::string& cls) {
  auto route = head_route();
  if (!route)
    return std::move(route.error());
  caf::error failure;
  {
    caf::scoped_actor self{node_.system()};
    self
      ->request(*route, request_timeout + std::chrono::seconds(1), claim_atom::value, ns, name, id,
                cls)
      .receive([](bool) {}, [&](caf::error& err) { failure = std::move(err); });
  }
  if (failure && errc_of(failure) != errc::name_taken)
    return make_error(errc::node_lost, "the cluster's head at " + head_address_
                                         + " did not answer the claim of actor name \"" + name
                                         + "\": " + message_of(failure));
  return failure;
}

std::pair<object_id, std::string> cluster_runtime::find_name(const std::string& ns,
                                                             const std::string& name) {
  std::pair<object_id, std::string> found;
  auto route = head_route();
  if (!route)
    detail::throw_caf_error(route.error());
  caf::error failure;
  {
    caf::scoped_actor self{node_.system()};
    self
      ->request(*route, request_timeout + std::chrono::seconds(1), lookup_atom::value, ns, name,
                node_.cfg().cluster_token)
      .receive(
        [&](const object_id& id, std::string& cls) {
          found = {id, std::move(cls)};
        },
        [&](caf::error& err) { failure = std::move(err); });
  }
  if (failure)
    throw error{errc::node_lost, "the cluster's head at " + head_address_
                                   + " did not answer the look-up of actor name \"" + name
                                   + "\": " + message_of(failure)};
  return found;
}

caf::expected<object_id> cluster_runtime::adopt_detached(shipped_actor recipe, std::uint64_t host,
                                                         bool pinned, const std::string& cls) {
  auto route = head_route();
  if (!route)
    return std::move(route.error());
  auto name = recipe.name;
  caf::expected<object_id> id{object_id{}};
  {
    caf::scoped_actor self{node_.system()};
    self
      ->request(*route, request_timeout + std::chrono::seconds(1), adopt_atom::value,
                std::move(recipe), host, pinned, cls)
      .receive([&](const object_id& got) { id = got; },
               [&](caf::error& err) { id = std::move(err); });
  }
  if (!id && errc_of(id.error()) != errc::name_taken && errc_of(id.error()) != errc::node_lost)
    return make_error(errc::node_lost, "the cluster's head at " + head_address_
                                         + " did not start detached actor \"" + name
                                         + "\": " + message_of(id.error()));
  return id;
}

caf::expected<object_id> cluster_runtime::adopt_here(shipped_actor recipe, std::uint64_t host,
                                                     bool pinned, const std::string& cls) {
  return actors_->adopt(std::move(recipe), host, pinned, cls);
}

void cluster_runtime::release_name(const std::string& ns, const std::string& name,
                                   const object_id& id) {
  std::lock_guard<std::mutex> guard{mtx_};
  // From this node's own agent (the head: from itself), which the head
  // knows as the node's voice; an anonymous message would be refused.
  if (head_)
    caf::send_as(agent_ ? agent_ : head_, head_, unclaim_atom::value, ns, name, id);
}

void cluster_runtime::serve() {
  std::unique_lock<std::mutex> guard{mtx_};
  ++serving_;
  changed_.wait(guard, [this] { return stopped_ || !gone_.empty(); });
  if (!stopped_ && !cut_off_ && !head_stopped_) {
    // The drivers it still reaches may get what it runs for them.
    auto grace = node_.cfg().head_grace;
    changed_.wait_for(guard, grace, [this] { return stopped_; });
    if (!stopped_)
      rustyray::log(log_level::warning, "cluster: this worker ends: " + gone_ + "; it served "
                                          + milliseconds_text(grace) + " more (config.head_grace)");
  }
  --serving_;
}

void cluster_runtime::head_lost(const std::string& why, bool stopped) {
  bool serving = false;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!gone_.empty())
      return;
    gone_ = why;
    head_stopped_ = stopped;
    serving = serving_ > 0;
  }
  changed_.notify_all();
  if (stopped) {
    // The cluster ended: how a worker's service ends.
    rustyray::log(serving ? log_level::info : log_level::warning, "cluster: " + why);
    return;
  }
  rustyray::log(log_level::warning, "cluster: " + why + "; what needs the head fails with node_lost"
                                      + (serving ? "; this worker runs what it has for "
                                                     + milliseconds_text(node_.cfg().head_grace)
                                                     + " more (config.head_grace), then ends"
                                                 : std::string{}));
}

void cluster_runtime::cut_off(const std::string& why) {
  std::vector<std::uint64_t> others;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (cut_off_)
      return;
    cut_off_ = true;
    gone_ = why;
    for (const auto& r : table_)
      if (r.id != node_.id())
        others.push_back(r.id);
  }
  changed_.notify_all();
  rustyray::log(log_level::error, "cluster: " + why
                                    + "; this node leaves the cluster: what it still waits for "
                                      "from other nodes fails, and a worker ends");
  // Every other node is gone for this one: its service fails what waits
  // for them and uses nothing they send.
  give_up(std::move(others), "this node was cut off from the cluster: " + why);
}

void cluster_runtime::give_up(std::vector<std::uint64_t> nodes, std::string why) {
  caf::actor service, from;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    service = service_;
    from = agent_ ? agent_ : head_;
  }
  if (!nodes.empty() && service && from)
    caf::send_as(from, service, dead_atom::value, std::move(nodes), std::move(why));
}

void cluster_runtime::stop() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (stopped_)
      return;
    stopped_ = true;
  }
  changed_.notify_all();
  // Tasks shipped elsewhere fail first: their results would have nowhere
  // to go.
  router_->stop();
  actors_->stop();
  if (agent_)
    caf::anon_send_exit(agent_, caf::exit_reason::user_shutdown);
  if (port_ != 0)
    caf::anon_send(network_, caf::unpublish_atom::value, head_.address(), port_);
  if (head_ && port_ != 0)
    caf::anon_send_exit(head_, caf::exit_reason::user_shutdown);
  if (service_port_ != 0)
    caf::anon_send(network_, caf::unpublish_atom::value, service_.address(), service_port_);
  if (service_)
    caf::anon_send_exit(service_, caf::exit_reason::user_shutdown);
  std::lock_guard<std::mutex> guard{mtx_};
  agent_ = nullptr;
  head_ = nullptr;
  service_ = nullptr;
  // A detached actor: the system's end waits for the last handle to it.
  network_ = nullptr;
}

void cluster_runtime::attach(const std::shared_ptr<tasks::internal::task_runtime>& tasks,
                             actors::internal::actor_runtime& actors) {
  actors.remote = actors_;
  actors.actors->on_name_released(
    [links = std::weak_ptr<actor_links>(actors_)](const detail::actor_core& core) {
      if (auto l = links.lock())
        l->release_name(core.ray_namespace, core.name, core.id);
    });
  objects_->attach(tasks->store->table);
  tasks->table().attach_remote(node_.id(), objects_);
  router_->attach(tasks);
  tasks->tasks->offload = router_;
  std::vector<node_record> table;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    table = table_;
  }
  router_->update(table);
}

void cluster_runtime::table_changed(const std::vector<node_record>& table) {
  std::vector<std::uint64_t> died;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (cut_off_)
      return;
    table_ = table;
    for (const auto& r : table)
      if (!r.alive && r.id != node_.id() && buried_.insert(r.id).second)
        died.push_back(r.id);
  }
  router_->update(table);
  // A node may miss its heartbeats with its connections standing (a
  // stopped process): the service gives it up as if they broke.
  give_up(std::move(died), {});
}

std::map<std::string, double> resource_units(const resource_amounts& amounts) {
  std::map<std::string, double> result;
  for (const auto& [name, amount] : amounts)
    result[name] = static_cast<double>(amount) / 1000.0;
  return result;
}

std::vector<node_info> query_nodes(const std::string& head_address, const std::string& token,
                                   const config::tls_files& tls) {
  const auto& address = head_address;
  if (!parse_host_port(address, false))
    throw error{errc::invalid_argument, "nodes(head_address, token): \"" + address
                                          + "\" is no host:port (e.g. \"127.0.0.1:6379\")"};
  caf::actor_system_config system_cfg;
  add_cluster_types(system_cfg);
  load_network(system_cfg, tls);
  caf::actor_system system{system_cfg};
  auto [host, port] = split_address(address);
  auto head = reach(system, network_of(system, tls.enabled()), host, port);
  if (!head)
    throw error{errc::node_lost, "cannot reach the cluster's head at " + address + ": "
                                   + system.render(head.error()) + unreachable_hint(head.error())};
  std::vector<node_record> table;
  caf::error failure;
  {
    caf::scoped_actor self{system};
    self->request(*head, request_timeout, status_atom::value, token)
      .receive([&](std::vector<node_record>& got) { table = std::move(got); },
               [&](caf::error& err) { failure = err; });
  }
  if (failure) {
    if (errc_of(failure) == errc::join_refused)
      detail::throw_caf_error(failure);
    throw error{errc::node_lost,
                "the cluster's head at " + address + " did not answer: " + error_text(failure)};
  }
  std::vector<node_info> result;
  for (const auto& r : table) {
    auto info = info_of(r, 0);
    if (r.head && info.address.empty())
      info.address = address;
    result.push_back(std::move(info));
  }
  return result;
}

std::shared_ptr<cluster_runtime> current_cluster() noexcept {
  return cluster_slot.get();
}

void publish_cluster(std::shared_ptr<cluster_runtime> cluster) {
  cluster_slot.publish(std::move(cluster));
}

} // namespace rustyray::cluster::internal

namespace rustyray {

std::vector<node_info> nodes(const std::string& head_address, const std::string& token) {
  // `rustyray status` and other tools: the TLS files as a node's config.
  return cluster::internal::query_nodes(head_address, token, config::from_env().tls);
}

std::vector<node_info> nodes() {
  if (auto cluster = cluster::internal::current_cluster())
    return cluster->nodes();
  auto tasks = tasks::internal::current_tasks_or_throw();
  auto snap = tasks->tasks->snapshot();
  node_info local;
  local.id = internal::node_text(tasks->node().id());
  local.total = cluster::internal::resource_units(snap.total);
  local.available = cluster::internal::resource_units(snap.available);
  local.head = true; // a single node is its own head
  local.local = true;
  return {local};
}

void serve() {
  auto cluster = cluster::internal::current_cluster();
  if (!cluster)
    throw error{errc::invalid_argument,
                "rustyray::serve() makes this process a node of a cluster: init with "
                "config.head_address (or RUSTYRAY_ADDRESS), or config.is_head, first"};
  cluster->serve();
}

} // namespace rustyray
