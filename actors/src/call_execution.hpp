#pragma once

// Running one actor call and storing its result: shared by a host (one call
// at a time) and its runners (max_concurrency > 1).

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <typeinfo>

#include "rustyray/actors/internal/actor_core.hpp"
#include "rustyray/internal/recorder.hpp"

namespace rustyray::actors::internal {

/// What the code running an actor's method may ask: `was_restarted`,
/// `exit_actor`, and who calls when it calls other actors.
struct actor_scope_state {
  bool restarted = false;
  /// The actor's caller ID (`new_caller`).
  std::uint64_t caller = 0;
};

/// How errors and the timeline name an actor: `Class "name" (id)`. Built on
/// first use, from any thread (a host's runners share it): demangling the
/// class costs more than the rest of an actor's start, and most actors never
/// need the text.
class actor_label {
public:
  actor_label(const std::type_info& cls, const std::string& name, const object_id& id)
    : cls_(cls), name_(name), id_(id) {}
  actor_label(const actor_label&) = delete;
  actor_label& operator=(const actor_label&) = delete;

  const std::string& text();

private:
  const std::type_info& cls_;
  const std::string& name_;
  const object_id id_;
  std::once_flag built_;
  std::string text_;
};

/// A new caller ID: calls of one caller run in submission order.
std::uint64_t new_caller() noexcept;

/// The caller ID of the code running here: the actor's, in an actor's method
/// (whichever thread runs it), else the thread's (a task worker, a thread of
/// the application).
std::uint64_t this_caller() noexcept;

/// Marks this thread as running an actor's code while it lives.
class actor_scope {
public:
  explicit actor_scope(const actor_scope_state& st) noexcept;
  ~actor_scope();
  actor_scope(const actor_scope&) = delete;
  actor_scope& operator=(const actor_scope&) = delete;

private:
  const actor_scope_state* previous_;
};

/// The monotonic clock at the kernel tick's resolution (a few ms): a few
/// nanoseconds a read instead of a full clock read per call, enough for
/// millisecond budgets.
std::chrono::nanoseconds coarse_now() noexcept;

enum class outcome { finished, exited };

/// Runs one call on `instance`; the output lands in `call.output`. `actor`
/// names the actor in errors, and the thread in the timeline if it is the
/// actor's own (`own_thread`).
outcome execute(call_record& call, void* instance, const actor_scope_state& scope,
                actor_label& actor, const objstore::internal::object_table& table,
                rustyray::internal::recorder& recording, bool own_thread);

/// The body of a call by name (from plain CAF code, or shipped by another
/// node): `invoker` (the method's, or why there is none) on the values in
/// `args` and those of the objects `refs` names (the call's dependencies),
/// keeping `borrowed` while it lives.
detail::call_body body_by_name(caf::expected<detail::member_invoker> invoker, caf::message args,
                               std::vector<detail::arg_ref> refs = {},
                               std::shared_ptr<detail::held_refs> borrowed = nullptr);

/// Stores the call's output as its result, or for a call from plain CAF code
/// sends it to the requester. Any thread may do this.
void settle(objstore::internal::object_table& table, call_record& call);

} // namespace rustyray::actors::internal
