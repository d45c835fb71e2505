#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <typeinfo>
#include <vector>

#include <caf/actor.hpp>
#include <caf/error.hpp>

#include "rustyray/objstore/internal/run_record.hpp"
#include "rustyray/actors/actor.hpp"

namespace rustyray::actors::internal {
class actor_host;
class remote_actor;
} // namespace rustyray::actors::internal

namespace rustyray::detail {

/// One actor as its handles see it: what `actor_handle` points to. The last
/// handle's destruction asks the host to stop (after the queued calls).
class actor_core {
public:
  actor_core(const object_id& id, const std::type_info& cls, std::string name,
             std::string ray_namespace, std::shared_ptr<actors::internal::actor_host> host)
    : id(id), cls(cls), name(std::move(name)), ray_namespace(std::move(ray_namespace)),
      host_(std::move(host)) {}

  /// An actor hosted by another node: its calls go through `remote`.
  actor_core(const object_id& id, const std::type_info& cls, std::string name,
             std::string ray_namespace, std::shared_ptr<actors::internal::remote_actor> remote)
    : id(id), cls(cls), name(std::move(name)), ray_namespace(std::move(ray_namespace)),
      remote_(std::move(remote)) {}

  actor_core(const actor_core&) = delete;
  actor_core& operator=(const actor_core&) = delete;

  ~actor_core();

  const object_id id;
  const std::type_info& cls;
  const std::string name;
  /// The namespace of a named actor (empty for an unnamed one).
  const std::string ray_namespace;

  /// For an actor another node hosts: where its calls go (else null).
  [[nodiscard]] const std::shared_ptr<actors::internal::remote_actor>& remote() const noexcept {
    return remote_;
  }

  /// The host running the instance; null after `detach`, and for an actor
  /// another node hosts.
  [[nodiscard]] std::shared_ptr<actors::internal::actor_host> host() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return host_;
  }

  /// Forgets the host (it ended, or shutdown): a handle that outlives it
  /// does not keep it.
  void detach() {
    std::lock_guard<std::mutex> guard{mtx_};
    host_ = nullptr;
  }

  /// Why calls fail once the host ended, as it said when it ended.
  [[nodiscard]] caf::error ended_reason() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return ended_reason_;
  }

  /// The host ended with `reason`: detaches and keeps the reason.
  void ended(caf::error reason) {
    std::lock_guard<std::mutex> guard{mtx_};
    host_ = nullptr;
    ended_reason_ = std::move(reason);
  }

private:
  mutable std::mutex mtx_;
  std::shared_ptr<actors::internal::actor_host> host_; // guarded by mtx_
  caf::error ended_reason_;                            // guarded by mtx_
  const std::shared_ptr<actors::internal::remote_actor> remote_;
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
  /// The name the call goes by, if it has one: given with `.name(...)`, or
  /// the registered name of a call from plain CAF code (`method` null).
  std::string by_name;
  detail::call_body body;
  /// Every argument exists (set by whoever resolved the last one).
  std::atomic<bool> ready{false};
  /// Set by a runner thread (max_concurrency > 1) for the host to finish.
  caf::expected<detail::task_output> output{caf::error{}};
  /// For a call from plain CAF code: the CAF face that answers the
  /// requester, and which of its requests this is (`settle` sends the
  /// answer there and clears it).
  caf::actor reply_to;
  std::uint64_t reply_key = 0;
  // Touched by the host's thread only.
  bool accepted = false;
  bool done = false;
  /// Runs on rebuilt instances so far (`max_task_retries`).
  int retries = 0;

  /// Answers a plain CAF caller whose call was dropped unanswered: such a
  /// caller must not wait forever.
  ~call_record() override;

  /// `by_name` if set, else the registered name of the method, else
  /// `ns::C::method` from the program's symbols, else its type.
  std::string name() const;

  /// "call Counter::add of actor 9f2c….3 (waiting for arguments)".
  std::string describe() const override;
};

using call_ptr = std::shared_ptr<call_record>;

} // namespace rustyray::actors::internal
