// The `rustyray` command: starts and stops a cluster's head, and shows a
// cluster's nodes.
//
//   rustyray start --head [--host H] [--port P] [--resources JSON] [--token T]
//   rustyray stop
//   rustyray status [--address HOST:PORT] [--token T] [--json]
//
// `start` keeps what `stop` and `status` need (the head's process ID,
// address and token) in $RUSTYRAY_STATE_DIR, else $XDG_RUNTIME_DIR/rustyray,
// else /tmp/rustyray-<uid>, readable by the user only.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "rustyray/rustyray.hpp"

namespace {

int usage() {
  std::cerr << "usage: rustyray start --head [--host H] [--port P] [--resources JSON] [--token T]\n"
               "       rustyray stop\n"
               "       rustyray status [--address HOST:PORT] [--token T] [--json]\n";
  return 2;
}

std::string state_dir() {
  if (const char* dir = std::getenv("RUSTYRAY_STATE_DIR"); dir != nullptr && *dir != '\0')
    return dir;
  if (const char* run = std::getenv("XDG_RUNTIME_DIR"); run != nullptr && *run != '\0')
    return std::string{run} + "/rustyray";
  return "/tmp/rustyray-" + std::to_string(getuid());
}

std::string state_file() {
  return state_dir() + "/head.json";
}

/// 32 hex digits from the kernel's random source.
std::string new_token() {
  std::random_device rd;
  std::string token;
  for (int i = 0; i < 4; ++i) {
    char part[9];
    std::snprintf(part, sizeof(part), "%08x", static_cast<unsigned>(rd()));
    token += part;
  }
  return token;
}

/// The value after `--name`, or `fallback`.
std::string option(const std::vector<std::string>& args, const std::string& name,
                   const std::string& fallback = {}) {
  for (std::size_t i = 0; i + 1 < args.size(); ++i)
    if (args[i] == name)
      return args[i + 1];
  return fallback;
}

bool flag(const std::vector<std::string>& args, const std::string& name) {
  for (const auto& a : args)
    if (a == name)
      return true;
  return false;
}

/// What `start` wrote (pid, address, token), or an empty object.
nlohmann::json read_state() {
  std::ifstream in{state_file()};
  auto state = in ? nlohmann::json::parse(in, nullptr, false) : nlohmann::json{};
  return state.is_object() ? state : nlohmann::json::object();
}

/// The head process: runs until SIGTERM or SIGINT, then shuts down.
[[noreturn]] void run_head(rustyray::config cfg, int report) {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  // Blocked before init: every thread the runtime starts inherits the mask,
  // so the signal waits for sigwait below.
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::string address;
  try {
    rustyray::init(cfg);
    for (const auto& n : rustyray::nodes())
      if (n.head)
        address = n.address;
  } catch (const std::exception& e) {
    auto line = std::string{"error "} + e.what() + "\n";
    (void)!write(report, line.data(), line.size());
    std::_Exit(1);
  }
  {
    mkdir(state_dir().c_str(), 0700);
    auto tmp = state_file() + ".tmp";
    int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    auto text =
      nlohmann::json{{"pid", getpid()}, {"address", address}, {"token", cfg.cluster_token}}.dump();
    (void)!write(fd, text.data(), text.size());
    close(fd);
    rename(tmp.c_str(), state_file().c_str());
  }
  auto line = "ok " + address + "\n";
  (void)!write(report, line.data(), line.size());
  close(report);
  int sig = 0;
  sigwait(&stop_signals, &sig);
  rustyray::shutdown();
  unlink(state_file().c_str());
  std::_Exit(0);
}

int start(const std::vector<std::string>& args) {
  if (!flag(args, "--head"))
    return usage();
  if (auto state = read_state(); state.value("pid", 0) > 0 && kill(state.value("pid", 0), 0) == 0) {
    std::cerr << "rustyray: a head runs already at " << state.value("address", "?") << " (pid "
              << state.value("pid", 0) << "); rustyray stop ends it\n";
    return 1;
  }
  rustyray::config cfg;
  try {
    cfg = rustyray::config::from_env();
    cfg.is_head = true;
    cfg.head_address.clear();
    cfg.listen = option(args, "--host", "127.0.0.1") + ":" + option(args, "--port", "0");
    if (auto resources = option(args, "--resources"); !resources.empty())
      cfg.resources =
        rustyray::config::from_json({{"resources", nlohmann::json::parse(resources)}}).resources;
    cfg.cluster_token = option(args, "--token", cfg.cluster_token);
    if (cfg.cluster_token.empty())
      cfg.cluster_token = new_token();
    cfg.validate();
  } catch (const std::exception& e) {
    std::cerr << "rustyray start: " << e.what() << "\n";
    return 2;
  }
  int report[2];
  if (pipe(report) != 0)
    return 1;
  std::cout.flush();
  pid_t pid = fork(); // no thread runs yet: the child may do anything
  if (pid < 0)
    return 1;
  if (pid == 0) {
    close(report[0]);
    setsid();
    int null = open("/dev/null", O_RDWR);
    dup2(null, STDIN_FILENO);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    run_head(cfg, report[1]);
  }
  close(report[1]);
  std::string line;
  char c = 0;
  pollfd p{report[0], POLLIN, 0};
  while (poll(&p, 1, 30000) > 0 && read(report[0], &c, 1) == 1 && c != '\n')
    line += c;
  close(report[0]);
  if (line.rfind("ok ", 0) != 0) {
    std::cerr << "rustyray start: the head did not start"
              << (line.empty() ? std::string{" within 30 s"} : ": " + line.substr(6)) << "\n";
    kill(pid, SIGKILL);
    return 1;
  }
  auto address = line.substr(3);
  std::cout << "RustyRay head started at " << address << " (pid " << pid << ")\n"
            << "join it:  RUSTYRAY_ADDRESS=" << address
            << " RUSTYRAY_CLUSTER_TOKEN=" << cfg.cluster_token << " ./your_program\n"
            << "see it:   rustyray status\n"
            << "stop it:  rustyray stop\n";
  return 0;
}

int stop() {
  auto state = read_state();
  auto pid = state.value("pid", 0);
  if (pid <= 0 || kill(pid, 0) != 0) {
    std::cerr << "rustyray stop: no head started by rustyray start runs (" << state_file() << ")\n";
    unlink(state_file().c_str());
    return 1;
  }
  kill(pid, SIGTERM);
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  // The head is no child of this process: polling is the only wait.
  while (kill(pid, 0) == 0 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (kill(pid, 0) == 0) {
    kill(pid, SIGKILL);
    std::cerr << "rustyray stop: the head did not end within 30 s and was killed\n";
  }
  unlink(state_file().c_str());
  std::cout << "stopped the head at " << state.value("address", "?") << " (pid " << pid << ")\n";
  return 0;
}

int status(const std::vector<std::string>& args) {
  auto state = read_state();
  const char* env_address = std::getenv("RUSTYRAY_ADDRESS");
  const char* env_token = std::getenv("RUSTYRAY_CLUSTER_TOKEN");
  auto address =
    option(args, "--address", env_address != nullptr ? env_address : state.value("address", ""));
  auto token = option(args, "--token", env_token != nullptr ? env_token : state.value("token", ""));
  if (address.empty()) {
    std::cerr << "rustyray status: no cluster: give --address HOST:PORT, set RUSTYRAY_ADDRESS, "
                 "or start one with rustyray start --head\n";
    return 1;
  }
  std::vector<rustyray::node_info> all;
  try {
    all = rustyray::nodes(address, token);
  } catch (const rustyray::error& e) {
    std::cerr << "rustyray status: " << e.what() << "\n";
    return 1;
  }
  if (flag(args, "--json")) {
    auto out = nlohmann::json::array();
    for (const auto& n : all)
      out.push_back({{"id", n.id},
                     {"address", n.address},
                     {"alive", n.alive},
                     {"head", n.head},
                     {"resources", {{"total", n.total}, {"available", n.available}}}});
    std::cout << nlohmann::json{{"address", address}, {"nodes", out}}.dump(2) << "\n";
    return 0;
  }
  std::cout << "cluster at " << address << ": " << all.size() << " node(s)\n";
  std::cout << std::left << std::setw(18) << "NODE" << std::setw(22) << "ADDRESS" << std::setw(7)
            << "ALIVE"
            << "CPU (free/total)\n";
  for (const auto& n : all) {
    auto cpu = [](const std::map<std::string, double>& m) {
      auto i = m.find("CPU");
      return i == m.end() ? 0.0 : i->second;
    };
    std::cout << std::setw(18) << n.id << std::setw(22)
              << (n.head ? n.address + " (head)" : n.address) << std::setw(7)
              << (n.alive ? "yes" : "no") << cpu(n.available) << "/" << cpu(n.total) << "\n";
  }
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty())
    return usage();
  auto command = args.front();
  args.erase(args.begin());
  if (command == "start")
    return start(args);
  if (command == "stop")
    return stop();
  if (command == "status")
    return status(args);
  return usage();
}
