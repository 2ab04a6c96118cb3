// The test binary's main: doctest's, plus our own flags.
//   --sim-commands=N   commands in the randomized simulation (default 300000; millions for a soak)
//   --sim-seed=S       replay one simulation exactly (the seed is printed on failure)
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "support.hpp"

namespace test {
Settings& settings() {
  static Settings s;  // written once in main, before any test runs
  return s;
}
}  // namespace test

int main(int argc, char** argv) {
  auto& s = test::settings();
  if (const char* env = std::getenv("SIM_COMMANDS")) s.sim_commands = std::strtoull(env, nullptr, 10);
  if (const char* env = std::getenv("SIM_SEED")) s.sim_seed = std::strtoull(env, nullptr, 10);
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--sim-commands=", 0) == 0) s.sim_commands = std::stoull(arg.substr(15));
    if (arg.rfind("--sim-seed=", 0) == 0) s.sim_seed = std::stoull(arg.substr(11));
    if (arg.rfind("--crash-child=", 0) == 0) s.crash_child = arg.substr(14);
  }
  doctest::Context context;
  context.applyCommandLine(argc, argv);
  return context.run();
}
