#define BOOST_TEST_MODULE lib_config
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "rustyray/rustyray.hpp"
#include "capture_stderr.hpp"
#include "test_printing.hpp"

using namespace rustyray;
using nlohmann::json;

namespace {

/// The message of the invalid_config error that `f` throws.
template <class F>
std::string invalid_config_message(F&& f) {
  try {
    f();
  } catch (const error& e) {
    BOOST_TEST(e.code() == errc::invalid_config);
    return e.message();
  }
  BOOST_FAIL("expected invalid_config");
  return {};
}

std::string write_temp(const std::string& text) {
  char name[] = "/tmp/rustyray_config_XXXXXX";
  auto fd = mkstemp(name);
  BOOST_REQUIRE(fd >= 0);
  close(fd);
  std::ofstream{name} << text;
  return name;
}

} // namespace

BOOST_AUTO_TEST_CASE(defaults_suit_one_machine) {
  config cfg;
  BOOST_TEST(cfg.num_workers == 0u);
  BOOST_TEST(cfg.object_store_capacity == std::uint64_t{1} << 30);
  BOOST_TEST(cfg.buffer_pool_capacity == std::uint64_t{1} << 30);
  BOOST_CHECK_NO_THROW(cfg.validate());
}

BOOST_AUTO_TEST_CASE(from_json_reads_every_field) {
  auto cfg = config::from_json(
    json{{"num_workers", 3}, {"object_store_capacity", 4096}, {"buffer_pool_capacity", 0}});
  BOOST_TEST(cfg.num_workers == 3u);
  BOOST_TEST(cfg.object_store_capacity == 4096u);
  BOOST_TEST(cfg.buffer_pool_capacity == 0u);
  auto more = config::from_json(
    json{{"scheduler_policy", "stealing"}, {"resources", {{"GPU", 2}, {"CPU", 1.5}}}});
  BOOST_TEST(more.scheduler_policy == "stealing");
  BOOST_TEST(more.resources.at("GPU") == 2.0);
  BOOST_TEST(more.resources.at("CPU") == 1.5);
  auto empty = config::from_json(json::object());
  BOOST_TEST(empty.object_store_capacity == config{}.object_store_capacity);
}

BOOST_AUTO_TEST_CASE(unknown_key_is_named) {
  auto msg = invalid_config_message([] { config::from_json(json{{"num_wrokers", 2}}); });
  BOOST_TEST(msg.find("\"num_wrokers\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(wrong_type_is_named) {
  auto msg = invalid_config_message([] { config::from_json(json{{"num_workers", "two"}}); });
  BOOST_TEST(msg.find("\"num_workers\"") != std::string::npos);
  msg = invalid_config_message([] { config::from_json(json{{"object_store_capacity", -1}}); });
  BOOST_TEST(msg.find("\"object_store_capacity\"") != std::string::npos);
  msg = invalid_config_message([] { config::from_json(json{{"num_workers", 1.5}}); });
  BOOST_TEST(msg.find("\"num_workers\"") != std::string::npos);
  invalid_config_message([] { config::from_json(json::array({1, 2})); });
  msg = invalid_config_message([] { config::from_json(json{{"scheduler_policy", "fast"}}); });
  BOOST_TEST(msg.find("\"scheduler_policy\"") != std::string::npos);
  msg = invalid_config_message([] { config::from_json(json{{"resources", {{"GPU", -1}}}}); });
  BOOST_TEST(msg.find("\"resources.GPU\"") != std::string::npos);
  msg = invalid_config_message([] { config::from_json(json{{"resources", 3}}); });
  BOOST_TEST(msg.find("\"resources\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(zero_capacity_is_refused_by_from_json_and_init) {
  auto msg = invalid_config_message([] { config::from_json(json{{"object_store_capacity", 0}}); });
  BOOST_TEST(msg.find("\"object_store_capacity\"") != std::string::npos);
  config cfg;
  cfg.object_store_capacity = 0;
  invalid_config_message([&] { init(cfg); });
  BOOST_TEST(!is_initialized());
}

BOOST_AUTO_TEST_CASE(from_file_reads_json_and_reports_bad_files) {
  auto good = write_temp(R"({"num_workers": 5})");
  BOOST_TEST(config::from_file(good).num_workers == 5u);
  auto bad = write_temp("{ not json");
  auto msg = invalid_config_message([&] { config::from_file(bad); });
  BOOST_TEST(msg.find(bad) != std::string::npos);
  auto unknown = write_temp(R"({"colour": "red"})");
  msg = invalid_config_message([&] { config::from_file(unknown); });
  BOOST_TEST(msg.find("\"colour\"") != std::string::npos);
  msg = invalid_config_message([] { config::from_file("/nonexistent/rustyray.json"); });
  BOOST_TEST(msg.find("/nonexistent/rustyray.json") != std::string::npos);
  std::remove(good.c_str());
  std::remove(bad.c_str());
  std::remove(unknown.c_str());
}

namespace {

/// Sets an environment variable for one test case.
class scoped_env {
public:
  scoped_env(const char* name, const char* value) : name_(name) {
    setenv(name, value, 1);
  }
  scoped_env(const scoped_env&) = delete;
  scoped_env& operator=(const scoped_env&) = delete;
  ~scoped_env() {
    unsetenv(name_);
  }

private:
  const char* name_;
};

} // namespace

BOOST_AUTO_TEST_CASE(observability_fields_have_defaults_and_read_durations_with_units) {
  config cfg;
  BOOST_TEST(cfg.timeline_capacity == 100000u);
  BOOST_TEST(cfg.slow_get_warning.count() == 10000);
  BOOST_TEST(config::from_json(json{{"timeline_capacity", 0}}).timeline_capacity == 0u);
  BOOST_TEST(config::from_json(json{{"slow_get_warning", 250}}).slow_get_warning.count() == 250);
  BOOST_TEST(config::from_json(json{{"slow_get_warning", "500ms"}}).slow_get_warning.count()
             == 500);
  BOOST_TEST(config::from_json(json{{"slow_get_warning", "3s"}}).slow_get_warning.count() == 3000);
  BOOST_TEST(config::from_json(json{{"slow_get_warning", "2min"}}).slow_get_warning.count()
             == 120000);
  for (auto bad : {json("10 parsecs"), json("s"), json(-5), json(1.5), json("-3s")}) {
    auto msg = invalid_config_message([&] { config::from_json(json{{"slow_get_warning", bad}}); });
    BOOST_TEST(msg.find("\"slow_get_warning\"") != std::string::npos, msg);
  }
}

BOOST_AUTO_TEST_CASE(cluster_durations_have_defaults_and_bounds) {
  config cfg;
  BOOST_TEST(cfg.heartbeat_timeout.count() == 5000);
  BOOST_TEST(cfg.head_grace.count() == 10000);
  BOOST_TEST(config::from_json(json{{"head_grace", "2s"}}).head_grace.count() == 2000);
  BOOST_TEST(config::from_json(json{{"head_grace", 0}}).head_grace.count() == 0);
  auto msg = invalid_config_message([&] { config::from_json(json{{"head_grace", "-1s"}}); });
  BOOST_TEST(msg.find("\"head_grace\"") != std::string::npos, msg);
  msg = invalid_config_message([&] { config::from_json(json{{"heartbeat_timeout", 0}}); });
  BOOST_TEST(msg.find("\"heartbeat_timeout\"") != std::string::npos, msg);
}

BOOST_AUTO_TEST_CASE(actor_threads_have_defaults_and_bounds) {
  config cfg;
  BOOST_TEST(cfg.actor_threads == 0u);
  BOOST_TEST(cfg.max_actor_threads == 4096u);
  auto read = config::from_json(json{{"actor_threads", 8}, {"max_actor_threads", 64}});
  BOOST_TEST(read.actor_threads == 8u);
  BOOST_TEST(read.max_actor_threads == 64u);
  BOOST_TEST(read.to_json()["max_actor_threads"] == 64);
  auto msg = invalid_config_message([] { config::from_json(json{{"max_actor_threads", 0}}); });
  BOOST_TEST(msg.find("\"max_actor_threads\" must be 1 to 65536") != std::string::npos, msg);
  msg = invalid_config_message([] { config::from_json(json{{"actor_threads", 70000}}); });
  BOOST_TEST(msg.find("\"actor_threads\" must be 0 (one per hardware thread) to 65536")
               != std::string::npos,
             msg);
}

// Found by the config_json fuzz target: values the readers accepted made
// init overflow (CPU = num_workers and resources in thousandths as int64,
// a get's slow-warning deadline as steady_clock nanoseconds).
BOOST_AUTO_TEST_CASE(values_init_cannot_count_with_are_invalid) {
  auto msg = invalid_config_message([] {
    config::from_json(json{{"num_workers", std::uint64_t{1} << 62}});
  });
  BOOST_TEST(msg.find("\"num_workers\" must be at most 65536") != std::string::npos, msg);
  BOOST_TEST(config::from_json(json{{"num_workers", 65536}}).num_workers == 65536u);
  msg = invalid_config_message([] { config::from_json(json{{"resources", {{"GPU", 1e300}}}}); });
  BOOST_TEST(msg.find("\"resources.GPU\" must be a number from 0 to 1e15") != std::string::npos,
             msg);
  BOOST_TEST(config::from_json(json{{"resources", {{"GPU", 1e15}}}}).resources.at("GPU") == 1e15);
  for (auto bad : {json(std::int64_t{1} << 62), json("999999999999min")}) {
    msg = invalid_config_message([&] { config::from_json(json{{"slow_get_warning", bad}}); });
    BOOST_TEST(msg.find("at most 100 years") != std::string::npos, msg);
  }
  config cfg;
  cfg.num_workers = std::size_t{1} << 40;
  invalid_config_message([&] { cfg.validate(); });
}

BOOST_AUTO_TEST_CASE(to_json_writes_what_from_json_reads) {
  config cfg;
  cfg.num_workers = 3;
  cfg.scheduler_policy = "stealing";
  cfg.resources = {{"GPU", 2}};
  cfg.slow_get_warning = std::chrono::milliseconds(1500);
  auto back = config::from_json(cfg.to_json());
  BOOST_TEST(back.to_json() == cfg.to_json());
  BOOST_TEST(back.slow_get_warning.count() == 1500);
  BOOST_TEST(back.resources.at("GPU") == 2.0);
}

BOOST_AUTO_TEST_CASE(environment_variables_override_json_and_file_values) {
  scoped_env workers{"RUSTYRAY_NUM_WORKERS", "7"};
  scoped_env policy{"RUSTYRAY_SCHEDULER_POLICY", "stealing"}; // a bare word is a string
  scoped_env resources{"RUSTYRAY_RESOURCES", R"({"GPU": 2})"};
  scoped_env warning{"RUSTYRAY_SLOW_GET_WARNING", "250ms"};
  scoped_env empty{"RUSTYRAY_TIMELINE_CAPACITY", ""}; // set but empty: unset
  auto cfg = config::from_json(json{{"num_workers", 3}, {"resources", {{"CPU", 1}}}});
  BOOST_TEST(cfg.num_workers == 7u);
  BOOST_TEST(cfg.scheduler_policy == "stealing");
  BOOST_TEST(cfg.resources.size() == 1u); // the variable replaces the whole map
  BOOST_TEST(cfg.resources.at("GPU") == 2.0);
  BOOST_TEST(cfg.slow_get_warning.count() == 250);
  BOOST_TEST(cfg.timeline_capacity == config{}.timeline_capacity);
  auto file = write_temp(R"({"num_workers": 5, "object_store_capacity": 4096})");
  auto from_file = config::from_file(file);
  BOOST_TEST(from_file.num_workers == 7u);
  BOOST_TEST(from_file.object_store_capacity == 4096u); // not overridden
  std::remove(file.c_str());
  BOOST_TEST(config::from_env().num_workers == 7u);
  BOOST_TEST(config{}.num_workers == 0u); // a config built in code is left alone
}

BOOST_AUTO_TEST_CASE(ray_namespace_is_read_from_json_and_rustyray_namespace) {
  BOOST_TEST(config{}.ray_namespace.empty()); // an anonymous namespace per runtime
  BOOST_TEST(config::from_json(json{{"ray_namespace", "jobs"}}).ray_namespace == "jobs");
  auto number = invalid_config_message([] { config::from_json(json{{"ray_namespace", 7}}); });
  BOOST_TEST(number.find("\"ray_namespace\" must be a string") != std::string::npos);
  auto control = invalid_config_message([] { config::from_json(json{{"ray_namespace", "a\nb"}}); });
  BOOST_TEST(control.find("control characters") != std::string::npos);
  {
    // Text as written, even where it would read as a JSON number.
    scoped_env ns{"RUSTYRAY_NAMESPACE", "2024"};
    BOOST_TEST(config::from_json(json{{"ray_namespace", "jobs"}}).ray_namespace == "2024");
  }
  {
    scoped_env wrong{"RUSTYRAY_RAY_NAMESPACE", "jobs"}; // not the variable's name
    BOOST_TEST(config::from_env().ray_namespace.empty());
  }
}

BOOST_AUTO_TEST_CASE(init_without_a_config_applies_the_environment_and_with_one_does_not) {
  scoped_env workers{"RUSTYRAY_NUM_WORKERS", "3"};
  scoped_env capacity{"RUSTYRAY_OBJECT_STORE_CAPACITY", "1048576"};
  init();
  auto s = state();
  BOOST_TEST(s["config"]["num_workers"] == 3);
  BOOST_TEST(s["object_store"]["capacity"] == 1048576);
  BOOST_TEST(s["node"]["workers"]["limit"] == 3);
  shutdown();
  config explicit_cfg;
  explicit_cfg.num_workers = 2;
  init(explicit_cfg);
  BOOST_TEST(state()["config"]["num_workers"] == 2);
  BOOST_TEST(state()["config"]["object_store_capacity"] == config{}.object_store_capacity);
  shutdown();
}

BOOST_AUTO_TEST_CASE(a_bad_environment_value_is_invalid_config_naming_the_variable) {
  {
    scoped_env bad{"RUSTYRAY_NUM_WORKERS", "four"};
    auto msg = invalid_config_message([] { config::from_env(); });
    BOOST_TEST(msg.find("RUSTYRAY_NUM_WORKERS") != std::string::npos, msg);
    BOOST_TEST(msg.find("four") != std::string::npos, msg);
    msg = invalid_config_message([] { config::from_json(json::object()); });
    BOOST_TEST(msg.find("RUSTYRAY_NUM_WORKERS") != std::string::npos, msg);
    msg = invalid_config_message([] { init(); });
    BOOST_TEST(msg.find("RUSTYRAY_NUM_WORKERS") != std::string::npos, msg);
    BOOST_TEST(!is_initialized());
  }
  struct {
    const char* variable;
    const char* value;
  } cases[] = {{"RUSTYRAY_OBJECT_STORE_CAPACITY", "0"},  {"RUSTYRAY_SCHEDULER_POLICY", "fast"},
               {"RUSTYRAY_RESOURCES", R"({"GPU": -1})"}, {"RUSTYRAY_SLOW_GET_WARNING", "soon"},
               {"RUSTYRAY_TIMELINE_CAPACITY", "-1"},     {"RUSTYRAY_BUFFER_POOL_CAPACITY", "1.5"}};
  for (const auto& c : cases) {
    scoped_env bad{c.variable, c.value};
    auto msg = invalid_config_message([] { config::from_env(); });
    BOOST_TEST(msg.find(c.variable) != std::string::npos, msg);
  }
}

// A typo in a variable name was ignored in silence, where an unknown JSON
// key is an error.
BOOST_AUTO_TEST_CASE(an_unknown_rustyray_variable_is_named_once_with_the_closest_setting) {
  scoped_env typo{"RUSTYRAY_NUM_WORKERZ", "3"};
  scoped_env tool{"RUSTYRAY_SOAK_PERCENT", "25"};
  auto first = test::capture_stderr([] { (void)config::from_env(); });
  BOOST_TEST(first.find("RUSTYRAY_NUM_WORKERZ") != std::string::npos, first);
  BOOST_TEST(first.find("did you mean RUSTYRAY_NUM_WORKERS?") != std::string::npos, first);
  BOOST_TEST(first.find("SOAK") == std::string::npos, first); // a variable of RustyRay's tools
  auto again = test::capture_stderr([] { (void)config::from_env(); });
  BOOST_TEST(again.empty(), again); // once per process
}
