#include "common.hpp"

void submit() {
  (void)rustyray::task(add100).remote(1, 2);
}
