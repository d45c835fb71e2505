// The `rustyray` command: starts and stops a cluster's head, and shows a
// cluster's nodes.
//
//   rustyray start --head [--host H] [--port P] [--token T]
//   rustyray stop
//   rustyray status [--address HOST:PORT] [--token T] [--json]
//   rustyray up --workers N [--resources JSON] -- PROGRAM [ARGS...]
//   rustyray worker [--address HOST:PORT] [--token T] [--resources JSON] -- PROGRAM [ARGS...]
//
// `up` runs a whole cluster on loopback for one program: a head in this
// process, N copies of PROGRAM as workers (RUSTYRAY_WORKER=true: their
// `init` joins and serves), then PROGRAM as the driver; when the driver
// ends (or this command gets SIGINT/SIGTERM) the workers are stopped and the
// driver's exit code is returned. `worker` runs PROGRAM as one worker of
// an existing cluster.
//
// `start` keeps what `stop` and `status` need (the head's process ID,
// address and token) in $RUSTYRAY_STATE_DIR, else $XDG_RUNTIME_DIR/rustyray,
// else /tmp/rustyray-<uid>, readable by the user only.

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "rustyray/rustyray.hpp"

namespace {

int usage() {
  std::cerr << "usage: rustyray start --head [--host H] [--port P] [--token T]\n"
               "       rustyray stop\n"
               "       rustyray status [--address HOST:PORT] [--token T] [--json]\n"
               "       rustyray up --workers N [--resources JSON] -- PROGRAM [ARGS...]\n"
               "       rustyray worker [--address HOST:PORT] [--token T] [--resources JSON] -- "
               "PROGRAM [ARGS...]\n";
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
    if (!option(args, "--resources").empty()) {
      std::cerr << "rustyray start: a head started here runs no program, so no task: give "
                   "resources to the workers (rustyray worker --resources JSON -- ./program)\n";
      return 2;
    }
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
            << " RUSTYRAY_CLUSTER_TOKEN=" << cfg.cluster_token
            << (cfg.tls.enabled() ? " RUSTYRAY_TLS='" + cfg.to_json()["tls"].dump() + "'"
                                  : std::string{})
            << " ./your_program\n"
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

/// The cluster a command talks to: `--address` / `--token`, else
/// RUSTYRAY_ADDRESS / RUSTYRAY_CLUSTER_TOKEN, else what `start` recorded.
/// An empty address (and a message naming `command`) if there is none.
std::pair<std::string, std::string> cluster_of(const std::vector<std::string>& args,
                                               const char* command) {
  auto state = read_state();
  const char* env_address = std::getenv("RUSTYRAY_ADDRESS");
  const char* env_token = std::getenv("RUSTYRAY_CLUSTER_TOKEN");
  auto address =
    option(args, "--address", env_address != nullptr ? env_address : state.value("address", ""));
  auto token = option(args, "--token", env_token != nullptr ? env_token : state.value("token", ""));
  if (address.empty())
    std::cerr << "rustyray " << command
              << ": no cluster: give --address HOST:PORT, set RUSTYRAY_ADDRESS, or start one "
                 "with rustyray start --head\n";
  return {address, token};
}

int status(const std::vector<std::string>& args) {
  auto [address, token] = cluster_of(args, "status");
  if (address.empty())
    return 1;
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
                     {"resources", {{"total", n.total}, {"available", n.available}}},
                     {"objects", n.objects},
                     {"object_bytes", n.object_bytes},
                     {"tasks", n.tasks},
                     {"actors", n.actors},
                     {"named_actors", n.named_actors}});
    std::cout << nlohmann::json{{"address", address}, {"nodes", out}}.dump(2) << "\n";
    return 0;
  }
  auto count = [](const std::map<std::string, std::uint64_t>& m, const char* key) {
    auto i = m.find(key);
    return i == m.end() ? std::uint64_t{0} : i->second;
  };
  std::cout << "cluster at " << address << ": " << all.size() << " node(s)\n";
  std::cout << std::left << std::setw(18) << "NODE" << std::setw(29) << "ADDRESS" << std::setw(7)
            << "ALIVE" << std::setw(11) << "CPU" << std::setw(18) << "OBJECTS (MiB)"
            << std::setw(22) << "TASKS run/queue/wait"
            << "ACTORS\n";
  std::vector<std::string> names;
  for (const auto& n : all) {
    auto cpu = [](const std::map<std::string, double>& m) {
      auto i = m.find("CPU");
      return i == m.end() ? 0.0 : i->second;
    };
    std::ostringstream resources, objects, tasks;
    resources << cpu(n.available) << "/" << cpu(n.total);
    objects << n.objects << " (" << std::fixed << std::setprecision(1)
            << static_cast<double>(n.object_bytes) / (1 << 20) << ")";
    tasks << count(n.tasks, "running") << "/" << count(n.tasks, "queued") << "/"
          << count(n.tasks, "waiting_for_arguments");
    std::cout << std::setw(18) << n.id << std::setw(29)
              << (n.head ? n.address + " (head)" : n.address) << std::setw(7)
              << (n.alive ? "yes" : "no") << std::setw(11) << resources.str() << std::setw(18)
              << objects.str() << std::setw(22) << tasks.str() << count(n.actors, "alive")
              << " alive";
    if (auto starting = count(n.actors, "starting"))
      std::cout << " (+" << starting << " starting)";
    std::cout << "\n";
    for (const auto& name : n.named_actors)
      names.push_back(name + " on " + n.id);
  }
  if (!names.empty()) {
    std::cout << "named actors:\n";
    for (const auto& name : names)
      std::cout << "  " << name << "\n";
  }
  return 0;
}

/// The words after `--`: the program and its arguments.
std::vector<std::string> program_of(const std::vector<std::string>& args) {
  for (std::size_t i = 0; i < args.size(); ++i)
    if (args[i] == "--")
      return {args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end()};
  return {};
}

/// Starts `program` with `env` added to this process's environment; it
/// dies with this process.
pid_t launch(const std::vector<std::string>& program, const std::vector<std::string>& env) {
  // Built before fork: this process runs threads (the head).
  std::vector<std::string> vars = env;
  for (char** e = environ; *e != nullptr; ++e)
    vars.emplace_back(*e); // the added ones come first and win
  std::vector<char*> envp;
  for (auto& v : vars)
    envp.push_back(v.data());
  envp.push_back(nullptr);
  std::vector<std::string> words = program;
  std::vector<char*> argv;
  for (auto& w : words)
    argv.push_back(w.data());
  argv.push_back(nullptr);
  auto parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
      _exit(127); // the parent died before the line above
    execvpe(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  return pid;
}

/// The environment of a process joining the cluster at `address`.
std::vector<std::string> join_env(const std::string& address, const std::string& token,
                                  const std::string& resources, bool worker) {
  std::vector<std::string> env{"RUSTYRAY_ADDRESS=" + address, "RUSTYRAY_CLUSTER_TOKEN=" + token};
  if (worker)
    env.push_back("RUSTYRAY_WORKER=true");
  if (!resources.empty())
    env.push_back("RUSTYRAY_RESOURCES=" + resources);
  return env;
}

int worker(const std::vector<std::string>& args) {
  auto program = program_of(args);
  if (program.empty())
    return usage();
  auto [address, token] = cluster_of(args, "worker");
  if (address.empty())
    return 1;
  // Becomes the program: its exit is the command's.
  for (auto& v : join_env(address, token, option(args, "--resources"), true)) {
    auto eq = v.find('=');
    setenv(v.substr(0, eq).c_str(), v.substr(eq + 1).c_str(), 1);
  }
  std::vector<char*> argv;
  for (auto& w : program)
    argv.push_back(w.data());
  argv.push_back(nullptr);
  execvp(argv[0], argv.data());
  std::cerr << "rustyray worker: cannot run " << program[0] << ": " << std::strerror(errno) << "\n";
  return 127;
}

/// Set by SIGINT or SIGTERM while `up` runs.
volatile std::sig_atomic_t interrupted = 0;

int up(const std::vector<std::string>& args) {
  auto program = program_of(args);
  int workers = 0;
  try {
    workers = std::stoi(option(args, "--workers", "2"));
  } catch (const std::exception&) {
    workers = -1;
  }
  if (program.empty() || workers < 0)
    return usage();
  auto resources = option(args, "--resources");
  rustyray::config cfg;
  try {
    cfg = rustyray::config::from_env();
    cfg.is_head = true;
    cfg.head_address.clear();
    cfg.worker = false;
    cfg.listen = "127.0.0.1:0";
    if (cfg.cluster_token.empty())
      cfg.cluster_token = new_token();
    rustyray::init(cfg);
  } catch (const std::exception& e) {
    std::cerr << "rustyray up: the head did not start: " << e.what() << "\n";
    return 1;
  }
  std::string address;
  for (const auto& n : rustyray::nodes())
    if (n.head)
      address = n.address;
  std::signal(SIGINT, [](int) { interrupted = 1; });
  std::signal(SIGTERM, [](int) { interrupted = 1; });
  std::vector<pid_t> started;
  // The head goes first: a worker that loses it ends by itself (exit 0);
  // one that has not within 10 s is killed.
  auto stop_all = [&] {
    rustyray::shutdown();
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (auto pid : started) {
      int status = 0;
      while (waitpid(pid, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > until) {
          kill(pid, SIGKILL);
          waitpid(pid, &status, 0);
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
  };
  for (int i = 0; i < workers; ++i) {
    auto pid = launch(program, join_env(address, cfg.cluster_token, resources, true));
    if (pid < 0) {
      std::cerr << "rustyray up: cannot start a worker\n";
      stop_all();
      return 1;
    }
    started.push_back(pid);
  }
  // The driver starts once every worker joined: it places tasks by the
  // nodes it knows.
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    std::size_t joined = 0;
    for (const auto& n : rustyray::nodes())
      joined += !n.head && n.alive ? 1 : 0;
    if (joined >= static_cast<std::size_t>(workers))
      break;
    int status = 0;
    for (auto pid : started)
      if (waitpid(pid, &status, WNOHANG) == pid) {
        std::cerr << "rustyray up: a worker (" << program[0] << ") ended before it joined\n";
        stop_all();
        return 1;
      }
    if (interrupted || std::chrono::steady_clock::now() > until) {
      std::cerr << "rustyray up: "
                << (interrupted ? "interrupted" : "the workers did not join within 60 s") << "\n";
      stop_all();
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::cerr << "rustyray up: head at " << address << ", " << workers << " worker(s); running "
            << program[0] << "\n";
  auto driver = launch(program, join_env(address, cfg.cluster_token, {}, false));
  int code = 1;
  int status = 0;
  while (driver > 0) {
    if (waitpid(driver, &status, WNOHANG) == driver) {
      code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    if (interrupted) {
      kill(driver, SIGTERM);
      waitpid(driver, &status, 0);
      code = 130;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop_all();
  return code;
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
  if (command == "up")
    return up(args);
  if (command == "worker")
    return worker(args);
  return usage();
}
