// Shared by the compile-failure cases: each one must fail to compile with
// RustyRay's static_assert message, and control.cpp must compile.
#pragma once
#include <string>

#include <rustyray/rustyray.hpp>

inline int add100(int x) {
  return x + 100;
}
