#pragma once

#include <chrono>
#include <cstddef>
#include <vector>

#include "rustyray/object_ref.hpp"
#include "rustyray/timeout.hpp"

namespace rustyray {

/// The two halves of `wait`'s input, each in input order.
template <class T>
struct wait_result {
  std::vector<object_ref<T>> ready;
  std::vector<object_ref<T>> not_ready;
};

/// Ray's `ray.wait`: returns once `num_returns` of `refs` are ready or
/// `timeout` has passed, whichever is first. An object holding an error (a
/// failed task, a lost object) counts as ready. `ready` holds at most
/// `num_returns` refs. Throws `error` with `invalid_argument` when
/// `num_returns` is 0 or above `refs.size()`, when `refs` holds a ref twice
/// or one that names no object, or when the timeout is negative.
///
/// ~~~
/// auto [ready, rest] = rustyray::wait(refs, 1, std::chrono::seconds(5));
/// ~~~
template <class T>
wait_result<T> wait(const std::vector<object_ref<T>>& refs, std::size_t num_returns = 1,
                    std::chrono::milliseconds timeout = forever) {
  std::vector<object_id> ids;
  ids.reserve(refs.size());
  for (const auto& ref : refs)
    ids.push_back(ref.id());
  auto flags = detail::wait_ready(ids, num_returns, timeout);
  wait_result<T> result;
  for (std::size_t i = 0; i < refs.size(); ++i) {
    if (flags[i] && result.ready.size() < num_returns)
      result.ready.push_back(refs[i]);
    else
      result.not_ready.push_back(refs[i]);
  }
  return result;
}

} // namespace rustyray
