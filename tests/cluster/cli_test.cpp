#define BOOST_TEST_MODULE cluster_cli
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "node_process.hpp"

using namespace rustyray;

namespace {

/// A state directory of its own; any head left running is killed at the end.
struct cli_fixture {
  cli_fixture() {
    char dir[] = "/tmp/rustyray_cli_XXXXXX";
    BOOST_REQUIRE(mkdtemp(dir) != nullptr);
    state_dir = dir;
  }
  ~cli_fixture() {
    std::ifstream in{state_dir + "/head.json"};
    auto state = nlohmann::json::parse(in, nullptr, false);
    if (!state.is_discarded() && state.is_object() && state.value("pid", 0) > 0)
      ::kill(state.value("pid", 0), SIGKILL);
    std::remove((state_dir + "/head.json").c_str());
    rmdir(state_dir.c_str());
  }

  /// Runs `rustyray args...`; its output, and its exit code in `code`.
  std::string run(std::vector<std::string> args, int& code, std::vector<std::string> env = {}) {
    env.push_back("RUSTYRAY_STATE_DIR=" + state_dir);
    test::node_process cli{RUSTYRAY_TEST_CLI, env, std::move(args)};
    std::string out;
    for (auto line = cli.read_line(); !line.empty(); line = cli.read_line())
      out += line + "\n";
    code = cli.wait();
    return out;
  }

  std::string state_dir;
};

} // namespace

BOOST_FIXTURE_TEST_CASE(start_status_join_and_stop_a_head, cli_fixture) {
  int code = -1;
  // The head runs no program: resources belong to workers.
  auto refused = run({"start", "--head", "--resources", R"({"GPU": 1})"}, code);
  BOOST_TEST(code == 2);
  auto started = run({"start", "--head"}, code);
  BOOST_REQUIRE_MESSAGE(code == 0, started);
  BOOST_TEST(started.find("RustyRay head started at 127.0.0.1:") != std::string::npos);
  auto pos = started.find("RUSTYRAY_ADDRESS=");
  BOOST_REQUIRE(pos != std::string::npos);
  auto address = started.substr(pos + 17, started.find(' ', pos) - pos - 17);
  auto tpos = started.find("RUSTYRAY_CLUSTER_TOKEN=");
  auto token = started.substr(tpos + 23, started.find(' ', tpos) - tpos - 23);
  BOOST_TEST(token.size() == 32u);

  // A second start is refused while the head runs.
  run({"start", "--head"}, code);
  BOOST_TEST(code == 1);

  auto status = nlohmann::json::parse(run({"status", "--json"}, code));
  BOOST_TEST(code == 0);
  BOOST_TEST(status["address"] == address);
  BOOST_REQUIRE(status["nodes"].size() == 1u);
  BOOST_TEST(status["nodes"][0]["head"] == true);
  BOOST_TEST(status["nodes"][0]["resources"]["total"].empty());

  // A program joins the head the command started (which registers no
  // functions: it takes the program's).
  test::node_process node{RUSTYRAY_TEST_NODE,
                          {"RUSTYRAY_ADDRESS=" + address, "RUSTYRAY_CLUSTER_TOKEN=" + token}};
  auto joined = node.read_line();
  BOOST_REQUIRE_MESSAGE(joined.rfind("joined ", 0) == 0, joined);
  status = nlohmann::json::parse(run({"status", "--json"}, code));
  BOOST_TEST(status["nodes"].size() == 2u);
  auto table = run({"status"}, code);
  BOOST_TEST(table.find(joined.substr(7)) != std::string::npos, table);
  // Each node's store, tasks and actors, as the node reported them.
  BOOST_TEST(table.find("TASKS run/queue/wait") != std::string::npos, table);
  for (const auto& n : status["nodes"]) {
    BOOST_TEST(n.contains("objects"));
    BOOST_TEST(n["tasks"].is_object());
    BOOST_TEST(n["actors"].is_object());
  }

  // `rustyray worker` runs a program as a worker of the head `start` started
  // (its init joins and serves: nothing after it runs), with resources.
  std::vector<std::string> worker_env{"RUSTYRAY_STATE_DIR=" + state_dir};
  test::node_process worker{RUSTYRAY_TEST_CLI,
                            worker_env,
                            {"worker", "--resources", R"({"GPU": 1})", "--", RUSTYRAY_TEST_NODE}};
  bool gpu_joined = false;
  for (int i = 0; i < 500 && !gpu_joined; ++i) {
    status = nlohmann::json::parse(run({"status", "--json"}, code));
    for (const auto& n : status["nodes"])
      gpu_joined = gpu_joined || n["resources"]["total"].value("GPU", 0.0) == 1.0;
    if (!gpu_joined)
      usleep(20000);
  }
  BOOST_TEST(gpu_joined);
  BOOST_TEST(worker.read_line(std::chrono::milliseconds(200)).empty()); // main's code never ran

  // The token is required to look, too.
  run({"status", "--token", "wrong"}, code);
  BOOST_TEST(code == 1);

  auto stopped = run({"stop"}, code);
  BOOST_TEST(code == 0, stopped);
  BOOST_TEST(stopped.find("stopped the head at " + address) != std::string::npos);
  // The nodes' head is gone: they end on their own.
  BOOST_TEST(node.wait() == 0);
  BOOST_TEST(worker.wait() == 0);
  run({"stop"}, code);
  BOOST_TEST(code == 1); // nothing to stop
  run({"status"}, code);
  BOOST_TEST(code == 1); // no cluster
}
