#pragma once

// What nodes send each other to run tasks: batches of tasks one way, batches
// of results the other. Plain inspectable types: CAF's serializer ships them.

#include <cstdint>
#include <map>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <caf/atom.hpp>
#include <caf/deserializer.hpp>
#include <caf/error.hpp>
#include <caf/fwd.hpp>
#include <caf/message.hpp>
#include <caf/meta/type_name.hpp>

#include "rustyray/internal/bounded_bytes.hpp"
#include "rustyray/object_id.hpp"

namespace rustyray::cluster::internal {

/// One task for another node: the registered function, its arguments'
/// values, and the options that still matter there.
struct shipped_task {
  /// The task's result on the submitting node (which owns it).
  object_id result;
  std::string function;
  /// The arguments but `refs`.
  caf::message args;
  /// The arguments that travel as IDs, by position: those the node it
  /// goes to owns (it takes them from its store) and large ones (it
  /// borrows and fetches them, in slices).
  std::vector<std::pair<std::uint32_t, object_id>> refs;
  /// `.name(...)`, or empty.
  std::string name;
  /// One attempt's limit in nanoseconds; 0: none.
  std::int64_t timeout = 0;
  /// Retries of an exception (with `retry_exceptions`) or a timeout there;
  /// the submitting node retries a node that died.
  std::int32_t max_retries = 0;
  bool retry_exceptions = false;
  double num_cpus = 1;
  std::map<std::string, double> resources;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shipped_task& x) {
  return f(caf::meta::type_name("rustyray::shipped_task"), x.result, x.function, x.args, x.refs,
           x.name, x.timeout, x.max_retries, x.retry_exceptions, x.num_cpus, x.resources);
}

/// What a shipped task produced: its value (and size in the store) or its
/// error.
struct shipped_result {
  object_id result;
  caf::message value;
  caf::error error;
  std::uint64_t size = 0;
  /// The copy on the node that ran it (or that answered a fetch), held
  /// until the owner stored the result (`link_batch::stored`).
  object_id copy;
  /// How long the function ran there (its last attempt), in nanoseconds:
  /// how many of these tasks the owner keeps in flight to that node.
  std::int64_t run_ns = 0;
  /// Too large for one message: no value here; the owner fetches `copy`,
  /// which travels in slices as copies do.
  bool in_slices = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shipped_result& x) {
  return f(caf::meta::type_name("rustyray::shipped_result"), x.result, x.value, x.error, x.size,
           x.copy, x.run_ns, x.in_slices);
}

using shipped_tasks = std::vector<shipped_task>;
using shipped_results = std::vector<shipped_result>;

/// An actor another node placed here: its registered factory, the
/// factory's arguments' values, and its options. Its ID is the owner's
/// (the creating node's; the head's for a detached actor).
struct shipped_actor {
  object_id id;
  std::string factory;
  caf::message args;
  std::int32_t max_restarts = 0;
  std::int32_t max_task_retries = 0;
  std::int32_t max_concurrency = 1;
  bool dedicated_thread = false;
  double num_cpus = 0;
  std::map<std::string, double> resources;
  /// A detached actor's name and namespace (its host knows it by name;
  /// the head's table holds the name); empty for others.
  std::string name;
  std::string ns;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shipped_actor& x) {
  return f(caf::meta::type_name("rustyray::shipped_actor"), x.id, x.factory, x.args, x.max_restarts,
           x.max_task_retries, x.max_concurrency, x.dedicated_thread, x.num_cpus, x.resources,
           x.name, x.ns);
}

/// One call of a method of an actor the receiver hosts, or a `kill` of it
/// (in the same stream: it meets the calls made before it, not after).
struct shipped_call {
  enum kind_type : std::uint8_t { call, kill, kill_for_good };
  std::uint8_t kind = call;
  /// The call's result on the calling node (which owns it).
  object_id result;
  object_id actor;
  /// The method's registered name.
  std::string method;
  /// Who called, on the calling node: calls of one caller run in order.
  std::uint64_t caller = 0;
  /// The arguments but `refs`.
  caf::message args;
  /// The arguments the host takes from its store (fetched first if
  /// another node owns them), by position: see `shipped_task::refs`.
  std::vector<std::pair<std::uint32_t, object_id>> refs;
  /// `.name(...)`, or empty.
  std::string name;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shipped_call& x) {
  return f(caf::meta::type_name("rustyray::shipped_call"), x.kind, x.result, x.actor, x.method,
           x.caller, x.args, x.refs, x.name);
}

/// An owner's answer to a node that borrows its actor: where it runs (the
/// node's ID), or why it does not.
struct actor_location {
  object_id actor;
  std::uint64_t host = 0;
  caf::error error;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, actor_location& x) {
  return f(caf::meta::type_name("rustyray::actor_location"), x.actor, x.host, x.error);
}

/// A slice of a large copy on its way from the owner. CAF 0.17 has no flow
/// control (a sender's unsent bytes pile up in its memory), so the owner
/// keeps only a few slices of one copy unacknowledged at a time.
struct object_chunk {
  object_id id;
  /// The copy's bytes in all, and where this slice starts.
  std::uint64_t total = 0;
  std::uint64_t offset = 0;
  /// The object's size in the store.
  std::uint64_t size = 0;
  /// What the bytes are: a byte buffer's, a string's, or CAF's
  /// serialization of the stored message (any other type).
  enum form_type : std::uint8_t { byte_buffer, text, serialized };
  std::uint8_t form = byte_buffer;
  std::vector<std::uint8_t> bytes;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, object_chunk& x) {
  if constexpr (std::is_base_of_v<caf::deserializer, Inspector>) {
    // The bytes' length is checked against the input before anything is
    // allocated (CAF 0.17 would allocate what any peer claims).
    if (auto err = f(caf::meta::type_name("rustyray::object_chunk"), x.id, x.total, x.offset,
                     x.size, x.form))
      return err;
    return rustyray::internal::load_bounded_bytes(f, x.bytes);
  } else {
    return f(caf::meta::type_name("rustyray::object_chunk"), x.id, x.total, x.offset, x.size,
             x.form, x.bytes);
  }
}

/// Everything one node's service has for another's at one moment, in one
/// message: CAF keeps the messages between two actors in order, and one
/// message per burst keeps the counts low. The receiver handles the parts
/// in this order: the borrows first (nothing in the batch may free an
/// object before the sender's new references are counted), then what
/// completes or releases, then the new work.
struct link_batch {
  /// The sending node.
  std::uint64_t from = 0;
  /// Objects of the receiver that the sender now holds references to
  /// (borrows), or no longer (releases).
  std::vector<object_id> borrow;
  std::vector<object_id> release;
  /// Objects freed with `free` (to the owner: by a borrower; from the
  /// owner: to each borrower): their copies go.
  std::vector<object_id> freed;
  /// What the tasks the receiver shipped to the sender produced.
  shipped_results results;
  /// The receiver's copies of results it sent, stored by the sender now:
  /// the receiver may drop them (the sender counted the refs inside).
  std::vector<object_id> stored;
  /// Copies of the receiver's objects the sender asked for, answered.
  shipped_results fetched;
  /// Slices of large copies, and the slices of the receiver's copies
  /// that the sender received (one ID each).
  std::vector<object_chunk> chunks;
  std::vector<object_id> chunk_acks;
  /// The receiver's objects the sender wants copies of.
  std::vector<object_id> fetch;
  /// Tasks for the receiver to run, then the ones it runs for the sender
  /// that were cancelled there (by their results' IDs).
  shipped_tasks tasks;
  std::vector<object_id> cancel;
  /// Actors of the receiver (their owner) whose handles the sender now
  /// holds (borrows), or no longer.
  std::vector<object_id> actor_borrow;
  std::vector<object_id> actor_return;
  /// Answers to the receiver's actor borrows: where each actor runs.
  std::vector<actor_location> locations;
  /// What calls the receiver shipped to the sender's actors produced.
  shipped_results call_results;
  /// Actors for the receiver to host, then calls (and kills) for actors
  /// it hosts, then the actors whose owner no longer needs them.
  std::vector<shipped_actor> actors;
  std::vector<shipped_call> calls;
  std::vector<object_id> actor_release;

  [[nodiscard]] bool empty() const noexcept {
    return borrow.empty() && release.empty() && freed.empty() && results.empty() && stored.empty()
           && fetched.empty() && chunks.empty() && chunk_acks.empty() && fetch.empty()
           && tasks.empty() && cancel.empty() && actor_borrow.empty() && actor_return.empty()
           && locations.empty() && call_results.empty() && actors.empty() && calls.empty()
           && actor_release.empty();
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, link_batch& x) {
  return f(caf::meta::type_name("rustyray::link_batch"), x.from, x.borrow, x.release, x.freed,
           x.results, x.stored, x.fetched, x.chunks, x.chunk_acks, x.fetch, x.tasks, x.cancel,
           x.actor_borrow, x.actor_return, x.locations, x.call_results, x.actors, x.calls,
           x.actor_release);
}

/// (link_atom, token, link_batch): from one node's service to another's.
using link_atom = caf::atom_constant<caf::atom("rr_link")>;
/// (copy_ready_atom, peer, id, value, error): an object a node asked for
/// exists now (a waiter to the service).
using copy_ready_atom = caf::atom_constant<caf::atom("rr_ready")>;
/// Sends what collected since the last one (the service to itself).
using flush_atom = caf::atom_constant<caf::atom("rr_flush")>;
/// (introduce_atom, peer, service, head): `service`, the service of node
/// `peer`, reached over a connection this node has already (the join's),
/// and the head's table; from this node's own membership actor.
using introduce_atom = caf::atom_constant<caf::atom("rr_intro")>;
/// (dial_atom, token, peer): between a service and the head. Two nodes
/// share one connection (CAF 0.17's OpenSSL transport stalls on a second
/// one between the same two nodes): the node with the lower ID connects,
/// the other asks it through the head. To the head, `peer` is the node to
/// ask; from the head, the node to connect to.
using dial_atom = caf::atom_constant<caf::atom("rr_dial")>;
/// (dead_atom, nodes, why): from this node's membership to its service: the
/// head's table says these nodes are dead (they missed their heartbeats,
/// though their connections may still stand, as a stopped process's do);
/// nothing from them is used again. With `why` set, this node itself is
/// cut off from the cluster and every other node is gone for it.
using dead_atom = caf::atom_constant<caf::atom("rr_dead")>;

} // namespace rustyray::cluster::internal
