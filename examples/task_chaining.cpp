// Chaining tasks: the ref one task returns goes straight into the next,
// b = g(f()), without waiting in between; a diamond; and how a failure flows
// down a chain to every dependant.
//
// Run: build/examples/task_chaining

#include <iostream>
#include <stdexcept>

#include <rustyray/rustyray.hpp>

namespace {

int plus10(int x) {
  return x + 10;
}

int times3(int x) {
  return x * 3;
}

int add(int a, int b) {
  return a + b;
}

int reciprocal_percent(int x) {
  if (x == 0)
    throw std::domain_error("division by zero");
  return 100 / x;
}

} // namespace

RUSTYRAY_REMOTE(plus10, times3, add, reciprocal_percent);

int main() {
  rustyray::init();

  // 5 -> +10 -> *3: the second task is submitted before the first has run.
  auto chained = rustyray::task(times3).remote(rustyray::task(plus10).remote(5));
  std::cout << "chain 5 -> +10 -> *3: " << chained.get() << "\n";

  // A diamond: one source, two branches, one join.
  auto source = rustyray::task(plus10).remote(0);
  auto left = rustyray::task(times3).remote(source);
  auto right = rustyray::task(plus10).remote(source);
  std::cout << "diamond (0+10)*3 + (0+10)+10: " << rustyray::task(add).remote(left, right).get()
            << "\n";

  // A failure is stored in place of the result and flows to dependants,
  // which do not run; the message carries the chain down to the root cause.
  auto broken = rustyray::task(reciprocal_percent).remote(0);
  auto downstream = rustyray::task(plus10).remote(broken);
  try {
    downstream.get();
  } catch (const rustyray::task_error& e) {
    std::cout << "failure flows: " << e.message() << "\n";
  }
  rustyray::shutdown();
  std::cout << "task_chaining finished\n";
}
