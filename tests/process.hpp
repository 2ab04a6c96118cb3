// Child processes for the tests: spawn with stdout on a pipe.
#pragma once

#include <doctest/doctest.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace test {

inline pid_t spawn(const std::vector<std::string>& args, int* stdout_fd) {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);
  *stdout_fd = fds[0];
  return pid;
}

// Reads from `fd` until a line contains `needle` (or EOF); returns everything read.
inline std::string read_until(int fd, const std::string& needle) {
  std::string out;
  char buf[4096];
  while (out.find(needle) == std::string::npos) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, std::size_t(n));
  }
  return out;
}

}  // namespace test
