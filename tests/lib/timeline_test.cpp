#define BOOST_TEST_MODULE lib_timeline
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <unistd.h>
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

/// Works for `ms` (a sleep): the durations the timeline records must cover
/// it, a lower bound that holds however slow the machine is.
int nap(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return ms;
}

/// Submits a nested task and waits for it inside this one.
int parent(int ms) {
  return task(nap).remote(ms).get() + 1;
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

RUSTYRAY_REMOTE(plus1, explode, nap, parent, Tally::create, &Tally::add);

/// Writes the timeline to a temporary file and parses it back.
json write_and_read() {
  char path[] = "/tmp/rustyray_timeline_XXXXXX";
  auto fd = mkstemp(path);
  BOOST_REQUIRE(fd >= 0);
  close(fd);
  timeline(path);
  std::ifstream in{path};
  auto result = json::parse(in);
  std::remove(path);
  return result;
}

/// The complete ("X") events: one per execution.
std::vector<json> executions(const json& trace) {
  std::vector<json> result;
  for (const auto& e : trace["traceEvents"])
    if (e["ph"] == "X")
      result.push_back(e);
  return result;
}

/// The one execution named `name`.
json only(const std::vector<json>& events, const std::string& name) {
  std::vector<json> found;
  for (const auto& e : events)
    if (e["name"] == name)
      found.push_back(e);
  BOOST_REQUIRE_MESSAGE(found.size() == 1u, found.size() << " events named " << name);
  return found[0];
}

double end_of(const json& e) {
  return e["ts"].get<double>() + e["dur"].get<double>();
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(lib_timeline, runtime_fixture)

BOOST_AUTO_TEST_CASE(every_run_is_one_complete_event_with_ids_and_outcome) {
  auto ok = task(plus1).remote(1);
  auto failed = task(explode).remote(1);
  auto tally = actor(Tally::create).remote();
  auto call = tally.task(&Tally::add).remote(ok);
  BOOST_TEST(call.get() == 2);
  BOOST_TEST(!try_get(failed));

  auto trace = write_and_read();
  BOOST_TEST(trace["displayTimeUnit"] == "ms");
  BOOST_TEST(trace["otherData"]["dropped_events"] == 0u);
  auto events = executions(trace);
  BOOST_TEST(events.size() == 3u);
  auto pid = events.at(0)["pid"];
  for (const auto& e : events) {
    BOOST_TEST(e["pid"] == pid); // one node: one process
    BOOST_TEST(e["tid"].is_number_integer());
    BOOST_TEST(e["ts"].get<double>() >= 0.0);
    BOOST_TEST(e["dur"].get<double>() >= 0.0);
  }
  auto e = only(events, "plus1");
  BOOST_TEST(e["cat"] == "task");
  BOOST_TEST(e["args"]["task_id"] == to_string(ok.id()));
  BOOST_TEST(e["args"]["result_id"] == to_string(ok.id()));
  BOOST_TEST(e["args"]["outcome"] == "finished");
  e = only(events, "explode");
  BOOST_TEST(e["args"]["outcome"] == "failed");
  BOOST_TEST(e["args"]["error"].get<std::string>().find("exploded") != std::string::npos);
  e = only(events, "Tally::add");
  BOOST_TEST(e["cat"] == "actor_call");
  BOOST_TEST(e["args"]["result_id"] == to_string(call.id()));
  BOOST_TEST(e["args"]["actor_id"] == to_string(tally.id()));
  BOOST_TEST(e["args"]["outcome"] == "finished");
  // The call ran after the task that produced its argument.
  BOOST_TEST(e["ts"].get<double>() >= end_of(only(events, "plus1")));

  // Every thread with events is named, and the process too.
  std::set<std::int64_t> named;
  bool process_named = false;
  for (const auto& m : trace["traceEvents"]) {
    if (m["ph"] == "M" && m["name"] == "thread_name")
      named.insert(m["tid"].get<std::int64_t>());
    if (m["ph"] == "M" && m["name"] == "process_name")
      process_named = true;
  }
  BOOST_TEST(process_named);
  for (const auto& x : events)
    BOOST_TEST(named.count(x["tid"].get<std::int64_t>()) == 1u);
}

BOOST_AUTO_TEST_CASE(durations_cover_the_work) {
  BOOST_TEST(task(nap).remote(30).get() == 30);
  auto e = only(executions(write_and_read()), "nap");
  BOOST_TEST(e["dur"].get<double>() >= 30000.0); // microseconds
}

BOOST_AUTO_TEST_CASE(a_nested_task_lies_within_its_parent_on_another_worker) {
  BOOST_TEST(task(parent).remote(10).get() == 11);
  auto events = executions(write_and_read());
  auto outer = only(events, "parent");
  auto inner = only(events, "nap");
  BOOST_TEST(inner["ts"].get<double>() >= outer["ts"].get<double>());
  BOOST_TEST(end_of(inner) <= end_of(outer));
  // The parent's thread is blocked in get meanwhile: another worker ran it.
  BOOST_TEST(inner["tid"] != outer["tid"]);
}

BOOST_AUTO_TEST_CASE(retries_show_as_attempts_of_one_run) {
  std::atomic<int> tries{0};
  auto flaky = task([&tries] {
                 if (++tries < 2)
                   throw std::runtime_error("not yet");
                 return 1;
               })
                 .name("flaky")
                 .max_retries(3)
                 .retry_exceptions(true)
                 .remote();
  BOOST_TEST(flaky.get() == 1);
  auto e = only(executions(write_and_read()), "flaky");
  BOOST_TEST(e["args"]["attempts"] == 2);
  BOOST_TEST(e["args"]["outcome"] == "finished");
}

// A thread's lane, reused by the next thread once the first ended, renamed
// the earlier runs: after kill of actor Alpha and start of Beta, Alpha's
// calls showed on a track named for Beta. Actors with a dedicated thread
// that come and go one after the other end and start threads likewise; the
// others share the actor threads, whose tracks name no actor. Either way no
// call may show on a track named for another actor. (recorder_test checks
// the reuse itself.)
BOOST_AUTO_TEST_CASE(named_calls_and_tasks_show_by_their_names) {
  auto tally = actor(Tally::create).remote();
  BOOST_TEST(tally.task(&Tally::add).name("deposit").remote(2).get() == 2);
  BOOST_TEST(tally.task(&Tally::add).remote(3).get() == 5);
  BOOST_TEST(task(plus1).name("increment").remote(1).get() == 2);
  auto events = executions(write_and_read());
  BOOST_TEST(only(events, "deposit")["cat"] == "actor_call");
  BOOST_TEST(only(events, "Tally::add")["cat"] == "actor_call");
  BOOST_TEST(only(events, "increment")["cat"] == "task");
}

BOOST_AUTO_TEST_CASE(each_call_shows_on_a_track_named_for_its_own_actor) {
  for (int i = 0; i < 10; ++i) {
    auto builder = actor(Tally::create).name("tally" + std::to_string(i));
    if (i % 2 == 0)
      builder.dedicated_thread();
    auto tally = builder.remote();
    BOOST_TEST(tally.task(&Tally::add).remote(i).get() == i);
    rustyray::kill(tally);
  }
  auto trace = write_and_read();
  std::map<std::int64_t, std::string> track_names;
  for (const auto& e : trace["traceEvents"])
    if (e["ph"] == "M" && e["name"] == "thread_name")
      track_names[e["tid"].get<std::int64_t>()] = e["args"]["name"].get<std::string>();
  std::size_t calls = 0;
  std::size_t on_own_tracks = 0;
  for (const auto& e : executions(trace)) {
    if (e["cat"] != "actor_call")
      continue;
    ++calls;
    auto track = track_names.at(e["tid"].get<std::int64_t>());
    auto actor_id = e["args"]["actor_id"].get<std::string>();
    bool own = track.find(actor_id) != std::string::npos;
    on_own_tracks += own ? 1 : 0;
    BOOST_TEST((own || track.rfind("actor thread", 0) == 0),
               "call of actor " << actor_id << " on track \"" << track << "\"");
  }
  BOOST_TEST(calls == 10u);
  BOOST_TEST(on_own_tracks == 5u); // the dedicated ones
}

BOOST_AUTO_TEST_CASE(a_bad_path_is_invalid_argument) {
  BOOST_TEST(test::code_of([] { timeline("/nonexistent/dir/timeline.json"); })
             == errc::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(the_ring_keeps_the_most_recent_runs) {
  auto cfg = test::small_config();
  cfg.num_workers = 1; // one thread runs them in submission order
  cfg.timeline_capacity = 100;
  init(cfg);
  {
    std::vector<object_ref<int>> refs;
    for (int i = 0; i < 300; ++i)
      refs.push_back(task(plus1).remote(i));
    BOOST_TEST(get(refs).back() == 300);
    auto trace = write_and_read();
    auto events = executions(trace);
    BOOST_REQUIRE(events.size() == 100u);
    BOOST_TEST(trace["otherData"]["dropped_events"] == 200u);
    for (std::size_t i = 0; i < events.size(); ++i)
      BOOST_TEST(events[i]["args"]["result_id"] == to_string(refs[200 + i].id()));
  }
  test::check_clean_and_shutdown();
}

BOOST_AUTO_TEST_CASE(recording_off_keeps_no_events_but_counts) {
  auto cfg = test::small_config();
  cfg.timeline_capacity = 0;
  init(cfg);
  BOOST_TEST(task(plus1).remote(1).get() == 2);
  BOOST_TEST(executions(write_and_read()).empty());
  BOOST_TEST(state()["counters"]["tasks_finished"] == 1u);
  test::check_clean_and_shutdown();
}
