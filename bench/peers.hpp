#pragma once

// The peers: the loops of the RustyRay metrics written with what a C++
// programmer would otherwise reach for, measured in the same process run.
// Neither RustyRay nor CAF appears here; Boost.Asio only in peers.cpp.

#include <any>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace bench {

/// The work of one task or call (the same function RustyRay's lines run).
using work_fn = int (*)();

/// A bare `boost::asio::thread_pool` with one `std::promise` per task: the
/// peer of RustyRay's tasks.
class asio_pool {
public:
  explicit asio_pool(std::size_t threads);
  ~asio_pool();
  asio_pool(const asio_pool&) = delete;
  asio_pool& operator=(const asio_pool&) = delete;

  /// Ray's sync loop body: submit one task, wait for its result.
  int submit_and_get(work_fn fn);

  /// Ray's async loop body: submit `calls` tasks, then wait for every result.
  void submit_then_get(int calls, work_fn fn);

  /// Ray's 1:1 actor loop bodies with a `boost::asio::strand` over the pool:
  /// calls run one at a time in submission order, the plain-C++ actor.
  int call_and_get(work_fn fn);
  void call_then_get(int calls, work_fn fn);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Ray's sync loop body with `std::async(std::launch::async, fn)`.
int std_async_submit_and_get(work_fn fn);

/// Ray's async loop body with `std::async`: `calls` threads, then every result.
void std_async_submit_then_get(int calls, work_fn fn);

/// The peer of RustyRay's object store for small objects: what a C++
/// programmer writes for values shared across threads by ID, an
/// `std::unordered_map` of `std::any` under one `std::mutex`.
class mutex_map {
public:
  /// Stores `value` under a new ID.
  template <class T>
  std::uint64_t put(T value) {
    std::lock_guard<std::mutex> guard{mtx_};
    values_.emplace(++last_id_, std::move(value));
    return last_id_;
  }

  /// A copy of the value stored under `id` (which must hold a `T`).
  template <class T>
  T get(std::uint64_t id) const {
    std::lock_guard<std::mutex> guard{mtx_};
    return std::any_cast<const T&>(values_.at(id));
  }

  /// Drops the value stored under `id` (RustyRay's last ref going away).
  void free(std::uint64_t id) {
    std::lock_guard<std::mutex> guard{mtx_};
    values_.erase(id);
  }

private:
  mutable std::mutex mtx_;
  std::unordered_map<std::uint64_t, std::any> values_; // guarded by mtx_
  std::uint64_t last_id_ = 0;                          // guarded by mtx_
};

} // namespace bench
