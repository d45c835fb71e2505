#pragma once

#include <chrono>
#include <utility>

#include <caf/actor.hpp>
#include <caf/duration.hpp>
#include <caf/error.hpp>
#include <caf/sec.hpp>

#include "rustyray/object_ref.hpp"
#include "rustyray/objstore/atoms.hpp"
#include "rustyray/objstore/stored_object.hpp"
#include "rustyray/timeout.hpp"

namespace rustyray {

namespace detail {

/// The object store actor of the running runtime.
caf::actor store_actor();

/// Throws what `get` would for these arguments: `runtime_not_initialized`,
/// `invalid_argument` for a nil ref or a negative timeout.
void check_get_async(const object_id& id, std::chrono::milliseconds timeout);

} // namespace detail

/// A pending asynchronous get, returned by `get_async`: call `then` once.
template <class T, class Self>
class async_get {
public:
  async_get(Self* self, object_ref<T> ref, std::chrono::milliseconds timeout)
    : self_(self), ref_(std::move(ref)), timeout_(timeout) {}

  /// Calls `on_value(T)` (`on_value()` for `object_ref<void>`) when the object
  /// exists, or `on_error(caf::error)` when it cannot be had: a stored task
  /// error, `object_lost`, `type_mismatch`, `timeout`. Both run inside the
  /// actor, like any CAF response handler; the actor keeps processing other
  /// messages meanwhile.
  template <class OnValue, class OnError>
  void then(OnValue on_value, OnError on_error) {
    // Beyond a century is forever: a deadline that far would overflow the
    // clock (and forever is milliseconds::max()).
    auto timeout = timeout_ >= std::chrono::hours(24 * 365 * 100) ? caf::duration{caf::infinite}
                                                                  : caf::duration{timeout_};
    auto id = ref_.id();
    // The handler owns a copy of the ref, which keeps the object alive until
    // the answer arrives.
    self_->request(detail::store_actor(), timeout, objstore::get_atom::value, id)
      .then(
        [ref = ref_, on_value, on_error](objstore::stored_object& obj) mutable {
          auto value = detail::unpack<T>(ref.id(), std::move(obj.value));
          if (!value) {
            on_error(value.error());
          } else if constexpr (std::is_void_v<T>) {
            on_value();
          } else {
            on_value(std::move(*value));
          }
        },
        [on_error, id](caf::error& err) mutable {
          if (err == caf::sec::request_timeout)
            err = make_error(errc::timeout, "object " + to_string(id)
                                              + " was not ready within the get_async timeout");
          on_error(err);
        });
  }

private:
  Self* self_;
  object_ref<T> ref_;
  std::chrono::milliseconds timeout_;
};

/// Awaits an object inside an event-based CAF actor without blocking its
/// thread: the store answers the actor's request when the object exists.
///
/// ~~~
/// caf::behavior consumer(caf::event_based_actor* self, rustyray::object_ref<int> ref) {
///   rustyray::get_async(self, ref).then(
///     [=](int value) { aout(self) << value << "\n"; },
///     [=](const caf::error& err) { aout(self) << self->system().render(err) << "\n"; });
///   return {};
/// }
/// ~~~
/// Throws at once, as `get` does: `runtime_not_initialized` without a
/// runtime, `invalid_argument` for a ref that names no object or a negative
/// timeout.
template <class T, class Self>
async_get<T, Self> get_async(Self* self, const object_ref<T>& ref,
                             std::chrono::milliseconds timeout = forever) {
  detail::check_get_async(ref.id(), timeout);
  return {self, ref, timeout};
}

} // namespace rustyray
