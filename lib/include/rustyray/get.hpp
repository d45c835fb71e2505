#pragma once

#include <chrono>
#include <vector>

#include <caf/expected.hpp>

#include "rustyray/object_ref.hpp"
#include "rustyray/timeout.hpp"

namespace rustyray {

/// Blocks until the object exists and returns a copy of it (Ray's `ray.get`).
/// Throws `task_error` if the task that produces it failed, `error` otherwise:
/// `object_lost`, `task_cancelled`, `type_mismatch`, `runtime_not_initialized`.
template <class T>
T get(const object_ref<T>& ref) {
  return ref.get();
}

/// As `get(ref)`, but throws `error` with code `timeout` after `timeout`.
template <class T>
T get(const object_ref<T>& ref, std::chrono::milliseconds timeout) {
  return ref.get(timeout);
}

/// Gets every object, in order; the timeout bounds the whole call.
template <class T>
std::vector<T> get(const std::vector<object_ref<T>>& refs,
                   std::chrono::milliseconds timeout = forever) {
  static_assert(!std::is_void_v<T>, "use wait() for a vector of object_ref<void>");
  auto deadline = timeout == forever ? std::chrono::steady_clock::time_point::max()
                                     : std::chrono::steady_clock::now() + timeout;
  std::vector<object_id> ids;
  ids.reserve(refs.size());
  for (const auto& ref : refs)
    ids.push_back(ref.id());
  detail::await_all(ids, timeout);
  std::vector<T> result;
  result.reserve(refs.size());
  for (const auto& ref : refs) {
    auto left = std::chrono::milliseconds{0};
    if (timeout == forever)
      left = forever;
    else if (auto now = std::chrono::steady_clock::now(); now < deadline)
      left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    result.push_back(ref.get(left));
  }
  return result;
}

/// The non-throwing twin of `get`: the value, or the error that `get` would
/// throw (`rustyray::errc` category, or the stored task error).
template <class T>
caf::expected<T> try_get(const object_ref<T>& ref,
                         std::chrono::milliseconds timeout = forever) {
  try {
    return detail::unpack<T>(ref.id(), detail::get_message(ref.id(), timeout));
  } catch (const error& e) {
    return detail::to_caf_error(e);
  }
}

} // namespace rustyray
