#include "rustyray/actors/internal/actor_host.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include <caf/all.hpp>

#include "rustyray/actors/internal/actor_observability.hpp"
#include "rustyray/internal/demangle.hpp"
#include "rustyray/objstore/internal/dependencies.hpp"
#include "rustyray/objstore/internal/run_record.hpp"
#include "rustyray/internal/error_text.hpp"
#include "rustyray/internal/recycling_allocator.hpp"
#include "rustyray/actors/caf_interop.hpp"
#include "rustyray/errc.hpp"
#include "rustyray/internal/threads.hpp"
#include "rustyray/internal/spin_wait.hpp"
#include "rustyray/remote.hpp"

namespace rustyray::actors::internal {

using namespace rustyray::internal; // the base layer's internals

namespace {

using wake_atom = caf::atom_constant<caf::atom("rr_wake")>;
using done_atom = caf::atom_constant<caf::atom("rr_cdone")>;
using idle_atom = caf::atom_constant<caf::atom("rr_idle")>;
using check_atom = caf::atom_constant<caf::atom("rr_check")>;
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

/// The monotonic clock at the kernel tick's resolution (a few ms): a few
/// nanoseconds a read instead of a full clock read per call, enough for the
/// millisecond budgets below.
std::chrono::nanoseconds coarse_now() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return std::chrono::seconds{ts.tv_sec} + std::chrono::nanoseconds{ts.tv_nsec};
}

enum class outcome { finished, exited };

/// Runs one call on `instance`; the output lands in `call.output`.
outcome execute(call_record& call, void* instance, const actor_scope_state& scope,
                const std::string& actor, const objstore::internal::object_table& table,
                recorder& recording) {
  actor_scope in_actor{scope};
  auto name = [&] { return call.name() + " of " + actor; };
  auto started = recording.now();
  auto result = outcome::finished;
  objstore::internal::arguments_scope fetched{table, call};
  try {
    call.output = call.body(instance);
    if (!call.output)
      call.output = did_not_run("actor method " + name(), call.output.error());
  } catch (const detail::actor_exit_signal&) {
    call.output = make_error(errc::actor_died,
                             "actor method " + name() + " ended the actor through exit_actor()");
    result = outcome::exited;
  } catch (...) {
    call.output = make_error(errc::task_failed,
                             "actor method " + name() + " threw " + current_exception_text());
  }
  record_call(recording, call, actor, started);
  return result;
}

/// Stores the call's output as its result. Any thread may do this, except
/// for a call from plain CAF code: only its host answers the requester.
void settle(objstore::internal::object_table& table, call_record& call) {
  if (call.promise.pending()) {
    auto output = std::move(call.output);
    (void)objstore::internal::complete_run(table, call, call.body, caf::message{});
    // actor_interface answers with one element, the result as a message;
    // deliver(message) alone would send the result's elements instead.
    if (output)
      call.promise.deliver(
        caf::message_builder{}.append(std::move(output->value)).move_to_message());
    else
      call.promise.deliver(std::move(output.error()));
    return;
  }
  (void)objstore::internal::complete_run(table, call, call.body, std::move(call.output));
}

/// What the runners of a host with max_concurrency > 1 share with it. Ready
/// calls wait here and whichever runner is free takes the next one, so a call
/// costs no message unless a runner must be woken; a runner settles the
/// result itself.
///
/// Runners beyond the machine's cores only cost thread switches, so no more
/// than `cores` runners are awake unless some are blocked: a call waiting in
/// `get` or `wait`, or running for over `blocked_after` (a lock, a sleep,
/// another call of the same actor), lets one more runner start, so such calls
/// cannot hold the others back.
struct run_pool {
  static constexpr auto blocked_after = std::chrono::milliseconds(10);

  struct runner_slot {
    caf::actor handle;
    /// When its current call started; zero while it runs none.
    std::chrono::nanoseconds started{0};
    /// Its call waits in `get` or `wait`.
    bool in_get = false;
  };

  run_pool(std::shared_ptr<objstore::internal::object_table> table,
           std::shared_ptr<recorder> recording, std::size_t max_runners)
    : table(std::move(table)), recording(std::move(recording)), max_runners(max_runners),
      cores(std::max(1u, std::thread::hardware_concurrency())) {}
  const std::shared_ptr<objstore::internal::object_table> table;
  const std::shared_ptr<recorder> recording;
  const std::size_t max_runners;
  const std::size_t cores;

  std::mutex mtx;
  // Everything below is guarded by mtx.
  std::deque<call_ptr> ready;
  /// Runners take calls only while open: closed while the instance is being
  /// built, after it died and from the moment a call ends it.
  bool open = false;
  std::shared_ptr<void> instance;
  /// Which instance `instance` is (counted up at each build): a call that
  /// ended an instance ends the one it ran on, never its successor.
  std::uint64_t generation = 0;
  bool restarted = false;
  /// The host is stopping: the runner that finds nothing left tells it.
  bool report_idle = false;
  /// The host will look again for blocked runners (a check is on its way).
  bool check_pending = false;
  std::vector<runner_slot> runners;
  std::vector<std::size_t> idle;
  std::size_t awake = 0;   // runners taking calls, not waiting for a wake-up
  std::size_t running = 0; // calls taken and not settled yet

  [[nodiscard]] bool busy() const {
    return !ready.empty() || running > 0;
  }

  [[nodiscard]] std::size_t blocked() const {
    auto limit = coarse_now() - blocked_after;
    return static_cast<std::size_t>(
      std::count_if(runners.begin(), runners.end(), [&](const runner_slot& r) {
        return r.in_get || (r.started.count() != 0 && r.started < limit);
      }));
  }
};

using pool_ptr = std::shared_ptr<run_pool>;

caf::actor spawn_runner(caf::actor_system& sys, const pool_ptr& pool, const caf::actor& host,
                        const std::string& actor, std::size_t index);

/// Under the pool's lock: a runner to wake when more calls are ready than
/// awake runners are free to take; null when none is needed or allowed. If
/// ready calls wait for a runner, `recheck` asks the caller to have the host
/// look again after `blocked_after`.
caf::actor runner_to_wake(const pool_ptr& shared, caf::actor_system& sys, const caf::actor& host,
                          const std::string& actor, bool& recheck) {
  auto& pool = *shared;
  if (!pool.open || pool.ready.size() <= pool.awake - pool.running)
    return {};
  std::size_t index = 0;
  if (pool.awake >= pool.cores + pool.blocked()) {
    index = pool.max_runners; // every core has a runner making progress
  } else if (!pool.idle.empty()) {
    index = pool.idle.back();
    pool.idle.pop_back();
  } else if (pool.runners.size() < pool.max_runners) {
    index = pool.runners.size();
    pool.runners.push_back({spawn_runner(sys, shared, host, actor, index)});
  }
  if (index == pool.max_runners) {
    if (pool.awake < pool.max_runners && !pool.check_pending)
      recheck = pool.check_pending = true;
    return {};
  }
  ++pool.awake;
  return pool.runners[index].handle;
}

/// Sends what `runner_to_wake` asked for: a wake-up to `runner` (if any)
/// and, if `recheck`, a look for blocked runners to `host` later.
void send_wake_ups(const caf::actor& runner, bool recheck, const caf::actor& host) {
  if (runner)
    caf::anon_send(runner, wake_atom::value);
  if (recheck)
    caf::delayed_anon_send(host, run_pool::blocked_after, check_atom::value);
}

/// Tells the pool while a runner's call waits in `get` or `wait`, so another
/// runner can start at once.
class runner_blocking : public blocking_observer {
public:
  runner_blocking(caf::event_based_actor* self, pool_ptr pool, caf::actor host,
                  const std::string& actor, std::size_t index)
    : self_(self), pool_(std::move(pool)), host_(std::move(host)), actor_(actor), index_(index) {}

  void on_block() override {
    caf::actor other;
    bool recheck = false;
    {
      std::lock_guard<std::mutex> guard{pool_->mtx};
      pool_->runners[index_].in_get = true;
      other = runner_to_wake(pool_, self_->system(), host_, actor_, recheck);
    }
    send_wake_ups(other, recheck, host_);
  }

  void on_unblock() override {
    std::lock_guard<std::mutex> guard{pool_->mtx};
    pool_->runners[index_].in_get = false;
  }

private:
  caf::event_based_actor* self_;
  pool_ptr pool_;
  caf::actor host_;
  const std::string& actor_;
  std::size_t index_;
};

/// A runner of a host with max_concurrency > 1: once woken, it takes ready
/// calls from the pool until there are none.
caf::behavior runner(caf::event_based_actor* self, pool_ptr pool, caf::actor host,
                     std::string actor, std::size_t index) {
  return {
    [=](wake_atom) {
      auto& p = *pool;
      runner_blocking blocking{self, pool, host, actor, index};
      std::unique_lock<std::mutex> guard{p.mtx};
      for (;;) {
        if (!p.open || p.ready.empty()) {
          --p.awake;
          p.idle.push_back(index);
          bool tell = p.report_idle && !p.busy();
          guard.unlock();
          if (tell)
            self->send(host, idle_atom::value);
          return;
        }
        auto call = std::move(p.ready.front());
        p.ready.pop_front();
        auto instance = p.instance;
        auto generation = p.generation;
        actor_scope_state scope{p.restarted};
        ++p.running;
        p.runners[index].started = coarse_now();
        bool recheck = false;
        auto other = runner_to_wake(pool, self->system(), host, actor, recheck);
        guard.unlock();
        send_wake_ups(other, recheck, host);
        current_blocking_observer = &blocking;
        auto result = execute(*call, instance.get(), scope, actor, *p.table, *p.recording);
        current_blocking_observer = nullptr;
        instance.reset();
        bool exited = result == outcome::exited;
        if (exited || call->promise.pending()) {
          guard.lock();
          p.runners[index].started = {};
          if (exited && p.generation == generation)
            p.open = false; // no more calls on an instance that ended
          guard.unlock();
          // The host settles it and counts it done.
          self->send(host, done_atom::value, std::move(call), exited, generation);
          guard.lock();
          continue;
        }
        settle(*p.table, *call);
        call.reset();
        guard.lock();
        p.runners[index].started = {};
        --p.running;
      }
    },
  };
}

caf::actor spawn_runner(caf::actor_system& sys, const pool_ptr& pool, const caf::actor& host,
                        const std::string& actor, std::size_t index) {
  return sys.spawn<caf::detached + caf::hidden>(runner, pool, host, actor, index);
}

struct host_state {
  std::shared_ptr<objstore::internal::object_table> table;
  std::shared_ptr<actor_directory> directory;
  object_id id;
  detail::actor_spec spec;
  std::string label; // for messages: class, name and ID
  std::shared_ptr<call_inbox> inbox;
  std::shared_ptr<actor_vitals> vitals;
  std::shared_ptr<recorder> recording;

  enum class phase { starting, alive, dead } ph = phase::starting;
  std::shared_ptr<void> instance;
  caf::error death;
  int restarts_done = 0;
  actor_scope_state scope;

  /// Accepted calls that have not started, per caller, in submission order
  /// (with max_concurrency > 1: only those still waiting for arguments).
  using queue_map = std::unordered_map<std::uint64_t, std::deque<call_ptr>>;
  queue_map queues;
  std::size_t queued = 0;
  /// An emptied queue, its memory kept for the next: a caller that the host
  /// keeps up with empties its queue after almost every call, and a new
  /// queue costs three allocations.
  queue_map::node_type spare_queue;
  /// The inbox's last batch, its memory kept for the next.
  std::vector<call_ptr> batch;
  /// The callers of the batch.
  std::vector<std::uint64_t> batch_callers;
  bool stopping = false;

  /// The runners' share, with max_concurrency > 1.
  pool_ptr pool;

  /// The factory's argument wait.
  objstore::internal::dependency_wait factory_deps;

  /// The actor this is the state of.
  caf::stateful_actor<host_state>* self = nullptr;
  /// Every call has its answer and the actor left the directory: set on the
  /// way out, by a graceful stop or by `terminate`.
  bool terminated = false;

  /// Runs as the actor quits. A host that quits without a graceful stop
  /// (an untrappable `exit_reason::kill` from plain CAF code) still answers
  /// every call it holds here, so that no caller waits forever.
  ~host_state();

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

/// Dead for good: the factory never runs again, so its stored arguments
/// (and the objects they refer to) are released now, not when the last
/// handle goes.
void bury(host_state& st) {
  enter(st, host_state::phase::dead);
  st.spec.factory = nullptr;
}

void finish(host_ptr self, const call_ptr& call) {
  call->done = true;
  settle(*self->state.table, *call);
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

/// Lets the runners take calls on the current instance, or stops them.
void open_pool(host_ptr self, bool open) {
  auto& st = self->state;
  if (!st.pool)
    return;
  std::lock_guard<std::mutex> guard{st.pool->mtx};
  if (open)
    ++st.pool->generation; // a new instance (opened once per build)
  st.pool->open = open;
  st.pool->instance = open ? st.instance : nullptr;
  st.pool->restarted = st.scope.restarted;
}

/// Quits once stopping and nothing is queued or running.
void quit_if_done(host_ptr self) {
  auto& st = self->state;
  if (!st.stopping || st.queued > 0 || st.ph == host_state::phase::starting || st.inbox->pending())
    return; // pending: the inbox's message is on its way
  if (st.pool) {
    std::lock_guard<std::mutex> guard{st.pool->mtx};
    st.pool->report_idle = true;
    if (st.pool->busy())
      return; // the last runner to finish says so
  }
  run_on_stop(self);
  open_pool(self, false);
  st.instance.reset();
  if (st.pool) {
    std::vector<run_pool::runner_slot> runners;
    {
      std::lock_guard<std::mutex> guard{st.pool->mtx};
      runners.swap(st.pool->runners);
    }
    for (auto& r : runners)
      self->send_exit(r.handle, caf::exit_reason::user_shutdown);
  }
  // A call pushed since the check above finds the inbox closed, or is here.
  for (auto& call : st.inbox->close(stopped_error(st.label)))
    fail_call(self, call, stopped_error(st.label));
  st.directory->remove(st.id);
  st.terminated = true;
  self->quit();
}

/// Removes the emptied queue `q`; returns the next one.
host_state::queue_map::iterator drop_queue(host_state& st, host_state::queue_map::iterator q) {
  auto next = std::next(q);
  auto node = st.queues.extract(q);
  if (st.spare_queue.empty())
    st.spare_queue = std::move(node);
  return next;
}

/// The queue of `caller`, made if it has none.
std::deque<call_ptr>& queue_of(host_state& st, std::uint64_t caller) {
  if (auto q = st.queues.find(caller); q != st.queues.end())
    return q->second;
  if (st.spare_queue.empty())
    return st.queues[caller];
  st.spare_queue.key() = caller;
  return st.queues.insert(std::move(st.spare_queue)).position->second;
}

/// Fails every accepted call that has not started.
void fail_queued(host_ptr self, const caf::error& reason) {
  auto& st = self->state;
  auto queues = std::move(st.queues);
  st.queues.clear();
  st.queued = 0;
  for (auto& [caller, queue] : queues)
    for (auto& call : queue)
      fail_call(self, call, reason);
  if (st.pool) {
    std::deque<call_ptr> ready;
    {
      std::lock_guard<std::mutex> guard{st.pool->mtx};
      ready.swap(st.pool->ready);
    }
    for (auto& call : ready)
      fail_call(self, call, reason);
  }
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
    bury(st);
    st.death =
      make_error(errc::actor_died, "actor " + st.label + " could not be created: " + failure);
    st.directory->release_name(st.id);
    fail_queued(self, st.death);
    quit_if_done(self);
    return;
  }
  enter(st, host_state::phase::alive);
  open_pool(self, true);
  pump_all(self);
}

/// The instance is gone (`exit_actor`, `kill`): queued calls fail; the actor
/// is rebuilt if restarts are left, else it stays dead and answers every
/// call with `actor_died`.
void die(host_ptr self, const std::string& why, bool may_restart) {
  auto& st = self->state;
  auto reason = make_error(errc::actor_died, "actor " + st.label + " " + why);
  open_pool(self, false);
  fail_queued(self, reason);
  run_on_stop(self);
  st.instance.reset();
  if (may_restart && st.restarts_done < st.spec.max_restarts) {
    st.vitals->restarts = ++st.restarts_done;
    construct(self);
    return;
  }
  bury(st);
  st.death =
    make_error(errc::actor_died, "actor " + st.label + " " + why
                                   + (st.spec.max_restarts > 0 ? " and has no restarts left" : "")
                                   + "; start a new actor");
  st.directory->release_name(st.id);
  quit_if_done(self);
}

/// The host quits now, not after a graceful stop (an exit message from CAF,
/// an exception that escaped, or `exit_reason::kill`): every call it holds or
/// that reaches it later fails with `actor_died` saying `why`, `on_stop`
/// runs as after `kill`, the name is free, and the runners stop.
void terminate(host_ptr self, const std::string& why) {
  auto& st = self->state;
  if (st.terminated)
    return;
  st.terminated = true;
  auto reason = make_error(errc::actor_died,
                           "actor " + st.label + " " + why + "; its calls fail, start a new actor");
  open_pool(self, false);
  fail_queued(self, reason);
  if (st.ph == host_state::phase::starting)
    objstore::internal::unpin_all(*st.table, st.factory_deps);
  run_on_stop(self);
  st.instance.reset();
  bury(st);
  st.death = reason;
  st.directory->release_name(st.id);
  if (st.pool) {
    // Runners finish the call they run (each stores its own result) and stop.
    // Their slots stay: a runner in a call still writes to its own.
    std::vector<caf::actor> runners;
    {
      std::lock_guard<std::mutex> guard{st.pool->mtx};
      for (const auto& r : st.pool->runners)
        runners.push_back(r.handle);
    }
    for (auto& r : runners)
      caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
  }
  for (auto& call : st.inbox->close(reason))
    fail_call(self, call, reason);
  st.directory->remove(st.id);
}

host_state::~host_state() {
  if (self != nullptr && !terminated)
    terminate(self, "was stopped by CAF (" + self->home_system().render(self->fail_state())
                      + ") while it held calls");
}

/// How long a host runs calls back to back before it lets its mailbox in.
constexpr auto pump_budget = std::chrono::milliseconds(2);

/// Concurrency 1: runs the caller's ready calls in order. Past `deadline` it
/// continues through the mailbox, so that `kill` (and other callers) get
/// their turn between calls.
void pump(host_ptr self, std::uint64_t caller, std::chrono::nanoseconds deadline) {
  auto& st = self->state;
  if (st.ph != host_state::phase::alive)
    return;
  auto q = st.queues.find(caller);
  while (q != st.queues.end() && !q->second.empty() && q->second.front()->ready.load()) {
    if (coarse_now() > deadline) {
      self->send(self, continue_atom::value, caller);
      return;
    }
    auto call = std::move(q->second.front());
    q->second.pop_front();
    if (q->second.empty())
      drop_queue(st, q);
    auto result = execute(*call, st.instance.get(), st.scope, st.label, *st.table, *st.recording);
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

/// Concurrency > 1: moves the ready calls, in any order, to the runners'
/// pool and wakes as many runners as they need.
void dispatch(host_ptr self) {
  auto& st = self->state;
  if (st.ph != host_state::phase::alive)
    return;
  std::vector<caf::actor> wake;
  bool recheck = false;
  {
    std::lock_guard<std::mutex> guard{st.pool->mtx};
    for (auto q = st.queues.begin(); q != st.queues.end();) {
      auto& queue = q->second;
      for (auto i = queue.begin(); i != queue.end();) {
        if ((*i)->ready.load()) {
          st.pool->ready.push_back(std::move(*i));
          --st.queued;
          i = queue.erase(i);
        } else {
          ++i;
        }
      }
      q = queue.empty() ? drop_queue(st, q) : std::next(q);
    }
    while (auto r = runner_to_wake(st.pool, self->system(), self, st.label, recheck))
      wake.push_back(std::move(r));
  }
  for (auto& r : wake)
    send_wake_ups(r, false, nullptr);
  send_wake_ups(nullptr, recheck, self);
}

/// Runs what became runnable for `caller`: its queue in order, or any ready
/// call when calls may run at once.
void run_ready(host_ptr self, std::uint64_t caller) {
  if (self->state.pool)
    dispatch(self);
  else
    pump(self, caller, coarse_now() + pump_budget);
}

void pump_all(host_ptr self) {
  auto& st = self->state;
  if (st.pool) {
    dispatch(self);
  } else {
    std::vector<std::uint64_t> callers;
    callers.reserve(st.queues.size());
    for (const auto& [caller, queue] : st.queues)
      callers.push_back(caller);
    auto deadline = coarse_now() + pump_budget;
    for (auto caller : callers)
      pump(self, caller, deadline);
  }
  quit_if_done(self);
}

/// Queues the call behind its caller's earlier ones; false if it failed at
/// once (the actor is dead).
bool enqueue(host_ptr self, const call_ptr& call) {
  auto& st = self->state;
  if (st.ph == host_state::phase::dead) {
    fail_call(self, call, st.death);
    return false;
  }
  call->accepted = true;
  queue_of(st, call->caller).push_back(call);
  ++st.queued;
  return true;
}

void accept(host_ptr self, const call_ptr& call) {
  if (enqueue(self, call))
    run_ready(self, call->caller);
}

/// A batch from the inbox: queued first, then run within one budget, so a
/// batch of slow calls cannot keep `kill` waiting.
void accept_all(host_ptr self, const std::vector<call_ptr>& calls) {
  auto& callers = self->state.batch_callers;
  callers.clear();
  for (const auto& call : calls)
    if (enqueue(self, call)
        && std::find(callers.begin(), callers.end(), call->caller) == callers.end())
      callers.push_back(call->caller);
  if (self->state.pool) {
    dispatch(self);
    return;
  }
  auto deadline = coarse_now() + pump_budget;
  for (auto caller : callers)
    pump(self, caller, deadline);
}

/// Runs the calls in the inbox, then looks for more for `spin_budget` after
/// the last one before it sleeps: a caller that submits again within that
/// time (a stream of calls, or a synchronous caller's next call) costs no CAF
/// message and no wake-up. Anything in the mailbox (kill, stop, a ready
/// argument) goes first: the inbox is looked at again after it.
void take_inbox(host_ptr self) {
  using clock = std::chrono::steady_clock;
  auto& st = self->state;
  auto last_call = clock::now();
  for (;;) {
    if (!st.inbox->take(st.batch))
      return; // a kill is on its way: its handler looks again
    if (!st.batch.empty()) {
      accept_all(self, st.batch);
      st.batch.clear();
      if (st.terminated)
        return; // it quit: these were the last
      last_call = clock::now();
    }
    if (!self->mailbox().empty()) {
      self->send(self, inbox_atom::value);
      return; // the inbox stays awake: pushes send nothing meanwhile
    }
    auto left = spin_budget - (clock::now() - last_call);
    if (left.count() > 0
        && spin_until([&] { return st.inbox->pending() || !self->mailbox().empty(); }, left))
      continue;
    if (st.inbox->sleep())
      break;
  }
  quit_if_done(self); // stopping: these may have been the last
}

/// A call from plain CAF code (`actor_interface`): the method by its
/// registered name, the arguments as a message.
call_ptr interface_call(host_ptr self, const std::string& method, caf::message args) {
  auto call = std::allocate_shared<call_record>(recycling_allocator<call_record>{self});
  // An anonymous message (anon_send, or a peer that sent without a sender)
  // has no sender: its calls share one queue, and the reply goes nowhere.
  const auto& sender = self->current_sender();
  call->caller = (std::uint64_t{1} << 63) | (sender ? sender->id() : caf::actor_id{0});
  call->actor = self->state.id;
  call->by_name = method;
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

caf::behavior host(host_ptr self, std::shared_ptr<objstore::internal::object_table> table,
                   std::shared_ptr<actor_directory> directory, object_id id,
                   detail::actor_spec spec, std::shared_ptr<call_inbox> inbox,
                   std::shared_ptr<actor_vitals> vitals, std::shared_ptr<recorder> recording) {
  auto& st = self->state;
  st.table = std::move(table);
  st.directory = std::move(directory);
  st.id = id;
  st.spec = std::move(spec);
  st.inbox = std::move(inbox);
  st.vitals = std::move(vitals);
  st.recording = std::move(recording);
  st.label = demangle(st.spec.cls->name())
             + (st.spec.name.empty() ? "" : " \"" + st.spec.name + "\"") + " (" + to_string(id)
             + ")";
  if (st.spec.max_concurrency > 1)
    st.pool = std::make_shared<run_pool>(st.table, st.recording,
                                         static_cast<std::size_t>(st.spec.max_concurrency));
  st.self = self;
  self->set_down_handler([](caf::down_msg&) {});
  // An exit message from plain CAF code (say, to `caf_handle()`) ends the
  // actor like `kill`, and at once: no call is left waiting.
  self->set_exit_handler([=](caf::exit_msg& msg) {
    if (!msg.reason)
      return; // a normal exit of a linked actor: nothing to do
    terminate(self, "was stopped by CAF: an exit message (" + self->home_system().render(msg.reason)
                      + ")");
    self->quit(std::move(msg.reason));
  });
  // A bug that escapes the host's own error handling: answer every call.
  self->set_exception_handler([=](std::exception_ptr& failure) -> caf::error {
    std::string text;
    try {
      std::rethrow_exception(failure);
    } catch (...) {
      text = current_exception_text();
    }
    terminate(self, "failed outside its methods: " + text);
    return make_error(errc::actor_died, "actor " + self->state.label + " failed: " + text);
  });
  // The factory runs once its arguments exist, on this actor's own thread.
  st.factory_deps.ids = st.spec.deps;
  auto start = [host = caf::actor{self}] { caf::anon_send(host, start_atom::value); };
  if (objstore::internal::await_dependencies(*st.table, st.factory_deps, [&] { return start; }))
    start();
  return {
    [=](start_atom) {
      if (self->state.ph != host_state::phase::starting)
        return; // killed while waiting
      objstore::internal::unpin_all(*self->state.table, self->state.factory_deps);
      construct(self);
    },
    [=](inbox_atom) { take_inbox(self); },
    [=](continue_atom, std::uint64_t caller) { pump(self, caller, coarse_now() + pump_budget); },
    [=](ready_atom, call_ptr& call) {
      // With a pool the call may be settled by a runner already: only
      // dispatch, which finds it in the queues if it is still there.
      if (self->state.pool || (call->accepted && !call->done))
        run_ready(self, call->caller);
    },
    [=](done_atom, call_ptr& call, bool exited, std::uint64_t generation) {
      // From a runner: a call from plain CAF code, or one that ended the
      // instance it ran on (if a kill rebuilt it meanwhile, not this one).
      auto& st = self->state;
      finish(self, call);
      bool current = false;
      {
        std::lock_guard<std::mutex> guard{st.pool->mtx};
        --st.pool->running;
        current = st.pool->generation == generation;
      }
      if (exited && current && st.ph == host_state::phase::alive)
        die(self, "ended itself through exit_actor()", true);
      quit_if_done(self);
    },
    [=](idle_atom) { quit_if_done(self); },
    [=](check_atom) {
      {
        std::lock_guard<std::mutex> guard{self->state.pool->mtx};
        self->state.pool->check_pending = false;
      }
      dispatch(self);
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
      // Calls made before `kill` returned were queued when it struck (they
      // fail); those after it meet what it left: `actor_died`, or the
      // rebuilt instance. The inbox held them apart (kill_actor).
      bool held = !st.inbox->take_before_kill(st.batch);
      for (const auto& call : st.batch)
        enqueue(self, call);
      st.batch.clear();
      bool may_restart = !no_restart && st.restarts_done < st.spec.max_restarts;
      if (st.ph == host_state::phase::alive) {
        die(self, "was killed", !no_restart);
      } else if (st.ph == host_state::phase::starting && may_restart) {
        // Killed before its factory ran (its arguments, or its start message
        // that the kill overtook): no instance to end, but the calls queued
        // so far fail as in a restart, and the factory builds the new one.
        st.vitals->restarts = ++st.restarts_done;
        fail_queued(self, make_error(errc::actor_died, "actor " + st.label + " was killed"));
      } else if (st.ph == host_state::phase::starting) {
        // Killed before its factory ran, for good: it never runs.
        objstore::internal::unpin_all(*st.table, st.factory_deps);
        bury(st);
        st.death = make_error(errc::actor_died, "actor " + st.label + " was killed");
        st.directory->release_name(st.id);
        fail_queued(self, st.death);
      }
      if (!held && !st.terminated)
        take_inbox(self);
    },
  };
}

} // namespace

caf::actor spawn_actor_host(caf::actor_system& sys,
                            std::shared_ptr<objstore::internal::object_table> table,
                            std::shared_ptr<actor_directory> directory, const object_id& id,
                            detail::actor_spec spec, std::shared_ptr<call_inbox> inbox,
                            std::shared_ptr<actor_vitals> vitals,
                            std::shared_ptr<recorder> recording) {
  return sys.spawn<caf::detached + caf::hidden>(host, std::move(table), std::move(directory), id,
                                                std::move(spec), std::move(inbox),
                                                std::move(vitals), std::move(recording));
}

caf::error stopped_error(const std::string& actor) {
  return make_error(errc::actor_died, "actor " + actor + " has stopped; start a new actor");
}

bool in_actor() noexcept {
  return current_actor != nullptr;
}

bool actor_restarted() noexcept {
  return current_actor != nullptr && current_actor->restarted;
}

} // namespace rustyray::actors::internal
