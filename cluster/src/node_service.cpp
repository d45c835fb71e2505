// A node's service for the other nodes: runs the tasks they ship here and
// sends the results back to their owners, in batches.

#include <mutex>
#include <unordered_map>

#include <caf/all.hpp>

#include "rustyray/errc.hpp"
#include "rustyray/internal/error_text.hpp"
#include "rustyray/internal/node.hpp"
#include "rustyray/log.hpp"
#include "rustyray/objstore/internal/object_table.hpp"
#include "rustyray/tasks/internal/task_runtime.hpp"
#include "task_router.hpp"

namespace rustyray::cluster::internal {

using namespace rustyray::internal; // the base layer's internals

namespace {

/// Results collected by the threads that finish tasks, until the service
/// sends them.
struct result_outbox {
  std::mutex mtx;
  /// By the owner (its router) the results go to.
  std::unordered_map<caf::actor, shipped_results> ready; // guarded by mtx
  /// This node's result objects, read: their references go.
  std::vector<object_id> done; // guarded by mtx
  bool flush_sent = false;     // guarded by mtx
};

struct service_state {
  std::shared_ptr<result_outbox> out = std::make_shared<result_outbox>();
  static inline const char* name = "rustyray.node_service";
};

using retry_atom = caf::atom_constant<caf::atom("rr_retry")>;

/// `err` with the node where it happened, for the error chain.
caf::error located(const caf::error& err, std::uint64_t node) {
  return make_error(errc_of(err), message_of(err) + " [on node " + node_text(node) + "]");
}

void run_batch(caf::stateful_actor<service_state>* self, std::uint64_t node,
               const caf::actor& origin, shipped_tasks& batch) {
  auto rt = tasks::internal::current_tasks();
  if (!rt) {
    // Between the join and the runtime's start: moments.
    self->delayed_send(self, std::chrono::milliseconds(10), retry_atom::value, origin,
                       std::move(batch));
    return;
  }
  auto out = self->state.out;
  auto actor = caf::actor_cast<caf::actor>(self);
  auto& table = rt->table();
  shipped_results now;
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
                                              std::move(options), run_ns);
    } catch (const rustyray::error& e) {
      now.push_back({shipped.result, {}, located(make_error(e.code(), e.message()), node), 0, 0});
      continue;
    }
    auto owner_id = shipped.result;
    auto deliver = [out, actor, origin, owner_id, local, node,
                    run_ns](const objstore::internal::lookup& found) {
      shipped_result r;
      r.result = owner_id;
      r.run_ns = run_ns->load(std::memory_order_relaxed);
      if (found) {
        r.value = *found;
        r.size = detail::value_size(r.value);
      } else {
        r.error = located(found.error(), node);
      }
      bool send = false;
      {
        std::lock_guard<std::mutex> guard{out->mtx};
        out->ready[origin].push_back(std::move(r));
        out->done.push_back(local);
        send = !out->flush_sent;
        out->flush_sent = true;
      }
      if (send)
        caf::anon_send(actor, flush_atom::value);
    };
    std::uint64_t token = 0;
    if (auto found = table.get_or_wait(local, deliver, token))
      deliver(*found);
  }
  if (!now.empty())
    self->send(origin, results_atom::value, std::move(now));
}

caf::behavior node_service(caf::stateful_actor<service_state>* self, std::uint64_t node,
                           std::string token) {
  return {
    [=](ship_atom, const std::string& given, shipped_tasks& batch) {
      auto origin = caf::actor_cast<caf::actor>(self->current_sender());
      if (!origin || !same_token(given, token)) {
        rustyray::log(log_level::warning,
                      "cluster: refused tasks from a connection without the cluster token");
        return;
      }
      run_batch(self, node, origin, batch);
    },
    [=](retry_atom, const caf::actor& origin, shipped_tasks& batch) {
      run_batch(self, node, origin, batch);
    },
    [=](flush_atom) {
      std::unordered_map<caf::actor, shipped_results> ready;
      std::vector<object_id> done;
      {
        auto& out = *self->state.out;
        std::lock_guard<std::mutex> guard{out.mtx};
        ready.swap(out.ready);
        done.swap(out.done);
        out.flush_sent = false;
      }
      for (auto& [origin, results] : ready)
        self->send(origin, results_atom::value, std::move(results));
      if (auto rt = tasks::internal::current_tasks())
        for (const auto& id : done)
          rt->table().release(id);
    },
  };
}

} // namespace

caf::actor spawn_node_service(caf::actor_system& system, std::uint64_t node, std::string token) {
  return system.spawn<caf::hidden>(node_service, node, std::move(token));
}

} // namespace rustyray::cluster::internal
