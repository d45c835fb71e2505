#pragma once

#include <cstddef>
#include <vector>

#include "rustyray/object_id.hpp"
#include "rustyray/objstore/internal/dependency_wait.hpp"

namespace rustyray::objstore::internal {

struct run_record;

/// The one per-thread state that changes what object operations do on a
/// thread, so that a submission or a run pays one trip through the object
/// table instead of one per reference. Only this module reads or writes it,
/// each part through a named scope:
///
/// - `noting`/`noted`: while a `detail::add_ref_batch` lives (around a
///   submission), an `object_ref` copy notes its ID instead of taking a lock;
///   the submission counts the noted IDs in its own trip (`await_each`), and a
///   release or the end of the outermost batch counts what is left.
/// - `releases`: while `complete_run` drops a run's arguments, an
///   `object_ref` destructor notes its ID there; the completion drops them in
///   the trip that stores the result.
/// - `serving`: while an `arguments_scope` lives (around a run), a get of one
///   of the run's pinned arguments answers the value fetched with the pin.
///
/// Scopes nest: each restores what it found.
struct thread_context {
  int noting = 0;
  std::vector<object_id> noted; // kept: its memory serves the next batch
  std::vector<object_id>* releases = nullptr;
  /// The outermost `complete_run`'s list of `releases` (its memory kept for
  /// the next one); one nested in it (in a destructor, or in a waiter the
  /// table calls) uses its own.
  std::vector<object_id> run_releases;
  bool completing = false;
  run_record* serving = nullptr;
};

/// This thread's context (defined in object_api.cpp).
thread_context& this_thread_context() noexcept;

/// Counts the IDs noted on this thread in the runtime's table (if one is up).
void count_noted_refs() noexcept;

/// The value a run on this thread fetched for `id`, if `id` is one of its
/// pinned arguments.
[[nodiscard]] const lookup* served_argument(const object_id& id) noexcept;

} // namespace rustyray::objstore::internal
