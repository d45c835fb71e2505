#include "rustyray/internal/buffer_pool.hpp"

#include "rustyray/detail/byte_buffer.hpp"

namespace rustyray::internal {

template <class T>
void buffer_pool::put_back(std::deque<T>& shelf, T&& buf) {
  std::vector<T> doomed; // freed outside the lock
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (buf.capacity() > capacity_)
      return;
    // Newest at the back; the oldest buffers go first when the pool is full.
    while (held_ + buf.capacity() > capacity_ && !shelf.empty()) {
      held_ -= shelf.front().capacity();
      doomed.push_back(std::move(shelf.front()));
      shelf.pop_front();
    }
    if (held_ + buf.capacity() > capacity_)
      return;
    held_ += buf.capacity();
    shelf.push_back(std::move(buf));
  }
}

template <class T>
bool buffer_pool::take_from(std::deque<T>& shelf, T& out, std::size_t size) {
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto i = shelf.rbegin(); i != shelf.rend(); ++i) {
    // Not more than twice the size: a huge buffer for a small copy wastes it.
    if (i->capacity() >= size && i->capacity() / 2 <= size) {
      held_ -= i->capacity();
      out = std::move(*i);
      out.clear();
      shelf.erase(std::next(i).base());
      return true;
    }
  }
  return false;
}

void buffer_pool::recycle(caf::message& dropped, std::uint64_t size) {
  if (size < detail::huge_copy_threshold || dropped.size() != 1 || dropped.shared())
    return;
  auto offer = [&](auto& shelf, auto* type_tag) {
    using buffer = std::remove_pointer_t<decltype(type_tag)>;
    if (!dropped.match_elements<buffer>())
      return false;
    auto& buf = dropped.get_mutable_as<buffer>(0);
    if (buf.capacity() >= detail::huge_copy_threshold)
      put_back(shelf, std::move(buf));
    return true;
  };
  offer(bytes_, static_cast<std::vector<std::uint8_t>*>(nullptr))
    || offer(chars_, static_cast<std::vector<char>*>(nullptr))
    || offer(strings_, static_cast<std::string*>(nullptr));
}

bool buffer_pool::take(std::vector<std::uint8_t>& out, std::size_t size) {
  return take_from(bytes_, out, size);
}

bool buffer_pool::take(std::vector<char>& out, std::size_t size) {
  return take_from(chars_, out, size);
}

bool buffer_pool::take(std::string& out, std::size_t size) {
  return take_from(strings_, out, size);
}

std::uint64_t buffer_pool::bytes() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return held_;
}

} // namespace rustyray::internal
