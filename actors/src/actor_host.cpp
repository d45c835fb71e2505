#include "rustyray/actors/internal/actor_host.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "caf_face.hpp"
#include "call_fifo.hpp"
#include "call_execution.hpp"
#include "host_mailbox.hpp"
#include "rustyray/actors/internal/actor_directory.hpp"
#include "rustyray/actors/internal/actor_runtime.hpp"
#include "rustyray/errc.hpp"
#include "rustyray/internal/error_text.hpp"
#include "rustyray/internal/executor.hpp"
#include "rustyray/internal/spin_wait.hpp"
#include "rustyray/objstore/internal/dependencies.hpp"

namespace rustyray::actors::internal {

using namespace rustyray::internal; // the base layer's internals

namespace {

/// How long a host runs calls back to back before it lets other actors have
/// its thread (and reads its mailbox, so that `kill` gets its turn).
constexpr auto run_budget = std::chrono::milliseconds(2);

/// What the runners of a host with max_concurrency > 1 share with it. Ready
/// calls wait here and whichever runner is free takes the next one; a runner
/// settles the result itself.
struct run_pool {
  explicit run_pool(std::size_t max_runners) : max_runners(max_runners) {}
  const std::size_t max_runners;

  std::mutex mtx;
  // Everything below is guarded by mtx.
  call_fifo ready;
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
  std::size_t awake = 0;   // runner jobs posted and not returned
  std::size_t running = 0; // calls taken and not settled yet

  [[nodiscard]] bool busy() const {
    return !ready.empty() || running > 0;
  }
};

class host_impl;

/// A runner of a host with max_concurrency > 1: takes ready calls from the
/// pool until there are none (or its budget is spent: then it posts itself
/// again, so the other actors get the thread in between).
class runner_job final : public job {
public:
  explicit runner_job(std::shared_ptr<host_impl> host) : host_(std::move(host)) {}
  void run() noexcept override;

private:
  std::shared_ptr<host_impl> host_;
};

class host_impl final : public actor_host,
                        public job,
                        public std::enable_shared_from_this<host_impl> {
public:
  host_impl(std::shared_ptr<actor_runtime> rt, const object_id& id, detail::actor_spec spec,
            std::shared_ptr<executor> threads)
    : rt_(std::move(rt)), id_(id), spec_(std::move(spec)), threads_(std::move(threads)),
      own_threads_(threads_ != rt_->threads), label_(*spec_.cls, spec_.name, id_) {
    if (spec_.max_concurrency > 1)
      pool_ = std::make_shared<run_pool>(static_cast<std::size_t>(spec_.max_concurrency));
    if (!spec_.deps.empty()) {
      factory_deps_ = std::make_unique<objstore::internal::dependency_wait>();
      factory_deps_->ids = std::move(spec_.deps);
    }
    scope_.caller = new_caller();
  }

  // -- any thread -------------------------------------------------------------

  bool send(const call_ptr& call, caf::error& reason);
  void post_signal(host_signal s);
  caf::error closed_reason() const {
    return mailbox_.closed_reason();
  }
  caf::actor caf_handle();
  actor_vitals vitals() const;

  /// Starts: once `request` is held (at once if it fits, else when
  /// resources free up), the factory runs once its arguments exist. Fails if
  /// no thread can run it now (then nothing is left pinned or queued).
  caf::error start(rustyray::internal::resource_amounts request);

  /// Runs the factory once its arguments exist (the resources are held).
  caf::error await_factory_args();

  /// The actor is dead for good: what it held is the node's again.
  void release_lease();

  // -- the host's job ---------------------------------------------------------

  void run() noexcept override;

  /// For runner jobs.
  void run_calls();

private:
  enum class phase { starting, alive, dead };
  using queue_map = std::unordered_map<std::uint64_t, call_fifo>;

  void run_slice();
  void resume_unfinished(std::chrono::nanoseconds deadline);
  void handle_batch(std::chrono::nanoseconds deadline);
  void on_signal(host_signal& s, std::chrono::nanoseconds deadline);
  void on_kill(bool no_restart);
  void on_done(const call_ptr& call, bool exited, std::uint64_t generation);

  objstore::internal::object_table& table() const noexcept {
    return rt_->table();
  }
  const std::string& label();
  void enter(phase ph);
  void unpin_factory_args();
  void release_spare_memory();
  void bury();
  /// Whether the factory may build the instance once more (max_restarts -1:
  /// always).
  [[nodiscard]] bool restarts_left() const noexcept {
    return spec_.max_restarts < 0 || restarts_done_ < spec_.max_restarts;
  }
  void finish(const call_ptr& call);
  void fail_call(const call_ptr& call, caf::error reason);
  void run_on_stop();
  void open_pool(bool open);
  void quit_if_done();
  queue_map::iterator drop_queue(queue_map::iterator q);
  call_fifo& queue_of(std::uint64_t caller);
  bool fail_queued(const caf::error& reason, bool rebuilding = false);
  [[nodiscard]] bool runs_again(call_record& call) const noexcept;
  void construct(std::chrono::nanoseconds deadline, bool run_queued = true);
  void die(const std::string& why, bool may_restart, std::chrono::nanoseconds deadline);
  void terminate(const std::string& why);
  void end(const caf::error& calls_reason, caf::error face_reason);
  bool pump(std::uint64_t caller, std::chrono::nanoseconds deadline);
  void dispatch();
  void run_ready(std::uint64_t caller, std::chrono::nanoseconds deadline);
  void pump_all(std::chrono::nanoseconds deadline);
  bool enqueue(const call_ptr& call);
  void post_self();

  const std::shared_ptr<actor_runtime> rt_;
  const object_id id_;
  detail::actor_spec spec_;
  const std::shared_ptr<executor> threads_;
  /// `threads_` serves this actor alone (`dedicated_thread`).
  const bool own_threads_;
  host_mailbox mailbox_;

  actor_label label_;

  // Touched by the host's job only (one run at a time).
  phase ph_ = phase::starting;
  std::shared_ptr<void> instance_;
  caf::error death_;
  int restarts_done_ = 0;
  // What `state()` shows (read from any thread).
  std::atomic<int> shown_phase_{actor_vitals::starting};
  std::atomic<int> shown_restarts_{0};
  actor_scope_state scope_;
  /// Accepted calls that have not started, per caller, in submission order
  /// (with max_concurrency > 1: only those still waiting for arguments).
  queue_map queues_;
  std::size_t queued_ = 0;
  /// An emptied queue, its memory kept for the next while the host is
  /// awake: a caller the host keeps up with empties its queue after almost
  /// every call, and a new queue costs three allocations.
  queue_map::node_type spare_queue_;
  /// The mailbox's last batch, its memory kept for the next.
  std::vector<call_ptr> batch_;
  std::vector<host_signal> signals_;
  /// The callers of the batch, and of an unfinished pass (budget spent).
  std::vector<std::uint64_t> callers_;
  std::vector<std::uint64_t> unfinished_;
  bool stopping_ = false;
  /// Calls were left ready when the budget ran out: post the job again.
  bool yield_ = false;
  std::shared_ptr<run_pool> pool_;
  /// The factory's arguments while it waits for them (none: no arguments
  /// that are objects).
  std::unique_ptr<objstore::internal::dependency_wait> factory_deps_;
  /// `factory_deps_` are pinned (awaited and not run yet).
  std::atomic<bool> factory_args_pinned_{false};
  /// What the actor holds for its lifetime (`num_cpus`, `resources`); null
  /// for none. Given back when the host ends (`terminated_lease_`).
  std::mutex lease_mtx_;
  std::shared_ptr<rustyray::internal::resource_lease> lease_; // guarded by lease_mtx_
  bool terminated_lease_ = false;                             // guarded by lease_mtx_
  bool terminated_ = false;

  // Guarded by face_mtx_.
  mutable std::mutex face_mtx_;
  bool ended_ = false;
  caf::actor face_;
};

host_impl& impl(actor_host& host) {
  return static_cast<host_impl&>(host);
}

const host_impl& impl(const actor_host& host) {
  return static_cast<const host_impl&>(host);
}

// -- any thread ---------------------------------------------------------------

bool host_impl::send(const call_ptr& call, caf::error& reason) {
  bool wake = false;
  if (!mailbox_.push(call, wake)) {
    reason = mailbox_.closed_reason();
    return false;
  }
  if (!wake)
    return true;
  auto err = threads_->post(shared_from_this());
  if (!err)
    return true;
  // No thread can run the host now: the calls that came with this one fail
  // (their senders' posts were this one); a signal among them is kept.
  bool signals_left = false;
  for (auto& other : mailbox_.refuse(signals_left))
    if (other != call)
      fail_call(other, err);
  if (signals_left)
    (void)threads_->post(shared_from_this(), false);
  reason = std::move(err);
  return false;
}

void host_impl::post_signal(host_signal s) {
  bool wake = false;
  if (mailbox_.signal(std::move(s), wake) && wake)
    (void)threads_->post(shared_from_this(), false); // runs as soon as a thread is free
}

caf::actor host_impl::caf_handle() {
  std::lock_guard<std::mutex> guard{face_mtx_};
  if (ended_)
    return {};
  if (!face_) {
    try {
      face_ = spawn_caf_face(rt_->node().system(), shared_from_this(), id_, *spec_.cls);
    } catch (const std::exception&) {
      return {}; // CAF could not spawn it: the handle is invalid, as documented
    }
  }
  return face_;
}

actor_vitals host_impl::vitals() const {
  return {spec_.cls, spec_.name, spec_.ray_namespace,
          static_cast<actor_vitals::phase>(shown_phase_.load()), shown_restarts_.load()};
}

caf::error host_impl::start(rustyray::internal::resource_amounts request) {
  if (request.empty())
    return await_factory_args();
  std::weak_ptr<host_impl> weak = shared_from_this();
  auto listener = [weak](const caf::error& why) {
    auto self = weak.lock();
    if (!self)
      return;
    if (why) {
      host_signal s{host_signal::lose_resources};
      s.reason = why;
      self->post_signal(std::move(s));
    } else if (auto err = self->await_factory_args()) {
      // No thread could be started for the factory: the calls fail.
      host_signal s{host_signal::lose_resources};
      s.reason = err;
      self->post_signal(std::move(s));
    }
  };
  bool granted = false;
  auto lease = rt_->resources->reserve(std::move(request), std::move(listener), granted);
  {
    // The listener may have started the host already, which may end.
    std::lock_guard<std::mutex> guard{lease_mtx_};
    if (!terminated_lease_)
      lease_ = std::move(lease);
  }
  if (!granted)
    return {}; // the listener goes on once the resources are free
  return await_factory_args();
}

caf::error host_impl::await_factory_args() {
  auto self = shared_from_this();
  if (factory_deps_) {
    factory_args_pinned_ = true;
    auto on_ready = [self] { self->post_signal({host_signal::start}); };
    if (!objstore::internal::await_dependencies(table(), *factory_deps_, [&] { return on_ready; }))
      return {}; // the last argument to arrive starts it
  }
  bool wake = false;
  (void)mailbox_.signal({host_signal::start}, wake);
  // At creation nothing woke the host yet. Granted resources later, calls
  // may have woken it meanwhile: a host is posted once at a time.
  if (!wake)
    return {};
  if (auto err = threads_->post(self)) {
    unpin_factory_args();
    return err;
  }
  return {};
}

void host_impl::release_spare_memory() {
  spare_queue_ = {};
  // The last batch's scratch: emptied already.
  batch_ = {};
  signals_ = {};
  callers_ = {};
  if (unfinished_.empty())
    unfinished_ = {};
  if (queues_.empty())
    queue_map{}.swap(queues_);
}

/// The factory runs now, or never will: its arguments need no pin.
void host_impl::unpin_factory_args() {
  if (factory_deps_ && factory_args_pinned_.exchange(false))
    objstore::internal::unpin_all(table(), *factory_deps_);
}

// -- the host's job -----------------------------------------------------------

void host_impl::run() noexcept {
  try {
    run_slice();
  } catch (...) {
    // A bug that escapes the host's own error handling: answer every call,
    // those of the batch it was reading too.
    terminate("failed outside its methods: " + current_exception_text());
    for (auto& call : batch_)
      if (!call->accepted && !call->done)
        fail_call(call, death_);
    batch_.clear();
    signals_.clear();
  }
}

void host_impl::post_self() {
  (void)threads_->post(shared_from_this(), false);
}

/// Handles the mailbox, then looks for more for `spin_budget` before it
/// gives the thread back: a caller that sends again within that time (a
/// stream of calls, or a synchronous caller's next call) costs no post and
/// no wake-up. It spins only while no other job waits for a thread.
void host_impl::run_slice() {
  using clock = std::chrono::steady_clock;
  auto deadline = coarse_now() + run_budget;
  auto last_work = clock::now();
  for (;;) {
    if (terminated_)
      return;
    if (yield_) {
      yield_ = false;
      post_self();
      return;
    }
    mailbox_.take(batch_, signals_);
    bool took = !batch_.empty() || !signals_.empty();
    if (took) {
      handle_batch(deadline);
      batch_.clear();
      signals_.clear();
      last_work = clock::now();
    }
    if (!unfinished_.empty() && !yield_ && !terminated_) {
      // The last run spent its budget with calls ready: they go on now,
      // after the mailbox.
      resume_unfinished(deadline);
      last_work = clock::now();
      continue;
    }
    if (took)
      continue;
    auto left = spin_budget - (clock::now() - last_work);
    if (left.count() > 0 && !threads_->jobs_waiting()
        && spin_until([&] { return mailbox_.pending() || threads_->jobs_waiting(); }, left)
        && mailbox_.pending())
      continue;
    // An idle actor keeps no spare memory: with a million of them, it would
    // be most of theirs. Freed before the host sleeps: from then on a send
    // may post it and another thread run it.
    release_spare_memory();
    if (mailbox_.sleep())
      return;
  }
}

void host_impl::resume_unfinished(std::chrono::nanoseconds deadline) {
  std::vector<std::uint64_t> callers;
  callers.swap(unfinished_);
  for (auto caller : callers)
    (void)pump(caller, deadline); // past the deadline, a caller is noted again
  quit_if_done();
}

/// Signals in order, each after the calls sent before it; then the calls
/// left, queued first and run within one budget, so a batch of slow calls
/// cannot keep `kill` waiting.
void host_impl::handle_batch(std::chrono::nanoseconds deadline) {
  callers_.clear();
  std::size_t next = 0;
  auto take_calls = [&](std::size_t until) {
    for (; next < until; ++next)
      if (enqueue(batch_[next])
          && std::find(callers_.begin(), callers_.end(), batch_[next]->caller) == callers_.end())
        callers_.push_back(batch_[next]->caller);
  };
  for (auto& s : signals_) {
    if (s.what == host_signal::kill) {
      take_calls(std::min(s.calls_before, batch_.size()));
      on_kill(s.flag);
    } else {
      on_signal(s, deadline);
    }
    if (terminated_) {
      for (; next < batch_.size(); ++next)
        fail_call(batch_[next], death_);
      return;
    }
  }
  take_calls(batch_.size());
  if (pool_) {
    dispatch();
  } else {
    for (auto caller : callers_)
      (void)pump(caller, deadline); // past the deadline, a caller is noted for later
  }
  quit_if_done();
}

void host_impl::on_signal(host_signal& s, std::chrono::nanoseconds deadline) {
  switch (s.what) {
    case host_signal::start:
      if (ph_ != phase::starting)
        return; // killed while waiting
      unpin_factory_args();
      construct(deadline);
      return;
    case host_signal::ready:
      // With a pool the call may be settled by a runner already: only
      // dispatch, which finds it in the queues if it is still there.
      if (pool_ || (s.call->accepted && !s.call->done))
        run_ready(s.call->caller, deadline);
      return;
    case host_signal::stop:
      stopping_ = true; // ends once the batch's calls ran (quit_if_done)
      return;
    case host_signal::done:
      on_done(s.call, s.flag, s.generation);
      return;
    case host_signal::idle:
      return; // quit_if_done looks after the batch
    case host_signal::terminate:
      terminate("was stopped by CAF: its CAF handle quit (" + error_text(s.reason) + ")");
      return;
    case host_signal::lose_resources:
      terminate("lost its resources (" + error_text(s.reason) + ")");
      return;
    case host_signal::kill:
      return; // handled in order by handle_batch
  }
}

/// Calls sent before `kill` returned were queued when it struck (they fail);
/// those after it meet what it left: `actor_died`, or the rebuilt instance.
void host_impl::on_kill(bool no_restart) {
  bool may_restart = !no_restart && restarts_left();
  auto deadline = coarse_now() + run_budget;
  if (ph_ == phase::alive) {
    die("was killed", !no_restart, deadline);
  } else if (ph_ == phase::starting && may_restart) {
    // Killed before its factory ran (its arguments, or its start signal
    // that the kill overtook): no instance to end, but the calls queued so
    // far fail as in a restart, and the factory builds the new one.
    shown_restarts_ = ++restarts_done_;
    fail_queued(make_error(errc::actor_died, "actor " + label() + " was killed"), true);
  } else if (ph_ == phase::starting) {
    // Killed before its factory ran, for good: it never runs.
    unpin_factory_args();
    bury();
    death_ = make_error(errc::actor_died, "actor " + label() + " was killed");
    rt_->actors->release_name(id_);
    fail_queued(death_);
  }
}

/// From a runner: a call that ended the instance it ran on (if a kill
/// rebuilt it meanwhile, not this one).
void host_impl::on_done(const call_ptr& call, bool exited, std::uint64_t generation) {
  finish(call);
  bool current = false;
  {
    std::lock_guard<std::mutex> guard{pool_->mtx};
    --pool_->running;
    current = pool_->generation == generation;
  }
  if (exited && current && ph_ == phase::alive)
    die("ended itself through exit_actor()", true, coarse_now() + run_budget);
}

const std::string& host_impl::label() {
  return label_.text();
}

/// Changes the phase and shows it to `state()`.
void host_impl::enter(phase ph) {
  ph_ = ph;
  shown_phase_ = ph == phase::alive  ? actor_vitals::alive
                 : ph == phase::dead ? actor_vitals::dead
                                     : actor_vitals::starting;
}

/// Dead for good: the factory never runs again, so its stored arguments
/// (and the objects they refer to) are released now, not when the last
/// handle goes.
void host_impl::bury() {
  release_lease(); // before it shows as dead: what it held is free then
  enter(phase::dead);
  spec_.factory = nullptr;
}

void host_impl::release_lease() {
  std::shared_ptr<rustyray::internal::resource_lease> lease;
  {
    std::lock_guard<std::mutex> guard{lease_mtx_};
    terminated_lease_ = true;
    lease.swap(lease_);
  }
  lease = nullptr; // gives the resources back to the node
}

void host_impl::finish(const call_ptr& call) {
  call->done = true;
  settle(table(), *call);
}

void host_impl::fail_call(const call_ptr& call, caf::error reason) {
  call->output = std::move(reason);
  finish(call);
}

void host_impl::run_on_stop() {
  if (!instance_ || !spec_.on_stop)
    return;
  actor_scope in_actor{scope_};
  try {
    spec_.on_stop(instance_.get());
  } catch (...) {
    // The actor ends either way; there is no caller to tell.
  }
}

/// Lets the runners take calls on the current instance, or stops them.
void host_impl::open_pool(bool open) {
  if (!pool_)
    return;
  std::lock_guard<std::mutex> guard{pool_->mtx};
  if (open)
    ++pool_->generation; // a new instance (opened once per build)
  pool_->open = open;
  pool_->instance = open ? instance_ : nullptr;
  pool_->restarted = scope_.restarted;
}

/// Ends once stopping and nothing is queued or running.
void host_impl::quit_if_done() {
  if (!stopping_ || terminated_ || queued_ > 0 || ph_ == phase::starting || mailbox_.pending()
      || !unfinished_.empty())
    return; // pending: the next batch, then this again
  if (pool_) {
    std::lock_guard<std::mutex> guard{pool_->mtx};
    pool_->report_idle = true;
    if (pool_->busy())
      return; // the last runner to finish says so
  }
  run_on_stop();
  open_pool(false);
  instance_.reset();
  // No reason: a call that still arrives says "has stopped" from its ID
  // (submit_call), and the label is not built for every actor that ends.
  end(caf::error{}, caf::error{});
}

/// Removes the emptied queue `q`; returns the next one.
host_impl::queue_map::iterator host_impl::drop_queue(queue_map::iterator q) {
  auto next = std::next(q);
  auto node = queues_.extract(q);
  if (spare_queue_.empty())
    spare_queue_ = std::move(node);
  return next;
}

/// The queue of `caller`, made if it has none.
call_fifo& host_impl::queue_of(std::uint64_t caller) {
  if (auto q = queues_.find(caller); q != queues_.end())
    return q->second;
  if (spare_queue_.empty())
    return queues_[caller];
  spare_queue_.key() = caller;
  return queues_.insert(std::move(spare_queue_)).position->second;
}

/// Fails every accepted call that has not started, with `reason`; when the
/// instance is about to be rebuilt, keeps those that `max_task_retries`
/// lets run on the new one. Returns whether it kept any.
bool host_impl::fail_queued(const caf::error& reason, bool rebuilding) {
  std::vector<call_ptr> failed;
  bool kept = false;
  {
    auto queues = std::move(queues_);
    queues_.clear();
    queued_ = 0;
    unfinished_.clear();
    for (auto& [caller, queue] : queues)
      for (auto& call : queue) {
        if (rebuilding && runs_again(*call)) {
          queue_of(caller).push_back(std::move(call));
          ++queued_;
          kept = true;
        } else {
          failed.push_back(std::move(call));
        }
      }
  }
  if (pool_) {
    call_fifo ready;
    std::lock_guard<std::mutex> guard{pool_->mtx};
    ready.swap(pool_->ready);
    for (auto& call : ready) {
      if (rebuilding && runs_again(*call)) {
        pool_->ready.push_back(std::move(call));
        kept = true;
      } else {
        failed.push_back(std::move(call));
      }
    }
  }
  for (auto& call : failed)
    fail_call(call, reason);
  return kept;
}

/// Counts a run on a rebuilt instance if `max_task_retries` allows one more.
bool host_impl::runs_again(call_record& call) const noexcept {
  if (spec_.max_task_retries == 0
      || (spec_.max_task_retries > 0 && call.retries >= spec_.max_task_retries))
    return false;
  ++call.retries;
  return true;
}

/// Builds the instance (again, after a restart); on failure the actor is
/// dead. Then runs the queued calls, unless the caller has them resumed.
void host_impl::construct(std::chrono::nanoseconds deadline, bool run_queued) {
  scope_.restarted = restarts_done_ > 0;
  std::string failure;
  {
    actor_scope in_actor{scope_};
    try {
      auto built = spec_.factory();
      if (built) {
        instance_ = std::move(*built);
        if (spec_.on_start)
          spec_.on_start(instance_.get());
      } else {
        failure = error_text(built.error());
      }
    } catch (...) {
      failure = "the factory threw " + current_exception_text();
    }
  }
  if (!failure.empty()) {
    instance_.reset();
    bury();
    death_ = make_error(errc::actor_died, "actor " + label() + " could not be created: " + failure);
    rt_->actors->release_name(id_);
    fail_queued(death_);
    quit_if_done();
    return;
  }
  enter(phase::alive);
  open_pool(true);
  if (run_queued)
    pump_all(deadline);
}

/// The instance is gone (`exit_actor`, `kill`): queued calls fail; the actor
/// is rebuilt if restarts are left, else it stays dead and answers every
/// call with `actor_died`.
void host_impl::die(const std::string& why, bool may_restart, std::chrono::nanoseconds deadline) {
  auto reason = make_error(errc::actor_died, "actor " + label() + " " + why);
  bool rebuild = may_restart && restarts_left();
  open_pool(false);
  bool kept = fail_queued(reason, rebuild);
  run_on_stop();
  instance_.reset();
  if (rebuild) {
    shown_restarts_ = ++restarts_done_;
    if (kept && !pool_) {
      // The calls kept for the new instance run in the host's next slice,
      // not from here: a kept call that ends the instance again would
      // otherwise nest one more rebuild in this one's stack.
      for (const auto& [caller, queue] : queues_)
        unfinished_.push_back(caller);
      yield_ = true;
    }
    construct(deadline, !(kept && !pool_));
    return;
  }
  bury();
  death_ = make_error(errc::actor_died,
                      "actor " + label() + " " + why
                        + (may_restart && spec_.max_restarts > 0 ? " and has no restarts left" : "")
                        + "; start a new actor");
  rt_->actors->release_name(id_);
  quit_if_done();
}

/// The host ends now, not after a graceful stop (its CAF handle quit, or an
/// exception escaped): every call it holds or that reaches it later fails
/// with `actor_died` saying `why`, `on_stop` runs as after `kill`, the name
/// is free.
void host_impl::terminate(const std::string& why) {
  if (terminated_)
    return;
  auto reason = make_error(errc::actor_died,
                           "actor " + label() + " " + why + "; its calls fail, start a new actor");
  open_pool(false);
  fail_queued(reason);
  if (ph_ == phase::starting)
    unpin_factory_args();
  run_on_stop();
  instance_.reset();
  bury();
  death_ = reason;
  rt_->actors->release_name(id_);
  // Runners finish the call they run (each stores its own result) and find
  // the pool closed.
  end(reason, reason);
}

/// The last step of either end: later sends fail with `calls_reason`, the
/// handles detach, the CAF face quits with `face_reason`, waiters wake.
void host_impl::end(const caf::error& calls_reason, caf::error face_reason) {
  terminated_ = true;
  release_lease();
  // The factory's stored arguments (and the objects they refer to) go now,
  // before anyone learns of the end, not with the host object.
  spec_.factory = nullptr;
  for (auto& call : mailbox_.close(calls_reason))
    fail_call(call, calls_reason ? calls_reason : stopped_error(label()));
  rt_->actors->remove(id_, calls_reason);
  spare_queue_ = {};
  caf::actor face;
  {
    std::lock_guard<std::mutex> guard{face_mtx_};
    ended_ = true;
    face.swap(face_);
  }
  if (face)
    caf::anon_send(face, end_atom::value, std::move(face_reason));
  if (own_threads_)
    threads_->stop(); // its thread ends once this job returns
}

/// Concurrency 1: runs the caller's ready calls in order. Returns false if
/// the budget ran out with calls left: the job is posted again and goes on
/// after other actors had the thread (and after the mailbox, so that `kill`
/// gets its turn between calls).
bool host_impl::pump(std::uint64_t caller, std::chrono::nanoseconds deadline) {
  if (ph_ != phase::alive)
    return true;
  auto q = queues_.find(caller);
  while (q != queues_.end() && !q->second.empty() && q->second.front()->ready.load()) {
    if (coarse_now() > deadline) {
      if (std::find(unfinished_.begin(), unfinished_.end(), caller) == unfinished_.end())
        unfinished_.push_back(caller);
      yield_ = true;
      return false;
    }
    auto call = std::move(q->second.front());
    q->second.pop_front();
    if (q->second.empty())
      drop_queue(q);
    auto result = execute(*call, instance_.get(), scope_, label_, table(), rt_->node().recording(),
                          own_threads_);
    --queued_;
    finish(call);
    if (result == outcome::exited) {
      die("ended itself through exit_actor()", true, deadline);
      return !yield_;
    }
    q = queues_.find(caller);
  }
  return true;
}

/// Concurrency > 1: moves the ready calls, in any order, to the runners'
/// pool and posts as many runners as they need.
void host_impl::dispatch() {
  if (ph_ != phase::alive)
    return;
  std::size_t wake = 0;
  {
    std::lock_guard<std::mutex> guard{pool_->mtx};
    for (auto q = queues_.begin(); q != queues_.end();) {
      auto& queue = q->second;
      for (auto i = queue.begin(); i != queue.end();) {
        if ((*i)->ready.load()) {
          pool_->ready.push_back(std::move(*i));
          --queued_;
          i = queue.erase(i);
        } else {
          ++i;
        }
      }
      q = queue.empty() ? drop_queue(q) : std::next(q);
    }
    auto& p = *pool_;
    while (p.open && p.ready.size() > p.awake - p.running && p.awake < p.max_runners) {
      ++p.awake;
      ++wake;
    }
  }
  for (; wake > 0; --wake)
    (void)threads_->post(std::make_shared<runner_job>(shared_from_this()), false);
}

/// Runs what became runnable for `caller`: its queue in order, or any ready
/// call when calls may run at once.
void host_impl::run_ready(std::uint64_t caller, std::chrono::nanoseconds deadline) {
  if (pool_)
    dispatch();
  else
    (void)pump(caller, deadline);
}

void host_impl::pump_all(std::chrono::nanoseconds deadline) {
  if (pool_) {
    dispatch();
  } else {
    std::vector<std::uint64_t> callers;
    callers.reserve(queues_.size());
    for (const auto& [caller, queue] : queues_)
      callers.push_back(caller);
    for (auto caller : callers)
      (void)pump(caller, deadline);
  }
  quit_if_done();
}

/// Queues the call behind its caller's earlier ones; false if it failed at
/// once (the actor is dead).
bool host_impl::enqueue(const call_ptr& call) {
  if (ph_ == phase::dead) {
    fail_call(call, death_);
    return false;
  }
  call->accepted = true;
  queue_of(call->caller).push_back(call);
  ++queued_;
  return true;
}

void host_impl::run_calls() {
  auto& p = *pool_;
  auto deadline = coarse_now() + run_budget;
  std::unique_lock<std::mutex> guard{p.mtx};
  for (;;) {
    if (!p.open || p.ready.empty()) {
      --p.awake;
      bool tell = p.report_idle && !p.busy();
      guard.unlock();
      if (tell)
        post_signal({host_signal::idle});
      return;
    }
    if (coarse_now() > deadline) {
      guard.unlock();
      (void)threads_->post(std::make_shared<runner_job>(shared_from_this()), false);
      return; // still awake: the posted job goes on
    }
    auto call = std::move(p.ready.front());
    p.ready.pop_front();
    auto instance = p.instance;
    auto generation = p.generation;
    actor_scope_state scope{p.restarted, scope_.caller};
    ++p.running;
    guard.unlock();
    auto result =
      execute(*call, instance.get(), scope, label_, table(), rt_->node().recording(), own_threads_);
    instance.reset();
    if (result == outcome::exited) {
      guard.lock();
      if (p.generation == generation)
        p.open = false; // no more calls on an instance that ended
      guard.unlock();
      // The host settles it, counts it done and ends the instance.
      host_signal done{host_signal::done};
      done.call = std::move(call);
      done.flag = true;
      done.generation = generation;
      post_signal(std::move(done));
      guard.lock();
      continue;
    }
    settle(table(), *call);
    call.reset();
    guard.lock();
    --p.running;
  }
}

void runner_job::run() noexcept {
  host_->run_calls();
}

} // namespace

// -- actor_host's members ------------------------------------------------------

bool actor_host::send(const call_ptr& call, caf::error& reason) {
  return impl(*this).send(call, reason);
}

void actor_host::ready(const call_ptr& call) {
  host_signal s{host_signal::ready};
  s.call = call;
  impl(*this).post_signal(std::move(s));
}

void actor_host::stop() {
  impl(*this).post_signal({host_signal::stop});
}

void actor_host::kill(bool no_restart) {
  host_signal s{host_signal::kill};
  s.flag = no_restart;
  impl(*this).post_signal(std::move(s));
}

caf::error actor_host::closed_reason() const {
  return static_cast<const host_impl&>(*this).closed_reason();
}

caf::actor actor_host::caf_handle() {
  return impl(*this).caf_handle();
}

void actor_host::caf_ended(const caf::error& reason) {
  host_signal s{host_signal::terminate};
  s.reason = reason;
  impl(*this).post_signal(std::move(s));
}

actor_vitals actor_host::vitals() const {
  return impl(*this).vitals();
}

caf::expected<std::shared_ptr<actor_host>>
start_actor_host(std::shared_ptr<actor_runtime> rt, const object_id& id, detail::actor_spec spec,
                 rustyray::internal::resource_amounts request) {
  auto threads = rt->threads;
  bool dedicated = spec.dedicated_thread;
  if (dedicated) {
    executor_options opts;
    opts.threads = 1;
    opts.max_threads = 1;
    opts.what = "dedicated actor thread";
    threads = executor::make(std::move(opts));
  }
  auto host = std::make_shared<host_impl>(std::move(rt), id, std::move(spec), threads);
  if (auto err = host->start(std::move(request))) {
    if (dedicated)
      threads->stop();
    return err;
  }
  return std::shared_ptr<actor_host>{std::move(host)};
}

caf::error stopped_error(const std::string& actor) {
  return make_error(errc::actor_died, "actor " + actor + " has stopped; start a new actor");
}

} // namespace rustyray::actors::internal
