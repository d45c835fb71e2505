#pragma once

// The functions every program of the cluster tests registers: a node joins
// only a head with the same registry.

#include "rustyray/rustyray.hpp"

namespace cluster_test {

inline int square(int x) {
  return x * x;
}

} // namespace cluster_test

RUSTYRAY_REMOTE(cluster_test::square);
