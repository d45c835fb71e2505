#include "common.hpp"

void submit() {
  (void)rustyray::task(add100).remote(std::string{"not an int"});
}
