#pragma once

#include <chrono>
#include <cstdint>
#include <typeinfo>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/message.hpp>
#include <caf/rtti_pair.hpp>

#include "rustyray/detail/byte_buffer.hpp"
#include "rustyray/error.hpp"
#include "rustyray/object_id.hpp"

// The non-template core behind the templates of the public API: the templates
// convert between T and caf::message, these functions talk to the runtime.
namespace rustyray::detail {

/// Counts one more local `object_ref` to `id`; no-op without a runtime or for
/// an ID this process's store does not hold.
void add_ref(const object_id& id) noexcept;

/// Drops one local `object_ref` to `id`; the last one frees the object.
void release_ref(const object_id& id) noexcept;

/// Surrounds a submission (`remote`): while one lives on a thread, `add_ref`
/// there notes the ID instead of taking a lock of the object table, and the
/// submission counts the noted references in the trip through the table it
/// makes anyway. A release on the thread counts them first, and so does the
/// end of the batch (a submission that failed before its trip). Only the
/// outermost batch on a thread counts.
class add_ref_batch {
public:
  add_ref_batch() noexcept;
  ~add_ref_batch();

  add_ref_batch(const add_ref_batch&) = delete;
  add_ref_batch& operator=(const add_ref_batch&) = delete;
};

/// Stores `value` as a new object of `size` bytes and returns its ID with one
/// local reference held for the caller. Throws `error` on failure.
object_id put_message(caf::message value, std::uint64_t size);

/// Waits up to `timeout` for the object and returns its value, or the error
/// stored in its place (or object_lost, timeout, ...). Throws only when no
/// runtime is up or the timeout is negative.
caf::expected<caf::message> get_message(const object_id& id, std::chrono::milliseconds timeout);

/// For each ID, whether it is ready (holds a value or an error) once
/// `num_returns` of them are, or once `timeout` has passed. Validates the
/// arguments like Ray's `wait`.
std::vector<bool> wait_ready(const std::vector<object_id>& ids, std::size_t num_returns,
                             std::chrono::milliseconds timeout);

/// `get_message` of each of `ids` (duplicates allowed), the timeout bounding
/// the whole call: one wake-up and one store lookup for the lot.
std::vector<caf::expected<caf::message>> get_messages(const std::vector<object_id>& ids,
                                                      std::chrono::milliseconds timeout);

/// A `type_mismatch` error naming what is stored and what was asked for.
caf::error type_mismatch(const object_id& id, const caf::message& stored, caf::rtti_pair wanted);

/// Throws the `rustyray::error` (or `task_error`) that `err` describes.
[[noreturn]] void throw_caf_error(const caf::error& err);

/// The `caf::error` form of a caught `rustyray::error`.
caf::error to_caf_error(const error& err);

/// Extracts a `T` from a stored value, or says why not.
template <class T>
caf::expected<T> unpack(const object_id& id, caf::expected<caf::message> stored) {
  if (!stored)
    return std::move(stored.error());
  if constexpr (std::is_void_v<T>) {
    if (!stored->empty())
      return type_mismatch(id, *stored, {0, &typeid(void)});
    return caf::unit;
  } else {
    if (!stored->template match_elements<T>())
      return type_mismatch(id, *stored, caf::make_rtti_pair<T>());
    // The one copy on get: the store keeps its own.
    return copy_value(stored->template get_as<T>(0));
  }
}

/// Blocks for the object and returns it as `T`, throwing on failure.
template <class T>
T get_or_throw(const object_id& id, std::chrono::milliseconds timeout) {
  auto result = unpack<T>(id, get_message(id, timeout));
  if (!result)
    throw_caf_error(result.error());
  if constexpr (!std::is_void_v<T>)
    return std::move(*result);
}

} // namespace rustyray::detail
