#include "rustyray/internal/recorder.hpp"

#include <algorithm>

namespace rustyray::internal {

namespace {

/// A lane's buffer moves into the ring when it holds this many: one lock of
/// the shared ring per batch, not per execution.
constexpr std::size_t batch_size = 64;

std::atomic<std::uint64_t> next_generation{1};

std::uint64_t this_thread_number() noexcept {
  static std::atomic<std::uint64_t> next{1};
  thread_local const std::uint64_t number = next.fetch_add(1, std::memory_order_relaxed);
  return number;
}

/// The lane this thread used last, and whose recorder it belongs to; hands
/// the lane back when the thread ends.
struct lane_binding {
  std::uint64_t generation = 0;
  recorder::lane* lane = nullptr;
  std::weak_ptr<recorder> owner;

  lane_binding() = default;
  lane_binding(const lane_binding&) = delete;
  lane_binding& operator=(const lane_binding&) = delete;

  ~lane_binding() {
    if (auto r = owner.lock())
      r->release(*lane);
  }
};
thread_local lane_binding cached;

} // namespace

const std::array<const char*, static_cast<std::size_t>(counter::count_)> counter_names = {
  "tasks_submitted", "tasks_finished", "tasks_failed",       "tasks_retried",
  "tasks_cancelled", "actor_calls",    "actor_calls_failed",
};

recorder::recorder(std::size_t capacity)
  : capacity_(capacity), start_(std::chrono::steady_clock::now()),
    generation_(next_generation.fetch_add(1, std::memory_order_relaxed)) {}

recorder::~recorder() = default;

void recorder::lane::record(execution&& e) {
  if (owner_.capacity_ == 0)
    return;
  e.track = track_;
  std::lock_guard<std::mutex> guard{mtx_};
  staged_.push_back(std::move(e));
  if (staged_.size() >= batch_size)
    owner_.flush(staged_);
}

recorder::lane& recorder::local() {
  // The recorder is alive (the caller holds it), so a cached lane with its
  // generation is one of its own.
  if (cached.generation == generation_)
    return *cached.lane;
  std::lock_guard<std::mutex> guard{lanes_mtx_};
  auto& slot = lane_of_thread_[this_thread_number()];
  if (slot == nullptr) {
    if (!free_lanes_.empty()) {
      slot = free_lanes_.back();
      free_lanes_.pop_back();
    } else {
      lanes_.push_back(std::make_unique<lane>(*this, static_cast<std::uint32_t>(lanes_.size())));
      slot = lanes_.back().get();
    }
    slot->track_ = next_track_++;
  }
  // A thread that used another runtime's recorder before leaves that lane
  // in place: that recorder ends with its runtime.
  cached.generation = generation_;
  cached.lane = slot;
  cached.owner = weak_from_this();
  return *slot;
}

void recorder::release(lane& l) {
  {
    std::lock_guard<std::mutex> guard{l.mtx_};
    if (!l.staged_.empty())
      flush(l.staged_);
  }
  // The next thread gets a track and a label of its own.
  l.labelled_ = false;
  l.names_.clear();
  l.last_type_ = nullptr;
  std::lock_guard<std::mutex> guard{lanes_mtx_};
  lane_of_thread_.erase(this_thread_number());
  free_lanes_.push_back(&l);
}

counter_values recorder::totals() const {
  counter_values result{};
  std::lock_guard<std::mutex> guard{lanes_mtx_};
  for (const auto& l : lanes_)
    for (std::size_t i = 0; i < result.size(); ++i)
      result[i] += l->counts_[i].load(std::memory_order_relaxed);
  return result;
}

std::size_t recorder::lane_count() const {
  std::lock_guard<std::mutex> guard{lanes_mtx_};
  return lanes_.size();
}

void recorder::set_label(std::uint32_t track, std::string text) {
  std::lock_guard<std::mutex> guard{lanes_mtx_};
  labels_[track] = std::move(text);
}

recorder::snapshot recorder::collect() {
  std::vector<lane*> lanes;
  {
    std::lock_guard<std::mutex> guard{lanes_mtx_};
    for (const auto& l : lanes_)
      lanes.push_back(l.get());
  }
  snapshot result;
  // Every lane's lock, then the ring's (the order `record` takes them in): a
  // batch moving from a lane to the ring is seen exactly once.
  std::vector<std::unique_lock<std::mutex>> held;
  held.reserve(lanes.size());
  for (auto* l : lanes) {
    held.emplace_back(l->mtx_);
    result.events.insert(result.events.end(), l->staged_.begin(), l->staged_.end());
  }
  {
    std::lock_guard<std::mutex> guard{ring_mtx_};
    result.events.insert(result.events.end(), ring_.begin(), ring_.end());
    result.dropped = dropped_;
  }
  held.clear();
  std::sort(result.events.begin(), result.events.end(), [](const execution& a, const execution& b) {
    return a.start != b.start ? a.start < b.start : a.end > b.end;
  });
  // Staged executions beyond the capacity: the oldest go, as in the ring.
  if (result.events.size() > capacity_) {
    auto excess = result.events.size() - capacity_;
    result.events.erase(result.events.begin(),
                        result.events.begin() + static_cast<std::ptrdiff_t>(excess));
    result.dropped += excess;
  }
  // The labels of the tracks shown; those of tracks whose runs all left the
  // ring, and whose threads are gone, are no longer needed.
  std::unordered_set<std::uint32_t> shown;
  for (const auto& e : result.events)
    shown.insert(e.track);
  std::lock_guard<std::mutex> guard{lanes_mtx_};
  std::unordered_set<std::uint32_t> live;
  for (const auto& [thread, l] : lane_of_thread_)
    live.insert(l->track_);
  for (auto i = labels_.begin(); i != labels_.end();) {
    if (shown.count(i->first) != 0)
      result.labels.emplace(i->first, i->second);
    if (shown.count(i->first) == 0 && live.count(i->first) == 0)
      i = labels_.erase(i);
    else
      ++i;
  }
  return result;
}

void recorder::flush(std::vector<execution>& staged) {
  std::lock_guard<std::mutex> guard{ring_mtx_};
  for (auto& e : staged) {
    if (ring_.size() < capacity_) {
      ring_.push_back(std::move(e));
      continue;
    }
    ring_[next_] = std::move(e);
    if (++next_ == capacity_)
      next_ = 0;
    ++dropped_;
  }
  staged.clear();
}

const std::string* recorder::intern(std::string name) {
  std::lock_guard<std::mutex> guard{lanes_mtx_};
  // Elements of an unordered_set keep their address when it grows.
  return &*names_.insert(std::move(name)).first;
}

} // namespace rustyray::internal
