#pragma once

#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <utility>

#include <caf/actor.hpp>
#include <caf/send.hpp>

#include "rustyray/cluster/internal/wire.hpp"

namespace rustyray::cluster::internal {

/// What this node's service sends next, by peer node: filled from any thread
/// (object references counted, results stored, fetches answered), sent by
/// the service in one `link_batch` per peer per burst.
class link_outbox {
public:
  /// The service that sends; set before anything is added.
  void bind(caf::actor service) {
    std::lock_guard<std::mutex> guard{mtx_};
    service_ = std::move(service);
  }

  /// The service.
  [[nodiscard]] caf::actor service() {
    std::lock_guard<std::mutex> guard{mtx_};
    return service_;
  }

  /// Lets `fill` add to the batch for `peer`, and makes sure the service
  /// flushes soon. Cheap enough to call under the object table's locks.
  template <class Fill>
  void add(std::uint64_t peer, Fill&& fill) {
    std::lock_guard<std::mutex> guard{mtx_};
    fill(out_[peer]);
    request_flush_locked();
  }

  /// Makes sure the service flushes soon (the task router has tasks).
  void request_flush() {
    std::lock_guard<std::mutex> guard{mtx_};
    request_flush_locked();
  }

  /// The service's flush: everything collected, by peer.
  std::unordered_map<std::uint64_t, link_batch> take() {
    std::unordered_map<std::uint64_t, link_batch> result;
    std::lock_guard<std::mutex> guard{mtx_};
    result.swap(out_);
    flush_sent_ = false;
    return result;
  }

private:
  void request_flush_locked() {
    if (!flush_sent_ && service_) {
      flush_sent_ = true;
      caf::anon_send(service_, flush_atom::value);
    }
  }

  std::mutex mtx_;
  std::unordered_map<std::uint64_t, link_batch> out_; // guarded by mtx_
  bool flush_sent_ = false;                           // guarded by mtx_
  caf::actor service_;                                // guarded by mtx_
};

} // namespace rustyray::cluster::internal
