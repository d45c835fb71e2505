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
                                std::shared_ptr<actor_host> host,
                                std::shared_ptr<const actor_vitals> vitals) {
  std::lock_guard<adaptive_mutex> guard{mtx_};
  if (!core->name.empty() && !by_name_.emplace(core->name, core).second)
    return name_taken(core->name);
  by_id_.emplace(core->id, entry{core, std::move(host), core->name, std::move(vitals)});
  return {};
}

std::shared_ptr<detail::actor_core> actor_directory::find(const object_id& id) const {
  std::lock_guard<adaptive_mutex> guard{mtx_};
  auto i = by_id_.find(id);
  return i == by_id_.end() ? nullptr : i->second.core.lock();
}

std::shared_ptr<detail::actor_core> actor_directory::find_name(const std::string& name) const {
  std::lock_guard<adaptive_mutex> guard{mtx_};
  auto i = by_name_.find(name);
  return i == by_name_.end() ? nullptr : i->second;
}

void actor_directory::release_name(const object_id& id) {
  std::shared_ptr<detail::actor_core> dropped; // destroyed outside the lock
  std::lock_guard<adaptive_mutex> guard{mtx_};
  auto i = by_id_.find(id);
  if (i == by_id_.end() || i->second.name.empty())
    return;
  auto j = by_name_.find(i->second.name);
  if (j != by_name_.end() && j->second->id == id) {
    dropped = std::move(j->second);
    by_name_.erase(j);
  }
  i->second.name.clear();
}

void actor_directory::remove(const object_id& id, const caf::error& reason) {
  std::shared_ptr<detail::actor_core> dropped;
  std::shared_ptr<detail::actor_core> live;
  std::shared_ptr<actor_host> host;
  std::lock_guard<adaptive_mutex> guard{mtx_};
  auto i = by_id_.find(id);
  if (i == by_id_.end())
    return;
  // A handle that outlives its host must not keep the stopped actor (and
  // its thread) alive.
  if ((live = i->second.core.lock()))
    live->ended(reason);
  if (!i->second.name.empty()) {
    auto j = by_name_.find(i->second.name);
    if (j != by_name_.end() && j->second->id == id) {
      dropped = std::move(j->second);
      by_name_.erase(j);
    }
  }
  host = std::move(i->second.host);
  by_id_.erase(i);
}

std::vector<std::shared_ptr<actor_host>> actor_directory::hosts() const {
  std::lock_guard<adaptive_mutex> guard{mtx_};
  std::vector<std::shared_ptr<actor_host>> result;
  result.reserve(by_id_.size());
  for (const auto& [id, e] : by_id_)
    result.push_back(e.host);
  return result;
}

std::vector<std::pair<object_id, std::shared_ptr<const actor_vitals>>>
actor_directory::vitals() const {
  std::vector<std::pair<object_id, std::shared_ptr<const actor_vitals>>> result;
  std::lock_guard<adaptive_mutex> guard{mtx_};
  result.reserve(by_id_.size());
  for (const auto& [id, e] : by_id_)
    result.emplace_back(id, e.vitals);
  return result;
}

void actor_directory::clear() {
  std::unordered_map<object_id, entry> ids;
  std::unordered_map<std::string, std::shared_ptr<detail::actor_core>> names;
  {
    std::lock_guard<adaptive_mutex> guard{mtx_};
    ids.swap(by_id_);
    names.swap(by_name_);
  }
  for (auto& [id, e] : ids)
    if (auto core = e.core.lock())
      core->detach();
}

} // namespace rustyray::actors::internal
