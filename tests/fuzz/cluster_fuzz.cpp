// Fuzz target: what one node's service decodes from another before it checks
// the cluster token (BASP decodes a whole message first): a link_batch
// (tasks with their arguments, results, borrows, slices of objects), a join
// request, the head's node table.
//
// Input: one mode byte (0: link_batch, 1: join_request, 2: node records),
// then the bytes CAF decodes.
// Properties: decoding returns an error or a value, never allocates what the
// input only claims (a slice's length is bounded by the input), and what the
// service reads of a decoded batch (sizes of shipped values, slice bounds)
// is computed without a crash.

#include "fuzz_support.hpp"

#include "rustyray/cluster/internal/membership.hpp"
#include "rustyray/cluster/internal/wire.hpp"
#include "rustyray/detail/value_size.hpp"

using namespace rustyray;
using namespace rustyray::cluster::internal;

namespace {

caf::actor_system& sys() {
  return fuzz::system_once([](caf::actor_system_config&) {});
}

template <class T>
bool decode(caf::actor_system& system, const std::vector<char>& bytes, T& out) {
  caf::binary_deserializer source{system, bytes};
  return !source(out);
}

void read_batch(const link_batch& batch) {
  for (const auto& task : batch.tasks) {
    (void)detail::message_size(task.args);
    (void)caf::to_string(task.args);
  }
  for (const auto& results : {batch.results, batch.fetched})
    for (const auto& r : results) {
      (void)detail::message_size(r.value);
      (void)caf::to_string(r.error);
    }
  for (const auto& chunk : batch.chunks) {
    // What object_links checks before it places a slice.
    auto end = chunk.offset + chunk.bytes.size();
    bool fits = end <= chunk.total && end >= chunk.offset;
    (void)fits;
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto& system = sys();
  auto bytes = fuzz::payload(data, size);
  if (size == 0 || fuzz::names_known_caf_issue(bytes))
    return 0;
  switch (data[0] % 3) {
    case 0: {
      link_batch batch;
      if (decode(system, bytes, batch))
        read_batch(batch);
      break;
    }
    case 1: {
      join_request request;
      if (decode(system, bytes, request))
        (void)same_token(request.token, "fuzz-token");
      break;
    }
    default: {
      std::vector<node_record> table;
      (void)decode(system, bytes, table);
      break;
    }
  }
  return 0;
}
