#pragma once

#include <tuple>
#include <type_traits>

namespace rustyray::detail {

/// The signature of anything a task can run: a function, a function pointer,
/// a lambda or another object with one non-template call operator.
template <class F>
struct callable_traits : callable_traits<decltype(&std::decay_t<F>::operator())> {};

template <class R, class... Args>
struct callable_traits<R(Args...)> {
  using result_type = R;
  using arg_types = std::tuple<Args...>;
  static constexpr std::size_t arity = sizeof...(Args);
};

template <class R, class... Args>
struct callable_traits<R (*)(Args...)> : callable_traits<R(Args...)> {};

template <class R, class... Args>
struct callable_traits<R (*)(Args...) noexcept> : callable_traits<R(Args...)> {};

template <class R, class... Args>
struct callable_traits<R(Args...) noexcept> : callable_traits<R(Args...)> {};

// Call operators of lambdas and function objects.
template <class C, class R, class... Args>
struct callable_traits<R (C::*)(Args...)> : callable_traits<R(Args...)> {};

template <class C, class R, class... Args>
struct callable_traits<R (C::*)(Args...) const> : callable_traits<R(Args...)> {};

template <class C, class R, class... Args>
struct callable_traits<R (C::*)(Args...) noexcept> : callable_traits<R(Args...)> {};

template <class C, class R, class... Args>
struct callable_traits<R (C::*)(Args...) const noexcept> : callable_traits<R(Args...)> {};

/// Whether a function can take its arguments as tasks pass them: each run
/// gets its own copy of every argument, so a parameter `T&` (non-const)
/// would change a copy that nobody sees again.
template <class Params>
struct takes_copies;

template <class... Params>
struct takes_copies<std::tuple<Params...>>
  : std::bool_constant<((!std::is_lvalue_reference_v<
                           Params> || std::is_const_v<std::remove_reference_t<Params>>)&&...)> {};

/// Instantiated by tasks, actors and `RUSTYRAY_REMOTE`: one message for all.
template <class Params>
struct check_takes_copies {
  static_assert(takes_copies<Params>::value,
                "rustyray: a parameter T& (non-const) cannot receive an argument: every run "
                "gets its own copy of the arguments, so what the function writes there would "
                "be lost; take T, const T& or T&& and return what it computes");
  static constexpr bool value = true;
};

} // namespace rustyray::detail
