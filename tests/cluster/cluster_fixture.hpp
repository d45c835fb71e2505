#pragma once

// A cluster on 127.0.0.1 for one test: this process is the head (and the
// driver), worker processes join it; every process is killed when the test
// ends, and every wait has a deadline.

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "node_process.hpp"
#include "runtime_fixture.hpp"

namespace rustyray::test {

using namespace std::chrono_literals;

struct worker {
  std::unique_ptr<test::node_process> process;
  std::string id;
};

/// This process is the head (and the driver) with one CPU; `n` worker
/// processes join it, each with one CPU, the first also with `resources`,
/// each with `every_worker` (resources as JSON); with `tls` (a `config.tls`
/// as JSON), every process talks TLS with those files. Each worker's
/// standard error goes to the file `errors_of(i)`.
struct cluster_fixture {
  /// The head's: short, for the tests that stop a process. ThreadSanitizer
  /// slows a large transfer enough to delay a node's heartbeats past 2 s.
#if defined(__SANITIZE_THREAD__)
  static constexpr std::chrono::milliseconds heartbeat_timeout{8000};
#else
  static constexpr std::chrono::milliseconds heartbeat_timeout{2000};
#endif

  explicit cluster_fixture(int n = 2, const std::string& resources = "",
                           const std::string& tls = "", const std::string& every_worker = "") {
    auto cfg = test::small_config();
    if (!tls.empty())
      cfg.tls = config::from_json({{"tls", nlohmann::json::parse(tls)}}).tls;
    cfg.num_workers = 1;
    cfg.object_store_capacity = std::uint64_t{512} << 20; // a copy of 256 MiB
    cfg.is_head = true;
    cfg.cluster_token = "test-token";
    cfg.heartbeat_timeout = heartbeat_timeout;
    rustyray::init(cfg);
    for (const auto& node : rustyray::nodes())
      if (node.head)
        address = node.address;
    common_env = {"RUSTYRAY_ADDRESS=" + address, "RUSTYRAY_CLUSTER_TOKEN=test-token",
                  "RUSTYRAY_NUM_WORKERS=1"};
    if (!tls.empty())
      common_env.push_back("RUSTYRAY_TLS=" + tls);
    worker_resources = every_worker;
    for (int i = 0; i < n; ++i) {
      auto env = common_env;
      if (i == 0 && !resources.empty())
        env.push_back("RUSTYRAY_RESOURCES=" + resources);
      else if (!every_worker.empty())
        env.push_back("RUSTYRAY_RESOURCES=" + every_worker);
      workers.push_back(start_worker(env, static_cast<std::size_t>(i)));
    }
  }

  /// Kills worker `i` (kill -9) and starts another one in its place, with
  /// `every_worker`'s resources.
  void replace(std::size_t i) {
    workers.at(i).process->kill();
    auto env = common_env;
    if (!worker_resources.empty())
      env.push_back("RUSTYRAY_RESOURCES=" + worker_resources);
    workers.at(i) = start_worker(env, i);
  }

  ~cluster_fixture() {
    // Borrowers' releases travel in messages, and the owner keeps a
    // released object a moment longer: wait for them before the check.
    auto until = std::chrono::steady_clock::now() + 10s;
    while (test::tracked_objects() != 0 && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(20ms);
    test::check_clean_and_shutdown();
    // What the workers said stays in the test's log.
    for (std::size_t i = 0; i < workers.size(); ++i) {
      workers[i].process->kill();
      auto text = errors_text(i);
      if (!text.empty())
        std::cerr << "[worker " << i << "]\n" << text;
      std::remove(errors_of(i).c_str());
    }
  }

  /// Where worker `i` writes its standard error.
  [[nodiscard]] static std::string errors_of(std::size_t i) {
    return "/tmp/rustyray-test-" + std::to_string(getpid()) + "-worker-" + std::to_string(i)
           + ".err";
  }

  /// What worker `i` wrote to its standard error so far.
  [[nodiscard]] static std::string errors_text(std::size_t i) {
    std::ifstream in{errors_of(i)};
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  [[nodiscard]] std::int64_t pid_of(std::size_t i) const {
    return workers.at(i).process->pid();
  }

  std::vector<worker> workers;
  /// Where the head (this process) listens.
  std::string address;

private:
  /// A worker process with `env`, once it joined.
  worker start_worker(const std::vector<std::string>& env, std::size_t i) {
    worker w;
    w.process = std::make_unique<test::node_process>(RUSTYRAY_TEST_NODE, env,
                                                     std::vector<std::string>{}, errors_of(i));
    auto line = w.process->read_line();
    if (line.rfind("joined ", 0) != 0) {
      // The destructor will not run: the next test needs the runtime gone.
      rustyray::shutdown();
      BOOST_FAIL("node " << i << " said: " << line);
    }
    w.id = line.substr(7);
    return w;
  }

  std::vector<std::string> common_env;
  std::string worker_resources;
};

/// Polls `done` until it holds or `limit` passes: what travels between
/// nodes arrives in messages.
template <class F>
bool eventually(F done, std::chrono::milliseconds limit = 10s) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until)
      return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

inline std::int64_t own_pid() {
  return static_cast<std::int64_t>(getpid());
}

} // namespace rustyray::test
