// Objects across nodes: borrowers' ref counts, copies fetched from owners,
// and the owner's side of both.

#include "object_links.hpp"

#include "rustyray/detail/value_size.hpp"
#include "rustyray/errc.hpp"
#include "rustyray/internal/node.hpp"

namespace rustyray::cluster::internal {

using rustyray::internal::node_text;

void object_links::add_ref(const object_id& id) noexcept {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& b = borrows_[id];
  if (b.refs++ > 0)
    return;
  // A copy whose last ref went a moment ago is this borrow's again.
  b.copy = drops_.erase(id) != 0;
  out_->add(id.node(), [&](link_batch& batch) { batch.borrow.push_back(id); });
}

void object_links::release(const object_id& id) noexcept {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = borrows_.find(id);
  if (i == borrows_.end() || --i->second.refs > 0)
    return;
  if (i->second.copy)
    drops_.insert(id); // the table's lock is held here: dropped by the service
  borrows_.erase(i);
  out_->add(id.node(), [&](link_batch& batch) { batch.release.push_back(id); });
}

void object_links::fetch(const object_id& id) {
  // Only the caller that makes the entry asks for the copy: the others
  // wait on that entry.
  if (!table_->add_placeholder(id))
    return;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    borrows_[id].copy = true;
    fetching_[id.node()].insert(id);
  }
  out_->add(id.node(), [&](link_batch& batch) { batch.fetch.push_back(id); });
}

void object_links::fetched(shipped_results& copies) {
  for (auto& copy : copies) {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      auto i = fetching_.find(copy.result.node());
      if (i == fetching_.end() || i->second.erase(copy.result) == 0)
        continue; // the owner was given up on meanwhile
    }
    if (copy.error)
      table_->fail(copy.result, std::move(copy.error));
    else
      (void)table_->fulfil(copy.result, std::move(copy.value), copy.size);
  }
}

void object_links::drop_copies() {
  std::vector<object_id> gone;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    gone.assign(drops_.begin(), drops_.end());
    drops_.clear();
  }
  for (const auto& id : gone)
    table_->release_copy(id);
}

void object_links::lent(std::uint64_t peer, const std::vector<object_id>& ids) {
  auto& held = lent_[peer];
  for (const auto& id : ids) {
    if (id.node() != node_)
      continue; // not this node's to lend
    ++held[id];
    table_->add_ref(id);
  }
}

void object_links::returned(std::uint64_t peer, const std::vector<object_id>& ids) {
  auto i = lent_.find(peer);
  if (i == lent_.end())
    return;
  for (const auto& id : ids) {
    auto j = i->second.find(id);
    if (j == i->second.end())
      continue;
    if (--j->second == 0)
      i->second.erase(j);
    table_->release(id);
  }
}

void object_links::answer(std::uint64_t peer, const std::vector<object_id>& ids) {
  for (const auto& id : ids) {
    auto send = [out = out_, peer, id](const objstore::internal::lookup& found) {
      shipped_result copy;
      copy.result = id;
      if (found) {
        copy.value = *found;
        copy.size = detail::value_size(copy.value);
      } else {
        copy.error = found.error();
      }
      out->add(peer, [&](link_batch& batch) { batch.fetched.push_back(std::move(copy)); });
    };
    if (id.node() != node_) {
      send(make_error(errc::object_lost, "object " + to_string(id) + " is not node "
                                           + node_text(node_) + "'s to give"));
      continue;
    }
    std::uint64_t token = 0;
    if (auto found = table_->get_or_wait(id, send, token))
      send(*found);
  }
}

void object_links::lost(std::uint64_t peer, const std::string& why) {
  if (auto i = lent_.find(peer); i != lent_.end()) {
    for (const auto& [id, count] : i->second)
      for (std::uint32_t k = 0; k < count; ++k)
        table_->release(id);
    lent_.erase(i);
  }
  std::unordered_set<object_id> failed;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (auto i = fetching_.find(peer); i != fetching_.end()) {
      failed.swap(i->second);
      fetching_.erase(i);
    }
  }
  for (const auto& id : failed)
    table_->fail(id, make_error(errc::node_lost, "object " + to_string(id) + " is lost: its owner, node "
                                                   + node_text(peer) + ", " + why));
}

} // namespace rustyray::cluster::internal
