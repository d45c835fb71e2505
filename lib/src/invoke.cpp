#include "rustyray/detail/invoke.hpp"

#include "rustyray/errc.hpp"

namespace rustyray::detail {

caf::expected<caf::message>
splice_args(const caf::message& values,
            const std::vector<std::pair<std::uint32_t, caf::message>>& deps) {
  if (deps.empty())
    return values;
  // Slices and concatenations share the elements: no value is copied.
  caf::message result;
  std::size_t taken = 0; // of values
  std::size_t next = 0;  // the position the next argument takes
  for (const auto& [position, value] : deps) {
    if (position < next || position - next > values.size() - taken || value.size() > 1)
      return make_error(errc::invalid_argument,
                        "the arguments of a shipped call do not fit its dependency at position "
                          + std::to_string(position));
    if (auto before = position - next; before > 0) {
      result = caf::message::concat(result, values.slice(taken, before));
      taken += before;
    }
    result = caf::message::concat(result, value);
    next = position + 1;
  }
  if (taken < values.size())
    result = caf::message::concat(result, values.slice(taken, values.size() - taken));
  return result;
}

} // namespace rustyray::detail
