#pragma once

#include <cstring>
#include <functional>
#include <string>
#include <type_traits>
#include <typeindex>
#include <utility>
#include <vector>

#include <caf/expected.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>

#include "rustyray/detail/function_identity.hpp"
#include "rustyray/errc.hpp"
#include "rustyray/tasks/detail/callable_traits.hpp"

namespace rustyray::detail {

/// Runs a registered function on arguments in a message (how another process
/// will ask for it by name).
using remote_invoker = std::function<caf::expected<caf::message>(const caf::message& args)>;

/// Runs a registered member function on an instance of its class (how plain
/// CAF code and other processes call actor methods by name).
using member_invoker =
  std::function<caf::expected<caf::message>(void* instance, const caf::message& args)>;

/// One name of `RUSTYRAY_REMOTE`: the function's identity (its type and the
/// bytes of its pointer) and how to invoke it.
struct remote_function {
  std::string name;
  std::type_index type;
  function_identity identity;
  remote_invoker invoke;        // free functions
  std::type_index owner;        // member functions: their class, else void
  member_invoker invoke_member; // member functions
};

template <class M>
struct member_class;
template <class R, class C, class... Args>
struct member_class<R (C::*)(Args...)> {
  using type = C;
};
template <class R, class C, class... Args>
struct member_class<R (C::*)(Args...) const> {
  using type = C;
};
template <class R, class C, class... Args>
struct member_class<R (C::*)(Args...) noexcept> {
  using type = C;
};
template <class R, class C, class... Args>
struct member_class<R (C::*)(Args...) const noexcept> {
  using type = C;
};

/// Adds to the process-wide registry; a second registration of a name is
/// remembered and makes `init` fail.
void add_remote_function(remote_function fn);

/// The registered name of a function, or an empty string.
std::string remote_name_of(std::type_index type, const function_identity& identity);

/// Splits the text of `RUSTYRAY_REMOTE`'s arguments into names: commas inside
/// parentheses or angle brackets do not split; `&C::f` is named `C::f`;
/// `RUSTYRAY_FUNC(f, int)` is named `f(int)`.
std::vector<std::string> split_remote_names(const char* text);

template <class F>
function_identity identity_of(const F& f) {
  return function_identity::of(f);
}

/// Calls `call(args...)` for a function of type `F` with the elements of
/// `args`, or says that they do not match its parameters.
template <class F, class Call, std::size_t... I>
caf::expected<caf::message> invoke_with(Call&& call, const caf::message& args,
                                        std::index_sequence<I...>) {
  using traits = callable_traits<F>;
  using params = typename traits::arg_types;
  if (!args.match_elements<std::decay_t<std::tuple_element_t<I, params>>...>())
    return make_error(errc::type_mismatch,
                      "the arguments do not match the registered function's parameters");
  if constexpr (std::is_void_v<typename traits::result_type>) {
    call(args.get_as<std::decay_t<std::tuple_element_t<I, params>>>(I)...);
    return caf::message{};
  } else {
    return caf::make_message(
      call(args.get_as<std::decay_t<std::tuple_element_t<I, params>>>(I)...));
  }
}

template <class F>
remote_function describe_remote(std::string name, F f) {
  remote_function fn{std::move(name), std::type_index(typeid(F)), identity_of(f), {},
                     std::type_index(typeid(void)), {}};
  [[maybe_unused]] constexpr auto arity = callable_traits<F>::arity;
  if constexpr (std::is_member_function_pointer_v<F>) {
    using owner = typename member_class<F>::type;
    fn.owner = std::type_index(typeid(owner));
    fn.invoke_member = [f](void* instance, const caf::message& args) {
      auto call = [&](const auto&... xs) -> decltype(auto) {
        return (static_cast<owner*>(instance)->*f)(xs...);
      };
      return invoke_with<F>(call, args, std::make_index_sequence<arity>{});
    };
  } else {
    using result = std::decay_t<typename callable_traits<F>::result_type>;
    // An actor factory returns an instance, not a message: actors build it.
    if constexpr (std::is_void_v<result> || caf::is_serializable_or_whitelisted<result>::value)
      fn.invoke = [f](const caf::message& args) {
        return invoke_with<F>(f, args, std::make_index_sequence<arity>{});
      };
  }
  return fn;
}

template <class... Fs>
bool register_remote(const char* names, Fs... fs) {
  auto split = split_remote_names(names);
  std::size_t i = 0;
  (add_remote_function(describe_remote(i < split.size() ? split[i++] : std::string{"?"}, fs)),
   ...);
  return true;
}

/// Picks one overload of a function by its parameter types.
template <class... Args>
struct overload {
  template <class R>
  static constexpr auto of(R (*f)(Args...)) {
    return f;
  }
  template <class R, class C>
  static constexpr auto of(R (C::*f)(Args...)) {
    return f;
  }
  template <class R, class C>
  static constexpr auto of(R (C::*f)(Args...) const) {
    return f;
  }
};

/// Invokes a registered free function by name; `function_not_registered` if
/// this process has none of that name.
caf::expected<caf::message> invoke_remote(const std::string& name, const caf::message& args);

/// The registered member function `name` of class `cls`:
/// `function_not_registered` if there is none of that name, `type_mismatch`
/// if it belongs to another class.
caf::expected<member_invoker> find_member_invoker(const std::string& name,
                                                  const std::type_info& cls);

} // namespace rustyray::detail

#define RUSTYRAY_DETAIL_CONCAT2(a, b) a##b
#define RUSTYRAY_DETAIL_CONCAT(a, b) RUSTYRAY_DETAIL_CONCAT2(a, b)

/// Registers functions by name so that every process running this binary can
/// find them: free functions, actor factories and member functions, any mix,
/// at namespace scope. A name registered twice makes `rustyray::init` fail.
///
/// ~~~
/// int add(int a, int b) { return a + b; }
/// RUSTYRAY_REMOTE(add, Counter::create, &Counter::increment);
/// ~~~
#define RUSTYRAY_REMOTE(...)                                                                 \
  [[maybe_unused]] static const bool RUSTYRAY_DETAIL_CONCAT(rustyray_remote_, __COUNTER__) = \
    ::rustyray::detail::register_remote(#__VA_ARGS__, __VA_ARGS__)

/// One overload of `f`, picked by its parameter types:
/// `RUSTYRAY_REMOTE(RUSTYRAY_FUNC(scale, double))`, `task(RUSTYRAY_FUNC(scale, int))`.
#define RUSTYRAY_FUNC(f, ...) ::rustyray::detail::overload<__VA_ARGS__>::of(&f)
