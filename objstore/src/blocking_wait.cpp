#include "blocking_wait.hpp"

#include <memory>
#include <string>

#include "rustyray/internal/spin_wait.hpp"
#include "rustyray/log.hpp"
#include "rustyray/internal/threads.hpp"
#include "rustyray/detail/object_access.hpp"
#include "rustyray/timeout.hpp"

namespace rustyray::objstore::internal {

std::chrono::steady_clock::time_point deadline_after(std::chrono::milliseconds timeout) {
  auto now = std::chrono::steady_clock::now();
  if (timeout == forever || timeout > std::chrono::hours(24 * 365 * 100))
    return std::chrono::steady_clock::time_point::max();
  return now + timeout;
}

void slow_get_alarm::ring(const object_id& id) {
  if (std::chrono::steady_clock::now() < due_)
    return;
  due_ = time_point::max();
  auto producer = table_.producer_of(id);
  auto text = "a get has waited more than " + std::to_string(limit_.count()) + " ms for object "
              + to_string(id) + ", which "
              + (producer ? producer->describe() + " will produce"
                          : std::string{"no task or actor call of this process produces "
                                        "(a reply awaited from a CAF actor?)"})
              + "; rustyray::state() shows what tasks wait for (warned once per get; "
                "config.slow_get_warning sets when)";
  rustyray::log(rustyray::log_level::warning, text);
}

void spin_before_sleep(const std::atomic<bool>& done, std::chrono::milliseconds timeout) {
  if (timeout.count() > 0)
    (void)rustyray::internal::spin_until([&] { return done.load(std::memory_order_acquire); });
}

void await_resolved(objstore::internal::object_table& table, const std::vector<object_id>& ids,
                    std::size_t needed, std::chrono::milliseconds timeout, slow_get_alarm* alarm) {
  // Often enough is there already: then no waiter is registered at all.
  if (table.count_resolved(ids) >= needed)
    return;
  auto state = std::make_shared<sync_wait>();
  std::vector<std::pair<object_id, std::uint64_t>> registrations;
  std::size_t ready_at_once = 0;
  for (const auto& id : ids) {
    std::uint64_t token = 0;
    if (table.get_or_wait(
          id, [state](const lookup& r) { state->on_resolved(r); }, token))
      ++ready_at_once;
    else
      registrations.emplace_back(id, token);
  }
  if (ready_at_once < needed) {
    state->expect(needed - ready_at_once);
    spin_before_sleep(state->done, timeout);
    rustyray::internal::blocking_scope blocking;
    std::unique_lock<std::mutex> guard{state->mtx};
    auto ready = [&] { return state->over(); };
    if (alarm)
      wait_until(state->cv, guard, deadline_after(timeout), ready, *alarm,
                 [&] { return table.last_pending(ids).value_or(ids.front()); });
    else
      wait_until(state->cv, guard, deadline_after(timeout), ready);
    if (state->shutdown_reason)
      detail::throw_caf_error(state->shutdown_reason);
  }
  for (const auto& [id, token] : registrations)
    table.cancel_wait(id, token);
}

} // namespace rustyray::objstore::internal
