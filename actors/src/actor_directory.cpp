#include "rustyray/actors/internal/actor_directory.hpp"

#include "rustyray/errc.hpp"

namespace rustyray::actors::internal {

using namespace rustyray::internal; // the base layer's internals

namespace {

caf::error name_taken(const std::string& name, const std::string& ns) {
  return make_error(errc::name_taken,
                    "an actor named \"" + name + "\" is already running in namespace \"" + ns
                      + "\"; pick another name or namespace, use rustyray::get_actor to reach "
                        "it, or kill it first");
}

} // namespace

actor_directory::shard& actor_directory::shard_of(const object_id& id) noexcept {
  return shards_[id_mix(id) % shard_count]; // the low bits: id_map slots by the top ones
}

const actor_directory::shard& actor_directory::shard_of(const object_id& id) const noexcept {
  return shards_[id_mix(id) % shard_count];
}

caf::error actor_directory::check_name(const std::string& name, const std::string& ns) const {
  std::lock_guard<adaptive_mutex> guard{names_mtx_};
  return !name.empty() && by_name_.count({ns, name}) > 0 ? name_taken(name, ns) : caf::error{};
}

caf::error actor_directory::add(const std::shared_ptr<detail::actor_core>& core,
                                std::shared_ptr<actor_host> host) {
  auto& sh = shard_of(core->id);
  std::lock_guard<adaptive_mutex> guard{sh.mtx};
  bool named = !core->name.empty();
  if (named) {
    std::lock_guard<adaptive_mutex> names{names_mtx_};
    if (!by_name_.emplace(std::make_pair(core->ray_namespace, core->name), core).second)
      return name_taken(core->name, core->ray_namespace);
  }
  try {
    sh.by_id.insert(core->id, entry{core, std::move(host), named});
  } catch (...) {
    if (named) {
      std::lock_guard<adaptive_mutex> names{names_mtx_};
      by_name_.erase({core->ray_namespace, core->name});
    }
    throw;
  }
  count_.fetch_add(1, std::memory_order_relaxed);
  return {};
}

std::shared_ptr<detail::actor_core> actor_directory::find(const object_id& id) const {
  auto& sh = shard_of(id);
  std::lock_guard<adaptive_mutex> guard{sh.mtx};
  auto* e = sh.by_id.find(id);
  return e == nullptr ? nullptr : e->core.lock();
}

std::shared_ptr<detail::actor_core> actor_directory::find_name(const std::string& name,
                                                               const std::string& ns) const {
  std::lock_guard<adaptive_mutex> guard{names_mtx_};
  auto i = by_name_.find({ns, name});
  return i == by_name_.end() ? nullptr : i->second;
}

void actor_directory::release_name(const object_id& id) {
  std::shared_ptr<detail::actor_core> dropped; // destroyed outside the locks
  {
    auto& sh = shard_of(id);
    std::lock_guard<adaptive_mutex> guard{sh.mtx};
    auto* e = sh.by_id.find(id);
    if (e == nullptr || !e->named)
      return;
    dropped = forget_name(*e);
    e->named = false;
  }
  if (dropped && name_released_)
    name_released_(*dropped);
}

std::shared_ptr<detail::actor_core> actor_directory::forget_name(const entry& e) {
  // While its name is registered, `by_name_` holds the core: it is alive.
  auto core = e.core.lock();
  if (!core)
    return nullptr;
  std::lock_guard<adaptive_mutex> names{names_mtx_};
  auto j = by_name_.find({core->ray_namespace, core->name});
  if (j == by_name_.end() || j->second != core)
    return nullptr;
  by_name_.erase(j);
  return core;
}

void actor_directory::remove(const object_id& id, const caf::error& reason) {
  std::shared_ptr<detail::actor_core> dropped;
  std::shared_ptr<detail::actor_core> live;
  entry gone;
  {
    auto& sh = shard_of(id);
    std::lock_guard<adaptive_mutex> guard{sh.mtx};
    auto* e = sh.by_id.find(id);
    if (e == nullptr)
      return;
    // A handle that outlives its host must not keep the stopped actor (and
    // its thread) alive.
    if ((live = e->core.lock()))
      live->ended(reason);
    if (e->named)
      dropped = forget_name(*e);
    gone = sh.by_id.erase(id);
  }
  if (dropped && name_released_)
    name_released_(*dropped);
  if (count_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    // Under the waiter's lock: it cannot miss the wake between its check
    // and its wait.
    std::lock_guard<std::mutex> guard{empty_mtx_};
    emptied_.notify_all();
  }
}

std::vector<std::pair<object_id, std::shared_ptr<actor_host>>> actor_directory::hosts() const {
  std::vector<std::pair<object_id, std::shared_ptr<actor_host>>> result;
  result.reserve(count_.load(std::memory_order_relaxed));
  for (auto& sh : shards_) {
    std::lock_guard<adaptive_mutex> guard{sh.mtx};
    sh.by_id.for_each(
      [&](const object_id& id, const entry& e) { result.emplace_back(id, e.host); });
  }
  return result;
}

void actor_directory::wait_empty() const {
  std::unique_lock<std::mutex> guard{empty_mtx_};
  emptied_.wait(guard, [this] { return count_.load(std::memory_order_acquire) == 0; });
}

void actor_directory::clear() {
  name_table names;
  {
    std::lock_guard<adaptive_mutex> guard{names_mtx_};
    names.swap(by_name_);
  }
  for (auto& sh : shards_) {
    rustyray::internal::id_map<entry> ids;
    {
      std::lock_guard<adaptive_mutex> guard{sh.mtx};
      ids.swap(sh.by_id);
    }
    if (!ids.empty() && count_.fetch_sub(ids.size(), std::memory_order_acq_rel) == ids.size()) {
      std::lock_guard<std::mutex> guard{empty_mtx_};
      emptied_.notify_all();
    }
    ids.for_each([](const object_id&, const entry& e) {
      if (auto core = e.core.lock())
        core->detach();
    });
  }
}

} // namespace rustyray::actors::internal
