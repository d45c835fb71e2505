// An existing CAF application adopting RustyRay: it keeps its own actor
// system, wraps one of its typed actors so RustyRay code gets object_refs
// from it, calls a RustyRay actor through a typed CAF interface, and awaits a
// ref inside an event-based actor without blocking.

#include <iostream>
#include <string>

#include <caf/all.hpp>
#include <rustyray/rustyray.hpp>

// The application's own typed actor.
using multiplier = caf::typed_actor<caf::replies_to<int, int>::with<int>>;

multiplier::behavior_type multiplier_impl() {
  return {[](int x, int y) { return x * y; }};
}

class Account {
public:
  static Account open(int balance) {
    return Account{balance};
  }
  int deposit(int amount) {
    return balance_ += amount;
  }

private:
  explicit Account(int balance) : balance_(balance) {}
  int balance_;
};

RUSTYRAY_REMOTE(Account::open, &Account::deposit);

// An application actor that awaits a RustyRay object without blocking.
caf::behavior reporter(caf::event_based_actor* self, rustyray::object_ref<int> ref,
                       caf::actor done) {
  rustyray::get_async(self, ref).then(
    [=](int value) {
      std::cout << "event-based actor got: " << value << std::endl;
      self->send(done, value);
    },
    [=](const caf::error& err) { std::cout << self->system().render(err) << std::endl; });
  return {};
}

int main() {
  caf::actor_system_config cfg;
  rustyray::configure(cfg);
  caf::actor_system system{cfg};
  rustyray::init(system);
  {
    // 1. A typed CAF actor of the application, wrapped: replies become refs.
    auto mul = system.spawn(multiplier_impl);
    rustyray::object_ref<int> product = rustyray::wrap(mul).ask(6, 7);
    std::cout << "wrapped typed actor: " << product.get() << std::endl;

    // 2. A RustyRay actor takes that ref; plain CAF code calls it by name.
    auto account = rustyray::actor(Account::open).remote(product);
    caf::scoped_actor self{system};
    self
      ->request(rustyray::caf_interface(account), caf::infinite, rustyray::call_atom::value,
                std::string{"Account::deposit"}, caf::make_message(8))
      .receive(
        [](caf::message& reply) {
          std::cout << "typed interface call: " << reply.get_as<int>(0) << std::endl;
        },
        [&](caf::error& err) { std::cout << system.render(err) << std::endl; });

    // 3. An event-based actor awaits an actor call's result asynchronously.
    auto next = account.task(&Account::deposit).remote(50);
    auto r = system.spawn(reporter, next, caf::actor{self});
    self->receive([](int) {});
    self->send_exit(mul, caf::exit_reason::user_shutdown);
    self->send_exit(r, caf::exit_reason::user_shutdown);
  }
  rustyray::shutdown(); // the application's system lives on
  std::cout << "caf_interop finished" << std::endl;
}
