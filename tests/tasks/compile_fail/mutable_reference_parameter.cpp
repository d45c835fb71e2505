#include "common.hpp"

void bump(int& x) {
  ++x;
}

void submit() {
  int n = 1;
  (void)rustyray::task(bump).remote(n);
}
