#include "common.hpp"

void submit() {
  (void)rustyray::task(add100).remote(rustyray::put(std::string{"not an int"}));
}
