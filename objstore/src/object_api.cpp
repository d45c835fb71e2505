// The non-template core of put / get / wait / pin / free (detail/object_access.hpp
// and object_store.hpp): everything that touches the runtime's object table.

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <limits>
#include <unordered_set>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "rustyray/detail/invoke.hpp"

#include "rustyray/internal/demangle.hpp"
#include "rustyray/internal/error_text.hpp"
#include "rustyray/objstore/internal/dependencies.hpp"
#include "rustyray/objstore/internal/object_table.hpp"
#include "rustyray/objstore/internal/store_context.hpp"
#include "rustyray/internal/threads.hpp"
#include "rustyray/internal/spin_wait.hpp"
#include "rustyray/detail/object_access.hpp"
#include "blocking_wait.hpp"
#include "thread_context.hpp"
#include "rustyray/object_store.hpp"
#include "rustyray/objstore/internal/run_record.hpp"

// -- this thread's context ----------------------------------------------------

// This thread's context lives here, beside `add_ref`, `release_ref` and
// `get_message`, which read it on every call: in this translation unit the
// reads compile to a TLS access, not a call.
namespace rustyray::objstore::internal {

namespace {

thread_local thread_context context;

} // namespace

thread_context& this_thread_context() noexcept {
  return context;
}

void count_noted_refs() noexcept {
  auto& noted = context.noted;
  if (noted.empty())
    return;
  if (auto rt = current_store())
    rt->table->add_refs(noted);
  noted.clear(); // without a runtime, there is nothing to count them in
}

const lookup* served_argument(const object_id& id) noexcept {
  auto* run = context.serving;
  if (run == nullptr)
    return nullptr;
  auto* found = run->deps.fetched(id);
  if (found != nullptr)
    ++run->fetched_gets;
  return found;
}

} // namespace rustyray::objstore::internal

namespace rustyray::detail {

add_ref_batch::add_ref_batch() noexcept {
  ++objstore::internal::context.noting;
}

add_ref_batch::~add_ref_batch() {
  if (--objstore::internal::context.noting == 0) // the outermost: batches nest
    objstore::internal::count_noted_refs();
}

} // namespace rustyray::detail

// -- refs, put, get, wait -----------------------------------------------------

namespace rustyray {

namespace {

caf::error nil_ref_error() {
  return make_error(errc::invalid_argument,
                    "this object_ref names no object (default-constructed or moved "
                    "from); get refs from put() or a task submission");
}

/// A ref whose object another runtime made: one before the last `shutdown`
/// (objects do not survive it), or one of another process.
caf::error foreign_error(const object_id& id, const objstore::internal::store_context& rt) {
  return make_error(errc::object_lost,
                    "object " + to_string(id) + " belongs to node " + internal::node_text(id.node())
                      + ", not to this runtime (node " + internal::node_text(rt.node->id())
                      + "): it comes from a runtime that was shut down (objects do not "
                        "survive rustyray::shutdown()) or from another process; put it again");
}

caf::error not_ready_error(const object_id& id, std::chrono::milliseconds timeout) {
  return make_error(errc::timeout,
                    "object " + to_string(id) + " was not ready within "
                      + std::to_string(timeout.count())
                      + " ms; wait longer, or check that the task producing it can run");
}

using objstore::internal::await_resolved;
using objstore::internal::deadline_after;
using objstore::internal::lookup;
using objstore::internal::slow_get_alarm;
using objstore::internal::spin_before_sleep;
using objstore::internal::sync_get;
using objstore::internal::wait_until;

[[noreturn]] void invalid_argument(const std::string& what) {
  throw error{errc::invalid_argument, what};
}

void check_timeout(std::chrono::milliseconds timeout) {
  if (timeout.count() < 0)
    invalid_argument("a timeout must not be negative (got " + std::to_string(timeout.count())
                     + " ms); use rustyray::forever to wait without limit");
}

/// Whether refs to `id` are counted in this process: its own objects, and
/// in a cluster every node's (the table hands those to the cluster).
bool counted_here(const object_id& id, const objstore::internal::store_context& rt) noexcept {
  return id.node() == rt.node->id() || rt.table->remote() != nullptr;
}

/// In a cluster: asks for copies of the objects among `ids` that other
/// nodes own, before they are looked up.
void fetch_remote(objstore::internal::object_table& table, const std::vector<object_id>& ids) {
  if (auto* remote = table.remote())
    for (const auto& id : ids)
      if (!id.is_nil() && table.is_remote(id))
        remote->fetch(id);
}

std::string stored_type_name(const caf::message& stored) {
  if (stored.empty())
    return "nothing (object_ref<void>)";
  return internal::type_name(stored.type(0));
}

} // namespace

namespace detail {

void add_ref(const object_id& id) noexcept {
  // A noted ref is counted later, with the runtime in hand (an ID of another
  // node names no entry of the table: counting it changes nothing). Copies
  // into a submission's arguments are noted: they skip the look-up.
  auto& here = objstore::internal::context;
  if (here.noting > 0) {
    here.noted.push_back(id);
    return;
  }
  if (auto rt = objstore::internal::current_store(); rt && counted_here(id, *rt))
    rt->table->add_ref(id);
}

void release_ref(const object_id& id) noexcept {
  // A release may be of a ref whose count is still noted: count first.
  objstore::internal::count_noted_refs();
  if (auto* collected = objstore::internal::context.releases) {
    collected->push_back(id);
    return;
  }
  if (auto rt = objstore::internal::current_store(); rt && counted_here(id, *rt))
    rt->table->release(id);
}

object_id put_message(caf::message value, std::uint64_t size) {
  auto rt = objstore::internal::current_store_or_throw();
  rt->node->check_accepting();
  auto id = rt->node->next_id();
  if (auto err = rt->table->put(id, std::move(value), size))
    throw_caf_error(err);
  return id;
}

caf::expected<caf::message> with_dependencies(const caf::message& args,
                                              const std::vector<arg_ref>& refs) {
  if (refs.empty())
    return args;
  std::vector<std::pair<std::uint32_t, caf::message>> values;
  values.reserve(refs.size());
  for (const auto& [position, id] : refs) {
    auto value = get_message(id, std::chrono::milliseconds{0});
    if (!value)
      return argument_error(position + 1, id, value.error());
    values.emplace_back(position, std::move(*value));
  }
  return splice_args(args, values);
}

caf::expected<caf::message> get_message(const object_id& id, std::chrono::milliseconds timeout) {
  check_timeout(timeout);
  // An argument of the running task: fetched with its pin (it is local, and
  // the runtime is alive while the task runs), so no look-up at all.
  if (auto* fetched = objstore::internal::served_argument(id))
    return *fetched;
  auto rt = objstore::internal::current_store_or_throw();
  if (id.is_nil())
    return nil_ref_error();
  auto& table = *rt->table;
  if (id.node() != rt->node->id()) {
    auto* remote = table.remote();
    if (remote == nullptr)
      return foreign_error(id, *rt);
    remote->fetch(id);
  }
  if (auto found = table.try_get(id))
    return std::move(*found);
  auto state = std::make_shared<sync_get>();
  std::uint64_t token = 0;
  if (auto found = table.get_or_wait(
        id, [state](const lookup& r) { state->set(r); }, token))
    return std::move(*found);
  spin_before_sleep(state->done, timeout);
  internal::blocking_scope blocking;
  // The clock is read only once a get must wait: a get that finds its
  // object (millions per second) pays nothing for the alarm.
  slow_get_alarm alarm{*rt, std::chrono::steady_clock::now()};
  std::unique_lock<std::mutex> guard{state->mtx};
  auto ready = [&] { return state->result.has_value(); };
  if (!wait_until(state->cv, guard, deadline_after(timeout), ready, alarm, [&] { return id; })) {
    guard.unlock();
    table.cancel_wait(id, token);
    guard.lock();
    if (!state->result)
      return not_ready_error(id, timeout);
  }
  return std::move(*state->result);
}

std::vector<bool> wait_ready(const std::vector<object_id>& ids, std::size_t num_returns,
                             std::chrono::milliseconds timeout) {
  auto rt = objstore::internal::current_store_or_throw();
  check_timeout(timeout);
  if (num_returns == 0 || num_returns > ids.size())
    invalid_argument("wait needs 1 <= num_returns <= refs.size(), got num_returns = "
                     + std::to_string(num_returns) + " for " + std::to_string(ids.size())
                     + " refs");
  std::unordered_set<object_id> seen;
  for (const auto& id : ids) {
    if (id.is_nil())
      invalid_argument("wait got a ref that names no object (default-constructed or moved "
                       "from); pass refs from put() or a task submission");
    if (!seen.insert(id).second)
      invalid_argument("wait got object " + to_string(id) + " twice; pass each ref once");
  }
  auto& table = *rt->table;
  fetch_remote(table, ids);
  await_resolved(table, ids, num_returns, timeout);
  std::vector<bool> flags;
  flags.reserve(ids.size());
  for (const auto& id : ids)
    flags.push_back(table.status(id) != objstore::internal::object_status::pending);
  return flags;
}

std::vector<caf::expected<caf::message>> get_messages(const std::vector<object_id>& ids,
                                                      std::chrono::milliseconds timeout) {
  auto rt = objstore::internal::current_store_or_throw();
  check_timeout(timeout);
  // One look at every object; while some are pending, wait for the last of
  // them and look again at those only. Objects tend to resolve in the order
  // they were asked for, so this takes one waiter and one wake-up in the
  // common case instead of one per object.
  auto& table = *rt->table;
  fetch_remote(table, ids);
  std::vector<std::optional<objstore::internal::lookup>> found(ids.size());
  auto deadline = deadline_after(timeout);
  std::optional<slow_get_alarm> alarm;
  while (table.try_get_into(ids, found, false)) {
    auto last = ids.size() - 1;
    while (found[last])
      --last;
    auto now = std::chrono::steady_clock::now();
    if (!alarm)
      alarm.emplace(*rt, now);
    if (now >= deadline)
      break; // the pending ones report a timeout
    auto left = deadline == std::chrono::steady_clock::time_point::max()
                  ? forever
                  : std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
    await_resolved(table, {ids[last]}, 1, left, &*alarm);
  }
  // Those still pending count as gets that missed.
  (void)table.try_get_into(ids, found, true);
  std::vector<caf::expected<caf::message>> messages;
  messages.reserve(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i].is_nil())
      messages.emplace_back(nil_ref_error());
    else if (ids[i].node() != rt->node->id() && table.remote() == nullptr)
      messages.emplace_back(foreign_error(ids[i], *rt));
    else if (found[i])
      messages.emplace_back(std::move(*found[i]));
    else
      messages.emplace_back(not_ready_error(ids[i], timeout));
  }
  return messages;
}

caf::error type_mismatch(const object_id& id, const caf::message& stored, caf::rtti_pair wanted) {
  return make_error(errc::type_mismatch, "object " + to_string(id) + " holds "
                                           + stored_type_name(stored) + " but was read as "
                                           + internal::type_name(wanted)
                                           + "; use an object_ref of the stored type");
}

void throw_caf_error(const caf::error& err) {
  throw_error(errc_of(err), internal::message_of(err));
}

caf::error to_caf_error(const error& err) {
  return make_error(err.code(), err.message());
}

template <class T>
bool take_recycled_impl(T& out, std::size_t size) {
  auto rt = objstore::internal::current_store();
  return rt && rt->pool->take(out, size);
}

bool take_recycled(std::vector<std::uint8_t>& out, std::size_t size) {
  return take_recycled_impl(out, size);
}

bool take_recycled(std::vector<char>& out, std::size_t size) {
  return take_recycled_impl(out, size);
}

bool take_recycled(std::string& out, std::size_t size) {
  return take_recycled_impl(out, size);
}

caf::actor store_actor() {
  return objstore::internal::current_store_or_throw()->actor;
}

} // namespace detail

// -- pin, free, stats ---------------------------------------------------------

store_stats object_store_stats() {
  return objstore::internal::current_store_or_throw()->table->stats();
}

namespace detail {

namespace {

/// The runtime, for an operation `what` on `id`; a nil ID is invalid_argument.
std::shared_ptr<objstore::internal::store_context> runtime_for(const char* what,
                                                               const object_id& id) {
  auto rt = objstore::internal::current_store_or_throw();
  if (id.is_nil())
    invalid_argument(std::string{what}
                     + " got a ref that names no object (default-constructed or moved from)");
  return rt;
}

} // namespace

bool contains_object(const object_id& id) {
  return objstore::internal::current_store_or_throw()->table->contains(id);
}

void pin_object(const object_id& id) {
  auto rt = runtime_for("pin", id);
  if (id.node() != rt->node->id())
    throw_caf_error(foreign_error(id, *rt));
  if (auto err = rt->table->pin(id))
    throw_caf_error(err);
}

void unpin_object(const object_id& id) {
  if (auto err = runtime_for("unpin", id)->table->unpin(id))
    throw_caf_error(err);
}

void free_object(const object_id& id) {
  auto rt = runtime_for("free", id);
  rt->table->free(id);
  if (auto* remote = rt->table->remote())
    remote->free(id);
}

void check_get_async(const object_id& id, std::chrono::milliseconds timeout) {
  (void)runtime_for("get_async", id);
  check_timeout(timeout);
}

} // namespace detail

} // namespace rustyray
