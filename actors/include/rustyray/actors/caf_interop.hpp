#pragma once

#include <functional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/message.hpp>
#include <caf/replies_to.hpp>
#include <caf/response_type.hpp>
#include <caf/typed_actor.hpp>

#include "rustyray/actors/actor_handle.hpp"
#include "rustyray/detail/value_size.hpp"
#include "rustyray/object_ref.hpp"

namespace rustyray {

/// Calls a method of a RustyRay actor by its `RUSTYRAY_REMOTE` name.
using call_atom = caf::atom_constant<caf::atom("rr_call")>;

/// How plain CAF code talks to a RustyRay actor: `(call_atom, "C::method",
/// make_message(args...))` answers with the method's result as a message, or
/// with the error (`function_not_registered`, `type_mismatch`, `task_failed`,
/// `actor_died`). Calls from one CAF actor run in the order sent.
///
/// ~~~
/// RUSTYRAY_REMOTE(&Counter::add);
/// auto counter = rustyray::caf_interface(handle);
/// self->request(counter, caf::infinite, rustyray::call_atom::value,
///               std::string{"Counter::add"}, caf::make_message(5))
///   .then([](caf::message& result) { /* result.get_as<int>(0) */ });
/// ~~~
using actor_interface =
  caf::typed_actor<caf::replies_to<call_atom, std::string, caf::message>::with<caf::message>>;

/// The actor behind `handle` as a typed CAF actor.
template <class C>
actor_interface caf_interface(const actor_handle<C>& handle) {
  return caf::actor_cast<actor_interface>(handle.caf_handle());
}

namespace detail {

/// Registers a pending object for a reply; returns its ID with one local ref.
object_id register_reply();

/// Gives the object its value (or error) when the reply arrives.
void resolve_reply(const object_id& id, caf::message value, std::uint64_t size);
void fail_reply(const object_id& id, const caf::error& reason);

/// Runs `job` inside the runtime's bridge actor, an event-based actor that
/// sends requests on behalf of threads and tasks and never blocks.
void run_in_bridge(std::function<void(caf::event_based_actor*)> job);

/// Throws `invalid_argument`: `wrap` got a handle that names no actor.
[[noreturn]] void throw_invalid_handle();

/// What an `object_ref` holds for a reply of the types `List` (nothing, the
/// one value, or a tuple of several), and the response handler storing it.
template <class List>
struct reply_of;

template <>
struct reply_of<caf::detail::type_list<>> {
  using type = void;
  struct handler {
    object_id id;
    void operator()() const {
      resolve_reply(id, caf::message{}, 0);
    }
  };
};

template <class T>
struct reply_of<caf::detail::type_list<T>> {
  using type = T;
  struct handler {
    object_id id;
    void operator()(T& value) const {
      auto size = value_size(value);
      resolve_reply(id, caf::make_message(std::move(value)), size);
    }
  };
};

template <class T1, class T2, class... Ts>
struct reply_of<caf::detail::type_list<T1, T2, Ts...>> {
  using type = std::tuple<T1, T2, Ts...>;
  struct handler {
    object_id id;
    void operator()(T1& x1, T2& x2, Ts&... xs) const {
      type value{std::move(x1), std::move(x2), std::move(xs)...};
      auto size = value_size(value);
      resolve_reply(id, caf::make_message(std::move(value)), size);
    }
  };
};

/// The reply types for `ask<R>` to a dynamically typed actor: a tuple of
/// several values stands for a reply of those values.
template <class R>
struct named_reply {
  using type = caf::detail::type_list<R>;
};
template <class T1, class T2, class... Ts>
struct named_reply<std::tuple<T1, T2, Ts...>> {
  using type = caf::detail::type_list<T1, T2, Ts...>;
};

} // namespace detail

/// An existing CAF actor of the application, made callable like a RustyRay
/// actor: `ask(args...)` sends a request and returns an `object_ref` to the
/// reply at once, which tasks and actors can take as an argument.
///
/// ~~~
/// using adder = caf::typed_actor<caf::replies_to<int, int>::with<int>>;
/// auto wrapped = rustyray::wrap(system.spawn(adder_impl));
/// rustyray::object_ref<int> sum = wrapped.ask(1, 2);
/// ~~~
/// For a dynamically typed `caf::actor`, name the reply type: `ask<int>(1, 2)`.
/// A reply of several values (`with<int, int>`) is one `std::tuple<int, int>`;
/// `ask<std::tuple<int, int>>` asks a `caf::actor` for such a reply.
template <class Handle>
class wrapped_actor {
public:
  explicit wrapped_actor(Handle handle) : handle_(std::move(handle)) {}

  /// Sends the request; the ref holds the reply, or the error the actor
  /// answers with (`system_error` for CAF's own, such as a dead actor).
  /// Throws `invalid_argument` for an invalid handle.
  template <class R = void, class... Args>
  auto ask(Args&&... args) const {
    using reply = detail::reply_of<typename reply_types<R, std::decay_t<Args>...>::type>;
    if (!handle_)
      detail::throw_invalid_handle();
    auto id = detail::register_reply();
    detail::run_in_bridge([handle = handle_, id, xs = std::make_tuple(std::forward<Args>(args)...)](
                            caf::event_based_actor* self) mutable {
      auto request = std::apply(
        [&](auto&... values) { return self->request(handle, caf::infinite, std::move(values)...); },
        xs);
      request.then(typename reply::handler{id},
                   [id](caf::error& err) { detail::fail_reply(id, err); });
    });
    return object_ref<typename reply::type>::adopt(id);
  }

  [[nodiscard]] const Handle& caf_handle() const noexcept {
    return handle_;
  }

private:
  // Typed handles name their reply; for caf::actor the caller does.
  template <class R, class... Xs>
  struct reply_types {
    using type = typename detail::named_reply<R>::type;
  };
  template <class... Xs>
  struct reply_types<void, Xs...> {
    using type = caf::response_type_t<typename Handle::signatures, Xs...>;
  };

  Handle handle_;
};

template <class Handle>
wrapped_actor<Handle> wrap(Handle handle) {
  return wrapped_actor<Handle>{std::move(handle)};
}

} // namespace rustyray
