#pragma once

#include <cstddef>
#include <cstdint>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "rustyray/objstore/internal/dependency_wait.hpp"
#include "rustyray/objstore/internal/object_table.hpp"
#include "rustyray/detail/invoke.hpp"
#include "rustyray/object_id.hpp"

namespace rustyray::objstore::internal {

/// What a task and an actor call share from submission to completion: the
/// object the run produces, the arguments it waits for (pinned, their values
/// fetched with the pins) and how many gets it answered from those values.
/// Every run takes the same path through the table: one trip in
/// (`register_and_await`: result registered, arguments pinned, the refs the
/// submission copied counted), gets of its arguments answered with no trip
/// (`arguments_scope`), one trip out (`complete_run`).
struct run_record : producer {
  /// The result object; nil for an actor call from plain CAF code, whose
  /// output goes to the requester instead.
  object_id result;
  /// Pinned until the run completes.
  dependency_wait deps;
  /// Gets of its arguments the run answered from `deps.value(i)`.
  std::size_t fetched_gets = 0;
};

/// While one lives, gets on this thread of the objects `run` pinned return
/// the values fetched with the pins: the run needs no trip through the
/// table for its arguments. Unless an object was freed since the pins were
/// taken: then every get looks in the table, as it would have. Open it only
/// where no other thread may complete `run` meanwhile (not around an attempt
/// that may overrun its timeout). A run with no pinned argument (most
/// actor calls) leaves the thread's context alone.
class arguments_scope {
public:
  arguments_scope(const object_table& table, run_record& run) noexcept;
  ~arguments_scope();

  arguments_scope(const arguments_scope&) = delete;
  arguments_scope& operator=(const arguments_scope&) = delete;

private:
  bool active_;
  run_record* previous_ = nullptr;
};

/// The non-template part of `complete_run`: `drop(arguments)` destroys the
/// arguments.
caf::error complete_run_with(object_table& table, run_record& run, void (*drop)(void*),
                             void* arguments, lookup& output, std::uint64_t size);

/// Destroys a run's `Arguments` for `complete_run_with`.
template <class Arguments>
void drop_arguments(void* held) {
  *static_cast<Arguments*>(held) = nullptr;
}

/// Ends `run` in one trip through the table: drops `arguments` (whatever
/// holds the run's argument values; assigning null destroys them), collecting
/// the `object_ref`s among them, then, under the table's locks once, unpins
/// the dependencies, drops those refs and stores `output` (a value of `size`
/// bytes, or an error) as the result. Whoever sees the result sees the
/// arguments released. Also for a run that never ran (cancelled, refused).
template <class Arguments>
caf::error complete_run(object_table& table, run_record& run, Arguments& arguments, lookup output,
                        std::uint64_t size = 0) {
  return complete_run_with(table, run, drop_arguments<Arguments>, &arguments, output, size);
}

/// `complete_run` with what the run's function produced.
template <class Arguments>
caf::error complete_run(object_table& table, run_record& run, Arguments& arguments,
                        caf::expected<detail::task_output>&& output) {
  if (!output) {
    lookup failed{std::move(output.error())};
    return complete_run_with(table, run, drop_arguments<Arguments>, &arguments, failed, 0);
  }
  lookup value{std::move(output->value)};
  return complete_run_with(table, run, drop_arguments<Arguments>, &arguments, value, output->size);
}

} // namespace rustyray::objstore::internal
