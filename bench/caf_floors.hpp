#pragma once

// The raw-CAF floors: Ray's loop patterns with plain CAF actors and no
// RustyRay in between, in an actor system of their own (CAF's defaults).
// The only part of the benchmark that includes CAF's actor headers.

#include <cstddef>
#include <memory>

#include "timeit.hpp"

namespace bench {

/// Worker actors that answer an `int` with it, and the loops that call them
/// from a `caf::scoped_actor`.
class caf_floors {
public:
  /// Starts one actor for the 1:1 patterns and `n` for the 1:n and n:n ones.
  explicit caf_floors(std::size_t n);
  /// Stops every actor and the system.
  ~caf_floors();
  caf_floors(const caf_floors&) = delete;
  caf_floors& operator=(const caf_floors&) = delete;

  /// One request, wait for its reply; repeated.
  [[nodiscard]] result request_response_sync(const schedule& s);
  /// 1,000 messages to one actor, then every reply.
  [[nodiscard]] result request_response_async(const schedule& s);
  /// 1,000 messages spread over the `n` actors, then every reply.
  [[nodiscard]] result one_to_n_async(const schedule& s);
  /// `n` threads, each sending 1,000 messages to its own actor, then its replies.
  [[nodiscard]] result n_to_n_async(const schedule& s);
  /// Seconds to spawn `actors` event-based actors, send each one message
  /// and receive every reply (the floor of `scaling_actors`), in an actor
  /// system of its own; the actors and the system are stopped afterwards,
  /// untimed.
  [[nodiscard]] static double spawn_and_call(std::size_t actors);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace bench
