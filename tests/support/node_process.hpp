#pragma once

// Another program running beside the test, for multi-process tests: started
// with extra environment variables, its standard output read line by line
// with a deadline, killed when the test ends however it ends.

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace rustyray::test {

class node_process {
public:
  /// Starts `program` with `args` and with `env` ("NAME=value") added to
  /// this process's environment; its standard error goes to the file
  /// `errors` if given. It dies with the test process (PR_SET_PDEATHSIG).
  node_process(const std::string& program, const std::vector<std::string>& env,
               std::vector<std::string> args = {}, const std::string& errors = {}) {
    // Everything the child needs is built before fork: between fork and
    // exec a child of a threaded process may only make system calls.
    std::vector<std::string> vars = env;
    for (char** e = environ; *e != nullptr; ++e)
      vars.emplace_back(*e); // the added ones come first and win
    std::vector<char*> envp;
    for (auto& v : vars)
      envp.push_back(v.data());
    envp.push_back(nullptr);
    args.insert(args.begin(), program);
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0)
      throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ < 0)
      throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      dup2(out[1], STDOUT_FILENO); // dup2 clears O_CLOEXEC on the copy
      if (!errors.empty()) {
        int fd = open(errors.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0)
          dup2(fd, STDERR_FILENO);
      }
      execve(argv[0], argv.data(), envp.data());
      _exit(127);
    }
    close(out[1]);
    out_ = out[0];
  }

  node_process(const node_process&) = delete;
  node_process& operator=(const node_process&) = delete;

  ~node_process() {
    kill();
    close(out_);
  }

  /// The next line it prints (without the newline); empty if it printed
  /// none within `deadline` or closed its output.
  std::string read_line(std::chrono::milliseconds deadline = std::chrono::seconds(30)) {
    auto until = std::chrono::steady_clock::now() + deadline;
    for (;;) {
      auto nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        auto line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
      if (left.count() <= 0)
        return {};
      pollfd p{out_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0)
        return {};
      char chunk[256];
      auto n = ::read(out_, chunk, sizeof(chunk));
      if (n <= 0)
        return {};
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  /// Kills it (SIGKILL) and reaps it; does nothing once it ended.
  void kill() {
    if (pid_ <= 0)
      return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  /// Waits up to `deadline` for it to exit: its exit code, or -1 (killed
  /// then, or ended by a signal).
  int wait(std::chrono::milliseconds deadline = std::chrono::seconds(30)) {
    auto until = std::chrono::steady_clock::now() + deadline;
    int status = 0;
    while (pid_ > 0) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      if (std::chrono::steady_clock::now() >= until) {
        kill();
        return -1;
      }
      // waitpid has no timeout of its own.
      usleep(10000);
    }
    return -1;
  }

  /// Its process ID; -1 once it ended.
  [[nodiscard]] pid_t pid() const noexcept {
    return pid_;
  }

private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string buffer_;
};

} // namespace rustyray::test
