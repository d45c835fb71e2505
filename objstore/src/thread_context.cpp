#include "thread_context.hpp"

#include "rustyray/detail/object_access.hpp"
#include "rustyray/objstore/internal/object_table.hpp"
#include "rustyray/objstore/internal/run_record.hpp"
#include "rustyray/objstore/internal/store_context.hpp"

namespace rustyray::objstore::internal {

namespace {

thread_local thread_context context;

} // namespace

thread_context& this_thread_context() noexcept {
  return context;
}

void count_noted_refs() noexcept {
  auto& noted = context.noted;
  if (noted.empty())
    return;
  if (auto rt = current_store())
    rt->table->add_refs(noted);
  noted.clear(); // without a runtime, there is nothing to count them in
}

const lookup* served_argument(const object_id& id) noexcept {
  auto* run = context.serving;
  if (run == nullptr)
    return nullptr;
  auto* found = run->deps.fetched(id);
  if (found != nullptr)
    ++run->fetched_gets;
  return found;
}

} // namespace rustyray::objstore::internal

namespace rustyray::detail {

add_ref_batch::add_ref_batch() noexcept {
  ++objstore::internal::context.noting;
}

add_ref_batch::~add_ref_batch() {
  if (--objstore::internal::context.noting == 0) // the outermost: batches nest
    objstore::internal::count_noted_refs();
}

} // namespace rustyray::detail
