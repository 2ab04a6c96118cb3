// Durability with real processes: a child applies commands and prints each acknowledgement; it is
// killed with SIGKILL at chosen and random points; the parent reopens the log and finds every
// acknowledged command, the invariants and the hash chain intact. Also: a full disk (file size
// limit) and a reader killed while holding a transaction.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <sstream>

#include "log_store.hpp"
#include "process.hpp"
#include "support.hpp"

using namespace ledger;

namespace {

struct Ack {
  std::string command_id;
  std::uint64_t first_seq = 0;
};

struct ChildRun {
  std::vector<Ack> acks;
  std::vector<std::string> lines;
  int wait_status = 0;
};

using test::spawn;

// Reads the child's lines; kills it (SIGKILL) once it has acknowledged `kill_after_acks` commands
// or `kill_after_ms` passed, whichever is first (-1: never kill, wait for it to exit).
ChildRun run_child(const std::vector<std::string>& args, long kill_after_acks, long kill_after_ms) {
  int fd = -1;
  pid_t pid = spawn(args, &fd);
  ChildRun run;
  std::string buffer;
  bool killed = false;
  auto start = std::chrono::steady_clock::now();
  constexpr long child_time_max_ms = 120'000;  // a child that hangs fails the test, not CI
  for (;;) {
    long elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    bool time_up = kill_after_ms >= 0 && elapsed_ms >= kill_after_ms;
    bool enough = kill_after_acks >= 0 && long(run.acks.size()) >= kill_after_acks;
    if (!killed && (time_up || enough || elapsed_ms > child_time_max_ms)) {
      kill(pid, SIGKILL);
      killed = true;
    }
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 5) <= 0) continue;
    char chunk[65536];
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n <= 0) break;  // EOF: the child is gone and everything it wrote has been read
    buffer.append(chunk, std::size_t(n));
    for (std::size_t nl; (nl = buffer.find('\n')) != std::string::npos; buffer.erase(0, nl + 1)) {
      std::string line = buffer.substr(0, nl);
      std::istringstream in(line);
      std::string word;
      in >> word;
      if (word == "ack") {
        Ack a;
        in >> a.command_id >> a.first_seq;
        run.acks.push_back(a);
      } else {
        run.lines.push_back(line);
      }
    }
  }
  close(fd);
  waitpid(pid, &run.wait_status, 0);
  return run;
}

std::string child_path() {
  return test::settings().crash_child.empty() ? std::string(LEDGER_CRASH_CHILD) : test::settings().crash_child;
}

// Every acknowledged command is in the idempotency index at the sequence it was acknowledged with.
void check_acks_durable(const std::filesystem::path& dir, const std::vector<Ack>& acks) {
  StoreOptions options;
  options.dir = dir;
  options.read_only = true;
  auto store = LogStore::open(options);
  REQUIRE_MESSAGE(store.ok(), (store.ok() ? "" : store.error().to_string()));
  auto txn = Txn::begin(**store, false);
  REQUIRE(txn.ok());
  std::size_t missing = 0;
  for (const auto& a : acks) {
    auto found = get_command(**store, *txn, a.command_id);
    REQUIRE(found.ok());
    if (!*found || (*found)->first_seq != a.first_seq) {
      if (++missing < 5) MESSAGE("acknowledged but lost: " << a.command_id << " at " << a.first_seq);
    }
  }
  CHECK(missing == 0);
}

void check_log_sound(const std::filesystem::path& dir) {
  auto report = verify_log(dir);
  REQUIRE_MESSAGE(report.ok(), (report.ok() ? "" : report.error().to_string()));
}

}  // namespace

TEST_SUITE_BEGIN("crash");

TEST_CASE("crash: every acknowledged command survives SIGKILL at any point, and the log stays sound") {
  test::TempDir dir;
  std::uint64_t seed = std::random_device{}();
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  // Kill points: while opening, early, mid-stream, late, and at random moments mid-commit.
  struct KillPoint {
    long acks, ms;
  } points[] = {{-1, 1}, {1, -1}, {50, -1}, {2000, -1}, {-1, long(50 + rng() % 400)}, {-1, long(50 + rng() % 400)},
                {long(rng() % 5000), -1}, {-1, long(rng() % 100)}};
  std::vector<Ack> all_acks;
  int round = 0;
  for (const auto& point : points) {
    INFO("round " << round << " kill after " << point.acks << " acks / " << point.ms << " ms");
    auto run = run_child({child_path(), "write", dir.path().string(), std::to_string(round++)}, point.acks, point.ms);
    CHECK(WIFSIGNALED(run.wait_status));
    all_acks.insert(all_acks.end(), run.acks.begin(), run.acks.end());
    // Killed before the first commit (while creating the databases), there is nothing to check.
    if (!all_acks.empty()) {
      check_acks_durable(dir.path(), all_acks);
      check_log_sound(dir.path());
    }
  }
  CHECK(all_acks.size() > 2000);
  // And the engine carries on from there.
  EngineOptions options;
  options.dir = dir.path();
  auto engine = Engine::open(options);
  REQUIRE(engine.ok());
  auto r = (*engine)->execute(Command{"after-crashes", {}, ShipTransfer{"after", "warehouse:W1", "warehouse:W2", {{"A", 1, {}}}}});
  CHECK(r.ok());
}

TEST_CASE("disk full: commits fail with a storage error, nothing acknowledged is lost, the log stays sound") {
  test::TempDir dir;
  auto first = run_child({child_path(), "write", dir.path().string(), "1"}, 300, -1);
  REQUIRE(first.acks.size() >= 300);
  auto size = std::filesystem::file_size(dir.path() / "data.mdb");
  // Room for a few hundred more events, then every write past the limit fails with EFBIG.
  auto run = run_child({child_path(), "fsize", dir.path().string(), "2", std::to_string(size + 256 * 1024)}, -1, -1);
  std::string said;
  for (const auto& l : run.lines) said += l + "\n";
  INFO("child said: " << said);
  CHECK(WIFEXITED(run.wait_status));
  CHECK(WEXITSTATUS(run.wait_status) == 0);
  CHECK(run.acks.size() > 0);
  // A write past the limit fails as EFBIG (storage_full) or, when LMDB sees a short write, as EIO
  // (storage_error); both must be reported as such, and nothing else may go wrong.
  std::size_t write_failures = 0;
  for (const auto& l : run.lines) {
    bool storage = l.rfind("full storage_full", 0) == 0 || l.rfind("fail storage_error", 0) == 0;
    CHECK_MESSAGE(storage, l);
    write_failures += storage ? 1 : 0;
  }
  CHECK(write_failures > 0);
  std::vector<Ack> all = first.acks;
  all.insert(all.end(), run.acks.begin(), run.acks.end());
  check_acks_durable(dir.path(), all);
  check_log_sound(dir.path());
  // With space again, writing resumes.
  EngineOptions options;
  options.dir = dir.path();
  auto engine = Engine::open(options);
  REQUIRE(engine.ok());
  CHECK((*engine)->execute(Command{"after-full", {}, ShipTransfer{"after", "warehouse:W1", "warehouse:W2", {{"A", 1, {}}}}}).ok());
}

TEST_CASE("stale readers: a reader killed inside a transaction loses its slot when the writer checks") {
  test::TempDir dir;
  StoreOptions options;
  options.dir = dir.path();
  // The writer's process keeps the environment open, as a running server does; LMDB only resets
  // the reader table when the first process opens it, so without the check the slot stays taken.
  auto store = LogStore::open(options);
  REQUIRE(store.ok());
  int fd = -1;
  pid_t pid = spawn({child_path(), "reader", dir.path().string()}, &fd);
  char buf[16] = {};
  REQUIRE(read(fd, buf, sizeof buf) > 0);  // "reading": the child's transaction is open
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  close(fd);

  auto count_readers = [](MDB_env* env) {
    int lines = 0;
    mdb_reader_list(env, [](const char*, void* ctx) { ++*static_cast<int*>(ctx); return 0; }, &lines);
    return lines;  // a header line and one line per slot in use, or one "(no active readers)"
  };
  CHECK(count_readers((*store)->env()) == 2);  // the dead child's slot is still taken
  CHECK((*store)->clear_stale_readers() == 1);
  CHECK(count_readers((*store)->env()) == 1);
}

TEST_SUITE_END();
