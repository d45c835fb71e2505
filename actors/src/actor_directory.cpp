#include "rustyray/actors/internal/actor_directory.hpp"

#include "rustyray/errc.hpp"

namespace rustyray::actors::internal {

using namespace rustyray::internal; // the base layer's internals

namespace {

caf::error name_taken(const std::string& name) {
  return make_error(errc::name_taken, "an actor named \"" + name
                                        + "\" is already running; pick another name, use "
                                          "rustyray::get_actor to reach it, or kill it first");
}

} // namespace

caf::error actor_directory::check_name(const std::string& name) const {
  std::lock_guard<adaptive_mutex> guard{mtx_};
  return !name.empty() && by_name_.count(name) > 0 ? name_taken(name) : caf::error{};
}

caf::error actor_directory::add(const std::shared_ptr<detail::actor_core>& core,
                                std::shared_ptr<actor_host> host) {
  std::lock_guard<adaptive_mutex> guard{mtx_};
  bool named = !core->name.empty();
  if (named && !by_name_.emplace(core->name, core).second)
    return name_taken(core->name);
  try {
    by_id_.insert(core->id, entry{core, std::move(host), named});
  } catch (...) {
    if (named)
      by_name_.erase(core->name);
    throw;
  }
  return {};
}

std::shared_ptr<detail::actor_core> actor_directory::find(const object_id& id) const {
  std::lock_guard<adaptive_mutex> guard{mtx_};
  auto* e = by_id_.find(id);
  return e == nullptr ? nullptr : e->core.lock();
}

std::shared_ptr<detail::actor_core> actor_directory::find_name(const std::string& name) const {
  std::lock_guard<adaptive_mutex> guard{mtx_};
  auto i = by_name_.find(name);
  return i == by_name_.end() ? nullptr : i->second;
}

void actor_directory::release_name(const object_id& id) {
  std::shared_ptr<detail::actor_core> dropped; // destroyed outside the lock
  std::lock_guard<adaptive_mutex> guard{mtx_};
  auto* e = by_id_.find(id);
  if (e == nullptr || !e->named)
    return;
  dropped = forget_name(*e);
  e->named = false;
}

std::shared_ptr<detail::actor_core> actor_directory::forget_name(const entry& e) {
  // While its name is registered, `by_name_` holds the core: it is alive.
  auto core = e.core.lock();
  if (!core)
    return nullptr;
  auto j = by_name_.find(core->name);
  if (j == by_name_.end() || j->second != core)
    return nullptr;
  by_name_.erase(j);
  return core;
}

void actor_directory::remove(const object_id& id, const caf::error& reason) {
  std::shared_ptr<detail::actor_core> dropped;
  std::shared_ptr<detail::actor_core> live;
  entry gone;
  std::lock_guard<adaptive_mutex> guard{mtx_};
  auto* e = by_id_.find(id);
  if (e == nullptr)
    return;
  // A handle that outlives its host must not keep the stopped actor (and
  // its thread) alive.
  if ((live = e->core.lock()))
    live->ended(reason);
  if (e->named)
    dropped = forget_name(*e);
  gone = by_id_.erase(id);
  if (by_id_.empty())
    emptied_.notify_all();
}

std::vector<std::pair<object_id, std::shared_ptr<actor_host>>> actor_directory::hosts() const {
  std::lock_guard<adaptive_mutex> guard{mtx_};
  std::vector<std::pair<object_id, std::shared_ptr<actor_host>>> result;
  result.reserve(by_id_.size());
  by_id_.for_each([&](const object_id& id, const entry& e) { result.emplace_back(id, e.host); });
  return result;
}

void actor_directory::wait_empty() const {
  std::unique_lock<adaptive_mutex> guard{mtx_};
  emptied_.wait(guard, [this] { return by_id_.empty(); });
}

void actor_directory::clear() {
  rustyray::internal::id_map<entry> ids;
  std::unordered_map<std::string, std::shared_ptr<detail::actor_core>> names;
  {
    std::lock_guard<adaptive_mutex> guard{mtx_};
    ids.swap(by_id_);
    names.swap(by_name_);
  }
  ids.for_each([](const object_id&, const entry& e) {
    if (auto core = e.core.lock())
      core->detach();
  });
}

} // namespace rustyray::actors::internal
