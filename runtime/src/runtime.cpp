#include "rustyray/runtime.hpp"

#include <atomic>
#include <algorithm>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>

#include <pthread.h>

#include <caf/all.hpp>

#include "rustyray/internal/bounded_bytes.hpp"
#include "rustyray/internal/error_text.hpp"
#include "rustyray/internal/published.hpp"
#include "runtime_state.hpp"
#include "rustyray/state.hpp"
#include "rustyray/internal/threads.hpp"
#include "rustyray/error.hpp"
#include "rustyray/log.hpp"
#include "rustyray/objstore/atoms.hpp"
#include "rustyray/objstore/store_stats.hpp"
#include "rustyray/objstore/stored_object.hpp"
#include "rustyray/actors/internal/actor_directory.hpp"
#include "rustyray/actors/internal/actor_host.hpp"
#include "rustyray/internal/executor.hpp"
#include "rustyray/actors/internal/bridge.hpp"
#include "rustyray/internal/function_registry.hpp"
#include "rustyray/tasks/internal/scheduler.hpp"
#include "rustyray/objstore/internal/store_actor.hpp"

namespace rustyray {

// -- the global slot and start-up ---------------------------------------------

namespace internal {

namespace {

// Serializes init and shutdown.
std::mutex lifecycle_mtx;

/// How long a worker process (`config.worker`) that stopped serving waits
/// for its running tasks before it ends anyway.
constexpr auto worker_exit_wait = std::chrono::seconds(2);

// Set on a thread while it runs shutdown: the own actor system's destructor
// (and so the shutdown hook below) runs inside it.
thread_local bool shutting_down_here = false;

/// Marks the calling thread as `shutting_down_here` for its scope.
struct shutdown_scope {
  shutdown_scope() {
    shutting_down_here = true;
  }
  ~shutdown_scope() {
    shutting_down_here = false;
  }
  shutdown_scope(const shutdown_scope&) = delete;
  shutdown_scope& operator=(const shutdown_scope&) = delete;
};

void shutdown_at_exit() noexcept;

/// The running runtime (its per-layer contexts are published beside it).
/// A program that leaves `main` without `shutdown()` reaches the
/// destructor, which shuts the runtime down: destroying it as it was would
/// destroy its actor system while RustyRay's actors live, and that waits
/// for them forever.
struct global_slot {
  published<runtime_state> runtime;
  ~global_slot() {
    shutdown_at_exit();
  }
} global;

// A runtime left to the exiting process (see shutdown_at_exit): reachable
// from here, so that leak checkers do not count it.
std::shared_ptr<runtime_state>* abandoned = nullptr;

/// The running runtime, for init and shutdown (under lifecycle_mtx), without
/// the per-thread cache: it may already be destroyed when the process exits.
std::shared_ptr<runtime_state> running() {
  return global.runtime.load();
}

/// Makes `rt` and its layers' contexts current (null: none).
void publish(const std::shared_ptr<runtime_state>& rt) {
  cluster::internal::publish_cluster(rt ? rt->cluster : nullptr);
  objstore::internal::publish_store(rt ? rt->store : nullptr);
  rustyray::tasks::internal::publish_tasks(rt ? rt->tasks : nullptr);
  rustyray::actors::internal::publish_actors(rt ? rt->actors : nullptr);
  global.runtime.publish(rt);
}

std::string render_error(std::uint8_t code, caf::atom_value, const caf::message& context) {
  auto result = to_string(static_cast<errc>(code));
  if (context.match_elements<std::string>())
    result += ": " + context.get_as<std::string>(0);
  return result;
}

void check_not_running() {
  if (running())
    throw error{errc::already_initialized,
                "rustyray::init was called while a runtime is running; call "
                "rustyray::shutdown() first, or check rustyray::is_initialized()"};
}

/// The resource totals: CPU = num_workers unless set, plus custom resources,
/// in thousandths.
tasks::internal::resource_amounts resource_totals(const config& cfg, std::size_t num_workers) {
  tasks::internal::resource_amounts total;
  total["CPU"] = static_cast<std::int64_t>(num_workers) * 1000;
  for (const auto& [name, amount] : cfg.resources)
    total[name] = static_cast<std::int64_t>(amount * 1000 + 0.5);
  return total;
}

void start(std::shared_ptr<runtime_state> rt, config cfg, caf::actor_system& system) {
  if (log_level level; parse_log_level(cfg.log_level, level)) // empty: left as it is
    set_log_level(level);
  auto num_workers = cfg.num_workers != 0
                       ? cfg.num_workers
                       : std::max<std::size_t>(1, std::thread::hardware_concurrency());
  auto totals = resource_totals(cfg, num_workers);
  auto self = std::make_shared<node>(std::move(cfg), system);
  const auto& c = self->cfg();
  // First: a refused join leaves nothing else to tear down.
  if (c.is_head || !c.head_address.empty())
    rt->cluster = cluster::internal::cluster_runtime::start(
      *self, cluster::internal::resource_units(totals),
      [] {
        // Heartbeats may start before the task system is published.
        auto tasks = rustyray::tasks::internal::current_tasks();
        return tasks ? cluster::internal::resource_units(tasks->tasks->snapshot().available)
                     : std::map<std::string, double>{};
      },
      [] {
        // For `rustyray status`: the counts `state()` shows.
        cluster::internal::node_report report;
        if (!is_initialized())
          return report;
        try {
          auto now = rustyray::state();
          report.objects = now["object_store"].value("objects", std::uint64_t{0});
          report.bytes = now["object_store"].value("bytes_used", std::uint64_t{0});
          for (const auto& [key, value] : now["tasks"].items())
            if (value.is_number_unsigned())
              report.tasks[key] = value.template get<std::uint64_t>();
          for (const auto& actor : now["actors"])
            ++report.actors[actor.value("state", std::string{"?"})];
        } catch (const error&) {
          // shutting down meanwhile: an empty report
        }
        return report;
      });
  auto store = std::make_shared<objstore::internal::store_context>();
  store->node = self;
  store->pool =
    std::make_shared<buffer_pool>(std::min(c.buffer_pool_capacity, c.object_store_capacity));
  store->table = std::make_shared<objstore::internal::object_table>(
    c.object_store_capacity, [pool = store->pool](caf::message& dropped, std::uint64_t size) {
      pool->recycle(dropped, size);
    });
  store->actor = objstore::internal::spawn_store_actor(system, store->table);
  auto tasks = std::make_shared<rustyray::tasks::internal::task_runtime>();
  tasks->store = store;
  tasks->tasks = std::make_shared<rustyray::tasks::internal::task_context>(
    num_workers, std::move(totals), self->recording_ptr());
  tasks->scheduler = rustyray::tasks::internal::spawn_scheduler(system, store->table, tasks->tasks);
  tasks->resources = rustyray::tasks::internal::make_resource_broker(tasks);
  auto actors = std::make_shared<rustyray::actors::internal::actor_runtime>();
  actors->store = store;
  actors->actors = std::make_shared<rustyray::actors::internal::actor_directory>();
  actors->resources = tasks->resources;
  executor_options threads;
  threads.max_threads = c.max_actor_threads;
  threads.threads =
    std::min(c.max_actor_threads,
             c.actor_threads != 0 ? c.actor_threads
                                  : std::max<std::size_t>(1, std::thread::hardware_concurrency()));
  threads.what = "actor thread";
  actors->threads = executor::make(std::move(threads));
  actors->bridge = rustyray::actors::internal::spawn_bridge(system);
  if (rt->cluster)
    rt->cluster->attach(tasks, *actors);
  rt->node = std::move(self);
  rt->store = std::move(store);
  rt->tasks = std::move(tasks);
  rt->actors = std::move(actors);
  publish(rt);
}

} // namespace

std::shared_ptr<runtime_state> current() noexcept {
  return global.runtime.get();
}

std::shared_ptr<runtime_state> current_or_throw() {
  return global.runtime.get_or_throw();
}

} // namespace internal

using internal::lifecycle_mtx;

// -- init ---------------------------------------------------------------------

void init() {
  init(config::from_env());
}

void init(caf::actor_system& system) {
  init(system, config::from_env());
}

void init(config cfg) {
  if (cfg.worker) {
    if (cfg.head_address.empty())
      throw error{errc::invalid_config,
                  "a worker (config.worker, RUSTYRAY_WORKER) joins a cluster: set "
                  "config.head_address (or RUSTYRAY_ADDRESS) to its head's host:port"};
    auto joined = std::move(cfg);
    joined.worker = false;
    init(std::move(joined));
    // The process is the cluster's now: it serves, then ends. Tasks still
    // running get a moment to finish; one that runs on does not keep a
    // process that left the cluster alive.
    serve();
    std::thread{[] {
      std::this_thread::sleep_for(internal::worker_exit_wait);
      log(log_level::warning, "cluster: this worker ends with tasks still running (they did "
                              "not finish within "
                                + internal::milliseconds_text(internal::worker_exit_wait)
                                + " of its leaving)");
      std::_Exit(0);
    }}.detach();
    shutdown();
    std::exit(0);
  }
  std::lock_guard<std::mutex> guard{lifecycle_mtx};
  internal::check_not_running();
  internal::check_remote_registrations();
  cfg.validate();
  auto rt = std::make_shared<internal::runtime_state>();
  rt->own_config = std::make_unique<caf::actor_system_config>();
  configure(*rt->own_config);
  // "sharing" wakes a thread at once for each message from outside CAF,
  // where "stealing"'s idle threads poll with sleeps: synchronous callers
  // wait far less (docs/perf-log.md).
  rt->own_config->set("scheduler.policy", caf::atom_from_string(cfg.scheduler_policy));
  if (cfg.is_head || !cfg.head_address.empty())
    cluster::internal::load_network(*rt->own_config, cfg.tls);
  rt->own_system = std::make_unique<caf::actor_system>(*rt->own_config);
  auto& system = *rt->own_system;
  try {
    internal::start(rt, std::move(cfg), system);
  } catch (...) {
    // Nothing was published: the own system goes with `rt`, and its
    // shutdown hook must not wait for the lock this thread holds.
    internal::shutdown_scope marked;
    rt = nullptr;
    throw;
  }
  internal::release_thread_logger(); // see there: shutdown may run elsewhere
}

void init(caf::actor_system& system, config cfg) {
  if (cfg.worker)
    throw error{errc::invalid_config,
                "config.worker (RUSTYRAY_WORKER) makes init end the process once the cluster "
                "is done with it: not for a runtime embedded in an application's actor system; "
                "call rustyray::serve() after init instead"};
  std::lock_guard<std::mutex> guard{lifecycle_mtx};
  internal::check_not_running();
  internal::check_remote_registrations();
  if (system.config().error_renderers.count(errc_category) == 0)
    throw error{errc::invalid_config,
                "the actor_system was created without RustyRay's types: call "
                "rustyray::configure(cfg) on its actor_system_config before constructing "
                "the actor_system"};
  cfg.validate();
  internal::start(std::make_shared<internal::runtime_state>(), std::move(cfg), system);
  internal::release_thread_logger();
}

// -- shutdown -----------------------------------------------------------------

namespace internal {

namespace {

/// Stops `rt`; the caller holds lifecycle_mtx.
void stop(std::shared_ptr<runtime_state> rt) {
  shutdown_scope marked;
  rt->node->stop_accepting();
  auto& system = rt->system();
  // The node leaves the cluster first: no new work comes in.
  if (rt->cluster)
    rt->cluster->stop();
  // Actors run the calls already queued, then on_stop, then quit.
  auto actor_hosts = rt->actors->actors->hosts();
  for (auto& [id, host] : actor_hosts)
    host->stop();
  {
    // Queued tasks fail, running ones finish (gets still work meanwhile),
    // the workers stop.
    caf::scoped_actor self{system};
    self->request(rt->tasks->scheduler, caf::infinite, tasks::internal::drain_atom::value)
      .receive([] {}, [](const caf::error&) {});
    self->send_exit(rt->tasks->scheduler, caf::exit_reason::user_shutdown);
  }
  // Placement groups go with the runtime: their waits return.
  for (const auto& [id, group] : *rt->tasks->groups.lock())
    group->set(detail::placement_state::removed);
  // Every worker is gone, so no attempt runs that a deadline could end.
  rt->tasks->tasks->timer.stop();
  rt->tasks->scheduler = nullptr;
  internal::publish(nullptr);
  // Wake every waiter first: blocked gets return, and the store actor receives
  // a message for each promise it holds, ahead of the exit below.
  rt->table().close(make_error(errc::runtime_not_initialized,
                               "rustyray::shutdown() ran while this call waited for an "
                               "object; finish waiting before shutting down"));
  {
    // Calls still waiting for arguments got errors from the close above.
    rt->actors->actors->wait_empty();
    caf::scoped_actor self{system};
    self->send_exit(rt->actors->bridge, caf::exit_reason::user_shutdown);
  }
  actor_hosts.clear();
  // Every actor ended: the actor threads finish what is left (runners that
  // found their pool closed) and end.
  rt->actors->threads->stop();
  (void)rt->actors->threads->join();
  rt->actors->actors->clear();
  rt->actors->bridge = nullptr;
  {
    auto& store = rt->store->actor;
    caf::scoped_actor self{system};
    self->monitor(store);
    // A request queues behind those deliveries, so every promise is kept
    // before the actor quits.
    self->request(store, std::chrono::seconds(30), objstore::stats_atom::value)
      .receive([](const store_stats&) {}, [](const caf::error&) {});
    self->send_exit(store, caf::exit_reason::user_shutdown);
    self->receive([](const caf::down_msg&) {}, caf::after(std::chrono::seconds(30)) >> [] {});
    store = nullptr;
  }
  // The scoped actors above took this thread's logger reference: a
  // borrowed system may be destroyed on another thread.
  internal::release_thread_logger();
  // For a runtime with its own system this joins every CAF thread.
  rt->own_system.reset();
  rt->own_config.reset();
}

/// Where `shutdown` may not run: it waits for every task and actor call to
/// finish, and the caller is one of them.
void check_not_in_work(const char* what) {
  if (rustyray::tasks::internal::in_task() || rustyray::actors::internal::in_actor())
    throw error{errc::invalid_argument,
                std::string{what}
                  + " was called inside a task or an actor method, which shutdown would wait "
                    "for forever; call it from the thread that called init (or any other "
                    "thread, or a plain CAF actor), after the work it waits for"};
}

/// The runtime's shutdown when the process exits without one (`exit`, or a
/// return from `main`). Inside a task or an actor method nothing can wait
/// for that work to end: the runtime is left to the exiting process.
void shutdown_at_exit() noexcept {
  if (rustyray::tasks::internal::in_task() || rustyray::actors::internal::in_actor()) {
    abandoned = new std::shared_ptr<runtime_state>(running());
    return;
  }
  try {
    rustyray::shutdown();
  } catch (...) {
    rustyray::log(rustyray::log_level::error, "shutdown at exit failed");
  }
}

/// Shuts down the runtime running on `sys`, from the destructor of `sys`
/// (see shutdown_hook).
void shutdown_for(caf::actor_system& sys) {
  if (shutting_down_here)
    return; // the own system, destroyed by shutdown itself
  std::lock_guard<std::mutex> guard{lifecycle_mtx};
  auto rt = running();
  if (rt && &rt->system() == &sys)
    stop(std::move(rt));
}

/// Joins an application's actor system and RustyRay's lifetime. CAF 0.17
/// offers no call at the start of `~actor_system`, which waits for every
/// actor not spawned `hidden` (RustyRay's are), then stops the group
/// modules, then the scheduler. A group module's `stop` is therefore the
/// last point where the scheduler still runs: there a system destroyed
/// without `shutdown()` shuts RustyRay down first. The thread hook, which
/// `~actor_system`'s constructor initialises before the group modules, tells
/// the module its system, and marks the scheduler's threads for the
/// blocking-call warning.
struct system_link {
  caf::actor_system* system = nullptr;
};

class shutdown_hook : public caf::group_module {
public:
  explicit shutdown_hook(caf::actor_system& sys) : caf::group_module(sys, "rustyray") {}

  void stop() override {
    shutdown_for(system());
  }

  caf::expected<caf::group> get(const std::string&) override {
    return caf::sec::no_such_group_module;
  }

  caf::error load(caf::deserializer&, caf::group&) override {
    return caf::sec::no_such_group_module;
  }
};

class thread_marker : public caf::thread_hook {
public:
  explicit thread_marker(std::shared_ptr<system_link> link) : link_(std::move(link)) {}

  void init(caf::actor_system& sys) override {
    link_->system = &sys;
  }

  void thread_started() override {
    // CAF names its scheduler's threads "caf.multiplexer" (and a detached
    // actor's "caf.actor") before it calls the hooks.
    char name[16] = {};
    pthread_getname_np(pthread_self(), name, sizeof(name));
    if (std::strcmp(name, "caf.multiplexer") == 0)
      on_scheduler_thread = true;
  }

  void thread_terminates() override {}

private:
  std::shared_ptr<system_link> link_;
};

} // namespace

} // namespace internal

// -- embedding and the public lifecycle ---------------------------------------

void configure(caf::actor_system_config& cfg) {
  cfg.add_message_type<object_id>("rustyray::object_id");
  cfg.add_message_type<objstore::stored_object>("rustyray::stored_object");
  cfg.add_message_type<store_stats>("rustyray::store_stats");
  // CAF 0.17 has no built-in std::vector<uint8_t>; byte buffers are common objects.
  cfg.add_message_type<std::vector<std::uint8_t>>("rustyray::bytes");
  // ... decoded with a bound on the length prefix (bounded_bytes.hpp).
  internal::bound_byte_buffers(cfg);
  cluster::internal::add_cluster_types(cfg);
  internal::add_remote_types(cfg);
  cfg.add_error_category(errc_category, internal::render_error);
  auto link = std::make_shared<internal::system_link>();
  cfg.add_thread_hook<internal::thread_marker>(link);
  cfg.group_module_factories.emplace_back(
    [link]() -> caf::group_module* { return new internal::shutdown_hook(*link->system); });
}

void shutdown() {
  internal::check_not_in_work("rustyray::shutdown()");
  std::lock_guard<std::mutex> guard{lifecycle_mtx};
  if (auto rt = internal::running())
    internal::stop(std::move(rt));
}

bool is_initialized() noexcept {
  return internal::current() != nullptr;
}

runtime_guard::runtime_guard() {
  init();
}

runtime_guard::runtime_guard(config cfg) {
  init(std::move(cfg));
}

runtime_guard::runtime_guard(caf::actor_system& system) {
  init(system);
}

runtime_guard::runtime_guard(caf::actor_system& system, config cfg) {
  init(system, std::move(cfg));
}

runtime_guard::~runtime_guard() {
  try {
    shutdown();
  } catch (const error& e) {
    // Only inside a task or an actor method: the process's exit or the
    // system's end shuts the runtime down instead.
    rustyray::log(rustyray::log_level::error, std::string{"runtime_guard: "} + e.what());
  }
}

} // namespace rustyray
