#include "peers.hpp"

#include <future>
#include <vector>

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>

namespace bench {

struct asio_pool::impl {
  explicit impl(std::size_t threads) : pool(threads), strand(pool.get_executor()) {}
  boost::asio::thread_pool pool;
  boost::asio::strand<boost::asio::thread_pool::executor_type> strand;
};

asio_pool::asio_pool(std::size_t threads) : impl_(std::make_unique<impl>(threads)) {}

asio_pool::~asio_pool() {
  impl_->pool.join();
}

namespace {

// One task: its own promise, fulfilled on a pool thread.
template <class Executor>
std::future<int> post_task(const Executor& ex, work_fn fn) {
  std::promise<int> done;
  auto result = done.get_future();
  boost::asio::post(ex, [done = std::move(done), fn]() mutable { done.set_value(fn()); });
  return result;
}

template <class Executor>
void post_then_get(const Executor& ex, int calls, work_fn fn) {
  std::vector<std::future<int>> results;
  results.reserve(static_cast<std::size_t>(calls));
  for (int i = 0; i < calls; ++i)
    results.push_back(post_task(ex, fn));
  for (auto& r : results)
    (void)r.get();
}

} // namespace

int asio_pool::submit_and_get(work_fn fn) {
  return post_task(impl_->pool.get_executor(), fn).get();
}

void asio_pool::submit_then_get(int calls, work_fn fn) {
  post_then_get(impl_->pool.get_executor(), calls, fn);
}

int asio_pool::call_and_get(work_fn fn) {
  return post_task(impl_->strand, fn).get();
}

void asio_pool::call_then_get(int calls, work_fn fn) {
  post_then_get(impl_->strand, calls, fn);
}

int std_async_submit_and_get(work_fn fn) {
  return std::async(std::launch::async, fn).get();
}

void std_async_submit_then_get(int calls, work_fn fn) {
  std::vector<std::future<int>> results;
  results.reserve(static_cast<std::size_t>(calls));
  for (int i = 0; i < calls; ++i)
    results.push_back(std::async(std::launch::async, fn));
  for (auto& r : results)
    (void)r.get();
}

} // namespace bench
