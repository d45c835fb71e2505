// A node for the multi-process tests. By default a worker: joins the head
// named by RUSTYRAY_ADDRESS with RUSTYRAY_CLUSTER_TOKEN, prints "joined
// <node ID>" (or "refused <errc>: <message>" and exits 3), then serves until
// the head goes away. With RUSTYRAY_IS_HEAD=true a head: prints "head
// <address>" and serves. With RR_TEST_DRIVER=<ms> a driver (see `drive`).

#include <cstdlib>
#include <iostream>
#include <thread>

#include "cluster_functions.hpp"

#ifdef RUSTYRAY_TEST_OTHER_REGISTRY
namespace cluster_test {
inline int cube(int x) {
  return x * x * x;
}
} // namespace cluster_test
RUSTYRAY_REMOTE(cluster_test::cube);
#endif

namespace {

/// A driver whose head will be killed: waits for two workers, pins a task
/// of `ms` milliseconds to the first and one of 60 s to the second, prints
/// "submitted"; then, once the head is gone, "nodes <errc>" for `nodes()`
/// and "task <value or errc>" for each task, and ends.
int drive(int ms) {
  std::vector<std::string> workers;
  for (int i = 0; i < 300 && workers.size() < 2; ++i) {
    workers.clear();
    for (const auto& n : rustyray::nodes())
      if (!n.head && !n.local && n.alive)
        workers.push_back(n.id);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (workers.size() < 2) {
    std::cout << "too few workers" << std::endl;
    return 4;
  }
  std::vector<rustyray::object_ref<std::int64_t>> refs;
  refs.push_back(rustyray::task(cluster_test::pid_after).node(workers[0]).remote(ms));
  refs.push_back(rustyray::task(cluster_test::pid_after).node(workers[1]).remote(60000));
  std::cout << "submitted" << std::endl;
  for (;;) {
    try {
      (void)rustyray::nodes();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    } catch (const rustyray::error& e) {
      std::cout << "nodes " << rustyray::to_string(e.code()) << std::endl;
      break;
    }
  }
  for (auto& r : refs) {
    try {
      auto pid = r.get(std::chrono::seconds(60));
      std::cout << "task " << (pid > 0 ? "value" : "none") << std::endl;
    } catch (const rustyray::error& e) {
      std::cout << "task " << rustyray::to_string(e.code()) << std::endl;
    }
  }
  rustyray::shutdown();
  return 0;
}

} // namespace

int main() {
  try {
    rustyray::init();
  } catch (const rustyray::error& e) {
    std::cout << "refused " << rustyray::to_string(e.code()) << ": " << e.what() << std::endl;
    return 3;
  }
  if (const char* ms = std::getenv("RR_TEST_DRIVER"))
    return drive(std::atoi(ms));
  for (const auto& n : rustyray::nodes())
    if (n.local)
      std::cout << (n.head ? "head " + n.address : "joined " + n.id) << std::endl;
  rustyray::serve();
  rustyray::shutdown();
  return 0;
}
