#define BOOST_TEST_MODULE lib_state
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <future>
#include <stdexcept>
#include <string>
#include <vector>

#include "runtime_fixture.hpp"

using namespace rustyray;
using namespace std::chrono_literals;
using nlohmann::json;
using test::runtime_fixture;

namespace {

int plus1(int x) {
  return x + 1;
}

int explode(int) {
  throw std::runtime_error("exploded");
}

class Tally {
public:
  static Tally create() {
    return {};
  }
  int add(int x) {
    return total_ += x;
  }

private:
  int total_ = 0;
};

RUSTYRAY_REMOTE(plus1, Tally::create, &Tally::add);

/// Whether `j[key]` exists and has the JSON type `check` accepts.
template <class Check>
void require_key(const json& j, const char* key, Check check) {
  BOOST_TEST_CONTEXT("key " << key << " in " << j.dump()) {
    BOOST_REQUIRE(j.contains(key));
    BOOST_TEST(check(j[key]));
  }
}

bool is_count(const json& j) {
  return j.is_number_unsigned();
}

/// A gate that tasks wait at, so a test decides when they finish.
struct gate {
  std::promise<void> opened;
  std::shared_future<void> open_future = opened.get_future().share();
  /// One promise per task that reached the gate.
  std::vector<std::promise<void>> arrivals{8};
  std::atomic<std::size_t> arrived{0};

  auto blocker() {
    return [this] {
      arrivals[arrived++].set_value();
      open_future.wait();
      return 1;
    };
  }

  void await_arrivals(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
      arrivals[i].get_future().wait();
  }
};

std::uint64_t counter(const char* name) {
  return state()["counters"][name].get<std::uint64_t>();
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(lib_state, runtime_fixture)

BOOST_AUTO_TEST_CASE(the_snapshot_has_every_documented_section_and_key) {
  auto s = state();
  require_key(s, "node", [](const json& j) { return j.is_object(); });
  require_key(s["node"], "id", [](const json& j) { return j.is_string(); });
  require_key(s["node"], "uptime_seconds", [](const json& j) { return j.is_number(); });
  require_key(s["node"], "resources", [](const json& j) { return j.is_object(); });
  require_key(s["node"]["resources"], "total", [](const json& j) { return j.is_object(); });
  require_key(s["node"]["resources"], "available", [](const json& j) { return j.is_object(); });
  BOOST_TEST(s["node"]["resources"]["total"]["CPU"] == 2.0); // small_config: 2 workers
  for (auto key : {"limit", "started", "busy", "blocked_in_get", "idle", "timed_out"})
    require_key(s["node"]["workers"], key, is_count);
  BOOST_TEST(s["node"]["workers"]["limit"] == 2);

  for (auto key : {"waiting_for_arguments", "queued", "running", "finished", "failed", "cancelled"})
    require_key(s["tasks"], key, is_count);
  require_key(s["tasks"], "oldest_waiting", [](const json& j) { return j.is_array(); });

  require_key(s, "actors", [](const json& j) { return j.is_array(); });

  for (auto key : {"objects", "bytes_used", "capacity", "pinned", "pinned_bytes", "puts", "gets",
                   "hits", "misses", "evictions"})
    require_key(s["object_store"], key, is_count);
  require_key(s["object_store"], "largest", [](const json& j) { return j.is_array(); });
  BOOST_TEST(s["object_store"]["capacity"] == 64u << 20);

  for (auto key : {"tasks_submitted", "tasks_finished", "tasks_failed", "tasks_retried",
                   "tasks_cancelled", "actor_calls", "actor_calls_failed"})
    require_key(s["counters"], key, is_count);

  require_key(s, "config", [](const json& j) { return j.is_object(); });
  BOOST_TEST(s["config"]["num_workers"] == 2);
  BOOST_TEST(s["config"]["object_store_capacity"] == 64u << 20);
}

BOOST_AUTO_TEST_CASE(counters_count_submitted_finished_failed_retried_and_cancelled_tasks) {
  BOOST_TEST(counter("tasks_submitted") == 0u);
  BOOST_TEST(task(plus1).remote(1).get() == 2);
  BOOST_TEST(!try_get(task(explode).remote(1)));
  std::atomic<int> tries{0};
  auto flaky = task([&tries] {
                 if (++tries < 3)
                   throw std::runtime_error("not yet");
                 return tries.load();
               })
                 .max_retries(5)
                 .retry_exceptions(true)
                 .remote();
  BOOST_TEST(flaky.get() == 3);
  gate g;
  auto blocker = task(g.blocker()).remote();
  auto doomed = task(plus1).remote(blocker);
  BOOST_TEST(cancel(doomed));
  g.opened.set_value();
  BOOST_TEST(blocker.get() == 1);

  auto c = state()["counters"];
  BOOST_TEST(c["tasks_submitted"] == 5u);
  BOOST_TEST(c["tasks_finished"] == 3u); // plus1, flaky, blocker
  BOOST_TEST(c["tasks_failed"] == 1u);   // explode
  BOOST_TEST(c["tasks_retried"] == 2u);  // flaky's two extra attempts
  BOOST_TEST(c["tasks_cancelled"] == 1u);
  auto t = state()["tasks"];
  BOOST_TEST(t["finished"] == 3u);
  BOOST_TEST(t["failed"] == 1u);
  BOOST_TEST(t["cancelled"] == 1u);
}

BOOST_AUTO_TEST_CASE(tasks_by_state_workers_and_resources_follow_the_work) {
  gate g;
  // Both workers (and both CPUs) held, one task queued behind them, one
  // waiting for an argument that a held task will produce.
  auto first = task(g.blocker()).name("first").remote();
  auto second = task(g.blocker()).name("second").remote();
  g.await_arrivals(2);
  auto queued = task(plus1).name("queued").remote(1);
  auto waiting = task(plus1).name("waiting").remote(first);

  auto s = state();
  BOOST_TEST(s["tasks"]["running"] == 2u);
  BOOST_TEST(s["tasks"]["queued"] == 1u);
  BOOST_TEST(s["tasks"]["waiting_for_arguments"] == 1u);
  BOOST_TEST(s["node"]["workers"]["busy"] == 2u);
  BOOST_TEST(s["node"]["workers"]["idle"] == 0u);
  BOOST_TEST(s["node"]["resources"]["available"]["CPU"] == 0.0);
  auto oldest = s["tasks"]["oldest_waiting"];
  BOOST_REQUIRE(oldest.size() == 1u);
  BOOST_TEST(oldest[0]["name"] == "waiting");
  BOOST_TEST(oldest[0]["task_id"] == to_string(waiting.id()));
  BOOST_REQUIRE(oldest[0]["waiting_for"].size() == 1u);
  BOOST_TEST(oldest[0]["waiting_for"][0]["object"] == to_string(first.id()));
  BOOST_TEST(oldest[0]["waiting_for"][0]["producer"] == "task first (running)");

  g.opened.set_value();
  BOOST_TEST(waiting.get() == 2);
  BOOST_TEST(queued.get() == 2);
  BOOST_TEST(second.get() == 1);
  s = state();
  BOOST_TEST(s["tasks"]["running"] == 0u);
  BOOST_TEST(s["tasks"]["queued"] == 0u);
  BOOST_TEST(s["tasks"]["waiting_for_arguments"] == 0u);
  BOOST_TEST(s["tasks"]["oldest_waiting"].empty());
  BOOST_TEST(s["tasks"]["finished"] == 4u);
}

BOOST_AUTO_TEST_CASE(the_store_section_counts_objects_and_lists_the_largest) {
  auto before = state()["object_store"];
  auto small = put(std::string(100, 'x'));
  auto large = put(std::vector<char>(1 << 20));
  pin(large);
  (void)get(small);
  auto s = state()["object_store"];
  BOOST_TEST(s["objects"] == before["objects"].get<std::uint64_t>() + 2);
  BOOST_TEST(s["bytes_used"] == before["bytes_used"].get<std::uint64_t>() + 100 + (1 << 20));
  BOOST_TEST(s["pinned"] == 1u);
  BOOST_TEST(s["hits"] == before["hits"].get<std::uint64_t>() + 1);
  BOOST_REQUIRE(s["largest"].size() == 2u);
  BOOST_TEST(s["largest"][0]["object"] == to_string(large.id()));
  BOOST_TEST(s["largest"][0]["bytes"] == 1u << 20);
  BOOST_TEST(s["largest"][1]["object"] == to_string(small.id()));
  unpin(large);
}

BOOST_AUTO_TEST_CASE(actors_show_class_name_state_restarts_and_queued_calls) {
  gate g;
  auto tally = actor(Tally::create).name("tally").max_restarts(1).remote();
  auto held = task(g.blocker()).remote();
  g.await_arrivals(1);
  auto pending_call = tally.task(&Tally::add).remote(held); // waits for its argument
  auto actors = state()["actors"];
  BOOST_REQUIRE(actors.size() == 1u);
  BOOST_TEST(actors[0]["id"] == to_string(tally.id()));
  BOOST_TEST(actors[0]["class"].get<std::string>().find("Tally") != std::string::npos);
  BOOST_TEST(actors[0]["name"] == "tally");
  BOOST_TEST(actors[0]["restarts"] == 0);
  BOOST_TEST(actors[0]["queued_calls"] == 1u);
  g.opened.set_value();
  BOOST_TEST(pending_call.get() == 1);
  BOOST_TEST(tally.task(&Tally::add).remote(2).get() == 3);
  BOOST_TEST(counter("actor_calls") == 2u);
  actors = state()["actors"];
  BOOST_TEST(actors[0]["state"] == "alive");
  BOOST_TEST(actors[0]["queued_calls"] == 0u);

  kill(tally, false);                                       // restarts
  BOOST_TEST(tally.task(&Tally::add).remote(5).get() == 5); // a fresh instance
  actors = state()["actors"];
  BOOST_TEST(actors[0]["restarts"] == 1);
  BOOST_TEST(actors[0]["state"] == "alive");
  kill(tally);
  BOOST_TEST(test::code_of([&] { tally.task(&Tally::add).remote(1).get(); }) == errc::actor_died);
  // The host lingers until its last handle is gone; while it does it says dead.
  actors = state()["actors"];
  BOOST_TEST((actors.empty() || actors[0]["state"] == "dead"));
  BOOST_TEST(counter("actor_calls_failed") == 0u); // calls refused, not run
}

// started exceeded limit without a word on why.
BOOST_AUTO_TEST_CASE(workers_started_beyond_the_limit_say_why) {
  auto gate = test::make_pending<int>();
  // Both workers (the limit is 2) wait in get: the third task runs only on a
  // worker started in their place.
  auto first = task([gate] { return gate.get(); }).remote();
  auto second = task([gate] { return gate.get(); }).remote();
  auto third = task([] { return state()["node"]["workers"].dump(); }).remote();
  auto workers = json::parse(third.get(30s));
  BOOST_TEST(workers["started"].get<int>() > workers["limit"].get<int>(), workers.dump());
  BOOST_TEST(workers["over_limit_because"].get<std::string>().find("blocked in get")
               != std::string::npos,
             workers.dump());
  BOOST_REQUIRE(!test::fulfil(gate, 1));
  BOOST_TEST(first.get() + second.get() == 2);
}

BOOST_AUTO_TEST_CASE(state_works_inside_a_task) {
  auto running = task([] { return state()["tasks"]["running"].get<std::size_t>(); }).remote();
  BOOST_TEST(running.get() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

// state() read the workers through a request to the scheduler actor: inside
// an event-based actor holding the only CAF thread, it waited 5 s and then
// returned the section with an error.
BOOST_AUTO_TEST_CASE(state_inside_an_event_based_actor_needs_no_free_caf_thread) {
  caf::actor_system_config cfg;
  configure(cfg);
  cfg.set("scheduler.max-threads", 1);
  caf::actor_system sys{cfg};
  init(sys, test::small_config());
  {
    auto reader = sys.spawn(
      []() -> caf::behavior { return {[](int) { return state()["node"]["workers"].dump(); }}; });
    caf::scoped_actor self{sys};
    std::string workers;
    self->request(reader, 30s, 0)
      .receive([&](std::string& text) { workers = std::move(text); },
               [&](caf::error& err) { BOOST_FAIL(describe(err)); });
    auto parsed = json::parse(workers);
    BOOST_TEST(!parsed.contains("error"), workers);
    BOOST_TEST(parsed.contains("started"), workers);
  }
  shutdown();
}
