#pragma once

// What a piece of code writes to stderr (fd 2), for tests of warnings.

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include <unistd.h>

namespace rustyray::test {

template <class F>
std::string capture_stderr(F&& f) {
  char path[] = "/tmp/rustyray_stderr_XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0)
    std::abort();
  std::fflush(stderr);
  int saved = dup(STDERR_FILENO);
  dup2(fd, STDERR_FILENO);
  struct restore {
    int saved;
    int fd;
    ~restore() {
      std::fflush(stderr);
      dup2(saved, STDERR_FILENO);
      close(saved);
      close(fd);
    }
  };
  {
    restore on_exit{saved, fd};
    f();
  }
  std::ifstream in{path};
  std::string text{std::istreambuf_iterator<char>{in}, {}};
  unlink(path);
  return text;
}

} // namespace rustyray::test
