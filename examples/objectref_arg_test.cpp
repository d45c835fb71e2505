// Passing object_refs into tasks: a ref where the function takes the value
// makes the task wait for the object and receive its value. Mixed with plain
// values, several refs, and a parameter that takes the ref itself.
//
// Run: build/examples/objectref_arg_test

#include <iostream>
#include <string>

#include <rustyray/rustyray.hpp>

namespace {

int add100(int x) {
  return x + 100;
}

int sum3(int a, int b, int c) {
  return a + b + c;
}

int mul(int a, int b) {
  return a * b;
}

std::string describe(rustyray::object_ref<int> ref) {
  // Declared object_ref<int>: the task gets the ref, unresolved.
  return "a ref to object " + rustyray::to_string(ref.id()) + " holding "
         + std::to_string(ref.get());
}

} // namespace

RUSTYRAY_REMOTE(add100, sum3, mul, describe);

int main() {
  rustyray::init();

  // put a value, pass its ref: the task receives 42.
  auto x = rustyray::put(42);
  std::cout << "put(42) -> add100: " << rustyray::task(add100).remote(x).get() << "\n";

  // Values and refs mixed: 10 + (5 * 6) + 20.
  auto product = rustyray::task(mul).remote(5, 6);
  std::cout << "mixed 10 + ref(5*6) + 20: " << rustyray::task(sum3).remote(10, product, 20).get()
            << "\n";

  // Three refs at once.
  auto three =
    rustyray::task(sum3).remote(rustyray::put(100), rustyray::put(200), rustyray::put(300));
  std::cout << "three refs 100+200+300: " << three.get() << "\n";

  // A parameter declared object_ref<T> receives the ref itself.
  std::cout << "ref parameter: " << rustyray::task(describe).remote(x).get() << "\n";

  // A wrong argument type is a compile-time error, e.g.
  //   rustyray::task(add100).remote(std::string{"x"});
  // fails with "rustyray: an argument of remote() does not fit the function's parameter".
  rustyray::shutdown();
  std::cout << "objectref_arg_test finished\n";
}
