// RustyRay's Ray-style API in one file: put objects, run tasks on them, chain
// tasks, get results back, wait for the first ones ready, and handle errors.
//
// Run: ./dev demo

#include <iostream>
#include <string>
#include <vector>

#include <rustyray/rustyray.hpp>

using namespace std::chrono_literals;

namespace {

int add100(int x) {
  return x + 100;
}

int plus10(int x) {
  return x + 10;
}

int times3(int x) {
  return x * 3;
}

} // namespace

// Registered by name, so other processes running this binary can call them.
RUSTYRAY_REMOTE(add100, plus10, times3);

int main() {
  // One call starts the runtime: its own CAF actor system, the object store actor.
  rustyray::init();

  // put stores a value and returns an object_ref: a 16-byte ID, nothing else.
  auto answer = rustyray::put(42);
  std::cout << "put/get: " << rustyray::get(answer) << "\n";

  // Tasks: a function becomes remote with task(f); remote() returns a ref at
  // once. A ref argument is resolved to its value before the task runs.
  auto task_result = rustyray::task(add100).remote(answer);
  std::cout << "task: " << task_result.get() << "\n";
  // Chaining: pass one task's ref straight into the next.
  auto chain = rustyray::task(times3).remote(rustyray::task(plus10).remote(5));
  std::cout << "chain: " << chain.get() << "\n";

  // get also takes a list of refs and returns the values in order.
  std::vector<rustyray::object_ref<int>> refs{rustyray::put(1), rustyray::put(2), rustyray::put(3)};
  std::cout << "get of a list:";
  for (auto v : rustyray::get(refs))
    std::cout << " " << v;
  std::cout << "\n";

  // wait returns once num_returns objects are ready (or the timeout passed),
  // keeping the input order in both halves, like ray.wait.
  auto big = rustyray::put(std::string(1 << 20, 'x'));
  auto text = rustyray::put(std::string{"hello"});
  auto more = rustyray::put(std::string{"world"});
  auto [ready, not_ready] = rustyray::wait(std::vector{big, text, more}, 2, 1s);
  std::cout << "wait: " << ready.size() << " ready, " << not_ready.size() << " not ready\n";

  // A failure is a rustyray::error with a code and a message that says what to do.
  rustyray::free(text); // drop the value now, although refs remain
  try {
    rustyray::get(text);
  } catch (const rustyray::error& e) {
    std::cout << "free: " << rustyray::to_string(e.code()) << " (" << e.message() << ")\n";
  }
  // try_get is the non-throwing twin: a caf::expected.
  auto as_expected = rustyray::try_get(more, 100ms);
  std::cout << "try_get: " << (as_expected ? *as_expected : "error") << "\n";

  auto stats = rustyray::object_store_stats();
  std::cout << "store: " << stats.objects << " objects, " << stats.bytes_used << " bytes, "
            << stats.hits << " hits, " << stats.misses << " misses\n";
  rustyray::shutdown();
  std::cout << "demo finished\n";
}
