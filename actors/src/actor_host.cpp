#include "actor_host.hpp"

#include <chrono>
#include <deque>
#include <unordered_map>

#include <caf/all.hpp>

#include "actor_observability.hpp"
#include "demangle.hpp"
#include "dependencies.hpp"
#include "error_text.hpp"
#include "rustyray/actors/caf_interop.hpp"
#include "rustyray/errc.hpp"
#include "rustyray/tasks/remote.hpp"

namespace rustyray::internal {

namespace {

using run_atom = caf::atom_constant<caf::atom("rr_run")>;
using done_atom = caf::atom_constant<caf::atom("rr_cdone")>;
using start_atom = caf::atom_constant<caf::atom("rr_start")>;
using continue_atom = caf::atom_constant<caf::atom("rr_cont")>;

/// What the code running on an actor's thread may ask: `was_restarted`,
/// `exit_actor`.
struct actor_scope_state {
  bool restarted = false;
};
thread_local const actor_scope_state* current_actor = nullptr;

class actor_scope {
public:
  explicit actor_scope(const actor_scope_state& st) : previous_(current_actor) {
    current_actor = &st;
  }
  ~actor_scope() {
    current_actor = previous_;
  }
  actor_scope(const actor_scope&) = delete;
  actor_scope& operator=(const actor_scope&) = delete;

private:
  const actor_scope_state* previous_;
};

enum class outcome { finished, exited };

/// Runs one call on `instance`; the output lands in `call.output`.
outcome execute(call_record& call, void* instance, const actor_scope_state& scope,
                const std::string& actor, recorder& recording) {
  actor_scope in_actor{scope};
  auto name = [&] { return call.name() + " of " + actor; };
  auto started = recording.now();
  auto result = outcome::finished;
  try {
    call.output = call.body(instance);
    if (!call.output)
      call.output = did_not_run("actor method " + name(), call.output.error());
  } catch (const detail::actor_exit_signal&) {
    call.output = make_error(errc::actor_died, "actor method " + name()
                                                 + " ended the actor through exit_actor()");
    result = outcome::exited;
  } catch (...) {
    call.output = make_error(errc::task_failed,
                             "actor method " + name() + " threw " + current_exception_text());
  }
  record_call(recording, call, actor, started);
  return result;
}

/// Runs calls for a host with max_concurrency > 1, one at a time each.
caf::behavior runner(caf::event_based_actor* self, caf::actor host, std::string actor,
                     std::size_t index, std::shared_ptr<recorder> recording) {
  return {
    [=](run_atom, call_ptr& call, std::shared_ptr<void>& instance, bool restarted) {
      actor_scope_state scope{restarted};
      auto result = execute(*call, instance.get(), scope, actor, *recording);
      self->send(host, done_atom::value, std::move(call), result == outcome::exited, index);
    },
  };
}

struct host_state {
  std::shared_ptr<objstore::object_table> table;
  std::shared_ptr<actor_directory> directory;
  object_id id;
  detail::actor_spec spec;
  std::string label; // for messages: class, name and ID
  std::shared_ptr<actor_vitals> vitals;
  std::shared_ptr<recorder> recording;

  enum class phase { starting, alive, dead } ph = phase::starting;
  std::shared_ptr<void> instance;
  caf::error death;
  int restarts_done = 0;
  actor_scope_state scope;

  /// Accepted calls not finished yet, per caller, in submission order.
  std::unordered_map<std::uint64_t, std::deque<call_ptr>> queues;
  std::size_t queued = 0;
  bool stopping = false;

  // max_concurrency > 1
  std::vector<caf::actor> runners;
  std::vector<std::size_t> idle;
  std::size_t in_flight = 0;

  /// The factory's argument wait.
  std::vector<object_id> pinned;
  std::atomic<std::size_t> unresolved{0};

  static inline const char* name = "rustyray.actor";
};

using host_ptr = caf::stateful_actor<host_state>*;

/// Changes the phase and shows it to `state()`.
void enter(host_state& st, host_state::phase ph) {
  st.ph = ph;
  st.vitals->current = ph == host_state::phase::alive  ? actor_vitals::alive
                       : ph == host_state::phase::dead ? actor_vitals::dead
                                                       : actor_vitals::starting;
}

void finish(host_ptr self, const call_ptr& call) {
  auto& st = self->state;
  call->done = true;
  call->body = nullptr; // the arguments (and refs among them) go first
  objstore::unpin_all(*st.table, call->pinned);
  auto output = std::move(call->output);
  if (call->promise.pending()) {
    // actor_interface answers with one element, the result as a message;
    // deliver(message) alone would send the result's elements instead.
    if (output)
      call->promise.deliver(
        caf::message_builder{}.append(std::move(output->value)).move_to_message());
    else
      call->promise.deliver(std::move(output.error()));
  } else if (output) {
    (void)st.table->fulfil(call->result, std::move(output->value), output->size);
  } else {
    st.table->fail(call->result, std::move(output.error()));
  }
}

void fail_call(host_ptr self, const call_ptr& call, caf::error reason) {
  call->output = std::move(reason);
  finish(self, call);
}

void run_on_stop(host_ptr self) {
  auto& st = self->state;
  if (!st.instance || !st.spec.on_stop)
    return;
  actor_scope in_actor{st.scope};
  try {
    st.spec.on_stop(st.instance.get());
  } catch (...) {
    // The actor ends either way; there is no caller to tell.
  }
}

void stop_runners(host_ptr self) {
  for (auto& r : self->state.runners)
    self->send_exit(r, caf::exit_reason::user_shutdown);
  self->state.runners.clear();
  self->state.idle.clear();
}

/// Quits once stopping and nothing is queued or running.
void quit_if_done(host_ptr self) {
  auto& st = self->state;
  if (!st.stopping || st.queued > 0 || st.in_flight > 0 || st.ph == host_state::phase::starting)
    return;
  run_on_stop(self);
  st.instance.reset();
  stop_runners(self);
  st.directory->remove(st.id);
  self->quit();
}

/// Fails every accepted call that has not started.
void fail_queued(host_ptr self, const caf::error& reason) {
  auto& st = self->state;
  auto queues = std::move(st.queues);
  st.queues.clear();
  for (auto& [caller, queue] : queues)
    for (auto& call : queue)
      fail_call(self, call, reason);
  st.queued = st.in_flight;
}

void pump_all(host_ptr self);

/// Builds the instance (again, after a restart); on failure the actor is dead.
void construct(host_ptr self) {
  auto& st = self->state;
  st.scope.restarted = st.restarts_done > 0;
  actor_scope in_actor{st.scope};
  std::string failure;
  try {
    auto built = st.spec.factory();
    if (built) {
      st.instance = std::move(*built);
      if (st.spec.on_start)
        st.spec.on_start(st.instance.get());
    } else {
      failure = error_text(built.error());
    }
  } catch (...) {
    failure = "the factory threw " + current_exception_text();
  }
  if (!failure.empty()) {
    st.instance.reset();
    enter(st, host_state::phase::dead);
    st.death = make_error(errc::actor_died, "actor " + st.label + " could not be created: "
                                              + failure);
    st.directory->release_name(st.id);
    fail_queued(self, st.death);
    quit_if_done(self);
    return;
  }
  enter(st, host_state::phase::alive);
  pump_all(self);
}

/// The instance is gone (`exit_actor`, `kill`): queued calls fail; the actor
/// is rebuilt if restarts are left, else it stays dead and answers every
/// call with `actor_died`.
void die(host_ptr self, const std::string& why, bool may_restart) {
  auto& st = self->state;
  auto reason = make_error(errc::actor_died, "actor " + st.label + " " + why);
  fail_queued(self, reason);
  run_on_stop(self);
  st.instance.reset();
  if (may_restart && st.restarts_done < st.spec.max_restarts) {
    st.vitals->restarts = ++st.restarts_done;
    construct(self);
    return;
  }
  enter(st, host_state::phase::dead);
  st.death = make_error(errc::actor_died,
                        "actor " + st.label + " " + why
                          + (st.spec.max_restarts > 0 ? " and has no restarts left" : "")
                          + "; start a new actor");
  st.directory->release_name(st.id);
  quit_if_done(self);
}

/// Concurrency 1: runs the caller's ready calls in order. After about a
/// millisecond it continues through the mailbox, so that `kill` (and other
/// callers) get their turn between calls.
void pump(host_ptr self, std::uint64_t caller) {
  auto& st = self->state;
  if (st.ph != host_state::phase::alive)
    return;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(1);
  auto q = st.queues.find(caller);
  while (q != st.queues.end() && !q->second.empty() && q->second.front()->ready.load()) {
    if (std::chrono::steady_clock::now() > deadline) {
      self->send(self, continue_atom::value, caller);
      return;
    }
    auto call = std::move(q->second.front());
    q->second.pop_front();
    if (q->second.empty())
      st.queues.erase(q);
    auto result = execute(*call, st.instance.get(), st.scope, st.label, *st.recording);
    --st.queued;
    finish(self, call);
    if (result == outcome::exited) {
      die(self, "ended itself through exit_actor()", true);
      return;
    }
    q = st.queues.find(caller);
  }
  quit_if_done(self);
}

/// Concurrency > 1: hands ready calls, in any order, to idle runners.
void dispatch(host_ptr self) {
  auto& st = self->state;
  if (st.ph != host_state::phase::alive)
    return;
  for (auto q = st.queues.begin(); q != st.queues.end();) {
    auto& queue = q->second;
    for (auto i = queue.begin(); i != queue.end();) {
      if (!(*i)->ready.load()) {
        ++i;
        continue;
      }
      std::size_t r = 0;
      if (!st.idle.empty()) {
        r = st.idle.back();
        st.idle.pop_back();
      } else if (st.runners.size() < static_cast<std::size_t>(st.spec.max_concurrency)) {
        r = st.runners.size();
        st.runners.push_back(
          self->system().spawn<caf::detached>(runner, caf::actor{self}, st.label, r,
                                              st.recording));
      } else {
        return;
      }
      ++st.in_flight;
      self->send(st.runners[r], run_atom::value, std::move(*i), st.instance,
                 st.scope.restarted);
      i = queue.erase(i);
    }
    q = queue.empty() ? st.queues.erase(q) : std::next(q);
  }
}

/// Runs what became runnable for `caller`: its queue in order, or any ready
/// call when calls may run at once.
void run_ready(host_ptr self, std::uint64_t caller) {
  if (self->state.spec.max_concurrency > 1)
    dispatch(self);
  else
    pump(self, caller);
}

void pump_all(host_ptr self) {
  auto& st = self->state;
  if (st.spec.max_concurrency > 1) {
    dispatch(self);
  } else {
    std::vector<std::uint64_t> callers;
    callers.reserve(st.queues.size());
    for (const auto& [caller, queue] : st.queues)
      callers.push_back(caller);
    for (auto caller : callers)
      pump(self, caller);
  }
  quit_if_done(self);
}

void accept(host_ptr self, const call_ptr& call) {
  auto& st = self->state;
  if (st.ph == host_state::phase::dead) {
    fail_call(self, call, st.death);
    return;
  }
  call->accepted = true;
  st.queues[call->caller].push_back(call);
  ++st.queued;
  run_ready(self, call->caller);
}

/// A call from plain CAF code (`actor_interface`): the method by its
/// registered name, the arguments as a message.
call_ptr interface_call(host_ptr self, const std::string& method, caf::message args) {
  auto call = std::make_shared<call_record>();
  call->caller = (std::uint64_t{1} << 63) | self->current_sender()->id();
  call->actor = self->state.id;
  call->identity = method;
  call->ready = true;
  auto invoker = detail::find_member_invoker(method, *self->state.spec.cls);
  call->body = [invoker = std::move(invoker),
                args = std::move(args)](void* instance) -> caf::expected<detail::task_output> {
    if (!invoker)
      return std::move(invoker.error());
    auto result = (*invoker)(instance, args);
    if (!result)
      return std::move(result.error());
    return detail::task_output{std::move(*result), 0};
  };
  call->promise = self->make_response_promise();
  return call;
}

caf::behavior host(host_ptr self, std::shared_ptr<objstore::object_table> table,
                   std::shared_ptr<actor_directory> directory, object_id id,
                   detail::actor_spec spec, std::shared_ptr<actor_vitals> vitals,
                   std::shared_ptr<recorder> recording) {
  auto& st = self->state;
  st.table = std::move(table);
  st.directory = std::move(directory);
  st.id = id;
  st.spec = std::move(spec);
  st.vitals = std::move(vitals);
  st.recording = std::move(recording);
  st.label = demangle(st.spec.cls->name())
             + (st.spec.name.empty() ? "" : " \"" + st.spec.name + "\"") + " (" + to_string(id)
             + ")";
  self->set_down_handler([](caf::down_msg&) {});
  // The factory runs once its arguments exist, on this actor's own thread.
  auto deps = st.spec.deps;
  objstore::await_dependencies(*st.table, deps, st.pinned, st.unresolved,
                               [host = caf::actor{self}] {
                                 caf::anon_send(host, start_atom::value);
                               });
  return {
    [=](start_atom) {
      if (self->state.ph != host_state::phase::starting)
        return; // killed while waiting
      objstore::unpin_all(*self->state.table, self->state.pinned);
      construct(self);
    },
    [=](call_ptr& call) { accept(self, call); },
    [=](continue_atom, std::uint64_t caller) { pump(self, caller); },
    [=](ready_atom, call_ptr& call) {
      if (!call->accepted || call->done)
        return;
      run_ready(self, call->caller);
    },
    [=](done_atom, call_ptr& call, bool exited, std::size_t runner_index) {
      auto& st = self->state;
      --st.in_flight;
      --st.queued;
      finish(self, call);
      if (runner_index < st.runners.size())
        st.idle.push_back(runner_index);
      if (exited && st.ph == host_state::phase::alive)
        die(self, "ended itself through exit_actor()", true);
      else
        dispatch(self);
      quit_if_done(self);
    },
    [=](call_atom, std::string& method, caf::message& args) -> caf::result<caf::message> {
      auto call = interface_call(self, method, std::move(args));
      accept(self, call);
      return call->promise;
    },
    [=](stop_atom) {
      self->state.stopping = true;
      quit_if_done(self);
    },
    [=](kill_atom, bool no_restart) {
      auto& st = self->state;
      if (st.ph != host_state::phase::alive) {
        if (no_restart && st.ph == host_state::phase::starting) {
          // Killed before its arguments existed: it never runs.
          objstore::unpin_all(*st.table, st.pinned);
          enter(st, host_state::phase::dead);
          st.death = make_error(errc::actor_died, "actor " + st.label + " was killed");
          st.directory->release_name(st.id);
          fail_queued(self, st.death);
        }
        return;
      }
      die(self, "was killed", !no_restart);
    },
  };
}

} // namespace

caf::actor spawn_actor_host(caf::actor_system& sys, std::shared_ptr<objstore::object_table> table,
                            std::shared_ptr<actor_directory> directory, const object_id& id,
                            detail::actor_spec spec, std::shared_ptr<actor_vitals> vitals,
                            std::shared_ptr<recorder> recording) {
  return sys.spawn<caf::detached>(host, std::move(table), std::move(directory), id,
                                  std::move(spec), std::move(vitals), std::move(recording));
}

bool in_actor() noexcept {
  return current_actor != nullptr;
}

bool actor_restarted() noexcept {
  return current_actor != nullptr && current_actor->restarted;
}

} // namespace rustyray::internal
