#include "object_table.hpp"

#include <algorithm>
#include <string>

#include "rustyray/errc.hpp"

namespace rustyray::objstore {

namespace {

std::string mib(std::uint64_t bytes) {
  return std::to_string(bytes) + " bytes (" + std::to_string(bytes >> 20) + " MiB)";
}

caf::error unknown_object(const object_id& id) {
  return make_error(errc::object_lost,
                    "object " + to_string(id)
                      + " is not in this node's object store: it was never created here, "
                        "or every reference to it was dropped; keep an object_ref alive "
                        "while you need the object");
}

caf::error dropped_while_pending(const object_id& id) {
  return make_error(errc::object_lost,
                    "object " + to_string(id)
                      + " was dropped: every reference to it went away while it was pending");
}

} // namespace

void object_table::deferred::run(const recycler& recycle) {
  wakeups.each([](auto& w) { w.first(w.second); });
  wakeups.clear();
  if (recycle)
    garbage.each(recycle);
  garbage.clear();
  producers.clear();
}

object_table::object_table(std::uint64_t capacity, recycler recycle)
  : recycle_(std::move(recycle)) {
  stats_.capacity = capacity;
}

object_table::~object_table() {
  // Values may hold object_refs whose destructors come back to a table: destroy
  // them without holding the lock.
  entry_map doomed{&nodes_};
  {
    std::lock_guard<internal::adaptive_mutex> guard{mtx_};
    doomed.swap(entries_);
    lru_head_ = lru_tail_ = nullptr;
  }
}

caf::error object_table::put(const object_id& id, caf::message value, std::uint64_t size) {
  deferred later;
  caf::error result;
  {
    std::lock_guard<internal::adaptive_mutex> guard{mtx_};
    if (closed_) {
      result = closed_reason_;
    } else if (auto err = make_room(id, size, later)) {
      result = std::move(err);
    } else {
      auto& kv = *entries_.try_emplace(id).first;
      kv.second.refs = 1;
      store_value(kv.second, std::move(value), size);
      lru_insert(kv);
    }
    if (result)
      later.garbage.emplace(std::move(value));
  }
  later.run(recycle_);
  return result;
}

caf::error object_table::register_pending(const object_id& id,
                                          std::shared_ptr<producer> made_by) {
  std::lock_guard<internal::adaptive_mutex> guard{mtx_};
  if (closed_)
    return closed_reason_;
  auto& e = entries_[id];
  e.refs = 1;
  e.made_by = std::move(made_by);
  return caf::none;
}

std::shared_ptr<producer> object_table::producer_of(const object_id& id) const {
  std::lock_guard<internal::adaptive_mutex> guard{mtx_};
  auto i = entries_.find(id);
  return i == entries_.end() ? nullptr : i->second.made_by;
}

caf::error object_table::fulfil(const object_id& id, caf::message value, std::uint64_t size) {
  deferred later;
  caf::error result;
  {
    std::lock_guard<internal::adaptive_mutex> guard{mtx_};
    result = fulfil_locked(id, value, size, later);
  }
  later.run(recycle_);
  return result;
}

void object_table::fail(const object_id& id, caf::error reason) {
  deferred later;
  {
    std::lock_guard<internal::adaptive_mutex> guard{mtx_};
    fail_locked(id, reason, later);
  }
  later.run(recycle_);
}

std::optional<lookup> object_table::try_get(const object_id& id) {
  std::lock_guard<internal::adaptive_mutex> guard{mtx_};
  return try_get_locked(id);
}

std::vector<std::optional<lookup>> object_table::try_get_all(const std::vector<object_id>& ids) {
  std::vector<std::optional<lookup>> found;
  found.reserve(ids.size());
  std::lock_guard<internal::adaptive_mutex> guard{mtx_};
  for (const auto& id : ids)
    found.push_back(try_get_locked(id));
  return found;
}

std::optional<lookup> object_table::try_get_locked(const object_id& id) {
  ++stats_.gets;
  auto i = entries_.find(id);
  if (i == entries_.end()) {
    ++stats_.misses;
    return lookup{unknown_object(id)};
  }
  auto& e = i->second;
  if (e.st == state::ready || e.st == state::failed)
    ++stats_.hits;
  else
    ++stats_.misses;
  if (e.st == state::pending)
    return closed_ ? std::optional<lookup>{closed_reason_} : std::nullopt;
  return result_of(id, e);
}

std::optional<lookup> object_table::get_or_wait(const object_id& id, waiter on_ready,
                                                std::uint64_t& token) {
  std::lock_guard<internal::adaptive_mutex> guard{mtx_};
  auto i = entries_.find(id);
  if (i == entries_.end())
    return lookup{unknown_object(id)};
  auto& e = i->second;
  if (e.st != state::pending)
    return result_of(id, e);
  if (closed_)
    return lookup{closed_reason_};
  token = next_token_++;
  e.waiters.emplace_back(token, std::move(on_ready));
  return std::nullopt;
}

caf::error object_table::register_and_pin(std::vector<object_id>* add_refs,
                                          const object_id& result,
                                          std::shared_ptr<producer> made_by,
                                          dependency_wait& deps,
                                          const std::function<waiter(std::size_t)>& make_waiter,
                                          std::size_t& resolved) {
  resolved = 0;
  deps.pinned = 0;
  deps.prepare_values();
  std::lock_guard<internal::adaptive_mutex> guard{mtx_};
  if (add_refs != nullptr)
    add_refs_locked(*add_refs);
  if (!result.is_nil()) {
    if (closed_)
      return closed_reason_;
    auto& e = entries_[result];
    e.refs = 1;
    e.made_by = std::move(made_by);
  }
  deps.frees_seen = frees_.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < deps.ids.size(); ++i) {
    auto found = entries_.find(deps.ids[i]);
    if (found == entries_.end() || found->second.st == state::lost) {
      ++resolved; // not pinned: the run looks it up and finds why
      continue;
    }
    auto& e = found->second;
    pin_entry(e);
    // The pinned ones go first, each with its value in the same place.
    auto slot = deps.pinned++;
    std::swap(deps.ids[i], deps.ids[slot]);
    if (e.st != state::pending) {
      deps.value(slot) = result_of(deps.ids[slot], e);
      ++resolved;
    } else if (closed_) {
      deps.value(slot) = closed_reason_;
      ++resolved;
    } else {
      e.waiters.emplace_back(next_token_++, make_waiter(slot));
    }
  }
  return caf::none;
}

caf::error object_table::complete(completion done, dependency_wait& deps) {
  deferred later;
  caf::error result;
  {
    std::lock_guard<internal::adaptive_mutex> guard{mtx_};
    for (std::size_t i = 0; i < deps.pinned; ++i)
      (void)unpin_locked(deps.ids[i]);
    deps.pinned = 0;
    if (done.released)
      for (const auto& id : *done.released)
        release_locked(id, later);
    stats_.gets += done.fetched_gets;
    stats_.hits += done.fetched_gets;
    if (done.result.is_nil()) {
      if (done.output)
        later.garbage.emplace(std::move(*done.output));
    } else if (done.output) {
      result = fulfil_locked(done.result, *done.output, done.size, later);
    } else {
      fail_locked(done.result, done.output.error(), later);
    }
  }
  later.run(recycle_);
  return result;
}

void object_table::cancel_wait(const object_id& id, std::uint64_t token) {
  waiter doomed;
  std::lock_guard<internal::adaptive_mutex> guard{mtx_};
  auto i = entries_.find(id);
  if (i == entries_.end())
    return;
  auto& ws = i->second.waiters;
  for (auto w = ws.begin(); w != ws.end(); ++w) {
    if (w->first == token) {
      doomed = std::move(w->second);
      ws.erase(w);
      return;
    }
  }
}

void object_table::add_ref(const object_id& id) {
  std::lock_guard<internal::adaptive_mutex> guard{mtx_};
  add_ref_locked(id);
}

void object_table::add_refs(std::vector<object_id>& ids) {
  std::lock_guard<internal::adaptive_mutex> guard{mtx_};
  add_refs_locked(ids);
}

void object_table::release(const object_id& id) {
  deferred later;
  {
    std::lock_guard<internal::adaptive_mutex> guard{mtx_};
    release_locked(id, later);
  }
  later.run(recycle_);
}

object_status object_table::status(const object_id& id) const {
  std::lock_guard<internal::adaptive_mutex> guard{mtx_};
  auto i = entries_.find(id);
  if (i == entries_.end())
    return object_status::unknown;
  switch (i->second.st) {
    case state::pending:
      return object_status::pending;
    case state::ready:
      return object_status::ready;
    case state::failed:
      return object_status::failed;
    case state::lost:
      return object_status::lost;
  }
  return object_status::unknown;
}

std::size_t object_table::count_resolved(const std::vector<object_id>& ids) const {
  std::lock_guard<internal::adaptive_mutex> guard{mtx_};
  std::size_t n = 0;
  for (const auto& id : ids) {
    auto i = entries_.find(id);
    if (i == entries_.end() || i->second.st != state::pending)
      ++n;
  }
  return n;
}

std::optional<object_id> object_table::last_pending(const std::vector<object_id>& ids) const {
  std::lock_guard<internal::adaptive_mutex> guard{mtx_};
  for (auto i = ids.rbegin(); i != ids.rend(); ++i)
    if (auto e = entries_.find(*i); e != entries_.end() && e->second.st == state::pending)
      return *i;
  return std::nullopt;
}

bool object_table::contains(const object_id& id) const {
  auto st = status(id);
  return st == object_status::ready || st == object_status::failed;
}

caf::error object_table::pin(const object_id& id) {
  std::lock_guard<internal::adaptive_mutex> guard{mtx_};
  auto i = entries_.find(id);
  if (i == entries_.end())
    return unknown_object(id);
  auto& e = i->second;
  if (e.st == state::lost)
    return e.error;
  pin_entry(e);
  return caf::none;
}

void object_table::pin_entry(entry& e) {
  if (++e.pins == 1 && e.st == state::ready) {
    lru_remove(e);
    ++stats_.pinned;
    stats_.pinned_bytes += e.size;
  }
}

caf::error object_table::unpin(const object_id& id) {
  std::lock_guard<internal::adaptive_mutex> guard{mtx_};
  if (!unpin_locked(id))
    return make_error(errc::invalid_argument,
                      "object " + to_string(id)
                        + " is not pinned: call unpin once per pin, after the pin");
  return caf::none;
}

void object_table::free(const object_id& id) {
  deferred later;
  {
    std::lock_guard<internal::adaptive_mutex> guard{mtx_};
    auto i = entries_.find(id);
    if (i == entries_.end() || i->second.st == state::lost)
      return;
    auto reason = make_error(errc::object_lost,
                             "object " + to_string(id)
                               + " was freed with rustyray::free; put it again to use it");
    auto was_pending = i->second.st == state::pending;
    drop_value(i->second, reason, later);
    frees_.store(frees_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    if (was_pending)
      resolve(i->second, reason, later);
  }
  later.run(recycle_);
}

store_stats object_table::stats() const {
  std::lock_guard<internal::adaptive_mutex> guard{mtx_};
  return stats_;
}

std::vector<std::pair<object_id, std::shared_ptr<producer>>> object_table::producers() const {
  std::vector<std::pair<object_id, std::shared_ptr<producer>>> result;
  std::lock_guard<internal::adaptive_mutex> guard{mtx_};
  for (const auto& [id, e] : entries_)
    if (e.made_by)
      result.emplace_back(id, e.made_by);
  return result;
}

std::vector<std::pair<object_id, std::uint64_t>> object_table::largest(std::size_t n) const {
  std::vector<std::pair<object_id, std::uint64_t>> result;
  if (n == 0)
    return result;
  // A min-heap of the n largest so far: O(objects * log n) under the lock.
  auto smaller = [](const auto& a, const auto& b) { return a.second > b.second; };
  std::lock_guard<internal::adaptive_mutex> guard{mtx_};
  for (const auto& [id, e] : entries_) {
    if (e.st != state::ready)
      continue;
    if (result.size() < n) {
      result.emplace_back(id, e.size);
      std::push_heap(result.begin(), result.end(), smaller);
    } else if (e.size > result.front().second) {
      std::pop_heap(result.begin(), result.end(), smaller);
      result.back() = {id, e.size};
      std::push_heap(result.begin(), result.end(), smaller);
    }
  }
  std::sort_heap(result.begin(), result.end(), smaller);
  return result;
}

std::size_t object_table::size() const {
  std::lock_guard<internal::adaptive_mutex> guard{mtx_};
  return entries_.size();
}

void object_table::close(caf::error reason) {
  deferred later;
  {
    std::lock_guard<internal::adaptive_mutex> guard{mtx_};
    closed_ = true;
    closed_reason_ = reason;
    for (auto& kvp : entries_)
      if (kvp.second.st == state::pending)
        resolve(kvp.second, reason, later);
  }
  later.run(recycle_);
}

// -- private, mtx_ held -------------------------------------------------------

caf::error object_table::fulfil_locked(const object_id& id, caf::message& value,
                                       std::uint64_t size, deferred& later) {
  auto i = entries_.find(id);
  if (i == entries_.end() || i->second.st != state::pending) {
    // Nobody wants it any more (dropped or freed while pending).
    later.garbage.emplace(std::move(value));
    return caf::none;
  }
  if (auto err = make_room(id, size, later)) {
    later.garbage.emplace(std::move(value));
    i->second.st = state::failed;
    i->second.error = err;
    resolve(i->second, err, later);
    return err;
  }
  auto& e = i->second;
  store_value(e, std::move(value), size);
  if (e.pins > 0) {
    ++stats_.pinned;
    stats_.pinned_bytes += size;
  } else {
    lru_insert(*i);
  }
  resolve(e, e.value, later);
  return caf::none;
}

void object_table::fail_locked(const object_id& id, caf::error& reason, deferred& later) {
  auto i = entries_.find(id);
  if (i == entries_.end() || i->second.st != state::pending)
    return;
  i->second.st = state::failed;
  i->second.error = std::move(reason);
  resolve(i->second, i->second.error, later);
}

bool object_table::unpin_locked(const object_id& id) {
  auto i = entries_.find(id);
  if (i == entries_.end() || i->second.pins == 0)
    return false;
  auto& e = i->second;
  if (--e.pins == 0 && e.st == state::ready) {
    --stats_.pinned;
    stats_.pinned_bytes -= e.size;
    lru_insert(*i);
  }
  return true;
}

void object_table::add_ref_locked(const object_id& id) {
  if (auto i = entries_.find(id); i != entries_.end())
    ++i->second.refs;
}

void object_table::add_refs_locked(std::vector<object_id>& ids) {
  for (const auto& id : ids)
    add_ref_locked(id);
  ids.clear();
}

void object_table::release_locked(const object_id& id, deferred& later) {
  auto i = entries_.find(id);
  if (i != entries_.end() && --i->second.refs == 0)
    erase(i, later);
}

caf::error object_table::make_room(const object_id& id, std::uint64_t size,
                                   deferred& later) {
  auto capacity = stats_.capacity;
  if (size > capacity)
    return make_error(errc::object_store_full,
                      "object " + to_string(id) + " needs " + mib(size)
                        + ", more than the object store's whole capacity of " + mib(capacity)
                        + "; raise config.object_store_capacity or split the object");
  if (stats_.pinned_bytes + size > capacity)
    return make_error(errc::object_store_full,
                      "object " + to_string(id) + " needs " + mib(size) + " but "
                        + mib(stats_.pinned_bytes) + " of the capacity of " + mib(capacity)
                        + " are pinned; unpin objects or raise config.object_store_capacity");
  while (stats_.bytes_used + size > capacity) {
    // Only unpinned ready objects are in the LRU list, and the check above guarantees
    // that evicting them all makes room.
    auto& victim = *lru_tail_;
    auto victim_id = *victim.key;
    auto reason = make_error(errc::object_lost,
                             "object " + to_string(victim_id)
                               + " was evicted to make room (capacity " + mib(capacity)
                               + "); pin objects you still need, or raise "
                                 "config.object_store_capacity");
    drop_value(victim, std::move(reason), later);
    ++stats_.evictions;
  }
  return caf::none;
}

void object_table::store_value(entry& e, caf::message value, std::uint64_t size) {
  e.st = state::ready;
  e.value = std::move(value);
  e.size = size;
  stats_.bytes_used += size;
  ++stats_.objects;
  ++stats_.puts;
}

void object_table::drop_value(entry& e, caf::error reason, deferred& later) {
  if (e.st == state::ready) {
    stats_.bytes_used -= e.size;
    --stats_.objects;
    if (e.pins > 0) {
      --stats_.pinned;
      stats_.pinned_bytes -= e.size;
    } else {
      lru_remove(e);
    }
    later.garbage.emplace(std::move(e.value));
    e.value = caf::message{};
    e.size = 0;
  }
  e.st = state::lost;
  e.error = std::move(reason);
}

void object_table::resolve(entry& e, const lookup& result, deferred& later) {
  // A producer (a task record) holds refs: release it outside the lock.
  if (e.made_by)
    later.producers.emplace(std::move(e.made_by));
  for (auto& w : e.waiters)
    later.wakeups.emplace(std::move(w.second), result);
  e.waiters.clear();
}

void object_table::erase(entry_map::iterator i, deferred& later) {
  auto& e = i->second;
  if (e.st == state::pending)
    resolve(e, dropped_while_pending(i->first), later);
  drop_value(e, caf::error{}, later);
  entries_.erase(i);
}

lookup object_table::result_of(const object_id& id, entry& e) {
  switch (e.st) {
    case state::ready:
      if (e.in_lru() && lru_head_ != &e) {
        unlink(e);
        link_front(e);
      }
      return e.value;
    case state::failed:
    case state::lost:
      return e.error;
    case state::pending:
      break;
  }
  return unknown_object(id);
}

void object_table::lru_insert(entry_map::value_type& kv) {
  kv.second.key = &kv.first;
  link_front(kv.second);
}

void object_table::link_front(entry& e) {
  e.lru_prev = nullptr;
  e.lru_next = lru_head_;
  if (lru_head_ != nullptr)
    lru_head_->lru_prev = &e;
  else
    lru_tail_ = &e;
  lru_head_ = &e;
}

void object_table::unlink(entry& e) {
  (e.lru_prev != nullptr ? e.lru_prev->lru_next : lru_head_) = e.lru_next;
  (e.lru_next != nullptr ? e.lru_next->lru_prev : lru_tail_) = e.lru_prev;
  e.lru_prev = e.lru_next = nullptr;
}

void object_table::lru_remove(entry& e) {
  if (!e.in_lru())
    return;
  unlink(e);
  e.key = nullptr;
}

} // namespace rustyray::objstore
