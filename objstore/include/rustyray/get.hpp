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
  std::vector<object_id> ids;
  ids.reserve(refs.size());
  for (const auto& ref : refs)
    ids.push_back(ref.id());
  auto messages = detail::get_messages(ids, timeout);
  std::vector<T> result;
  result.reserve(refs.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    auto value = detail::unpack<T>(ids[i], std::move(messages[i]));
    if (!value)
      detail::throw_caf_error(value.error());
    result.push_back(std::move(*value));
  }
  return result;
}

/// The non-throwing twin of `get`: the value, or the error that `get` would
/// throw (`rustyray::errc` category, or the stored task error).
template <class T>
caf::expected<T> try_get(const object_ref<T>& ref, std::chrono::milliseconds timeout = forever) {
  try {
    return detail::unpack<T>(ref.id(), detail::get_message(ref.id(), timeout));
  } catch (const error& e) {
    return detail::to_caf_error(e);
  }
}

} // namespace rustyray
