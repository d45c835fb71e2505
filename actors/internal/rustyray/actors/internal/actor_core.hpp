#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <iterator>
#include <memory>
#include <mutex>
#include <string>
#include <typeinfo>
#include <vector>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/response_promise.hpp>

#include "rustyray/objstore/internal/run_record.hpp"
#include "rustyray/actors/actor.hpp"

namespace rustyray::actors::internal {
class call_inbox;
} // namespace rustyray::actors::internal

namespace rustyray::detail {

/// One actor as its handles see it: what `actor_handle` points to. The last
/// handle's destruction asks the host to stop (after the queued calls).
class actor_core {
public:
  actor_core(const object_id& id, const std::type_info& cls, std::string name, caf::actor host,
             std::shared_ptr<actors::internal::call_inbox> inbox)
    : id(id), cls(cls), name(std::move(name)), inbox(std::move(inbox)), host_(std::move(host)) {}

  actor_core(const actor_core&) = delete;
  actor_core& operator=(const actor_core&) = delete;

  ~actor_core();

  const object_id id;
  const std::type_info& cls;
  const std::string name;
  /// Where calls go on their way to the host.
  const std::shared_ptr<actors::internal::call_inbox> inbox;

  /// The CAF actor hosting the instance; invalid after `detach`.
  [[nodiscard]] caf::actor host() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return host_;
  }

  /// Forgets the host (shutdown): handles that outlive the runtime must not
  /// keep CAF objects of a destroyed actor system.
  void detach() {
    std::lock_guard<std::mutex> guard{mtx_};
    host_ = nullptr;
  }

private:
  mutable std::mutex mtx_;
  caf::actor host_; // guarded by mtx_
};

} // namespace rustyray::detail

namespace rustyray::actors::internal {

/// One submitted actor call, from submission until it finished.
struct call_record : objstore::internal::run_record {
  /// The actor that runs it.
  object_id actor;
  /// Calls of one caller run in submission order.
  std::uint64_t caller = 0;
  const std::type_info* method = nullptr;
  detail::function_identity identity;
  /// The registered name, for a call from plain CAF code (`method` null).
  std::string by_name;
  detail::call_body body;
  /// Every argument exists (set by whoever resolved the last one).
  std::atomic<bool> ready{false};
  /// Set by a runner thread (max_concurrency > 1) for the host to finish.
  caf::expected<detail::task_output> output{caf::error{}};
  caf::response_promise promise;
  // Touched by the host's thread only.
  bool accepted = false;
  bool done = false;

  /// Answers a plain CAF caller whose call was lost on the way (in the
  /// mailbox of a host that died): such a caller must not wait forever.
  ~call_record() override;

  /// The registered name of the method, else `ns::C::method` from the
  /// program's symbols, else its type.
  std::string name() const;

  /// "call Counter::add of actor 9f2c….3 (waiting for arguments)".
  std::string describe() const override;
};

using call_ptr = std::shared_ptr<call_record>;

/// Calls on their way to an actor's host. A submitter appends and sends the
/// host a message only if the host sleeps and none is on its way already: a
/// burst of calls costs one CAF message (and at most one wake-up), not one
/// each. Calls keep their submission order.
class call_inbox {
public:
  /// Appends `call`; `notify` says whether the caller must send the host an
  /// `inbox_atom`. False if the host has stopped: the call was not taken.
  bool push(call_ptr call, bool& notify) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (closed_)
      return false;
    calls_.push_back(std::move(call));
    notify = !awake_;
    awake_ = true;
    waiting_.store(true, std::memory_order_release);
    return true;
  }

  /// The host: every call so far, into `calls` (emptied first; its memory
  /// serves the next pushes). Pushes send nothing until `sleep`: the host
  /// looks again. False while held: the kill on its way looks again.
  bool take(std::vector<call_ptr>& calls) {
    calls.clear();
    std::lock_guard<std::mutex> guard{mtx_};
    if (!kills_.empty())
      return false;
    calls.swap(calls_);
    waiting_.store(false, std::memory_order_relaxed);
    return true;
  }

  /// A kill is on its way to the host (through its mailbox, ahead of the
  /// calls): a call pushed after `kill` returned must not run before it, so
  /// the host takes nothing until the kill's handler took what came before.
  void hold() {
    std::lock_guard<std::mutex> guard{mtx_};
    kills_.push_back(calls_.size());
  }

  /// The kill's handler: the calls pushed before its kill, into `calls`
  /// (they were queued when it struck). True if no other kill holds the
  /// inbox: the host takes the rest now.
  bool take_before_kill(std::vector<call_ptr>& calls) {
    calls.clear();
    std::lock_guard<std::mutex> guard{mtx_};
    if (kills_.empty())
      return true; // a kill sent without a hold: nothing came before it
    auto before = static_cast<std::ptrdiff_t>(kills_.front());
    kills_.pop_front();
    calls.assign(std::make_move_iterator(calls_.begin()),
                 std::make_move_iterator(calls_.begin() + before));
    calls_.erase(calls_.begin(), calls_.begin() + before);
    for (auto& at : kills_)
      at -= static_cast<std::size_t>(before);
    waiting_.store(!calls_.empty(), std::memory_order_relaxed);
    return kills_.empty();
  }

  /// The host stops looking: true if no call waits, and the next push
  /// notifies; false if calls came in (take them first).
  bool sleep() {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!calls_.empty())
      return false;
    awake_ = false;
    return true;
  }

  /// The host, when it quits: later pushes fail, and their calls get
  /// `reason`. Returns the calls that came in the meantime.
  std::vector<call_ptr> close(caf::error reason) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!closed_)
      reason_ = std::move(reason);
    closed_ = true;
    awake_ = false;
    waiting_.store(false, std::memory_order_relaxed);
    return std::move(calls_);
  }

  /// Why pushes fail (after `close`).
  [[nodiscard]] caf::error closed_reason() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return reason_;
  }

  /// Calls are waiting for the host (which is awake, or has a message on
  /// its way). Without the lock: a host looking for more spins on it.
  [[nodiscard]] bool pending() const noexcept {
    return waiting_.load(std::memory_order_acquire);
  }

private:
  mutable std::mutex mtx_;
  std::vector<call_ptr> calls_; // guarded by mtx_
  /// The host looks, or an `inbox_atom` is on its way to it.
  bool awake_ = false; // guarded by mtx_
  /// `calls_` is not empty (written under mtx_).
  std::atomic<bool> waiting_{false};
  bool closed_ = false; // guarded by mtx_
  /// Per kill on its way to the host (`hold`), how many calls came before.
  std::deque<std::size_t> kills_; // guarded by mtx_
  caf::error reason_;             // guarded by mtx_
};

} // namespace rustyray::actors::internal

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(rustyray::actors::internal::call_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<void>)
