#include "common.hpp"

void bump(int& x) {
  ++x;
}

RUSTYRAY_REMOTE(bump);
