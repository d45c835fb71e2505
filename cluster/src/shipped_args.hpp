#pragma once

#include <cstdint>
#include <vector>

#include <caf/expected.hpp>
#include <caf/message.hpp>

#include "rustyray/detail/invoke.hpp"
#include "rustyray/objstore/internal/run_record.hpp"

namespace rustyray::cluster::internal {

/// The arguments of the ready task or call `run` for node `target`, from
/// what its body packed: each dependency's value as the run's wait fetched
/// it. Two kinds go to `refs` instead, by ID: those
/// `target` owns (it takes them from its own store: their bytes do not
/// travel) and those larger than one slice (it fetches them as copies
/// travel, in slices; a message holding them whole would sit in CAF's
/// send buffer at once). The argument's error if a dependency holds one.
caf::expected<caf::message> args_for(std::uint64_t target, objstore::internal::run_record& run,
                                     const detail::task_output& packed,
                                     std::vector<detail::arg_ref>& refs);

} // namespace rustyray::cluster::internal
