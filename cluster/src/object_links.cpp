// Objects across nodes: borrowers' ref counts, copies fetched from owners,
// and the owner's side of both.

#include "object_links.hpp"

#include <algorithm>
#include <cstdint>

#include <sys/mman.h>

#include <caf/all.hpp>

#include "rustyray/detail/value_size.hpp"
#include "rustyray/errc.hpp"
#include "rustyray/internal/node.hpp"

namespace rustyray::cluster::internal {

using rustyray::internal::node_text;

namespace {

/// Asks the kernel to back the whole 2 MiB pages of a large buffer, not
/// written yet, with huge pages: a copy arriving slice by slice then costs
/// one page fault per 2 MiB instead of per 4 KiB (faults are most of the
/// receiving cost in a virtual machine). A hint: without transparent huge
/// pages it does nothing.
void back_with_huge_pages(void* data, std::size_t size) {
  constexpr std::uintptr_t huge = std::uintptr_t{2} << 20;
  auto first = (reinterpret_cast<std::uintptr_t>(data) + huge - 1) & ~(huge - 1);
  auto last = (reinterpret_cast<std::uintptr_t>(data) + size) & ~(huge - 1);
  if (last > first)
    (void)::madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
}

} // namespace

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
  auto table = table_.lock();
  if (!table)
    return;
  // Only the caller that makes the entry asks for the copy: the others
  // wait on that entry.
  if (!table->add_placeholder(id))
    return;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    borrows_[id].copy = true;
  }
  refetch(id); // the first time, as after an eviction: ask the owner
}

void object_links::refetch(const object_id& id) noexcept {
  if (id.node() == node_) {
    // A result of this node's that the node which made it keeps.
    if (held_wanted_)
      held_wanted_(id);
    return;
  }
  {
    std::lock_guard<std::mutex> guard{mtx_};
    fetching_[id.node()].insert(id);
  }
  out_->add(id.node(), [&](link_batch& batch) { batch.fetch.push_back(id); });
}

void object_links::pull(const object_id& id, pulled done) {
  pulls_[id] = std::move(done);
  refetch(id);
}

void object_links::fetched(shipped_results& copies) {
  for (auto& copy : copies) {
    if (copy.error)
      store_copy(copy.result, std::move(copy.error), 0);
    else
      store_copy(copy.result, std::move(copy.value), copy.size);
  }
}

void object_links::drop_copies() {
  auto table = table_.lock();
  if (!table)
    return;
  std::vector<object_id> gone;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    gone.assign(drops_.begin(), drops_.end());
    drops_.clear();
  }
  for (const auto& id : gone)
    table->release_copy(id);
}

void object_links::free(const object_id& id) {
  // Through the owner's service (this node's own for its objects), which
  // knows the borrowers.
  out_->add(id.node(), [&](link_batch& b) { b.freed.push_back(id); });
}

void object_links::freed(std::uint64_t peer, const std::vector<object_id>& ids) {
  auto table = table_.lock();
  if (!table)
    return;
  for (const auto& id : ids) {
    table->free(id);
    if (id.node() != node_)
      continue;
    for (const auto& [borrower, held] : lent_)
      if (borrower != peer && held.count(id) != 0)
        out_->add(borrower, [&](link_batch& b) { b.freed.push_back(id); });
  }
}

void object_links::lent(std::uint64_t peer, const std::vector<object_id>& ids) {
  auto table = table_.lock();
  if (!table)
    return;
  auto& held = lent_[peer];
  for (const auto& id : ids) {
    if (id.node() != node_)
      continue; // not this node's to lend
    ++held[id];
    table->add_ref(id);
  }
}

void object_links::returned(std::uint64_t peer, const std::vector<object_id>& ids) {
  auto table = table_.lock();
  if (!table)
    return;
  auto i = lent_.find(peer);
  if (i == lent_.end())
    return;
  for (const auto& id : ids) {
    auto j = i->second.find(id);
    if (j == i->second.end())
      continue;
    if (--j->second == 0)
      i->second.erase(j);
    table->release(id);
  }
}

void object_links::answer(std::uint64_t peer, const std::vector<object_id>& ids) {
  auto table = table_.lock();
  if (!table)
    return;
  for (const auto& id : ids) {
    if (id.node() != node_) {
      copy_ready(peer, id,
                 make_error(errc::object_lost, "object " + to_string(id) + " is not node "
                                                 + node_text(node_) + "'s to give"));
      continue;
    }
    // The waiter runs where the object resolves: it hands over to the
    // service, which alone touches the transfers.
    auto later = [service = out_->service(), peer, id](const objstore::internal::lookup& found) {
      caf::anon_send(service, copy_ready_atom::value, peer, id, found ? *found : caf::message{},
                     found ? caf::error{} : found.error());
    };
    std::uint64_t token = 0;
    if (auto found = table->get_or_wait(id, later, token))
      copy_ready(peer, id, std::move(*found));
  }
}

void object_links::copy_ready(std::uint64_t peer, const object_id& id,
                              objstore::internal::lookup found) {
  shipped_result copy;
  copy.result = id;
  if (!found) {
    copy.error = found.error();
    out_->add(peer, [&](link_batch& batch) { batch.fetched.push_back(std::move(copy)); });
    return;
  }
  auto size = detail::message_size(*found);
  if (size <= chunk_bytes) {
    copy.value = std::move(*found);
    copy.size = size;
    out_->add(peer, [&](link_batch& batch) { batch.fetched.push_back(std::move(copy)); });
    return;
  }
  transfer t;
  t.value = std::move(*found);
  t.size = size;
  if (t.value.match_elements<std::vector<std::uint8_t>>()) {
    const auto& bytes = t.value.get_as<std::vector<std::uint8_t>>(0);
    t.form = object_chunk::byte_buffer;
    t.data = bytes.data();
    t.total = bytes.size();
  } else if (t.value.match_elements<std::string>()) {
    const auto& text = t.value.get_as<std::string>(0);
    t.form = object_chunk::text;
    t.data = reinterpret_cast<const std::uint8_t*>(text.data());
    t.total = text.size();
  } else {
    // Not a buffer it could slice: CAF's bytes of the whole message.
    std::vector<char> buf;
    caf::binary_serializer sink{system_, buf};
    if (auto err = sink(t.value)) {
      copy.error = make_error(errc::type_mismatch,
                              "object " + to_string(id)
                                + " cannot be serialized to send it: " + system_.render(err));
      out_->add(peer, [&](link_batch& batch) { batch.fetched.push_back(std::move(copy)); });
      return;
    }
    t.form = object_chunk::serialized;
    t.serialized.assign(buf.begin(), buf.end());
    t.data = t.serialized.data();
    t.total = t.serialized.size();
  }
  auto& sending = sending_[{peer, id}] = std::move(t);
  for (int i = 0; i < chunk_window && sending.next < sending.total; ++i)
    send_chunk(peer, id, sending);
}

void object_links::send_chunk(std::uint64_t peer, const object_id& id, transfer& t) {
  object_chunk chunk;
  chunk.id = id;
  chunk.total = t.total;
  chunk.offset = t.next;
  chunk.size = t.size;
  chunk.form = t.form;
  auto n = std::min(chunk_bytes, t.total - t.next);
  chunk.bytes.assign(t.data + t.next, t.data + t.next + n);
  t.next += n;
  ++t.in_flight;
  link_batch batch;
  batch.chunks.push_back(std::move(chunk));
  send_now_(peer, std::move(batch));
}

void object_links::chunks_acked(std::uint64_t peer, const std::vector<object_id>& ids) {
  for (const auto& id : ids) {
    auto i = sending_.find({peer, id});
    if (i == sending_.end())
      continue;
    auto& t = i->second;
    --t.in_flight;
    if (t.next < t.total)
      send_chunk(peer, id, t);
    else if (t.in_flight <= 0)
      sending_.erase(i);
  }
}

void object_links::chunks_received(std::uint64_t peer, std::vector<object_chunk>& chunks) {
  for (auto& chunk : chunks) {
    {
      // Acknowledged at once: the owner sends the next slice while this
      // one is copied.
      link_batch ack;
      ack.chunk_acks.push_back(chunk.id);
      send_now_(peer, std::move(ack));
    }
    {
      std::lock_guard<std::mutex> guard{mtx_};
      auto i = fetching_.find(peer);
      if (i == fetching_.end() || i->second.count(chunk.id) == 0)
        continue; // given up on meanwhile
    }
    auto& a = arriving_[chunk.id];
    auto end = chunk.offset + chunk.bytes.size();
    if (end > chunk.total || end < chunk.offset || chunk.form > object_chunk::serialized) {
      arriving_.erase(chunk.id);
      store_copy(chunk.id,
                 make_error(errc::object_lost, "the copy of object " + to_string(chunk.id)
                                                 + " from node " + node_text(peer)
                                                 + " arrived malformed"),
                 0);
      continue;
    }
    // Slices come in order (one sender, one connection): appended to a
    // buffer reserved once, no byte is written twice.
    auto place = [&](auto& buffer) {
      if (buffer.capacity() < chunk.total) {
        buffer.reserve(chunk.total);
        back_with_huge_pages(buffer.data(), buffer.capacity());
      }
      if (chunk.offset == buffer.size()) {
        buffer.insert(buffer.end(), chunk.bytes.begin(), chunk.bytes.end());
      } else {
        if (buffer.size() < end)
          buffer.resize(end);
        std::copy(chunk.bytes.begin(), chunk.bytes.end(),
                  buffer.begin() + static_cast<std::ptrdiff_t>(chunk.offset));
      }
    };
    if (chunk.form == object_chunk::text)
      place(a.text);
    else
      place(a.bytes);
    a.received += chunk.bytes.size();
    if (a.received < chunk.total)
      continue;
    auto done = std::move(a);
    arriving_.erase(chunk.id);
    if (chunk.form == object_chunk::byte_buffer) {
      store_copy(chunk.id, caf::make_message(std::move(done.bytes)), chunk.size);
    } else if (chunk.form == object_chunk::text) {
      store_copy(chunk.id, caf::make_message(std::move(done.text)), chunk.size);
    } else {
      caf::message value;
      caf::binary_deserializer source{system_, reinterpret_cast<const char*>(done.bytes.data()),
                                      done.bytes.size()};
      if (auto err = source(value))
        store_copy(chunk.id,
                   make_error(errc::object_lost, "the copy of object " + to_string(chunk.id)
                                                   + " from node " + node_text(peer)
                                                   + " cannot be read: " + system_.render(err)),
                   0);
      else
        store_copy(chunk.id, std::move(value), chunk.size);
    }
  }
}

void object_links::store_copy(const object_id& id, caf::expected<caf::message> value,
                              std::uint64_t size) {
  auto table = table_.lock();
  if (!table)
    return;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    auto i = fetching_.find(id.node());
    if (i == fetching_.end() || i->second.erase(id) == 0)
      return; // the owner was given up on meanwhile
  }
  if (auto i = pulls_.find(id); i != pulls_.end()) {
    auto done = std::move(i->second);
    pulls_.erase(i);
    done(std::move(value), size);
    return;
  }
  if (value)
    (void)table->fulfil(id, std::move(*value), size);
  else
    table->fail(id, std::move(value.error()));
}

void object_links::lost(std::uint64_t peer, const std::string& who, const std::string& why) {
  auto table = table_.lock();
  if (!table)
    return;
  if (auto i = lent_.find(peer); i != lent_.end()) {
    for (const auto& [id, count] : i->second)
      for (std::uint32_t k = 0; k < count; ++k)
        table->release(id);
    lent_.erase(i);
  }
  for (auto i = sending_.begin(); i != sending_.end();)
    i = i->first.first == peer ? sending_.erase(i) : std::next(i);
  for (auto i = arriving_.begin(); i != arriving_.end();)
    i = i->first.node() == peer ? arriving_.erase(i) : std::next(i);
  // What they were for (results of tasks and calls there) is handed back
  // or failed by the router and the actors' links.
  for (auto i = pulls_.begin(); i != pulls_.end();)
    i = i->first.node() == peer ? pulls_.erase(i) : std::next(i);
  std::unordered_set<object_id> failed;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (auto i = fetching_.find(peer); i != fetching_.end()) {
      failed.swap(i->second);
      fetching_.erase(i);
    }
  }
  for (const auto& id : failed)
    table->fail(id,
                make_error(errc::object_lost, "object " + to_string(id) + " is lost: its owner, "
                                                + who + ", is gone (" + why
                                                + "); an object lives as long as its owner"));
}

} // namespace rustyray::cluster::internal
