#pragma once

// What the actors module contributes to `state()` and `timeline()`.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "rustyray/actors/internal/actor_core.hpp"
#include "rustyray/internal/recorder.hpp"

namespace rustyray::actors::internal {

struct actor_runtime;

/// Records one call (its output in `call.output`, started at `started`) in
/// the calling thread's lane: its timeline event and the counters. `actor`
/// labels a thread of the actor's own (`dedicated_thread`); empty, the
/// thread is a shared actor thread.
void record_call(rustyray::internal::recorder& recording, const call_record& call,
                 const std::string& actor, std::int64_t started);

/// `state()["actors"]`: every actor whose host runs, with its class, name,
/// phase, restarts and calls not finished. `pending` as `object_table::producers`
/// lists it.
nlohmann::json actors_state(
  const actor_runtime& rt,
  const std::vector<std::pair<object_id, std::shared_ptr<objstore::internal::producer>>>& pending);

} // namespace rustyray::actors::internal
