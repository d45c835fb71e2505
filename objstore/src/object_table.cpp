#include "rustyray/objstore/internal/object_table.hpp"

#include <algorithm>
#include <string>

#include "rustyray/errc.hpp"
#include "object_table_locks.hpp"

namespace rustyray::objstore::internal {

namespace {

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
    garbage.each([&](auto& g) { recycle(g.first, g.second); });
  garbage.clear();
  producers.clear();
}

// -- public -------------------------------------------------------------------

object_table::object_table(std::uint64_t capacity, recycler recycle)
  : recycle_(std::move(recycle)), capacity_(capacity),
    credit_chunk_(std::min<std::uint64_t>(capacity / 1024, 64 * 1024)) {}

object_table::~object_table() {
  // Values may hold object_refs whose destructors come back to a table: destroy
  // them without holding a lock.
  for (auto& sh : shards_) {
    entry_map doomed{&sh.nodes};
    {
      std::lock_guard<rustyray::internal::adaptive_mutex> guard{sh.mtx};
      doomed.swap(sh.entries);
      sh.copies = sh.own = {};
    }
  }
}

caf::error object_table::put(const object_id& id, caf::message value, std::uint64_t size) {
  deferred later;
  caf::error result;
  {
    auto& sh = shard_of(id);
    shard_lock lock;
    lock.hold(sh);
    std::optional<all_shards_lock> all;
    if (!closed_ && !reserve(sh, size)) {
      // It must evict: every shard's lock, and a fresh look at closed_.
      lock.release();
      all.emplace(*this);
      if (!closed_)
        result = make_room(id, size, later);
    }
    if (closed_)
      result = closed_reason_;
    if (result)
      later.garbage.emplace(std::move(value), size);
    else
      put_locked(sh, id, std::move(value), size);
  }
  later.run(recycle_);
  return result;
}

void object_table::put_locked(shard& sh, const object_id& id, caf::message value,
                              std::uint64_t size) {
  auto& kv = *sh.entries.try_emplace(id).first;
  kv.second.refs = 1; // the caller's
  store_value(sh, kv, std::move(value), size);
}

caf::error object_table::register_pending(const object_id& id, std::shared_ptr<producer> made_by) {
  auto& sh = shard_of(id);
  std::lock_guard<rustyray::internal::adaptive_mutex> guard{sh.mtx};
  if (closed_)
    return closed_reason_;
  auto& e = sh.entries[id];
  e.refs = 1;
  e.made_by = std::move(made_by);
  return caf::none;
}

bool object_table::add_placeholder(const object_id& id) {
  auto& sh = shard_of(id);
  std::lock_guard<rustyray::internal::adaptive_mutex> guard{sh.mtx};
  if (closed_)
    return false;
  auto [i, inserted] = sh.entries.try_emplace(id);
  if (inserted)
    i->second.refs = 1;
  return inserted;
}

std::shared_ptr<producer> object_table::producer_of(const object_id& id) const {
  auto& sh = shard_of(id);
  std::lock_guard<rustyray::internal::adaptive_mutex> guard{sh.mtx};
  auto i = sh.entries.find(id);
  return i == sh.entries.end() ? nullptr : i->second.made_by;
}

bool object_table::hand_over(const object_id& id, std::shared_ptr<producer> made_by,
                             bool elsewhere) {
  deferred later;
  {
    auto& sh = shard_of(id);
    std::lock_guard<rustyray::internal::adaptive_mutex> guard{sh.mtx};
    auto i = sh.entries.find(id);
    if (i == sh.entries.end() || i->second.st != state::pending)
      return false;
    auto& e = i->second;
    if (e.made_by)
      later.producers.emplace(std::move(e.made_by));
    e.made_by = std::move(made_by);
    e.elsewhere = elsewhere && remote_ != nullptr;
    if (!e.waiters.empty())
      fetch_if_elsewhere(id, e);
  }
  later.run(recycle_);
  return true;
}

caf::error object_table::fulfil(const object_id& id, caf::message value, std::uint64_t size) {
  deferred later;
  caf::error result;
  {
    shard_lock lock;
    result = fulfil_with(lock, id, value, size, later);
  }
  later.run(recycle_);
  return result;
}

void object_table::fail(const object_id& id, caf::error reason) {
  deferred later;
  {
    auto& sh = shard_of(id);
    std::lock_guard<rustyray::internal::adaptive_mutex> guard{sh.mtx};
    fail_locked(sh, id, reason, later);
  }
  later.run(recycle_);
}

std::optional<lookup> object_table::try_get(const object_id& id) {
  auto& sh = shard_of(id);
  std::lock_guard<rustyray::internal::adaptive_mutex> guard{sh.mtx};
  return try_get_locked(sh, id);
}

bool object_table::try_get_into(const std::vector<object_id>& ids,
                                std::vector<std::optional<lookup>>& found, bool last_look) {
  std::vector<std::size_t> open;
  open.reserve(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i)
    if (!found[i])
      open.push_back(i);
  bool left = false;
  each_by_shard(
    open.size(), [&](std::size_t k) -> const object_id& { return ids[open[k]]; },
    [&](shard& sh, std::size_t k) {
      auto i = open[k];
      found[i] = try_get_locked(sh, ids[i], last_look);
      left = left || !found[i];
    });
  return left;
}

std::optional<lookup> object_table::try_get_locked(shard& sh, const object_id& id,
                                                   bool count_pending) {
  auto i = sh.entries.find(id);
  if (i == sh.entries.end()) {
    ++sh.counts.gets;
    ++sh.counts.misses;
    return lookup{unknown_object(id)};
  }
  auto& e = i->second;
  if (e.st == state::pending && !closed_ && !count_pending)
    return std::nullopt;
  ++sh.counts.gets;
  if (e.st == state::ready || e.st == state::failed)
    ++sh.counts.hits;
  else
    ++sh.counts.misses;
  if (e.st == state::pending)
    return closed_ ? std::optional<lookup>{closed_reason_} : std::nullopt;
  return result_of(id, e);
}

std::optional<lookup> object_table::get_or_wait(const object_id& id, waiter on_ready,
                                                std::uint64_t& token) {
  auto& sh = shard_of(id);
  std::lock_guard<rustyray::internal::adaptive_mutex> guard{sh.mtx};
  auto i = sh.entries.find(id);
  if (i == sh.entries.end())
    return lookup{unknown_object(id)};
  auto& e = i->second;
  if (e.st != state::pending)
    return result_of(id, e);
  if (closed_)
    return lookup{closed_reason_};
  fetch_if_elsewhere(id, e);
  token = sh.next_token++;
  e.waiters.emplace_back(token, std::move(on_ready));
  return std::nullopt;
}

caf::error object_table::register_and_pin(std::vector<object_id>* add_refs, const object_id& result,
                                          std::shared_ptr<producer> made_by, dependency_wait& deps,
                                          const std::function<waiter(std::size_t)>& make_waiter,
                                          std::size_t& resolved) {
  resolved = 0;
  deps.pinned = 0;
  deps.prepare_values();
  shard_lock lock;
  if (!result.is_nil()) {
    auto& sh = lock.hold(shard_of(result));
    if (closed_) {
      if (add_refs != nullptr)
        add_refs_with(lock, *add_refs);
      return closed_reason_;
    }
    auto& e = sh.entries[result];
    e.refs = 1;
    e.made_by = std::move(made_by);
  }
  if (add_refs != nullptr)
    add_refs_with(lock, *add_refs);
  // Before the first pin: a free after it shows in the count.
  deps.frees_seen = frees_.load(std::memory_order_acquire);
  for (std::size_t i = 0; i < deps.ids.size(); ++i) {
    auto& sh = lock.hold(shard_of(deps.ids[i]));
    auto found = sh.entries.find(deps.ids[i]);
    if (found == sh.entries.end() || found->second.st == state::lost) {
      ++resolved; // not pinned: the run looks it up and finds why
      continue;
    }
    auto& e = found->second;
    pin_entry(sh, e);
    // The pinned ones go first, each with its value in the same place.
    auto slot = deps.pinned++;
    std::swap(deps.ids[i], deps.ids[slot]);
    deps.set_pinned_entry(slot, &e);
    if (e.st != state::pending) {
      deps.value(slot) = result_of(deps.ids[slot], e);
      ++resolved;
    } else if (closed_) {
      deps.value(slot) = closed_reason_;
      ++resolved;
    } else {
      fetch_if_elsewhere(deps.ids[slot], e);
      e.waiters.emplace_back(sh.next_token++, make_waiter(slot));
    }
  }
  return caf::none;
}

caf::error object_table::complete(completion& done, dependency_wait& deps) {
  deferred later;
  caf::error result;
  {
    // An argument's pin and the run's ref to it, unless either is the last,
    // are dropped without its shard's lock: the argument of calls submitted
    // back to back is pinned by the caller for the next call while its
    // host unpins it for the last one, and would send both to that lock.
    // The run's ref, dropped after the pin, keeps the entry in place.
    auto run_holds = [&](const object_id& id) {
      return done.released != nullptr
             && std::find(done.released->begin(), done.released->end(), id) != done.released->end();
    };
    shard_lock lock;
    for (std::size_t i = 0; i < deps.pinned; ++i) {
      auto* e = static_cast<entry*>(deps.pinned_entry(i));
      if (e == nullptr || !run_holds(deps.ids[i]) || !drop_unless_last(e->pins))
        (void)unpin_locked(lock.hold(shard_of(deps.ids[i])), deps.ids[i]);
    }
    if (done.released)
      for (const auto& id : *done.released) {
        auto* e = pinned_entry_of(deps, id);
        if (e == nullptr || !drop_unless_last(e->refs))
          release_locked(lock.hold(shard_of(id)), id, later);
      }
    deps.pinned = 0;
    auto& sh = lock.hold(shard_of(done.result));
    sh.counts.gets += done.fetched_gets;
    sh.counts.hits += done.fetched_gets;
    if (done.result.is_nil()) {
      if (done.output)
        later.garbage.emplace(std::move(*done.output), done.size);
    } else if (done.output) {
      result = fulfil_with(lock, done.result, *done.output, done.size, later);
    } else {
      fail_locked(sh, done.result, done.output.error(), later);
    }
  }
  later.run(recycle_);
  return result;
}

void object_table::cancel_wait(const object_id& id, std::uint64_t token) {
  waiter doomed;
  auto& sh = shard_of(id);
  std::lock_guard<rustyray::internal::adaptive_mutex> guard{sh.mtx};
  auto i = sh.entries.find(id);
  if (i == sh.entries.end())
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
  auto& sh = shard_of(id);
  std::lock_guard<rustyray::internal::adaptive_mutex> guard{sh.mtx};
  add_ref_locked(sh, id);
}

void object_table::add_refs(std::vector<object_id>& ids) {
  shard_lock lock;
  add_refs_with(lock, ids);
}

void object_table::release(const object_id& id) {
  deferred later;
  {
    auto& sh = shard_of(id);
    std::lock_guard<rustyray::internal::adaptive_mutex> guard{sh.mtx};
    release_locked(sh, id, later);
  }
  later.run(recycle_);
}

caf::error object_table::pin(const object_id& id) {
  auto& sh = shard_of(id);
  std::lock_guard<rustyray::internal::adaptive_mutex> guard{sh.mtx};
  auto i = sh.entries.find(id);
  if (i == sh.entries.end())
    return unknown_object(id);
  auto& e = i->second;
  if (e.st == state::lost)
    return e.error;
  pin_entry(sh, e);
  return caf::none;
}

bool object_table::drop_unless_last(std::atomic<std::uint32_t>& count) noexcept {
  auto n = count.load(std::memory_order_relaxed);
  // Release: whoever takes the last one under the lock (and may erase the
  // entry) sees this thread done with it.
  while (n > 1)
    if (count.compare_exchange_weak(n, n - 1, std::memory_order_acq_rel, std::memory_order_relaxed))
      return true;
  return false;
}

object_table::entry* object_table::pinned_entry_of(const dependency_wait& deps,
                                                   const object_id& id) noexcept {
  for (std::size_t i = 0; i < deps.pinned; ++i)
    if (deps.ids[i] == id)
      return static_cast<entry*>(deps.pinned_entry(i));
  return nullptr;
}

void object_table::pin_entry(shard& sh, entry& e) {
  if (e.pins.fetch_add(1, std::memory_order_relaxed) == 0 && e.st == state::ready) {
    lru_remove(sh, e);
    ++sh.counts.pinned;
    sh.counts.pinned_bytes += e.size;
  }
}

caf::error object_table::unpin(const object_id& id) {
  auto& sh = shard_of(id);
  std::lock_guard<rustyray::internal::adaptive_mutex> guard{sh.mtx};
  if (!unpin_locked(sh, id))
    return make_error(errc::invalid_argument,
                      "object " + to_string(id)
                        + " is not pinned: call unpin once per pin, after the pin");
  return caf::none;
}

void object_table::free(const object_id& id) {
  deferred later;
  {
    auto& sh = shard_of(id);
    std::lock_guard<rustyray::internal::adaptive_mutex> guard{sh.mtx};
    auto i = sh.entries.find(id);
    if (i == sh.entries.end() || i->second.st == state::lost)
      return;
    auto reason =
      make_error(errc::object_lost, "object " + to_string(id)
                                      + " was freed with rustyray::free; put it again to use it");
    auto was_pending = i->second.st == state::pending;
    drop_value(sh, i->second, reason, later);
    frees_.fetch_add(1, std::memory_order_acq_rel);
    if (was_pending)
      resolve(i->second, reason, later);
  }
  later.run(recycle_);
}

void object_table::close(caf::error reason) {
  deferred later;
  {
    all_shards_lock all{*this};
    closed_ = true;
    closed_reason_ = reason;
    for (auto& sh : shards_)
      sh.entries.for_each([&](entry_map::value_type& kv) {
        if (kv.second.st == state::pending)
          resolve(kv.second, reason, later);
      });
  }
  later.run(recycle_);
}

// -- private ------------------------------------------------------------------

caf::error object_table::fulfil_with(shard_lock& lock, const object_id& id, caf::message& value,
                                     std::uint64_t size, deferred& later) {
  auto& sh = lock.hold(shard_of(id));
  auto i = sh.entries.find(id);
  auto wanted = [&] {
    if (i != sh.entries.end() && i->second.st == state::pending)
      return true;
    // Nobody wants it any more (dropped or freed while pending).
    later.garbage.emplace(std::move(value), size);
    return false;
  };
  if (!wanted())
    return caf::none;
  std::optional<all_shards_lock> all;
  if (!reserve(sh, size)) {
    // It must evict: every shard's lock, and a fresh look at the entry.
    lock.release();
    all.emplace(*this);
    i = sh.entries.find(id);
    if (!wanted())
      return caf::none;
    if (auto err = make_room(id, size, later)) {
      later.garbage.emplace(std::move(value), size);
      i->second.st = state::failed;
      i->second.error = err;
      resolve(i->second, err, later);
      return err;
    }
  }
  store_value(sh, *i, std::move(value), size);
  resolve(i->second, i->second.value, later);
  return caf::none;
}

void object_table::fail_locked(shard& sh, const object_id& id, caf::error& reason,
                               deferred& later) {
  auto i = sh.entries.find(id);
  if (i == sh.entries.end() || i->second.st != state::pending)
    return;
  i->second.st = state::failed;
  i->second.error = std::move(reason);
  resolve(i->second, i->second.error, later);
}

bool object_table::unpin_locked(shard& sh, const object_id& id) {
  auto i = sh.entries.find(id);
  if (i == sh.entries.end() || i->second.pins.load(std::memory_order_relaxed) == 0)
    return false;
  auto& e = i->second;
  if (e.pins.fetch_sub(1, std::memory_order_acq_rel) == 1 && e.st == state::ready) {
    --sh.counts.pinned;
    sh.counts.pinned_bytes -= e.size;
    lru_insert(sh, *i);
  }
  return true;
}

void object_table::attach_remote(std::uint64_t node, std::shared_ptr<remote_objects> remote) {
  node_ = node;
  remote_ = std::move(remote);
}

void object_table::release_copy(const object_id& id) {
  deferred later;
  {
    auto& sh = shard_of(id);
    std::lock_guard<rustyray::internal::adaptive_mutex> guard{sh.mtx};
    release_entry_locked(sh, id, later);
  }
  later.run(recycle_);
}

void object_table::add_ref_locked(shard& sh, const object_id& id) {
  if (is_remote(id)) {
    remote_->add_ref(id);
    return;
  }
  if (auto i = sh.entries.find(id); i != sh.entries.end())
    i->second.refs.fetch_add(1, std::memory_order_relaxed);
}

void object_table::add_refs_with(shard_lock& lock, std::vector<object_id>& ids) {
  for (const auto& id : ids)
    add_ref_locked(lock.hold(shard_of(id)), id);
  ids.clear();
}

void object_table::release_locked(shard& sh, const object_id& id, deferred& later) {
  if (is_remote(id))
    remote_->release(id);
  else
    release_entry_locked(sh, id, later);
}

void object_table::release_entry_locked(shard& sh, const object_id& id, deferred& later) {
  auto i = sh.entries.find(id);
  if (i != sh.entries.end() && i->second.refs.fetch_sub(1, std::memory_order_acq_rel) == 1)
    erase(sh, i, later);
}

bool object_table::reserve(shard& sh, std::uint64_t size) noexcept {
  if (size <= sh.credit) {
    sh.credit -= size;
    return true;
  }
  // Every change to bytes_used_ happens under a shard's lock, so while all
  // are held (make_room) it is exact; here a concurrent reservation may
  // make this one fail for a moment, and it goes to make_room.
  if (size > capacity_)
    return false; // never added: a huge size would wrap the count for others
  // With a credit for the next ones, if it fits.
  for (auto take : {size + credit_chunk_, size}) {
    auto used = bytes_used_.fetch_add(take, std::memory_order_relaxed);
    if (used + take <= capacity_) {
      sh.credit += take - size;
      return true;
    }
    bytes_used_.fetch_sub(take, std::memory_order_relaxed);
  }
  return false;
}

void object_table::give_back(shard& sh, std::uint64_t size) noexcept {
  sh.credit += size;
  if (sh.credit > 2 * credit_chunk_) {
    bytes_used_.fetch_sub(sh.credit - credit_chunk_, std::memory_order_relaxed);
    sh.credit = credit_chunk_;
  }
}

void object_table::take_credit_back(shard& sh) noexcept {
  bytes_used_.fetch_sub(sh.credit, std::memory_order_relaxed);
  sh.credit = 0;
}

void object_table::store_value(shard& sh, entry_map::value_type& kv, caf::message value,
                               std::uint64_t size) {
  // Its bytes were taken by reserve or make_room.
  auto& e = kv.second;
  e.st = state::ready;
  e.value = std::move(value);
  e.size = size;
  ++sh.counts.objects;
  ++sh.counts.puts;
  if (e.pins > 0) {
    ++sh.counts.pinned;
    sh.counts.pinned_bytes += size;
  } else {
    lru_insert(sh, kv);
  }
}

void object_table::take_value(shard& sh, entry& e, deferred& later) {
  give_back(sh, e.size);
  --sh.counts.objects;
  if (e.pins > 0) {
    --sh.counts.pinned;
    sh.counts.pinned_bytes -= e.size;
  } else {
    lru_remove(sh, e);
  }
  later.garbage.emplace(std::move(e.value), e.size);
  e.value = caf::message{};
  e.size = 0;
}

void object_table::drop_value(shard& sh, entry& e, caf::error reason, deferred& later) {
  if (e.st == state::ready)
    take_value(sh, e, later);
  e.st = state::lost;
  e.elsewhere = false;
  e.error = std::move(reason);
}

void object_table::fetch_if_elsewhere(const object_id& id, entry& e) {
  if (!e.elsewhere)
    return;
  e.elsewhere = false;
  remote_->refetch(id);
}

void object_table::resolve(entry& e, const lookup& result, deferred& later) {
  // A producer (a task record) holds refs: release it outside the locks.
  if (e.made_by)
    later.producers.emplace(std::move(e.made_by));
  for (auto& w : e.waiters)
    later.wakeups.emplace(std::move(w.second), result);
  e.waiters.clear();
}

void object_table::erase(shard& sh, entry_map::iterator i, deferred& later) {
  auto& e = i->second;
  if (e.st == state::pending)
    resolve(e, dropped_while_pending(i->first), later);
  drop_value(sh, e, caf::error{}, later);
  sh.entries.erase(i);
}

lookup object_table::result_of(const object_id& id, entry& e) {
  switch (e.st) {
    case state::ready:
      // Read now: the newest of the whole table, unless it is already (a
      // get repeated on one object then costs no write to the shared
      // count). It keeps its place in the list until eviction reaches it
      // (settle_tail): moving it now would write to its neighbours, entries
      // other threads have just written (docs/perf-log.md).
      if (e.in_lru() && e.tick + 1 != ticks_.load(std::memory_order_relaxed))
        e.tick = ticks_.fetch_add(1, std::memory_order_relaxed);
      return e.value;
    case state::failed:
    case state::lost:
      return e.error;
    case state::pending:
      break;
  }
  return unknown_object(id);
}

void object_table::lru_insert(shard& sh, entry_map::value_type& kv) {
  kv.second.key = &kv.first;
  kv.second.tick = kv.second.placed = ticks_.fetch_add(1, std::memory_order_relaxed);
  link_front(list_of(sh, kv.second), kv.second);
}

void object_table::link_front(lru_list& list, entry& e) {
  e.lru_prev = nullptr;
  e.lru_next = list.head;
  if (list.head != nullptr)
    list.head->lru_prev = &e;
  else
    list.tail = &e;
  list.head = &e;
}

void object_table::unlink(lru_list& list, entry& e) {
  (e.lru_prev != nullptr ? e.lru_prev->lru_next : list.head) = e.lru_next;
  (e.lru_next != nullptr ? e.lru_next->lru_prev : list.tail) = e.lru_prev;
  e.lru_prev = e.lru_next = nullptr;
}

void object_table::lru_remove(shard& sh, entry& e) {
  if (!e.in_lru())
    return;
  unlink(list_of(sh, e), e);
  e.key = nullptr;
}

} // namespace rustyray::objstore::internal
