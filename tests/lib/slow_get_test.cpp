#define BOOST_TEST_MODULE lib_slow_get
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <fcntl.h>
#include <fstream>
#include <future>
#include <sstream>
#include <string>
#include <unistd.h>

#include "runtime_fixture.hpp"

using namespace rustyray;
using namespace std::chrono_literals;

namespace {

/// Sends this process's stderr (file descriptor 2) to a temporary file while
/// it lives: the warning goes to the real stderr, and the test reads it back.
class stderr_capture {
public:
  stderr_capture() {
    std::fflush(stderr);
    auto fd = mkstemp(path_);
    BOOST_REQUIRE(fd >= 0);
    saved_ = dup(2);
    dup2(fd, 2);
    close(fd);
  }

  stderr_capture(const stderr_capture&) = delete;
  stderr_capture& operator=(const stderr_capture&) = delete;

  ~stderr_capture() {
    std::fflush(stderr);
    dup2(saved_, 2);
    close(saved_);
    std::remove(path_);
  }

  std::string text() {
    std::fflush(stderr);
    std::ifstream in{path_};
    std::stringstream out;
    out << in.rdbuf();
    return out.str();
  }

private:
  char path_[32] = "/tmp/rustyray_stderr_XXXXXX";
  int saved_ = -1;
};

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

const std::string warning = "rustyray: warning: a get has waited";

/// Small settings: a get warns after 50 ms.
struct slow_get_fixture : test::runtime_fixture {
  slow_get_fixture() : test::runtime_fixture(with_warning()) {}

  static config with_warning() {
    auto cfg = test::small_config();
    cfg.slow_get_warning = 50ms;
    return cfg;
  }

  std::promise<void> gate;
  std::shared_future<void> opened = gate.get_future().share();
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(lib_slow_get, slow_get_fixture)

BOOST_AUTO_TEST_CASE(a_slow_get_warns_once_naming_the_object_and_its_task) {
  std::promise<void> started;
  auto slow = task([this, &started] {
                started.set_value();
                opened.wait();
                return 1;
              })
                .name("slowpoke")
                .remote();
  // Running before the get starts, also on a loaded machine: the warning
  // names the task's state.
  started.get_future().wait();
  {
    stderr_capture captured;
    // Waits six times the limit, then times out: one warning all the same.
    BOOST_TEST(test::code_of([&] { slow.get(300ms); }) == errc::timeout);
    auto text = captured.text();
    BOOST_TEST(count(text, warning) == 1u, text);
    BOOST_TEST(text.find("object " + to_string(slow.id())) != std::string::npos, text);
    BOOST_TEST(text.find("task slowpoke (running)") != std::string::npos, text);
  }
  gate.set_value();
  BOOST_TEST(slow.get() == 1);
}

BOOST_AUTO_TEST_CASE(a_get_of_a_list_warns_once_too) {
  std::vector<object_ref<int>> refs;
  for (int i = 0; i < 3; ++i)
    refs.push_back(task([this, i] {
                     opened.wait();
                     return i;
                   }).remote());
  {
    stderr_capture captured;
    BOOST_TEST(test::code_of([&] { get(refs, 300ms); }) == errc::timeout);
    auto text = captured.text();
    BOOST_TEST(count(text, warning) == 1u, text);
  }
  gate.set_value();
  BOOST_TEST(get(refs).size() == 3u);
}

BOOST_AUTO_TEST_CASE(an_object_nothing_here_produces_is_named_as_such) {
  auto orphan = test::make_pending<int>();
  stderr_capture captured;
  BOOST_TEST(test::code_of([&] { orphan.get(200ms); }) == errc::timeout);
  auto text = captured.text();
  BOOST_TEST(count(text, warning) == 1u, text);
  BOOST_TEST(text.find("no task or actor call of this process") != std::string::npos, text);
}

BOOST_AUTO_TEST_CASE(gets_that_wait_less_do_not_warn_and_wait_does_not_warn) {
  stderr_capture captured;
  BOOST_TEST(put(5).get() == 5);
  auto orphan = test::make_pending<int>();
  BOOST_TEST(test::code_of([&] { orphan.get(20ms); }) == errc::timeout);
  // wait() with a timeout is a poll, not a stuck get.
  BOOST_TEST(wait(std::vector{orphan}, 1, 200ms).ready.empty());
  BOOST_TEST(count(captured.text(), warning) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(zero_turns_the_warning_off) {
  auto cfg = test::small_config();
  cfg.slow_get_warning = 0ms;
  init(cfg);
  {
    auto orphan = test::make_pending<int>();
    stderr_capture captured;
    BOOST_TEST(test::code_of([&] { orphan.get(150ms); }) == errc::timeout);
    BOOST_TEST(count(captured.text(), warning) == 0u);
  }
  test::check_clean_and_shutdown();
}
