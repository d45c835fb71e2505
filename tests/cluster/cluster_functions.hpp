#pragma once

// The functions every program of the cluster tests registers: a node joins
// only a head with the same registry.

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "rustyray/rustyray.hpp"

namespace cluster_test {

inline int square(int x) {
  return x * x;
}

/// The process that ran the task: which node.
inline std::int64_t pid_here() {
  return static_cast<std::int64_t>(getpid());
}

/// As `pid_here`, after `ms` milliseconds of work.
inline std::int64_t pid_after(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return static_cast<std::int64_t>(getpid());
}

inline int fail_with(int x) {
  throw std::runtime_error("no luck with " + std::to_string(x));
}

/// A user type CAF ships once RUSTYRAY_REMOTE announced it.
struct point {
  int x = 0;
  int y = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, point& p) {
  return f(caf::meta::type_name("cluster_test::point"), p.x, p.y);
}

inline point mirror(point p, std::vector<double> scale) {
  return point{static_cast<int>(p.y * scale.at(0)), static_cast<int>(p.x * scale.at(1))};
}

} // namespace cluster_test

RUSTYRAY_REMOTE(cluster_test::square, cluster_test::pid_here, cluster_test::pid_after,
                cluster_test::fail_with, cluster_test::mirror);
