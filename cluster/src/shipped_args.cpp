#include "shipped_args.hpp"

#include <chrono>
#include <utility>

#include "object_links.hpp"
#include "rustyray/detail/object_access.hpp"
#include "rustyray/detail/value_size.hpp"

namespace rustyray::cluster::internal {

caf::expected<caf::message> args_for(std::uint64_t target, objstore::internal::run_record& run,
                                     const detail::task_output& packed,
                                     std::vector<detail::arg_ref>& refs) {
  if (packed.by_ref.empty())
    return packed.value;
  std::vector<std::pair<std::uint32_t, caf::message>> values;
  values.reserve(packed.by_ref.size());
  for (const auto& [position, id] : packed.by_ref) {
    // Unpinned (it was gone when the run waited): the table says why.
    const auto* fetched = run.deps.fetched(id);
    auto value =
      fetched != nullptr ? *fetched : detail::get_message(id, std::chrono::milliseconds{0});
    if (!value)
      return detail::argument_error(position + 1, id, value.error());
    if (id.node() == target || detail::message_size(*value) > object_links::chunk_bytes) {
      refs.emplace_back(position, id);
      values.emplace_back(position, caf::message{});
      continue;
    }
    values.emplace_back(position, std::move(*value));
  }
  return detail::splice_args(packed.value, values);
}

} // namespace rustyray::cluster::internal
