// The audit CLI `ledger`, run as a real process on a log the engine wrote: verify names the first
// damaged event, export gives every event as one JSON line, trace follows an order, as-of equals the
// state captured live at that sequence, and bad usage or an unreadable directory exit with their codes.
#include <sys/wait.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "ledger/location.hpp"
#include "ledger/sales_board.hpp"
#include "process.hpp"
#include "projection_support.hpp"
#include "support.hpp"
#include "tamper.hpp"

using namespace ledger;

TEST_SUITE_BEGIN("replay");

namespace {

struct Run {
  int exit_code = -1;
  std::string out;
};

Run run_cli(std::vector<std::string> args) {
  args.insert(args.begin(), LEDGER_CLI_PATH);
  int fd = -1;
  pid_t pid = test::spawn(args, &fd);
  Run r;
  r.out = test::read_until(fd, "\x01never");  // to EOF
  close(fd);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::size_t count_lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

// A small history with orders; after every command, the balances the test will ask as-of for.
struct History {
  test::Harness h;
  std::map<std::uint64_t, std::pair<Balance, Balance>> seen;  // seq -> (warehouse:W1 A, dealer:D1 A)
  std::map<std::uint64_t, SalesTotals> board_seen;            // seq -> the sales board's one-month total
  std::unique_ptr<LiveState> live = test::start_live(*h.engine, LiveOptions{h.dir.path(), 0, {}});

  History() {
    h.small_network();
    record();
    h.ok(ReceiveStock{"W1", {{"A", 600, "LOT-7"}, {"B", 60, {}}}, "BATCH-1"});
    record();
    for (int i = 0; i < 6; ++i) {
      PlaceOrder o;
      o.id = fmt::format("O{}", i);
      o.buyer = "dealer:D1";
      o.seller = "hq";
      o.channel = "dealer_storefront";
      o.ship_to_region = "R1";
      o.ship_to_lat_e6 = 30'600'000;
      o.ship_to_lon_e6 = 104'000'000;
      o.lines = {{"A", 12, 70000}};
      o.promised_by_us = test::t0_us + 7LL * 24 * 3600 * 1'000'000;
      h.ok(o);
      record();
      if (i % 2 == 0) {
        h.ok(ShipOrder{o.id, {}});
        record();
        h.ok(DeliverOrder{o.id});
        record();
      }
    }
    h.ok(CancelOrder{"O1", "changed mind"});
    record();
  }
  // The live projections follow the engine: they stop first.
  void close() {
    live.reset();
    h.close();
  }
  void record() {
    std::uint64_t seq = h.engine->last_seq();
    seen[seq] = {h.balance("warehouse:W1", "A"), h.balance("dealer:D1", "A")};
    // The board as the live projection showed it at that moment.
    test::wait_applied(*live, seq);
    live->read_model([&](const ReadModel& m, std::uint64_t) {
      SalesQuery q;
      q.bucket = SalesBucket::month;
      auto rows = m.sales_board().query(q);
      board_seen[seq] = rows.empty() ? SalesTotals{} : rows[0].totals;
    });
  }
};

}  // namespace

TEST_CASE("verify, export, stats and trace read the log the engine wrote") {
  History log;
  std::string dir = log.h.dir.path().string();
  std::uint64_t last = log.h.engine->last_seq();
  std::string head;
  log.h.engine->inspect([&](const LedgerState& s) { head = to_hex(s.chain_head()); });
  log.close();

  Run verify = run_cli({"verify", "--data", dir, "--json"});
  REQUIRE_MESSAGE(verify.exit_code == 0, verify.out);
  auto report = boost::json::parse(verify.out);
  CHECK(report.at("ok").as_bool());
  CHECK(report.at("events").as_int64() == static_cast<std::int64_t>(last));
  CHECK(report.at("last_seq").as_int64() == static_cast<std::int64_t>(last));
  CHECK(report.at("chain_hash").as_string() == head);
  Run human = run_cli({"verify", "--data", dir});
  CHECK(human.out.find("chain hash of event " + std::to_string(last) + ": " + head) != std::string::npos);

  Run all = run_cli({"export", "--data", dir});
  REQUIRE(all.exit_code == 0);
  CHECK(count_lines(all.out) == last);
  auto first = boost::json::parse(all.out.substr(0, all.out.find('\n')));
  CHECK(first.at("seq").as_int64() == 1);
  CHECK(first.at("kind").as_string() == "RegionDefined");
  Run placed = run_cli({"export", "--data", dir, "--kinds", "OrderPlaced,OrderCancelled"});
  CHECK(count_lines(placed.out) == 7);
  Run window = run_cli({"export", "--data", dir, "--from-seq", "5", "--to-seq", "9"});
  CHECK(count_lines(window.out) == 5);
  CHECK(run_cli({"export", "--data", dir, "--kinds", "Nonsense"}).exit_code == 2);

  Run stats = run_cli({"stats", "--data", dir, "--json"});
  REQUIRE(stats.exit_code == 0);
  auto s = boost::json::parse(stats.out);
  CHECK(s.at("events").as_int64() == static_cast<std::int64_t>(last));
  CHECK(s.at("by_kind").at("OrderPlaced").as_int64() == 6);

  Run trace = run_cli({"trace", "--data", dir, "--order", "O0"});
  REQUIRE(trace.exit_code == 0);
  for (const char* kind :
       {"OrderPlaced", "ReservationCreated", "OrderAllocated", "ReservationPosted", "OrderShipped", "OrderDelivered"}) {
    CHECK_MESSAGE(trace.out.find(kind) != std::string::npos, kind);
  }
  CHECK(count_lines(trace.out) == 6);
  Run lot = run_cli({"trace", "--data", dir, "--lot", "LOT-7"});
  CHECK(count_lines(lot.out) == 1);
  Run balance = run_cli({"trace", "--data", dir, "--location", "dealer:D1", "--sku", "A"});
  CHECK(count_lines(balance.out) == 3);  // three deliveries
  CHECK(balance.out.find("on_hand 36") != std::string::npos);
}

TEST_CASE("as-of at a sequence equals the state captured live at that sequence") {
  History log;
  std::string dir = log.h.dir.path().string();
  log.close();
  int checked = 0;
  for (const auto& [seq, balances] : log.seen) {
    if (checked++ % 3 != 0) continue;  // a process per sample: a third of them is plenty
    Run r = run_cli({"as-of", "--data", dir, "--seq", std::to_string(seq), "--stock", "warehouse:W1:A", "--stock",
                     "dealer:D1:A", "--board", "sales", "--bucket", "month", "--json"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.out);
    auto j = boost::json::parse(r.out);
    CHECK(j.at("seq").as_int64() == static_cast<std::int64_t>(seq));
    CHECK(j.at("stock").at(0).at("on_hand").as_int64() == balances.first.on_hand);
    CHECK(j.at("stock").at(0).at("reserved").as_int64() == balances.first.reserved);
    CHECK(j.at("stock").at(1).at("on_hand").as_int64() == balances.second.on_hand);
    const SalesTotals& board = log.board_seen.at(seq);
    auto rows = j.at("sales_board").as_array();
    CHECK(rows.size() == (board == SalesTotals{} ? 0u : 1u));
    if (!rows.empty()) {
      CHECK(rows[0].at("orders").as_int64() == board.orders);
      CHECK(rows[0].at("units").as_int64() == board.units);
      CHECK(rows[0].at("revenue_cents").as_int64() == board.revenue_cents);
    }
  }
  Run order =
      run_cli({"as-of", "--data", dir, "--seq", std::to_string(log.seen.rbegin()->first), "--order", "O1", "--json"});
  CHECK(boost::json::parse(order.out).at("order").at("status").as_string() == "cancelled");
}

TEST_CASE("as-of shows a member's points, tier and coupons as they were") {
  test::Harness h;
  h.small_network();
  h.ok(DefineMember{"M1", "Li Lei", "S1"});
  h.ok(ReceiveStock{"W1", {{"A", 10, {}}}, "BATCH-1"});
  h.ok(ShipTransfer{"T1", "warehouse:W1", "store:S1", {{"A", 10, {}}}});
  h.ok(ReceiveTransfer{"T1"});
  CreateCampaign c;
  c.id = "C1";
  c.issuer = "hq";
  c.kind = CampaignKind::amount_off;
  c.amount_off_cents = 10'000;
  c.valid_from_us = test::t0_us;
  c.valid_to_us = test::t0_us + 30LL * 24 * 3600 * 1'000'000;
  h.ok(c);
  h.ok(IssueCoupons{"C1", "M1", 2});
  PlaceOrder o;
  o.id = "O1";
  o.buyer = "member:M1";
  o.seller = "store:S1";
  o.channel = "store";
  o.ship_to_region = "R1";
  o.lines = {{"A", 3, 100'000}};
  o.coupons = {"C1-000001"};
  o.promised_by_us = test::t0_us + 7LL * 24 * 3600 * 1'000'000;
  h.ok(o);
  h.ok(ShipOrder{"O1", {}});
  std::uint64_t before_delivery = h.engine->last_seq();
  h.ok(DeliverOrder{"O1"});
  std::uint64_t delivered = h.engine->last_seq();
  std::string dir = h.dir.path().string();
  h.close();
  auto member_at = [&](std::uint64_t seq) {
    Run r = run_cli({"as-of", "--data", dir, "--seq", std::to_string(seq), "--member", "M1", "--json"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.out);
    return boost::json::parse(r.out).at("member");
  };
  auto before = member_at(before_delivery);
  CHECK(before.at("points").as_int64() == 0);
  CHECK(before.at("tier").as_string() == "standard");
  CHECK(before.at("coupons").as_int64() == 2);
  CHECK(before.at("coupons_redeemed").as_int64() == 1);
  // 300,000 - 10,000 = 290,000 fen paid: 2,900 points, and silver (2,000 yuan or more in a year).
  auto after = member_at(delivered);
  CHECK(after.at("points").as_int64() == 2900);
  CHECK(after.at("tier").as_string() == "silver");
}

TEST_CASE("rebuild compares the stored projections with a rebuild from the log and names what differs") {
  History log;
  std::string dir = log.h.dir.path().string();
  REQUIRE(log.live->save_snapshots().ok());
  log.close();
  Run equal = run_cli({"rebuild", "--data", dir, "--json"});
  REQUIRE_MESSAGE(equal.exit_code == 0, equal.out);
  auto j = boost::json::parse(equal.out);
  CHECK(j.at("ok").as_bool());
  CHECK(j.at("projections").as_array().size() == ReadModel().projections().size() + 1);  // and the ledger state
  for (const auto& p : j.at("projections").as_array()) CHECK(p.at("equal").as_bool());
  CHECK(run_cli({"rebuild", "--data", dir}).out.find("every stored projection equals its rebuild") !=
        std::string::npos);

  // A sound file that says something else: the board of an empty history under this log's header.
  auto stored = read_snapshot_file(snapshot_dir(dir), "sales_board");
  REQUIRE(stored.ok());
  SnapshotWriter empty;
  SalesBoard{}.save(empty);
  REQUIRE(write_snapshot_file(snapshot_dir(dir), stored->header, empty.bytes()).ok());
  Run differs = run_cli({"rebuild", "--data", dir, "--json"});
  CHECK(differs.exit_code == 1);
  auto d = boost::json::parse(differs.out);
  CHECK_FALSE(d.at("ok").as_bool());
  for (const auto& p : d.at("projections").as_array()) {
    bool board = p.at("name").as_string() == "sales_board";
    CHECK(p.at("equal").as_bool() == !board);
    if (board) CHECK_FALSE(p.at("differences").as_array().empty());
  }
  // A damaged file: it cannot be used, and says why.
  REQUIRE(write_snapshot_file(snapshot_dir(dir), stored->header, stored->payload).ok());
  auto path = snapshot_dir(dir) / "alerts.snap";
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  bytes[bytes.size() / 2] ^= 0x01;
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  Run damaged = run_cli({"rebuild", "--data", dir});
  CHECK(damaged.exit_code == 1);
  CHECK(damaged.out.find("cannot be used") != std::string::npos);
  // No snapshots: nothing to compare, and that is no failure.
  std::filesystem::remove_all(snapshot_dir(dir));
  Run none = run_cli({"rebuild", "--data", dir});
  CHECK(none.exit_code == 0);
  CHECK(none.out.find("no stored snapshots") != std::string::npos);
}

namespace {
std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}
void write_lines(const std::filesystem::path& path, const std::vector<std::string>& lines) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  for (const auto& l : lines) out << l << "\n";
}
}  // namespace

TEST_CASE("export --raw then import rebuilds the log exactly: same chain hash, same state, same index") {
  History log;
  std::string dir = log.h.dir.path().string();
  std::string original = log.h.render();
  log.close();
  Run exported = run_cli({"export", "--data", dir, "--raw"});
  REQUIRE(exported.exit_code == 0);
  auto lines = lines_of(exported.out);
  REQUIRE(lines.size() > 20);
  test::TempDir scratch;
  auto file = scratch.path() / "log.jsonl";
  write_lines(file, lines);
  std::string copy = (scratch.path() / "copy").string();
  Run imported = run_cli({"import", "--data", copy, "--input", file.string()});
  REQUIRE_MESSAGE(imported.exit_code == 0, imported.out);
  auto before = boost::json::parse(run_cli({"verify", "--data", dir, "--json"}).out);
  Run verify_copy = run_cli({"verify", "--data", copy, "--json"});
  REQUIRE_MESSAGE(verify_copy.exit_code == 0, verify_copy.out);  // the idempotency index came along too
  auto after = boost::json::parse(verify_copy.out);
  CHECK(after.at("chain_hash") == before.at("chain_hash"));
  CHECK(after.at("events") == before.at("events"));
  CHECK(after.at("commands") == before.at("commands"));
  auto folded = fold_log(copy);
  REQUIRE(folded.ok());
  CHECK(folded->render() == original);
  // Into a directory that has events: refused, exit 2, nothing changed.
  CHECK(run_cli({"import", "--data", copy, "--input", file.string()}).exit_code == 2);
  CHECK(boost::json::parse(run_cli({"verify", "--data", copy, "--json"}).out).at("chain_hash") ==
        before.at("chain_hash"));

  // Damaged input: exit 1, and nothing is left behind.
  auto refused = [&](const std::vector<std::string>& damaged, const char* what) {
    INFO(what);
    write_lines(file, damaged);
    std::string target = (scratch.path() / "bad").string();
    std::filesystem::remove_all(target);
    Run r = run_cli({"import", "--data", target, "--input", file.string()});
    CHECK(r.exit_code == 1);
    auto left = log_last_seq(target);
    CHECK((!left.ok() || *left == 0));
  };
  auto flip_raw = lines;
  {
    auto j = boost::json::parse(flip_raw[5]).as_object();
    std::string raw(j.at("raw").as_string());
    raw[raw.size() / 2] = raw[raw.size() / 2] == 'A' ? 'B' : 'A';
    j["raw"] = raw;
    flip_raw[5] = boost::json::serialize(j);
  }
  refused(flip_raw, "one event's bytes changed");
  auto swapped = lines;
  std::swap(swapped[7], swapped[8]);
  refused(swapped, "two events swapped");
  auto dropped = lines;
  dropped.erase(dropped.begin() + 9);
  refused(dropped, "an event missing");
  auto edited = lines;
  {
    auto j = boost::json::parse(edited[3]).as_object();
    j["seq"] = 99;
    edited[3] = boost::json::serialize(j);
  }
  refused(edited, "a readable field edited");
  Run plain = run_cli({"export", "--data", dir});
  refused(lines_of(plain.out), "an export without --raw");
  auto cut = lines;
  cut.resize(cut.size() - 1);
  // Cutting the log at a command's end is a shorter log, fine; cutting inside a command is not.
  bool inside = boost::json::parse(cut.back()).as_object().if_contains("command_fingerprint") == nullptr &&
                !boost::json::parse(cut.back()).at("command_id").as_string().empty();
  if (inside) refused(cut, "a command cut in half");
}

TEST_CASE("a damaged log fails verify with exit 1 at the damaged sequence; bad usage exits 2, no log exits 3") {
  History log;
  std::string dir = log.h.dir.path().string();
  log.close();
  test::edit_record(log.h.dir.path(), 21, [](std::vector<std::uint8_t>& bytes) {
    bytes[bytes.size() / 2] ^= 0x40;
    return true;
  });
  Run damaged = run_cli({"verify", "--data", dir, "--json"});
  CHECK(damaged.exit_code == 1);
  auto j = boost::json::parse(damaged.out);
  CHECK(!j.at("ok").as_bool());
  CHECK(j.at("seq").as_int64() == 21);
  CHECK(run_cli({"export", "--data", dir}).exit_code == 1);

  CHECK(run_cli({}).exit_code == 2);
  CHECK(run_cli({"frobnicate"}).exit_code == 2);
  CHECK(run_cli({"verify"}).exit_code == 2);
  CHECK(run_cli({"as-of", "--data", dir, "--seq", "x", "--order", "O1"}).exit_code == 2);
  CHECK(run_cli({"verify", "--help"}).exit_code == 0);
  CHECK(run_cli({"verify", "--data", (log.h.dir.path() / "missing").string()}).exit_code == 3);
}
