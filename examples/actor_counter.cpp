// A stateful counter actor: ordered calls from one caller, a named actor found
// again by name, a method that throws, and kill.

#include <iostream>
#include <memory>

#include <rustyray/rustyray.hpp>

class Counter {
public:
  static Counter create(int start) {
    return Counter{start};
  }

  int add(int x) {
    value_ += x;
    return value_;
  }

  int value() const {
    return value_;
  }

  int fail() {
    throw std::runtime_error("counters cannot fail on purpose... except this one");
  }

  void on_stop() {
    std::cout << "on_stop: final value " << value_ << std::endl;
  }

private:
  explicit Counter(int start) : value_(start) {}

  int value_;
};

RUSTYRAY_REMOTE(Counter::create, &Counter::add, &Counter::value);

int main() {
  rustyray::init();
  {
    auto counter = rustyray::actor(Counter::create).name("counter").remote(10);
    std::vector<rustyray::object_ref<int>> steps;
    for (int i = 1; i <= 5; ++i)
      steps.push_back(counter.task(&Counter::add).remote(i));
    std::cout << "in order:";
    for (int v : rustyray::get(steps))
      std::cout << " " << v;
    std::cout << std::endl;

    auto found = rustyray::get_actor<Counter>("counter");
    std::cout << "found by name: " << found->task(&Counter::value).remote().get() << std::endl;

    try {
      counter.task(&Counter::fail).remote().get();
    } catch (const rustyray::task_error& e) {
      std::cout << "method error: " << e.what() << std::endl;
    }
    std::cout << "still alive: " << counter.task(&Counter::value).remote().get() << std::endl;

    rustyray::kill(counter);
    try {
      counter.task(&Counter::value).remote().get();
    } catch (const rustyray::error& e) {
      std::cout << "after kill: " << to_string(e.code()) << std::endl;
    }
    std::cout << "name released: " << !rustyray::get_actor<Counter>("counter").has_value()
              << std::endl;
  }
  rustyray::shutdown();
  std::cout << "actor_counter finished" << std::endl;
}
