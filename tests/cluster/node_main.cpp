// A worker node for the multi-process tests: joins the head named by
// RUSTYRAY_ADDRESS with RUSTYRAY_CLUSTER_TOKEN, prints "joined <node ID>"
// (or "refused <errc>: <message>" and exits 3), then serves until the head
// goes away.

#include <iostream>

#include "cluster_functions.hpp"

#ifdef RUSTYRAY_TEST_OTHER_REGISTRY
namespace cluster_test {
inline int cube(int x) {
  return x * x * x;
}
} // namespace cluster_test
RUSTYRAY_REMOTE(cluster_test::cube);
#endif

int main() {
  try {
    rustyray::init();
  } catch (const rustyray::error& e) {
    std::cout << "refused " << rustyray::to_string(e.code()) << ": " << e.what() << std::endl;
    return 3;
  }
  for (const auto& n : rustyray::nodes())
    if (n.local)
      std::cout << "joined " << n.id << std::endl;
  rustyray::serve();
  rustyray::shutdown();
  return 0;
}
