#include "call_execution.hpp"

#include <atomic>
#include <ctime>

#include <caf/all.hpp>

#include "rustyray/actors/internal/actor_observability.hpp"
#include "rustyray/errc.hpp"
#include "rustyray/internal/demangle.hpp"
#include "rustyray/internal/error_text.hpp"
#include "rustyray/objstore/internal/run_record.hpp"
#include "rustyray/remote.hpp"
#include "caf_face.hpp"

namespace rustyray::actors::internal {

using namespace rustyray::internal; // the base layer's internals

namespace {

thread_local const actor_scope_state* current_actor = nullptr;

} // namespace

actor_scope::actor_scope(const actor_scope_state& st) noexcept : previous_(current_actor) {
  current_actor = &st;
}

actor_scope::~actor_scope() {
  current_actor = previous_;
}

std::uint64_t new_caller() noexcept {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t this_caller() noexcept {
  if (current_actor != nullptr && current_actor->caller != 0)
    return current_actor->caller;
  thread_local std::uint64_t id = new_caller();
  return id;
}

bool in_actor() noexcept {
  return current_actor != nullptr;
}

bool actor_restarted() noexcept {
  return current_actor != nullptr && current_actor->restarted;
}

std::chrono::nanoseconds coarse_now() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return std::chrono::seconds{ts.tv_sec} + std::chrono::nanoseconds{ts.tv_nsec};
}

const std::string& actor_label::text() {
  std::call_once(built_, [this] {
    text_ = demangle(cls_.name()) + (name_.empty() ? "" : " \"" + name_ + "\"") + " ("
            + to_string(id_) + ")";
  });
  return text_;
}

outcome execute(call_record& call, void* instance, const actor_scope_state& scope,
                actor_label& actor, const objstore::internal::object_table& table,
                recorder& recording, bool own_thread) {
  actor_scope in_actor{scope};
  auto name = [&] { return call.name() + " of " + actor.text(); };
  auto started = recording.now();
  auto result = outcome::finished;
  objstore::internal::arguments_scope fetched{table, call};
  try {
    call.output = call.body(instance, detail::body_mode::last_attempt);
    if (!call.output)
      call.output = did_not_run("actor method " + name(), call.output.error());
  } catch (const detail::actor_exit_signal&) {
    call.output = make_error(errc::actor_died,
                             "actor method " + name() + " ended the actor through exit_actor()");
    result = outcome::exited;
  } catch (...) {
    call.output = make_error(errc::task_failed,
                             "actor method " + name() + " threw " + current_exception_text());
  }
  record_call(recording, call, own_thread ? actor.text() : std::string{}, started);
  return result;
}

detail::call_body body_by_name(caf::expected<detail::member_invoker> invoker, caf::message args,
                               std::vector<detail::arg_ref> refs,
                               std::shared_ptr<detail::held_refs> borrowed) {
  return [invoker = std::move(invoker), args = std::move(args), refs = std::move(refs),
          borrowed = std::move(borrowed)](void* instance,
                                          detail::body_mode) -> caf::expected<detail::task_output> {
    if (!invoker)
      return invoker.error();
    auto all = detail::with_dependencies(args, refs);
    if (!all)
      return std::move(all.error());
    auto result = (*invoker)(instance, *all);
    if (!result)
      return std::move(result.error());
    auto size = detail::message_size(*result);
    return detail::task_output{std::move(*result), size, {}};
  };
}

void settle(objstore::internal::object_table& table, call_record& call) {
  if (!call.reply_to) {
    (void)objstore::internal::complete_run(table, call, call.body, std::move(call.output));
    return;
  }
  auto output = std::move(call.output);
  (void)objstore::internal::complete_run(table, call, call.body, caf::message{});
  auto to = std::move(call.reply_to);
  // actor_interface answers with one element, the result as a message.
  if (output)
    caf::anon_send(to, answer_atom::value, call.reply_key, std::move(output->value));
  else
    caf::anon_send(to, answer_atom::value, call.reply_key, std::move(output.error()));
}

} // namespace rustyray::actors::internal
