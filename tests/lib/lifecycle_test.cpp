#define BOOST_TEST_MODULE lib_lifecycle
#include <boost/test/unit_test.hpp>

// How a runtime ends besides `shutdown()` from main: a process leaving
// `main` (or calling `exit`) without it, an application's actor system
// destroyed under it, `shutdown` called where it cannot wait. Each case runs
// in a child process with a hard deadline, since the failure is a hang.

#include <atomic>
#include <future>
#include <stdexcept>

#include <caf/all.hpp>

#include "child_process.hpp"
#include "rustyray/rustyray.hpp"

using namespace rustyray;
using namespace std::chrono_literals;
using test::run_in_child;

namespace {

int plus1(int x) {
  return x + 1;
}

class Greeter {
public:
  static Greeter create() {
    return {};
  }

  std::string hi() const {
    return "hi";
  }

  int stop_everything() {
    try {
      shutdown();
      return 0;
    } catch (const error& e) {
      return e.code() == errc::invalid_argument ? 1 : 2;
    }
  }
};

config test_config() {
  config cfg;
  cfg.num_workers = 2;
  return cfg;
}

/// The child ended by itself (no hang) with `code`.
void check_exited(const test::child_result& result, int code) {
  BOOST_TEST(!result.hung);
  BOOST_TEST(result.exit_code == code, "exit " << result.exit_code << ", stderr: " << result.err);
}

/// A failed expectation inside the child: its exit code tells which.
#define CHILD_REQUIRE(cond, code)                                                                  \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      return code;                                                                                 \
  } while (false)

} // namespace

BOOST_AUTO_TEST_CASE(a_program_that_exits_without_shutdown_ends) {
  auto result = run_in_child([] {
    init();
    CHILD_REQUIRE(task(plus1).remote(1).get() == 2, 3);
    auto greeter = actor(Greeter::create).name("greeter").remote();
    CHILD_REQUIRE(greeter.task(&Greeter::hi).remote().get() == "hi", 4);
    auto kept = put(std::string(1000, 'x'));
    return 0; // std::exit: static destructors, no shutdown
  });
  check_exited(result, 0);
}

BOOST_AUTO_TEST_CASE(an_application_system_destroyed_without_shutdown_shuts_the_runtime_down) {
  auto result = run_in_child([] {
    {
      caf::actor_system_config cfg;
      configure(cfg);
      caf::actor_system sys{cfg};
      init(sys);
      CHILD_REQUIRE(task(plus1).remote(1).get() == 2, 3);
      auto greeter = actor(Greeter::create).remote();
      CHILD_REQUIRE(greeter.task(&Greeter::hi).remote().get() == "hi", 4);
      // An actor of the application, alive until the system ends.
      auto app_actor = sys.spawn([]() -> caf::behavior { return {[](int x) { return x; }}; });
      caf::anon_send_exit(app_actor, caf::exit_reason::user_shutdown);
    } // ~actor_system, as at the end of caf_main
    CHILD_REQUIRE(!is_initialized(), 5);
    // A new runtime may start afterwards.
    init();
    CHILD_REQUIRE(task(plus1).remote(2).get() == 3, 6);
    shutdown();
    return 0;
  });
  check_exited(result, 0);
}

BOOST_AUTO_TEST_CASE(shutdown_inside_a_task_fails_and_main_shutdown_returns) {
  auto result = run_in_child([] {
    init();
    auto code = task([] {
                  try {
                    shutdown();
                    return 0;
                  } catch (const error& e) {
                    return e.code() == errc::invalid_argument ? 1 : 2;
                  }
                })
                  .remote()
                  .get(10s);
    CHILD_REQUIRE(code == 1, 3);
    CHILD_REQUIRE(is_initialized(), 4);
    shutdown();
    CHILD_REQUIRE(!is_initialized(), 5);
    return 0;
  });
  check_exited(result, 0);
}

BOOST_AUTO_TEST_CASE(shutdown_inside_an_actor_method_fails_and_main_shutdown_returns) {
  auto result = run_in_child([] {
    init();
    auto greeter = actor(Greeter::create).remote();
    CHILD_REQUIRE(greeter.task(&Greeter::stop_everything).remote().get(10s) == 1, 3);
    CHILD_REQUIRE(greeter.task(&Greeter::hi).remote().get(10s) == "hi", 4);
    shutdown();
    return 0;
  });
  check_exited(result, 0);
}

BOOST_AUTO_TEST_CASE(exit_called_inside_a_task_ends_the_process) {
  auto result = run_in_child([] {
    init();
    (void)task([] {
      std::exit(7);
      return 0;
    })
      .remote()
      .get(10s);
    return 3; // not reached: the task ends the process
  });
  check_exited(result, 7);
}

BOOST_AUTO_TEST_CASE(a_blocking_get_on_a_caf_scheduler_thread_warns_once) {
  auto result = run_in_child([] {
    caf::actor_system_config cfg;
    configure(cfg);
    caf::actor_system sys{cfg};
    init(sys);
    std::promise<void> release;
    auto released = release.get_future().share();
    auto never_yet = task([released] {
                       released.wait();
                       return 1;
                     }).remote();
    caf::scoped_actor self{sys};
    // Twice: the warning shows once.
    for (int i = 0; i < 2; ++i) {
      auto getter = sys.spawn([never_yet]() -> caf::behavior {
        return {[never_yet](int) {
          try {
            return get(never_yet, 10ms);
          } catch (const error& e) {
            return e.code() == errc::timeout ? -1 : -2;
          }
        }};
      });
      int answer = 0;
      self->request(getter, 10s, 0)
        .receive([&](int x) { answer = x; }, [&](caf::error&) { answer = -3; });
      CHILD_REQUIRE(answer == -1, 3);
    }
    // A get on this thread (not CAF's) does not warn.
    try {
      (void)get(never_yet, 1ms);
    } catch (const error&) {
    }
    release.set_value();
    CHILD_REQUIRE(never_yet.get() == 1, 4);
    shutdown();
    return 0;
  });
  BOOST_TEST(!result.hung);
  BOOST_REQUIRE(result.exit_code == 0);
  auto warning = std::string{"blocking get or wait runs on a CAF scheduler thread"};
  auto first = result.err.find(warning);
  BOOST_TEST(first != std::string::npos, "stderr: " << result.err);
  BOOST_TEST(result.err.find(warning, first + 1) == std::string::npos, "stderr: " << result.err);
  BOOST_TEST(result.err.find("get_async") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_runtime_guard_shuts_the_runtime_down_on_an_exception) {
  auto result = run_in_child([] {
    try {
      runtime_guard runtime{test_config()};
      CHILD_REQUIRE(task(plus1).remote(1).get() == 2, 3);
      throw std::runtime_error("early exit");
    } catch (const std::runtime_error&) {
    }
    CHILD_REQUIRE(!is_initialized(), 4);
    {
      caf::actor_system_config cfg;
      configure(cfg);
      caf::actor_system sys{cfg};
      runtime_guard runtime{sys};
      CHILD_REQUIRE(task(plus1).remote(2).get() == 3, 5);
    }
    CHILD_REQUIRE(!is_initialized(), 6);
    return 0;
  });
  check_exited(result, 0);
}
