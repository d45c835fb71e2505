#define BOOST_TEST_MODULE lib_config
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "rustyray/rustyray.hpp"
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
