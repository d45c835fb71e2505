#define BOOST_TEST_MODULE lib_log
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "capture_stderr.hpp"
#include "runtime_fixture.hpp"
#include "rustyray/log.hpp"

using namespace rustyray;
using namespace std::chrono_literals;

namespace {

/// The lines a sink received.
struct collected {
  std::mutex mtx;
  std::vector<std::pair<log_level, std::string>> lines; // guarded by mtx

  log_sink sink() {
    return [this](log_level level, const std::string& message) {
      std::lock_guard<std::mutex> guard{mtx};
      lines.emplace_back(level, message);
    };
  }
  std::size_t size() {
    std::lock_guard<std::mutex> guard{mtx};
    return lines.size();
  }
};

/// Puts the process-wide log settings back after each test.
struct log_reset {
  ~log_reset() {
    set_log_sink({});
    set_log_level(log_level::info);
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(lib_log, log_reset)

BOOST_AUTO_TEST_CASE(levels_have_names_that_parse_back) {
  for (auto level : {log_level::debug, log_level::info, log_level::warning, log_level::error}) {
    log_level parsed = log_level::error;
    BOOST_TEST(parse_log_level(to_string(level), parsed));
    BOOST_TEST((parsed == level));
  }
  log_level unchanged = log_level::debug;
  for (const char* text : {"", "warn", "INFO", "errors"})
    BOOST_TEST(!parse_log_level(text, unchanged));
  BOOST_TEST((unchanged == log_level::debug));
  BOOST_TEST((get_log_level() == log_level::info)); // the default
}

BOOST_AUTO_TEST_CASE(a_sink_gets_the_lines_at_or_above_the_threshold) {
  collected got;
  set_log_sink(got.sink());
  int evaluated = 0;
  auto counted = [&] { return ++evaluated; };
  RUSTYRAY_LOG(debug) << "dropped " << counted();
  RUSTYRAY_LOG(info) << "queue at " << 3;
  set_log_level(log_level::warning);
  RUSTYRAY_LOG(info) << "dropped too " << counted();
  RUSTYRAY_LOG(error) << "disk full";
  log(log_level::warning, "plain");
  BOOST_TEST(evaluated == 0); // below the threshold nothing is formatted
  std::lock_guard<std::mutex> guard{got.mtx};
  BOOST_REQUIRE(got.lines.size() == 3u);
  BOOST_TEST((got.lines[0].first == log_level::info));
  BOOST_TEST(got.lines[0].second == "queue at 3");
  BOOST_TEST((got.lines[1].first == log_level::error));
  BOOST_TEST(got.lines[1].second == "disk full");
  BOOST_TEST((got.lines[2].first == log_level::warning));
  BOOST_TEST(got.lines[2].second == "plain");
}

BOOST_AUTO_TEST_CASE(without_a_sink_lines_go_to_stderr_with_their_level) {
  collected got;
  set_log_sink(got.sink());
  set_log_sink({});
  auto text = test::capture_stderr([] { RUSTYRAY_LOG(warning) << "check " << 42; });
  BOOST_TEST(text == "rustyray: warning: check 42\n");
  BOOST_TEST(got.size() == 0u);
}

BOOST_AUTO_TEST_CASE(a_sink_that_throws_does_not_throw_at_the_caller) {
  set_log_sink([](log_level, const std::string&) { throw std::runtime_error("sink broke"); });
  std::string text;
  BOOST_CHECK_NO_THROW(text = test::capture_stderr([] { log(log_level::error, "kept"); }));
  BOOST_TEST(text == "rustyray: error: kept\n"); // the line is not lost
}

BOOST_AUTO_TEST_CASE(threads_log_while_the_sink_is_replaced) {
  collected first;
  collected second;
  set_log_sink(first.sink());
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      while (!go.load())
        std::this_thread::yield();
      for (int i = 0; i < 1000; ++i)
        RUSTYRAY_LOG(info) << "line " << i;
    });
  go = true;
  for (int i = 0; i < 200; ++i)
    set_log_sink(i % 2 == 0 ? second.sink() : first.sink());
  for (auto& t : threads)
    t.join();
  BOOST_TEST(first.size() + second.size() == 4000u); // every line reached one sink
}

BOOST_AUTO_TEST_CASE(rustyrays_own_warnings_go_to_the_sink) {
  collected got;
  set_log_sink(got.sink());
  auto cfg = test::small_config();
  cfg.slow_get_warning = 20ms;
  test::runtime_fixture rt{cfg};
  auto never = test::make_pending<int>();
  BOOST_TEST(test::code_of([&] { (void)never.get(300ms); }) == errc::timeout);
  std::lock_guard<std::mutex> guard{got.mtx};
  BOOST_REQUIRE(got.lines.size() == 1u);
  BOOST_TEST((got.lines[0].first == log_level::warning));
  BOOST_TEST(got.lines[0].second.find("a get has waited more than 20 ms") == 0u,
             got.lines[0].second);
  test::fail(never, errc::task_failed, "done"); // nothing left waiting at shutdown
}

BOOST_AUTO_TEST_CASE(config_log_level_sets_the_threshold_at_init) {
  collected got;
  set_log_sink(got.sink());
  auto cfg = test::small_config();
  cfg.log_level = "error";
  {
    test::runtime_fixture rt{cfg};
    BOOST_TEST((get_log_level() == log_level::error));
    RUSTYRAY_LOG(warning) << "dropped";
  }
  BOOST_TEST(got.size() == 0u);
  cfg.log_level = "loud";
  try {
    cfg.validate();
    BOOST_FAIL("validate must throw");
  } catch (const error& e) {
    BOOST_TEST(e.code() == errc::invalid_config);
    BOOST_TEST(e.message().find("log_level") != std::string::npos, e.message());
  }
  BOOST_TEST(config::from_json({{"log_level", "debug"}}).log_level == "debug");
  // Left empty (the default), init keeps what set_log_level chose.
  set_log_level(log_level::warning);
  test::runtime_fixture rt{test::small_config()};
  BOOST_TEST((get_log_level() == log_level::warning));
}

BOOST_AUTO_TEST_SUITE_END()
