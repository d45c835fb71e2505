// Resources held longer than a task: leases of actors (for their lifetime)
// and placement groups' bundles, granted from the pool's resources by the
// same accounting that dispatches tasks.

#include <algorithm>

#include <caf/all.hpp>

#include "rustyray/errc.hpp"
#include "rustyray/objstore/internal/object_table.hpp"
#include "rustyray/tasks/internal/task_runtime.hpp"
#include "task_pool.hpp"

namespace rustyray::tasks::internal {

using namespace rustyray::internal; // the base layer's internals

namespace {

/// Whether `request` names any resource of `names`.
bool asks_for(const resource_amounts& request, const resource_amounts& names) {
  return std::any_of(request.begin(), request.end(),
                     [&](const auto& entry) { return names.count(entry.first) != 0; });
}

class pool_broker final : public resource_broker {
public:
  explicit pool_broker(std::weak_ptr<task_runtime> runtime) : runtime_(std::move(runtime)) {}

  std::shared_ptr<resource_lease> reserve(resource_amounts request, lease_listener listener,
                                          bool& granted_now) override {
    granted_now = false;
    auto lease = std::make_shared<lease_record>(runtime_, std::move(request), std::move(listener));
    bool refused = true;
    if (auto rt = runtime_.lock()) {
      auto locked = rt->tasks->pool().lock();
      auto& st = *locked;
      if (rt->tasks->draining.load()) {
        lease->ph = lease_record::ended;
      } else if (st.waiting_leases.empty() && fits(st.available, lease->request)) {
        add_amounts(st.available, lease->request, -1);
        lease->ph = lease_record::held;
        st.granted_leases.push_back(lease);
        granted_now = true;
        refused = false;
      } else {
        st.waiting_leases.push_back(lease);
        refused = false;
      }
    } else {
      lease->ph = lease_record::ended;
    }
    // Its owner waits to hear of it: shutdown has begun.
    if (refused && lease->listener)
      lease->listener(make_error(errc::runtime_not_initialized,
                                 "rustyray::shutdown() ran before the resources were reserved"));
    return lease;
  }

  std::string unmet(const resource_amounts& request) const override {
    auto rt = runtime_.lock();
    return rt ? rt->tasks->unmet(request) : std::string{};
  }

  void add_resources(const resource_amounts& amounts) override {
    with_pool([&](pool_state& st, after_unlock& out, task_runtime& rt) {
      for (const auto& [name, amount] : amounts) {
        if (st.withdrawn.count(name) != 0)
          continue; // removed before it was added
        st.total[name] += amount;
        st.available[name] += amount;
      }
      // Tasks and leases waiting for these resources may fit now.
      dispatch(st, *rt.tasks, out, nullptr);
    });
  }

  void remove_resources(const resource_amounts& amounts, const caf::error& why) override {
    with_pool([&](pool_state& st, after_unlock& out, task_runtime& rt) {
      auto end_leases = [&](auto& leases) {
        for (auto i = leases.begin(); i != leases.end();) {
          auto lease = i->lock();
          if (!lease || lease->ph == lease_record::ended || !asks_for(lease->request, amounts)) {
            if (lease)
              out.touched.push_back(std::move(lease));
            ++i;
            continue;
          }
          if (lease->ph == lease_record::held)
            add_amounts(st.available, lease->request, 1);
          lease->ph = lease_record::ended;
          out.told.emplace_back(std::move(lease), why);
          i = leases.erase(i);
        }
      };
      end_leases(st.waiting_leases);
      end_leases(st.granted_leases);
      for (const auto& [name, amount] : amounts) {
        st.withdrawn.insert(name);
        st.total.erase(name);
        // What running tasks hold comes back when they finish, and is lost
        // with the entry: nothing can ask for these names any more.
        st.available.erase(name);
      }
      for (auto i = st.ready.begin(); i != st.ready.end();) {
        if (asks_for(*(*i)->request, amounts)) {
          out.unstarted.emplace_back(*i, withdrawn_from(st, **i));
          i = st.ready.erase(i);
        } else {
          ++i;
        }
      }
      // The resources the group held are the node's again.
      dispatch(st, *rt.tasks, out, nullptr);
    });
  }

private:
  template <class F>
  void with_pool(F&& f) {
    auto rt = runtime_.lock();
    if (!rt)
      return;
    after_unlock out;
    {
      auto locked = rt->tasks->pool().lock();
      f(*locked, out, *rt);
    }
    carry_out(out, rt->table(), rt->scheduler);
  }

  std::weak_ptr<task_runtime> runtime_;
};

} // namespace

lease_record::~lease_record() {
  auto rt = runtime.lock();
  if (!rt)
    return;
  after_unlock out;
  {
    auto locked = rt->tasks->pool().lock();
    auto& st = *locked;
    if (ph == held) {
      add_amounts(st.available, request, 1);
      dispatch(st, *rt->tasks, out, nullptr);
      // Its entry has expired: once half of them have, they go.
      if (++st.expired_grants * 2 > st.granted_leases.size()) {
        st.granted_leases.erase(std::remove_if(st.granted_leases.begin(), st.granted_leases.end(),
                                               [](const auto& w) { return w.expired(); }),
                                st.granted_leases.end());
        st.expired_grants = 0;
      }
    }
    ph = ended;
  }
  carry_out(out, rt->table(), rt->scheduler);
}

void grant_leases(pool_state& st, after_unlock& out) {
  for (auto i = st.waiting_leases.begin(); i != st.waiting_leases.end();) {
    auto lease = i->lock();
    if (!lease || lease->ph != lease_record::waiting) {
      if (lease)
        out.touched.push_back(std::move(lease));
      i = st.waiting_leases.erase(i);
      continue;
    }
    if (!fits(st.available, lease->request)) {
      out.touched.push_back(std::move(lease));
      ++i;
      continue;
    }
    add_amounts(st.available, lease->request, -1);
    lease->ph = lease_record::held;
    st.granted_leases.push_back(lease);
    out.told.emplace_back(std::move(lease), caf::error{});
    i = st.waiting_leases.erase(i);
  }
}

void refuse_leases(pool_state& st, after_unlock& out, const caf::error& why) {
  for (auto& entry : st.waiting_leases)
    if (auto lease = entry.lock(); lease && lease->ph == lease_record::waiting) {
      lease->ph = lease_record::ended;
      out.told.emplace_back(std::move(lease), why);
    }
  st.waiting_leases.clear();
}

std::shared_ptr<resource_broker> make_resource_broker(std::weak_ptr<task_runtime> runtime) {
  return std::make_shared<pool_broker>(std::move(runtime));
}

} // namespace rustyray::tasks::internal
