#pragma once

// What nodes send each other to run tasks: batches of tasks one way, batches
// of results the other. Plain inspectable types: CAF's serializer ships them.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/fwd.hpp>
#include <caf/message.hpp>
#include <caf/meta/type_name.hpp>

#include "rustyray/object_id.hpp"

namespace rustyray::cluster::internal {

/// One task for another node: the registered function, its arguments'
/// values, and the options that still matter there.
struct shipped_task {
  /// The task's result on the submitting node (which owns it).
  object_id result;
  std::string function;
  caf::message args;
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
  return f(caf::meta::type_name("rustyray::shipped_task"), x.result, x.function, x.args, x.name,
           x.timeout, x.max_retries, x.retry_exceptions, x.num_cpus, x.resources);
}

/// What a shipped task produced: its value (and size in the store) or its
/// error.
struct shipped_result {
  object_id result;
  caf::message value;
  caf::error error;
  std::uint64_t size = 0;
  /// How long the function ran there (its last attempt), in nanoseconds:
  /// how many of these tasks the owner keeps in flight to that node.
  std::int64_t run_ns = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shipped_result& x) {
  return f(caf::meta::type_name("rustyray::shipped_result"), x.result, x.value, x.error, x.size,
           x.run_ns);
}

using shipped_tasks = std::vector<shipped_task>;
using shipped_results = std::vector<shipped_result>;

/// (ship_atom, token, shipped_tasks): tasks for a node's service.
using ship_atom = caf::atom_constant<caf::atom("rr_ship")>;
/// (results_atom, shipped_results): what they produced, to their owner.
using results_atom = caf::atom_constant<caf::atom("rr_result")>;
/// Sends what collected since the last one (an actor to itself).
using flush_atom = caf::atom_constant<caf::atom("rr_flush")>;

} // namespace rustyray::cluster::internal
