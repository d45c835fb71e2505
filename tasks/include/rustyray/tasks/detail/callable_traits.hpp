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

} // namespace rustyray::detail
