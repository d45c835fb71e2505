#define BOOST_TEST_MODULE lib_metrics
#include <boost/test/unit_test.hpp>

#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "runtime_fixture.hpp"

using namespace rustyray;
using nlohmann::json;

namespace {

int plus1(int x) {
  return x + 1;
}

int explode(int) {
  throw std::runtime_error("exploded");
}

/// The sample line of `metrics_text()` that starts with `series` (name and
/// labels), without the value; empty if there is none.
std::string value_of(const std::string& text, const std::string& series) {
  std::istringstream lines{text};
  for (std::string line; std::getline(lines, line);)
    if (line.rfind(series + " ", 0) == 0)
      return line.substr(series.size() + 1);
  return {};
}

/// Whether `text` keeps Prometheus' text format: every line a comment
/// (`# HELP name text`, `# TYPE name type`) or `name[{labels}] number`, each
/// family's TYPE before its samples.
void check_exposition(const std::string& text) {
  std::istringstream lines{text};
  std::string typed;
  for (std::string line; std::getline(lines, line);) {
    BOOST_TEST_CONTEXT(line) {
      BOOST_TEST(!line.empty());
      if (line.rfind("# HELP ", 0) == 0)
        continue;
      if (line.rfind("# TYPE ", 0) == 0) {
        std::istringstream words{line.substr(7)};
        std::string type;
        words >> typed >> type;
        BOOST_TEST((type == "counter" || type == "gauge" || type == "histogram"));
        continue;
      }
      auto name = line.substr(0, line.find_first_of("{ "));
      BOOST_TEST((name == typed || name == typed + "_bucket" || name == typed + "_sum"
                  || name == typed + "_count"));
      auto value = line.substr(line.rfind(' ') + 1);
      BOOST_TEST(
        (value == "+Inf" || value.find_first_not_of("0123456789.e+-") == std::string::npos));
    }
  }
}

} // namespace

BOOST_AUTO_TEST_CASE(counters_gauges_and_histograms_keep_a_series_per_set_of_tags) {
  // Before init: metrics belong to the process.
  metrics::counter requests{"app_requests", "requests served", {"route"}};
  metrics::gauge queue{"app_queue_length", "requests waiting"};
  metrics::histogram latency{"app_latency_ms", "time per request", {1, 10, 100}, {"route"}};
  requests.inc(1, {{"route", "/a"}});
  requests.inc(2.5, {{"route", "/a"}});
  requests.inc(1, {{"route", "/b"}});
  queue.set(7);
  queue.set(3);
  for (double ms : {0.5, 1.0, 5.0, 50.0, 500.0})
    latency.observe(ms, {{"route", "/a"}});

  // Another handle on the same name is the same metric.
  metrics::counter same{"app_requests", "requests served", {"route"}};
  same.inc(1, {{"route", "/b"}});

  auto text = metrics_text(); // no runtime: only the application's metrics
  check_exposition(text);
  BOOST_TEST(text.find("rustyray_") == std::string::npos);
  BOOST_TEST(text.find("# TYPE app_requests counter\n") != std::string::npos);
  BOOST_TEST(text.find("# HELP app_requests requests served\n") != std::string::npos);
  BOOST_TEST(value_of(text, R"(app_requests{route="/a"})") == "3.5");
  BOOST_TEST(value_of(text, R"(app_requests{route="/b"})") == "2");
  BOOST_TEST(value_of(text, "app_queue_length") == "3");
  // Buckets are cumulative: le="1" holds 0.5 and 1.0.
  BOOST_TEST(value_of(text, R"(app_latency_ms_bucket{route="/a",le="1"})") == "2");
  BOOST_TEST(value_of(text, R"(app_latency_ms_bucket{route="/a",le="10"})") == "3");
  BOOST_TEST(value_of(text, R"(app_latency_ms_bucket{route="/a",le="100"})") == "4");
  BOOST_TEST(value_of(text, R"(app_latency_ms_bucket{route="/a",le="+Inf"})") == "5");
  BOOST_TEST(value_of(text, R"(app_latency_ms_count{route="/a"})") == "5");
  BOOST_TEST(value_of(text, R"(app_latency_ms_sum{route="/a"})") == "556.5");

  // With a runtime, state() shows them too, and they outlive a shutdown.
  test::runtime_fixture runtime;
  auto m = state()["metrics"];
  BOOST_TEST(m["app_requests"]["type"] == "counter");
  BOOST_TEST(m["app_requests"]["tag_keys"] == json::array({"route"}));
  BOOST_TEST(m["app_requests"]["series"].size() == 2u);
  BOOST_TEST(m["app_queue_length"]["series"][0]["value"] == 3.0);
  auto series = m["app_latency_ms"]["series"][0];
  BOOST_TEST(series["tags"]["route"] == "/a");
  BOOST_TEST(series["count"] == 5u);
  BOOST_TEST(series["buckets"] == json::array({2, 1, 1, 1}));
  BOOST_TEST(m["app_latency_ms"]["boundaries"] == json::array({1.0, 10.0, 100.0}));
}

BOOST_AUTO_TEST_CASE(rustyrays_own_metrics_count_tasks_actors_and_the_store) {
  test::runtime_fixture runtime;
  auto ok = task(plus1).remote(1);
  auto bad = task(explode).remote(1);
  BOOST_TEST(ok.get() == 2);
  BOOST_CHECK_THROW(bad.get(), task_error);
  auto big = put(std::vector<char>(1 << 20, 'x'));
  auto text = metrics_text();
  check_exposition(text);
  BOOST_TEST(value_of(text, "rustyray_tasks_submitted_total") == "2");
  BOOST_TEST(value_of(text, "rustyray_tasks_finished_total") == "1");
  BOOST_TEST(value_of(text, "rustyray_tasks_failed_total") == "1");
  BOOST_TEST(value_of(text, R"(rustyray_tasks{state="running"})") == "0");
  BOOST_TEST(value_of(text, R"(rustyray_resources_total{resource="CPU"})") == "2");
  BOOST_TEST(value_of(text, "rustyray_object_store_capacity_bytes")
             == std::to_string(object_store_stats().capacity));
  BOOST_TEST(std::stod(value_of(text, "rustyray_object_store_bytes")) >= double(1 << 20));
  BOOST_TEST(value_of(text, "rustyray_object_store_evictions_total") == "0");
  BOOST_TEST(value_of(text, "rustyray_actors") == "0");
}

BOOST_AUTO_TEST_CASE(label_values_and_help_are_escaped) {
  metrics::gauge g{"app_escape", "a \\ and\na newline", {"path"}};
  g.set(-1.5, {{"path", "C:\\dir \"x\"\nnext"}});
  auto text = metrics_text();
  check_exposition(text);
  BOOST_TEST(text.find("# HELP app_escape a \\\\ and\\na newline\n") != std::string::npos);
  BOOST_TEST(value_of(text, R"(app_escape{path="C:\\dir \"x\"\nnext"})") == "-1.5");
}

BOOST_AUTO_TEST_CASE(bad_names_tags_and_values_are_invalid_argument) {
  auto bad = [](auto f) { return test::code_of(f) == errc::invalid_argument; };
  BOOST_TEST(bad([] { metrics::counter{""}; }));
  BOOST_TEST(bad([] { metrics::counter{"9lives"}; }));
  BOOST_TEST(bad([] { metrics::counter{"has space"}; }));
  BOOST_TEST(bad([] { metrics::counter{"rustyray_mine"}; }));
  BOOST_TEST(bad([] { metrics::counter("app_k", "", {"bad-key"}); }));
  BOOST_TEST(bad([] { metrics::counter("app_k", "", {"__reserved"}); }));
  BOOST_TEST(bad([] { metrics::counter("app_k", "", {"a", "a"}); }));
  BOOST_TEST(bad([] { metrics::histogram("app_h", "", {}); }));
  BOOST_TEST(bad([] { metrics::histogram("app_h", "", {1, 1}); }));
  BOOST_TEST(bad([] { metrics::histogram("app_h", "", {2, 1}); }));
  BOOST_TEST(bad([] { metrics::histogram("app_h", "", {1, INFINITY}); }));
  BOOST_TEST(bad([] { metrics::histogram("app_h", "", {1}, {"le"}); }));

  metrics::counter c{"app_checked", "", {"route"}};
  BOOST_TEST(bad([&] { c.inc(0, {{"route", "/"}}); }));
  BOOST_TEST(bad([&] { c.inc(-1, {{"route", "/"}}); }));
  BOOST_TEST(bad([&] { c.inc(NAN, {{"route", "/"}}); }));
  BOOST_TEST(bad([&] { c.inc(1); }));                                   // missing tag
  BOOST_TEST(bad([&] { c.inc(1, {{"route", "/"}, {"other", "x"}}); })); // unknown tag
  BOOST_TEST(bad([&] { c.inc(1, {{"other", "x"}}); }));
  metrics::gauge g{"app_checked_gauge"};
  BOOST_TEST(bad([&] { g.set(INFINITY); }));
  // The same name with another type or definition.
  BOOST_TEST(bad([] { metrics::gauge{"app_checked"}; }));
  BOOST_TEST(bad([] { metrics::counter("app_checked", "other description", {"route"}); }));
  BOOST_TEST(bad([] { metrics::counter("app_checked", "", {}); }));
  // A refused update changes nothing.
  BOOST_TEST(metrics_text().find("app_checked{") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(updates_from_many_threads_are_all_counted) {
  metrics::counter hits{"app_hits", "", {"thread"}};
  metrics::histogram sizes{"app_sizes", "", {10}};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10000; ++i) {
        hits.inc(1, {{"thread", std::to_string(t % 2)}});
        sizes.observe(i % 20);
      }
    });
  for (auto& t : threads)
    t.join();
  auto text = metrics_text();
  BOOST_TEST(value_of(text, R"(app_hits{thread="0"})") == "20000");
  BOOST_TEST(value_of(text, R"(app_hits{thread="1"})") == "20000");
  BOOST_TEST(value_of(text, "app_sizes_count") == "40000");
  BOOST_TEST(value_of(text, R"(app_sizes_bucket{le="10"})") == "22000");
}
