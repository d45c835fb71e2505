#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <typeinfo>
#include <vector>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/response_promise.hpp>

#include "dependencies.hpp"
#include "rustyray/actors/actor.hpp"

namespace rustyray::detail {

/// One actor as its handles see it: what `actor_handle` points to. The last
/// handle's destruction asks the host to stop (after the queued calls).
class actor_core {
public:
  actor_core(const object_id& id, const std::type_info& cls, std::string name, caf::actor host)
    : id(id), cls(cls), name(std::move(name)), host_(std::move(host)) {
  }

  actor_core(const actor_core&) = delete;
  actor_core& operator=(const actor_core&) = delete;

  ~actor_core();

  const object_id id;
  const std::type_info& cls;
  const std::string name;

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

namespace rustyray::internal {

/// One submitted actor call, from submission until it finished.
struct call_record : objstore::producer {
  /// The result object; nil for calls from plain CAF code (`promise`).
  object_id result;
  /// The actor that runs it.
  object_id actor;
  /// Calls of one caller run in submission order.
  std::uint64_t caller = 0;
  const std::type_info* method = nullptr;
  detail::function_identity identity;
  /// The registered name, for a call from plain CAF code (`method` null).
  std::string by_name;
  /// Pinned until the call is done.
  objstore::dependency_wait deps;
  detail::call_body body;
  /// Every argument exists (set by whoever resolved the last one).
  std::atomic<bool> ready{false};
  /// Set by a runner thread (max_concurrency > 1) for the host to finish.
  caf::expected<detail::task_output> output{caf::error{}};
  caf::response_promise promise;
  // Touched by the host's thread only.
  bool accepted = false;
  bool done = false;

  /// The registered name of the method, else its type.
  std::string name() const;

  /// "call Counter::add of actor 9f2c….3 (waiting for arguments)".
  std::string describe() const override;
};

using call_ptr = std::shared_ptr<call_record>;

} // namespace rustyray::internal

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(rustyray::internal::call_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<void>)
