// Faults of a cluster with real processes on 127.0.0.1: a worker killed
// (kill -9) mid-job, a worker stopped (SIGSTOP) past its heartbeats, the
// head killed. Every wait has a deadline; every process started is killed
// when the test ends.

#include <csignal>
#include <cstdio>
#include <dirent.h>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#define BOOST_TEST_MODULE cluster_faults
#include <boost/test/unit_test.hpp>

#include "cluster_fixture.hpp"
#include "cluster_functions.hpp"

using namespace rustyray;
using namespace std::chrono_literals;
using test::cluster_fixture;
using test::eventually;
using test::own_pid;

namespace {

/// A log file the workers append to, removed with the test.
struct log_file {
  log_file()
    : path("/tmp/rustyray-faults-" + std::to_string(getpid()) + "-" + std::to_string(++count())
           + ".log") {
    std::remove(path.c_str());
  }
  ~log_file() {
    std::remove(path.c_str());
  }
  [[nodiscard]] std::vector<std::string> lines() const {
    std::ifstream in{path};
    std::vector<std::string> result;
    for (std::string line; std::getline(in, line);)
      result.push_back(line);
    return result;
  }
  static int& count() {
    static int n = 0;
    return n;
  }
  std::string path;
};

/// Whether the head (this process) lists node `id` as alive.
bool alive(const std::string& id) {
  for (const auto& n : rustyray::nodes())
    if (n.id == id)
      return n.alive;
  return false;
}

/// Objects in the stores of the live nodes other than this one.
std::uint64_t objects_elsewhere(const std::string& address) {
  std::uint64_t total = 0;
  for (const auto& n : rustyray::nodes(address, "test-token"))
    if (n.alive && !n.local && !n.head)
      total += n.objects;
  return total;
}

/// Processes whose environment holds `marker` ("NAME=value").
std::vector<int> processes_with(const std::string& marker) {
  std::vector<int> found;
  DIR* proc = opendir("/proc");
  if (proc == nullptr)
    return found;
  while (auto* entry = readdir(proc)) {
    int pid = std::atoi(entry->d_name);
    if (pid <= 0 || pid == getpid())
      continue;
    std::ifstream env{"/proc/" + std::string{entry->d_name} + "/environ"};
    std::string text{std::istreambuf_iterator<char>(env), std::istreambuf_iterator<char>()};
    std::string var;
    for (char c : text) {
      if (c != '\0') {
        var += c;
        continue;
      }
      if (var == marker) {
        found.push_back(pid);
        break;
      }
      var.clear();
    }
  }
  closedir(proc);
  return found;
}

} // namespace

BOOST_AUTO_TEST_SUITE(faults)

BOOST_AUTO_TEST_CASE(a_worker_killed_mid_job_ends_every_task_as_a_value_or_node_lost) {
  // Three workers run 1,000 chains of 10 dependent steps (each step takes
  // the previous one's result); the head runs none of them.
  cluster_fixture cluster{3, "", "", R"({"slot": 1})"};
  log_file log;
  constexpr int chains = 1000;
  constexpr int steps = 10;
  std::vector<std::vector<object_ref<std::int64_t>>> all(chains);
  for (int c = 0; c < chains; ++c) {
    // Half of the chains may retry once; the others fail where the node died.
    auto step = task(cluster_test::logged_step).resources({{"slot", 1}}).max_retries(c % 2);
    auto x = rustyray::put(std::int64_t{c});
    object_ref<std::int64_t> prev = x;
    for (int s = 1; s <= steps; ++s) {
      prev = step.remote(log.path, c, s, prev);
      all[c].push_back(prev);
    }
  }
  // Mid-job: a good part has run, much is still queued or running.
  BOOST_REQUIRE(eventually([&] { return log.lines().size() >= chains * steps / 4; }, 60s));
  auto victim = cluster.pid_of(1);
  // A caller of the node that dies: how long until it has its error.
  auto doomed = task(cluster_test::pid_after).node(cluster.workers[1].id).remote(60000);
  auto killed = std::chrono::steady_clock::now();
  cluster.workers[1].process->kill();
  BOOST_TEST(eventually([&] { return !alive(cluster.workers[1].id); }, 10s));
  auto dead_after = std::chrono::steady_clock::now() - killed;
  BOOST_TEST(test::code_of([&] { (void)get(doomed, 10s); }) == errc::node_lost);
  auto failed_after = std::chrono::steady_clock::now() - killed;
  BOOST_TEST_MESSAGE("kill -9: dead for the head after "
                     << std::chrono::duration_cast<std::chrono::milliseconds>(dead_after).count()
                     << " ms, a caller's error after "
                     << std::chrono::duration_cast<std::chrono::milliseconds>(failed_after).count()
                     << " ms");

  int values = 0, lost = 0;
  std::set<std::pair<int, int>> valued;
  for (int c = 0; c < chains; ++c)
    for (int s = 1; s <= steps; ++s) {
      try {
        auto v = get(all[c][s - 1], 60s);
        BOOST_TEST(v == c + s * (s + 1) / 2);
        valued.emplace(c, s);
        ++values;
      } catch (const rustyray::error& e) {
        BOOST_TEST(rustyray::to_string(e.code()) == "node_lost", e.what());
        BOOST_TEST(c % 2 == 0, "a chain with a retry failed: " << e.what());
        ++lost;
      }
    }
  BOOST_TEST(values + lost == chains * steps);
  // The kill landed mid-job: steps running there failed or ran again.
  auto retried = state()["counters"]["tasks_retried"].get<int>();
  BOOST_TEST(lost + retried > 0);
  BOOST_TEST_MESSAGE("values " << values << ", node_lost " << lost << ", retried " << retried);

  // The idempotency log: a step runs to completion at most once on each
  // node, and at most once on the nodes that live — again only when its
  // first run was on the node that died.
  std::map<std::pair<int, int>, std::vector<std::int64_t>> runs;
  for (const auto& line : log.lines()) {
    std::istringstream in{line};
    int c = 0, s = 0;
    std::int64_t pid = 0;
    in >> c >> s >> pid;
    runs[{c, s}].push_back(pid);
  }
  int twice = 0;
  for (const auto& [step, pids] : runs) {
    int on_victim = 0, on_survivors = 0;
    for (auto pid : pids)
      (pid == victim ? on_victim : on_survivors) += 1;
    BOOST_TEST(on_victim <= 1);
    BOOST_TEST(on_survivors <= 1, "step " << step.first << "/" << step.second << " ran "
                                          << on_survivors << " times on the nodes that live");
    twice += on_victim + on_survivors > 1 ? 1 : 0;
  }
  for (const auto& step : valued)
    BOOST_TEST(runs.count(step) == 1u,
               "step " << step.first << "/" << step.second << " has a value but never ran");
  BOOST_TEST_MESSAGE("steps run again after the node died: " << twice);

  all.clear();
  BOOST_TEST(eventually([&] { return objects_elsewhere(cluster.address) == 0; }, 20s),
             "objects left on the workers");
}

BOOST_AUTO_TEST_CASE(a_worker_stopped_past_its_heartbeats_is_dead_and_leaves_when_it_resumes) {
  cluster_fixture cluster{2};
  log_file log;
  // This node is busy: the task goes to a worker, and runs again on the
  // other one once the first is declared dead.
  auto busy = task(cluster_test::pid_after)
                .remote(static_cast<int>(4 * cluster_fixture::heartbeat_timeout.count()));
  auto moved = task(cluster_test::pid_logged_after).max_retries(1).remote(log.path, 3000);
  BOOST_REQUIRE(eventually([&] { return !log.lines().empty(); }, 20s));
  auto stopped_pid = std::stoll(log.lines().front());
  std::size_t index = stopped_pid == cluster.pid_of(0) ? 0 : 1;
  BOOST_REQUIRE(cluster.pid_of(index) == stopped_pid);
  auto id = cluster.workers[index].id;
  auto pinned = task(cluster_test::pid_after).node(id).remote(100);

  auto start = std::chrono::steady_clock::now();
  BOOST_REQUIRE(::kill(stopped_pid, SIGSTOP) == 0);
  BOOST_REQUIRE(eventually([&] { return !alive(id); }, 3 * cluster_fixture::heartbeat_timeout));
  auto detected = std::chrono::steady_clock::now() - start;
  BOOST_TEST_MESSAGE("declared dead after "
                     << std::chrono::duration_cast<std::chrono::milliseconds>(detected).count()
                     << " ms (timeout " << cluster_fixture::heartbeat_timeout.count() << " ms)");

  // Its tasks: run again on the other worker, or node_lost naming it and
  // where it listened.
  try {
    (void)get(pinned, 30s);
    BOOST_FAIL("a task pinned to a dead node returned a value");
  } catch (const rustyray::error& e) {
    BOOST_TEST(rustyray::to_string(e.code()) == "node_lost");
    std::string text = e.what();
    BOOST_TEST(text.find(id) != std::string::npos, text);
    BOOST_TEST(text.find("(at 127.0.0.1:") != std::string::npos, text);
  }
  BOOST_TEST_MESSAGE("a caller's error after "
                     << std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - start)
                          .count()
                     << " ms");
  BOOST_TEST(get(moved, 30s) == cluster.pid_of(1 - index));

  // Resumed, it learns it is dead and leaves; its late result of `moved`
  // changed nothing.
  BOOST_REQUIRE(::kill(stopped_pid, SIGCONT) == 0);
  BOOST_TEST(cluster.workers[index].process->wait(20s) == 0);
  BOOST_TEST(cluster_fixture::errors_text(index).find("declared node " + id + " dead")
               != std::string::npos,
             cluster_fixture::errors_text(index));
  BOOST_TEST(get(moved) == cluster.pid_of(1 - index));
  BOOST_TEST(!alive(id));
  BOOST_TEST(get(busy) == own_pid());
  // The cluster goes on without it.
  BOOST_TEST(get(task(cluster_test::pid_here).node(cluster.workers[1 - index].id).remote())
             == cluster.pid_of(1 - index));
}

namespace {

/// Waits until this node runs no task and has none queued: a task's large
/// result is then kept by the node that made it.
void until_settled() {
  BOOST_REQUIRE(eventually(
    [] {
      auto tasks = state()["tasks"];
      return tasks["running"].get<int>() == 0 && tasks["queued"].get<int>() == 0;
    },
    20s));
}

/// The index of the worker whose process ID is `pid`.
std::size_t index_of(const cluster_fixture& cluster, std::int64_t pid) {
  for (std::size_t i = 0; i < cluster.workers.size(); ++i)
    if (cluster.pid_of(i) == pid)
      return i;
  BOOST_FAIL("no worker has process ID " << pid);
  return 0;
}

/// Larger than a slice: it stays on the node that made it until needed.
constexpr std::int64_t large = std::int64_t{4} << 20;

} // namespace

BOOST_AUTO_TEST_CASE(a_result_whose_only_copy_died_with_its_node_is_made_again) {
  // The workers run it (the slot); this node does not.
  cluster_fixture cluster{2, "", "", R"({"slot": 1})"};
  log_file log;
  auto made = task(cluster_test::logged_bytes)
                .resources({{"slot", 1}})
                .max_retries(1)
                .remote(log.path, large);
  until_settled();
  BOOST_REQUIRE_EQUAL(log.lines().size(), 1u);
  auto first = index_of(cluster, std::stoll(log.lines()[0]));
  // Its only copy is there: the node that made it holds it, this one not.
  BOOST_TEST(rustyray::object_store_stats().bytes_used < static_cast<std::uint64_t>(large));
  cluster.workers[first].process->kill();

  // A task that needs it: the result is made again on the other worker
  // (lineage), and the task gets its bytes whole.
  auto checked = task(cluster_test::pid_if_pattern).remote(made);
  auto pid = get(checked, 30s);
  BOOST_TEST(pid != -1);
  BOOST_TEST(pid != cluster.pid_of(first));
  auto lines = log.lines();
  BOOST_REQUIRE_EQUAL(lines.size(), 2u);
  BOOST_TEST(std::stoll(lines[1]) == cluster.pid_of(1 - first));
  BOOST_TEST(get(made, 30s).size() == static_cast<std::size_t>(large));
}

BOOST_AUTO_TEST_CASE(a_result_that_cannot_be_made_again_is_object_lost_naming_its_node) {
  cluster_fixture cluster{2, "", "", R"({"slot": 1})"};
  log_file log;
  auto made = task(cluster_test::logged_bytes).resources({{"slot", 1}}).remote(log.path, large);
  until_settled();
  BOOST_REQUIRE_EQUAL(log.lines().size(), 1u);
  auto first = index_of(cluster, std::stoll(log.lines()[0]));
  cluster.workers[first].process->kill();
  try {
    (void)get(made, 30s);
    BOOST_FAIL("a get of a lost result returned a value");
  } catch (const rustyray::error& e) {
    BOOST_TEST(rustyray::to_string(e.code()) == "object_lost");
    BOOST_TEST(std::string{e.what()}.find(cluster.workers[first].id) != std::string::npos,
               e.what());
  }
  BOOST_TEST(log.lines().size() == 1u); // not made again
}

BOOST_AUTO_TEST_CASE(an_actor_whose_node_dies_starts_again_on_another_one) {
  using cluster_test::tally;
  cluster_fixture cluster{3, "", "", R"({"slot": 1})"};
  // It holds a slot, which only the workers offer: it runs on one of them.
  auto h = actor(tally::create).resources({{"slot", 1}}).max_restarts(1).remote(5);
  BOOST_TEST(h.task(&tally::add).remote(1).get() == 6);
  auto index_of = [&](std::int64_t pid) {
    for (std::size_t i = 0; i < cluster.workers.size(); ++i)
      if (cluster.pid_of(i) == pid)
        return i;
    return cluster.workers.size();
  };
  auto first = index_of(h.task(&tally::where).remote().get());
  BOOST_REQUIRE(first < cluster.workers.size());
  // Another worker borrows it: it keeps a handle across the restart.
  auto borrower = (first + 1) % cluster.workers.size();
  BOOST_TEST(get(task(cluster_test::keep_tally).node(cluster.workers[borrower].id).remote(h)) == 0);
  BOOST_TEST(get(task(cluster_test::add_to_kept_tally).node(cluster.workers[borrower].id).remote(1))
             == 7);

  auto in_flight = h.task(&tally::add).remote(100);
  cluster.workers[first].process->kill();
  // The call in flight when its node died fails; the calls after reach a
  // new instance (built again by its factory: 5) on another node.
  try {
    BOOST_TEST(get(in_flight, 20s) == 107); // it ended before the kill
  } catch (const rustyray::error& e) {
    BOOST_TEST(rustyray::to_string(e.code()) == "actor_died", e.what());
  }
  std::size_t second = cluster.workers.size();
  BOOST_REQUIRE(eventually(
    [&] {
      try {
        second = index_of(h.task(&tally::where).remote().get(20s));
        return true;
      } catch (const rustyray::error& e) {
        BOOST_TEST(rustyray::to_string(e.code()) == "actor_died", e.what());
        return false;
      }
    },
    30s));
  BOOST_REQUIRE(second < cluster.workers.size());
  BOOST_TEST(second != first);
  BOOST_TEST(h.task(&tally::add).remote(0).get() == 5);
  if (second != borrower) {
    // The borrower's handle follows it there.
    BOOST_TEST(
      get(task(cluster_test::add_to_kept_tally).node(cluster.workers[borrower].id).remote(2), 20s)
      == 7);
    BOOST_TEST(get(task(cluster_test::drop_tally).node(cluster.workers[borrower].id).remote())
               == 0);
  }

  // Its one restart is used: when this node dies too, it stays dead, and
  // says where it ran.
  auto second_id = cluster.workers[second].id;
  cluster.workers[second].process->kill();
  BOOST_REQUIRE(eventually(
    [&] {
      try {
        (void)h.task(&tally::where).remote().get(20s);
        return false;
      } catch (const rustyray::error& e) {
        BOOST_TEST(rustyray::to_string(e.code()) == "actor_died", e.what());
        return std::string{e.what()}.find("does not start again") != std::string::npos;
      }
    },
    30s));
  try {
    (void)h.task(&tally::where).remote().get(20s);
  } catch (const rustyray::error& e) {
    BOOST_TEST(std::string{e.what()}.find(second_id) != std::string::npos, e.what());
    BOOST_TEST(std::string{e.what()}.find("max_restarts") != std::string::npos, e.what());
  }
}

BOOST_AUTO_TEST_CASE(a_detached_actor_outlives_its_creator_and_is_found_again_by_name) {
  using cluster_test::tally;
  cluster_fixture cluster{3, "", "", R"({"slot": 1})"};
  // Worker 0 creates it, and it runs there (worker 0 offers a slot); the
  // head owns it.
  BOOST_REQUIRE_EQUAL(
    get(task(cluster_test::start_detached).node(cluster.workers[0].id).remote("keeper")),
    "started");
  auto h = get_actor<tally>("keeper");
  BOOST_REQUIRE(h);
  BOOST_TEST(h->task(&tally::add).remote(1).get(20s) == 6);
  BOOST_TEST(h->task(&tally::where).remote().get(20s) == cluster.pid_of(0));
  // Its name is taken cluster-wide.
  BOOST_TEST(get(task(cluster_test::start_named).node(cluster.workers[1].id).remote("keeper"))
             == "name_taken");

  // Its creator and node dies: it starts again elsewhere and is found
  // again under its name, from every node.
  cluster.workers[0].process->kill();
  std::int64_t pid = 0;
  BOOST_REQUIRE(eventually(
    [&] {
      try {
        auto found = get_actor<tally>("keeper");
        pid = found ? found->task(&tally::where).remote().get(20s) : 0;
        return pid > 0;
      } catch (const rustyray::error& e) {
        BOOST_TEST(rustyray::to_string(e.code()) == "actor_died", e.what());
        return false;
      }
    },
    30s));
  BOOST_TEST(pid != cluster.pid_of(0));
  BOOST_TEST((pid == cluster.pid_of(1) || pid == cluster.pid_of(2)));
  BOOST_TEST(get_actor<tally>("keeper")->task(&tally::add).remote(0).get(20s) == 5);
  BOOST_TEST(get(task(cluster_test::add_to_named).node(cluster.workers[1].id).remote("keeper", 2))
             == 7);

  // Killed, it ends for good and its name is free again.
  rustyray::kill(*get_actor<tally>("keeper"));
  BOOST_TEST(eventually([] { return !get_actor<tally>("keeper"); }, 20s));
  h.reset();
}

BOOST_AUTO_TEST_CASE(a_dead_borrower_keeps_nothing_alive) {
  cluster_fixture cluster{2};
  {
    auto ref = rustyray::put(42);
    // Worker 0 keeps a ref after its task returned: it borrows the object.
    BOOST_TEST(get(task(cluster_test::keep).node(cluster.workers[0].id).remote(ref)) == 0);
  }
  // This node's own ref is gone; the borrow keeps the object (past the
  // second an owner waits after a release).
  std::this_thread::sleep_for(1500ms);
  BOOST_TEST(test::tracked_objects() == 1u);
  cluster.workers[0].process->kill();
  BOOST_TEST(eventually([] { return test::tracked_objects() == 0u; }, 10s));
}

BOOST_AUTO_TEST_CASE(the_head_killed_every_process_ends_within_its_grace) {
  // A head, two workers (as `rustyray worker` starts them) and a driver,
  // each a process of its own, marked to be found in the process table.
  std::string marker = "RR_TEST_MARK=faults-" + std::to_string(getpid());
  std::vector<std::string> env{marker, "RUSTYRAY_CLUSTER_TOKEN=test-token",
                               "RUSTYRAY_NUM_WORKERS=1", "RUSTYRAY_HEAD_GRACE=2s"};
  auto with = [&](std::vector<std::string> more) {
    more.insert(more.end(), env.begin(), env.end());
    return more;
  };
  test::node_process head{RUSTYRAY_TEST_NODE, with({"RUSTYRAY_IS_HEAD=true"})};
  auto line = head.read_line();
  BOOST_REQUIRE_MESSAGE(line.rfind("head ", 0) == 0, line);
  auto address = line.substr(5);
  std::vector<std::unique_ptr<test::node_process>> workers;
  std::vector<std::string> errors;
  for (int i = 0; i < 2; ++i) {
    errors.push_back("/tmp/rustyray-faults-" + std::to_string(getpid()) + "-head-worker-"
                     + std::to_string(i) + ".err");
    workers.push_back(std::make_unique<test::node_process>(
      RUSTYRAY_TEST_NODE, with({"RUSTYRAY_ADDRESS=" + address, "RUSTYRAY_WORKER=true"}),
      std::vector<std::string>{}, errors.back()));
  }
  // The first worker's task ends within the grace, the second's does not.
  errors.push_back("/tmp/rustyray-faults-" + std::to_string(getpid()) + "-head-driver.err");
  test::node_process driver{RUSTYRAY_TEST_NODE,
                            with({"RUSTYRAY_ADDRESS=" + address, "RR_TEST_DRIVER=1000"}),
                            {},
                            errors.back()};
  BOOST_REQUIRE_EQUAL(driver.read_line(), "submitted");

  head.kill();
  auto killed = std::chrono::steady_clock::now();
  // The driver's next cluster operation fails at once.
  BOOST_TEST(driver.read_line(5s) == "nodes node_lost");
  // The first task finished within the grace; the second's worker ended.
  BOOST_TEST(driver.read_line(10s) == "task value");
  BOOST_TEST(driver.read_line(10s) == "task node_lost");
  // Grace (2 s) + 5 s for every process.
  auto deadline = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
      killed + 7s - std::chrono::steady_clock::now());
  };
  BOOST_TEST(driver.wait(deadline()) == 0);
  for (std::size_t i = 0; i < workers.size(); ++i) {
    BOOST_TEST(workers[i]->wait(deadline()) == 0, "worker " << i);
    std::ifstream in{errors[i]};
    std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    BOOST_TEST(text.find("this worker ends: the cluster's head at " + address + " is gone")
                 != std::string::npos,
               text);
    std::remove(errors[i].c_str());
  }
  std::ifstream said{errors.back()};
  std::string driver_said{std::istreambuf_iterator<char>(said), std::istreambuf_iterator<char>()};
  BOOST_TEST_MESSAGE("the driver said:\n" << driver_said);
  std::remove(errors.back().c_str());
  auto ended = std::chrono::steady_clock::now() - killed;
  BOOST_TEST_MESSAGE("every process ended "
                     << std::chrono::duration_cast<std::chrono::milliseconds>(ended).count()
                     << " ms after the head was killed (grace 2000 ms)");
  BOOST_TEST(processes_with(marker).empty());
}

BOOST_AUTO_TEST_SUITE_END()
