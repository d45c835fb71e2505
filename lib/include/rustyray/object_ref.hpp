#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <utility>

#include <caf/error.hpp>
#include <caf/meta/type_name.hpp>

#include "rustyray/detail/object_access.hpp"
#include "rustyray/object_id.hpp"
#include "rustyray/timeout.hpp"

namespace rustyray {

/// A handle to an object in the object store, Ray's ObjectRef: returned by
/// `put` and by task submission, passed to `get`, `wait` and tasks.
///
/// It holds nothing but the object's ID, and serializes as exactly that ID, so
/// CAF ships it in any message, also to other processes. Copies in this process
/// are counted: when the last one is destroyed the object is freed.
/// `T` is the object's type; `object_ref<void>` stands for a task that returns
/// nothing.
///
/// ~~~
/// auto ref = rustyray::put(std::string{"hello"});
/// std::string s = ref.get();
/// ~~~
template <class T>
class object_ref {
public:
  using value_type = T;

  /// A ref that names no object (`id().is_nil()`).
  object_ref() noexcept = default;

  /// Takes over one local reference that the caller already holds on `id`.
  static object_ref adopt(object_id id) noexcept {
    object_ref result;
    result.id_ = id;
    return result;
  }

  object_ref(const object_ref& other) noexcept : id_(other.id_) {
    if (!id_.is_nil())
      detail::add_ref(id_);
  }

  object_ref(object_ref&& other) noexcept : id_(std::exchange(other.id_, object_id{})) {}

  object_ref& operator=(const object_ref& other) noexcept {
    if (this != &other)
      reset(other.id_);
    return *this;
  }

  object_ref& operator=(object_ref&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = std::exchange(other.id_, object_id{});
    }
    return *this;
  }

  ~object_ref() {
    reset();
  }

  [[nodiscard]] const object_id& id() const noexcept {
    return id_;
  }

  /// Blocks until the object exists and returns a copy of it. Throws
  /// `task_error` if the task producing it failed, `error` otherwise
  /// (`object_lost`, `task_cancelled`, `type_mismatch`,
  /// `runtime_not_initialized`, ...).
  T get() const {
    return detail::get_or_throw<T>(id_, forever);
  }

  /// As `get()`, but throws `error` with code `timeout` after `timeout`.
  T get(std::chrono::milliseconds timeout) const {
    return detail::get_or_throw<T>(id_, timeout);
  }

  friend bool operator==(const object_ref& x, const object_ref& y) noexcept {
    return x.id_ == y.id_;
  }

  friend bool operator!=(const object_ref& x, const object_ref& y) noexcept {
    return x.id_ != y.id_;
  }

  /// Serializes the object's ID and nothing else. Loading counts the new
  /// reference (and drops the one the ref held before).
  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, object_ref& x) {
    if constexpr (Inspector::writes_state) {
      object_id loaded;
      auto result = f(caf::meta::type_name("rustyray::object_ref"), loaded);
      x.reset(loaded);
      return result;
    } else {
      return f(caf::meta::type_name("rustyray::object_ref"), x.id_);
    }
  }

private:
  void reset(object_id id = {}) noexcept {
    if (id == id_)
      return;
    if (!id.is_nil())
      detail::add_ref(id);
    if (!id_.is_nil())
      detail::release_ref(id_);
    id_ = id;
  }

  object_id id_;
};

} // namespace rustyray

template <class T>
struct std::hash<rustyray::object_ref<T>> {
  std::size_t operator()(const rustyray::object_ref<T>& ref) const noexcept {
    return std::hash<rustyray::object_id>{}(ref.id());
  }
};
