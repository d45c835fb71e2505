#pragma once

#include <vector>

#include "rustyray/object_id.hpp"

namespace rustyray::internal {

/// While one lives on a thread, the `object_ref`s released on that thread
/// only note their IDs in `ids` instead of each taking the object table's
/// lock: the owner drops them together, in a trip through the table it makes
/// anyway (`object_table::complete`).
class release_collector {
public:
  explicit release_collector(std::vector<object_id>& ids) noexcept;
  ~release_collector();

  release_collector(const release_collector&) = delete;
  release_collector& operator=(const release_collector&) = delete;

  /// Where this thread's releases go, if a collector lives.
  [[nodiscard]] static std::vector<object_id>* current() noexcept;

private:
  std::vector<object_id>* previous_;
};

/// The references an `add_ref_batch` on this thread noted and nobody
/// counted yet, or null if there are none. A submission counts them in its
/// trip through the object table and clears the list; it must do so before
/// anything holding the new refs can reach another thread.
[[nodiscard]] std::vector<object_id>* noted_add_refs() noexcept;

} // namespace rustyray::internal
