#pragma once

// Runs a test scenario in a child process, for behaviour that ends or hangs a
// whole process (exit without shutdown, a deadlock): the test waits with a
// hard deadline and kills the child if it passes.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace rustyray::test {

/// How a child process ended.
struct child_result {
  /// Whether it ran past the deadline (and was killed).
  bool hung = false;
  /// Its exit status, when it exited (not killed by a signal).
  int exit_code = -1;
  /// The signal that ended it, or 0.
  int signal = 0;
  /// What it wrote to stderr.
  std::string err;
};

/// Forks, runs `body` in the child and ends the child with `std::exit` of
/// its return value, so static destructors and atexit handlers run as when
/// `main` returns. Call it before this process starts any thread: the child
/// gets only the calling thread.
inline child_result run_in_child(const std::function<int()>& body,
                                 std::chrono::seconds deadline = std::chrono::seconds(30)) {
  char path[] = "/tmp/rustyray_child_stderr_XXXXXX";
  int err_fd = mkstemp(path);
  if (err_fd < 0)
    std::abort();
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0)
    std::abort();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); // never outlives the test
    dup2(err_fd, STDERR_FILENO);
    int code = 99;
    try {
      code = body();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child threw: %s\n", e.what());
      code = 98;
    }
    std::exit(code);
  }
  child_result result;
  auto until = std::chrono::steady_clock::now() + deadline;
  int status = 0;
  for (;;) {
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid)
      break;
    if (std::chrono::steady_clock::now() >= until) {
      ::kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      result.hung = true;
      break;
    }
    // Polls a process table entry, not a condition of this process: waitpid
    // has no timeout of its own.
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (WIFEXITED(status))
    result.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    result.signal = WTERMSIG(status);
  std::ifstream in{path};
  result.err.assign(std::istreambuf_iterator<char>{in}, {});
  close(err_fd);
  unlink(path);
  return result;
}

} // namespace rustyray::test
