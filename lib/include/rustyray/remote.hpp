#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <memory>
#include <limits>
#include <string>
#include <tuple>
#include <type_traits>
#include <typeindex>
#include <typeinfo>
#include <utility>
#include <vector>

#include <caf/expected.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>
#include <caf/rtti_pair.hpp>

#include "rustyray/detail/function_identity.hpp"
#include "rustyray/detail/wire_type.hpp"
#include "rustyray/errc.hpp"
#include "rustyray/detail/callable_traits.hpp"

namespace rustyray::detail {

/// Runs a registered function on arguments in a message (how another process
/// will ask for it by name).
using remote_invoker = std::function<caf::expected<caf::message>(const caf::message& args)>;

/// Builds an instance of a registered actor factory's class from the
/// factory's arguments in a message (how another node starts an actor).
using factory_invoker =
  std::function<caf::expected<std::shared_ptr<void>>(const caf::message& args)>;

template <class C, class = void>
struct has_on_start : std::false_type {};
template <class C>
struct has_on_start<C, std::void_t<decltype(std::declval<C&>().on_start())>> : std::true_type {};

template <class C, class = void>
struct has_on_stop : std::false_type {};
template <class C>
struct has_on_stop<C, std::void_t<decltype(std::declval<C&>().on_stop())>> : std::true_type {};

/// The class a factory builds: `C` for a factory returning `C` or
/// `std::unique_ptr<C>`.
template <class R>
struct built_class {
  using type = R;
};
template <class C, class D>
struct built_class<std::unique_ptr<C, D>> {
  using type = C;
};

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
  /// The types its calls ship that CAF must be told about.
  std::vector<wire_type> types;
  /// Actor factories whose arguments ship: the class they build, how to
  /// build it from a message, and its hooks.
  const std::type_info* builds = nullptr;
  factory_invoker build;
  void (*on_start)(void*) = nullptr;
  void (*on_stop)(void*) = nullptr;
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

/// Whether every value of the number type `From` is a value of `To`: calls
/// by name convert those, since CAF code writes `make_message(5)` for a
/// `long` parameter and `1.5f` for a `double`.
template <class From, class To>
constexpr bool widens() {
  using from = std::numeric_limits<From>;
  using to = std::numeric_limits<To>;
  if constexpr (std::is_same_v<From, To> || std::is_same_v<From, bool> || std::is_same_v<To, bool>)
    return false;
  else if constexpr (std::is_integral_v<From> && std::is_integral_v<To>)
    return (to::is_signed || !from::is_signed) && from::digits <= to::digits;
  else if constexpr (std::is_integral_v<From>)
    return from::digits <= to::digits;
  else if constexpr (std::is_floating_point_v<To>)
    return from::digits <= to::digits && from::max_exponent <= to::max_exponent
           && from::min_exponent >= to::min_exponent;
  else
    return false;
}

/// One argument of a call by name, read from the message for a parameter of
/// type `T` (decayed): the element itself, or a number widened to `T`.
template <class T>
class message_arg {
public:
  static constexpr bool is_number = std::is_arithmetic_v<T> && !std::is_same_v<T, bool>;

  [[nodiscard]] bool read(const caf::message& args, std::size_t i) {
    if (args.match_element<T>(i)) {
      exact_ = &args.get_as<T>(i);
      return true;
    }
    if constexpr (is_number)
      return widen<std::int8_t, std::int16_t, std::int32_t, std::int64_t, std::uint8_t,
                   std::uint16_t, std::uint32_t, std::uint64_t, float, double, long double>(args,
                                                                                            i);
    else
      return false;
  }

  /// What a parameter `P` receives: the message keeps its element, so an
  /// rvalue reference gets a copy of its own.
  template <class P>
  decltype(auto) pass() const {
    if constexpr (std::is_rvalue_reference_v<P>)
      return T{value()};
    else
      return value();
  }

private:
  const T& value() const {
    if constexpr (is_number)
      return exact_ != nullptr ? *exact_ : widened_;
    else
      return *exact_;
  }

  template <class... Numbers>
  bool widen(const caf::message& args, std::size_t i) {
    return (widen_from<Numbers>(args, i) || ...);
  }

  template <class N>
  bool widen_from([[maybe_unused]] const caf::message& args, [[maybe_unused]] std::size_t i) {
    if constexpr (widens<N, T>()) {
      if (args.match_element<N>(i)) {
        widened_ = static_cast<T>(args.get_as<N>(i));
        return true;
      }
    }
    return false;
  }

  const T* exact_ = nullptr;
  std::conditional_t<is_number, T, char> widened_{};
};

/// The `type_mismatch` of a call by name: names the function, the parameter
/// types it takes and the types it was given.
caf::error argument_mismatch(const std::string& function, const caf::message& args,
                             std::initializer_list<caf::rtti_pair> params);

/// Calls `call(args...)` for the function `name` of type `F` with the
/// elements of `args`, or says that they do not match its parameters.
template <class F, class Call, std::size_t... I>
caf::expected<caf::message> invoke_with(const std::string& name, Call&& call,
                                        const caf::message& args, std::index_sequence<I...>) {
  using traits = callable_traits<F>;
  using params = typename traits::arg_types;
  std::tuple<message_arg<std::decay_t<std::tuple_element_t<I, params>>>...> slots;
  if (args.size() != sizeof...(I) || !(std::get<I>(slots).read(args, I) && ...))
    return argument_mismatch(
      name, args, {caf::make_rtti_pair<std::decay_t<std::tuple_element_t<I, params>>>()...});
  if constexpr (std::is_void_v<typename traits::result_type>) {
    call(std::get<I>(slots).template pass<std::tuple_element_t<I, params>>()...);
    return caf::message{};
  } else {
    return caf::make_message(
      call(std::get<I>(slots).template pass<std::tuple_element_t<I, params>>()...));
  }
}

/// Whether a free function's result can be a message: an actor factory's
/// instance is not, and actors build it instead. Separate from `is_void_v`
/// because CAF's trait cannot be instantiated for `void`.
template <class R>
constexpr bool returns_message() {
  if constexpr (std::is_void_v<R>)
    return true;
  else
    return caf::is_serializable_or_whitelisted<R>::value;
}

template <class F>
remote_function describe_remote(std::string name, F f) {
  static_assert(check_takes_copies<typename callable_traits<F>::arg_types>::value);
  remote_function fn{std::move(name),
                     std::type_index(typeid(F)),
                     identity_of(f),
                     {},
                     std::type_index(typeid(void)),
                     {},
                     wire_types_of<F>()};
  [[maybe_unused]] constexpr auto arity = callable_traits<F>::arity;
  if constexpr (std::is_member_function_pointer_v<F>) {
    using owner = typename member_class<F>::type;
    fn.owner = std::type_index(typeid(owner));
    fn.invoke_member = [f, name = fn.name](void* instance, const caf::message& args) {
      auto call = [&](auto&&... xs) -> decltype(auto) {
        return (static_cast<owner*>(instance)->*f)(std::forward<decltype(xs)>(xs)...);
      };
      return invoke_with<F>(name, call, args, std::make_index_sequence<arity>{});
    };
  } else {
    // A function returning a class may be a task and an actor factory.
    if constexpr (returns_message<std::decay_t<typename callable_traits<F>::result_type>>())
      fn.invoke = [f, name = fn.name](const caf::message& args) {
        return invoke_with<F>(name, f, args, std::make_index_sequence<arity>{});
      };
    using built = std::decay_t<typename callable_traits<F>::result_type>;
    using cls = typename built_class<built>::type;
    if constexpr (std::is_class_v<
                    cls> && call_types<void, typename callable_traits<F>::arg_types>::ship) {
      fn.builds = &typeid(cls);
      fn.build = [f, name =
                       fn.name](const caf::message& args) -> caf::expected<std::shared_ptr<void>> {
        std::shared_ptr<void> instance;
        auto make = [&](auto&&... xs) {
          auto made = f(std::forward<decltype(xs)>(xs)...);
          if constexpr (std::is_same_v<decltype(made), cls>)
            instance = std::make_shared<cls>(std::move(made));
          else
            instance = std::shared_ptr<cls>(std::move(made));
          return true; // invoke_with wants a value to put in its message
        };
        auto made = invoke_with<F>(name, make, args, std::make_index_sequence<arity>{});
        if (!made)
          return std::move(made.error());
        return instance;
      };
      if constexpr (has_on_start<cls>::value)
        fn.on_start = [](void* instance) { static_cast<cls*>(instance)->on_start(); };
      if constexpr (has_on_stop<cls>::value)
        fn.on_stop = [](void* instance) { static_cast<cls*>(instance)->on_stop(); };
    }
  }
  return fn;
}

template <class... Fs>
bool register_remote(const char* names, Fs... fs) {
  auto split = split_remote_names(names);
  std::size_t i = 0;
  (add_remote_function(describe_remote(i < split.size() ? split[i++] : std::string{"?"}, fs)), ...);
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

/// A registered actor factory: the class it builds and how.
struct actor_factory {
  const std::type_info* builds = nullptr;
  factory_invoker build;
  void (*on_start)(void*) = nullptr;
  void (*on_stop)(void*) = nullptr;
};

/// The registered actor factory `name`: `function_not_registered` if there
/// is none of that name (or its arguments cannot ship).
caf::expected<actor_factory> find_actor_factory(const std::string& name);

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
#define RUSTYRAY_REMOTE(...)                                                                       \
  [[maybe_unused]] static const bool RUSTYRAY_DETAIL_CONCAT(rustyray_remote_, __COUNTER__) =       \
    ::rustyray::detail::register_remote(#__VA_ARGS__, __VA_ARGS__)

/// One overload of `f`, picked by its parameter types:
/// `RUSTYRAY_REMOTE(RUSTYRAY_FUNC(scale, double))`, `task(RUSTYRAY_FUNC(scale, int))`.
#define RUSTYRAY_FUNC(f, ...) ::rustyray::detail::overload<__VA_ARGS__>::of(&f)
