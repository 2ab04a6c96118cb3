// A process for the crash tests (tests/test_crash.cpp). It prints one line per event it is sure of:
//   ack <command_id> <first_seq> <last_seq>   after the engine acknowledged the command (durable)
//   full <error>                              when a commit failed for lack of space
//   fail <error>                              when a command failed otherwise
// Modes:
//   write  DIR SEED            apply transfers forever (until killed)
//   fsize  DIR SEED BYTES      the same under a file size limit of BYTES; stops after 20 failures
//   reader DIR                 hold an LMDB read transaction and wait to be killed
#include <fmt/format.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include "ledger/engine.hpp"
#include "log_store.hpp"

using namespace ledger;

namespace {

void say(const std::string& line) {
  std::string out = line + "\n";
  // One write per line: lines from the writer thread never interleave, and nothing is buffered
  // in the process when it is killed.
  [[maybe_unused]] auto n = ::write(1, out.data(), out.size());
}

Command cmd(std::string id, CommandBody body) { return Command{std::move(id), {"crash", "hq_admin", ""}, std::move(body)}; }

// Idempotent setup: the same command ids every run, so a restarted child does not redo it.
void setup(Engine& engine) {
  std::vector<CommandBody> bodies{DefineRegion{"R1", "East"},
                                  DefineWarehouse{"W1", "One", "R1", 0, 0, 100},
                                  DefineWarehouse{"W2", "Two", "R1", 0, 0, 100},
                                  DefineSku{"A", "Sauce", 6, {3, 2, 1}, {1, 1, 1}},
                                  ReceiveStock{"W1", {{"A", 1'000'000'000, {}}}, "SEED"}};
  int i = 0;
  for (auto& b : bodies) engine.execute(cmd(fmt::format("setup-{}", i++), std::move(b)));
}

int write_forever(const char* dir, std::uint64_t seed, int failures_max) {
  EngineOptions options;
  options.dir = dir;
  auto engine = Engine::open(options);
  if (!engine) {
    say("error " + engine.error().to_string());
    return 1;
  }
  setup(**engine);
  std::atomic<int> in_flight{0}, failures{0};
  for (std::uint64_t n = 0; failures < failures_max; ++n) {
    while (in_flight.load() > 512) std::this_thread::yield();
    std::string id = fmt::format("k{}-{}", seed, n);
    ++in_flight;
    (*engine)->submit(cmd(id, ShipTransfer{id, "warehouse:W1", "warehouse:W2", {{"A", 1, {}}}}),
                      [&, id](const CommandResult& r) {
                        if (r.ok()) {
                          say(fmt::format("ack {} {} {}", id, r->first_seq, r->last_seq));
                        } else {
                          say((r.error().code == ErrorCode::storage_full ? "full " : "fail ") + r.error().to_string());
                          ++failures;
                        }
                        --in_flight;
                      });
  }
  while (in_flight.load() > 0) std::this_thread::yield();
  return 0;
}

int hold_reader(const char* dir) {
  StoreOptions options;
  options.dir = dir;
  options.read_only = true;
  auto store = LogStore::open(options);
  if (!store) return 1;
  auto txn = Txn::begin(**store, false);
  if (!txn) return 1;
  say("reading");
  for (;;) pause();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 4 && std::strcmp(argv[1], "write") == 0) return write_forever(argv[2], std::stoull(argv[3]), 1 << 30);
  if (argc >= 5 && std::strcmp(argv[1], "fsize") == 0) {
    signal(SIGXFSZ, SIG_IGN);  // get EFBIG from write() instead of dying
    rlimit limit{std::stoull(argv[4]), std::stoull(argv[4])};
    setrlimit(RLIMIT_FSIZE, &limit);
    return write_forever(argv[2], std::stoull(argv[3]), 20);
  }
  if (argc >= 3 && std::strcmp(argv[1], "reader") == 0) return hold_reader(argv[2]);
  fmt::print(stderr, "usage: ledger_crash_child write DIR SEED | fsize DIR SEED BYTES | reader DIR\n");
  return 2;
}
