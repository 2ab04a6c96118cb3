// The lot trace, by hand: every hop of a lot, who holds it, the dealer that first received it, the
// channel conflict when it reaches another dealer's store outside that dealer's territory (once), and
// the bound on movements kept per lot.
#include "ledger/read_model.hpp"
#include "projection_support.hpp"
#include "support.hpp"

using namespace ledger;
using test::Harness;

namespace {

constexpr std::int64_t hour_us = 3'600'000'000;

// small_network (R1: W1 W2, D1 with S1 S2) plus R2 with D2 and its store S3, and R3 with D2's store S4,
// where D1 may sell (its territory).
void lot_network(Harness& h) {
  h.small_network();
  h.ok(DefineRegion{"R2", "West"});
  h.ok(DefineRegion{"R3", "North"});
  h.ok(DefineDealer{"D1", "Dealer one", "R1", {"R1", "R3"}, 1'000'000});
  h.ok(DefineDealer{"D2", "Dealer two", "R2", {"R2"}, 1'000'000});
  h.ok(DefineStore{"S3", "Store three", "D2", "R2", 34'100'000, 108'100'000});
  h.ok(DefineStore{"S4", "Store four", "D2", "R3", 39'900'000, 116'400'000});
}

void transfer(Harness& h, const std::string& id, const std::string& from, const std::string& to, std::int64_t qty) {
  h.ok(ShipTransfer{id, from, to, {{"A", qty, "L1"}}});
  h.ok(ReceiveTransfer{id});
}

std::unique_ptr<ReadModel> rebuild(Harness& h) { return test::rebuild_model(h.dir.path()); }

std::string movements_text(const LotRecord& r) {
  std::string out;
  for (const auto& m : r.movements) {
    out += fmt::format("{} {} -> {} {}x{}\n", lot_move_kind_name(m.kind), m.from, m.to, m.qty, m.sku);
  }
  return out;
}

std::string holders_text(const LotRecord& r) {
  std::string out;
  for (const auto& [key, qty] : r.holders) out += fmt::format("{} {} {}\n", key.first, key.second, qty);
  return out;
}

std::vector<AlertRecord> conflicts(const ReadModel& m) {
  return m.alerts().query("channel_conflict", 0, 100, [](const AlertRecord&) { return true; });
}

}  // namespace

TEST_SUITE_BEGIN("projections");

TEST_CASE(
    "lot trace: each hop of a lot, its holders and first dealer; reaching another dealer's store outside "
    "the first dealer's territory is a channel conflict, once") {
  Harness h;
  lot_network(h);
  h.ok(ReceiveStock{"W1", {{"A", 100, "L1"}, {"B", 10, {}}}, "BATCH-1"});  // B has no lot: not traced
  transfer(h, "T1", "warehouse:W1", "dealer:D1", 60);
  transfer(h, "T2", "dealer:D1", "store:S1", 10);  // D1's own store: no conflict
  {
    auto m = rebuild(h);
    CHECK(conflicts(*m).empty());
    REQUIRE(m->lot_trace().lot("L1") != nullptr);
    CHECK(m->lot_trace().lot("L1")->first_dealer == "D1");
  }
  transfer(h, "T3", "dealer:D1", "store:S3", 20);  // D2's store in R2, outside D1's R1 and territory
  transfer(h, "T4", "dealer:D1", "store:S4", 5);   // D2's store in R3: inside D1's territory
  h.clock->advance_us(hour_us);
  transfer(h, "T5", "dealer:D1", "store:S3", 5);  // S3 again: already raised
  h.ok(CreateReservation{"RS1", "store:S1", "customer", {{"A", 2, "L1"}}, test::t0_us + 24 * hour_us});
  h.ok(PostReservation{"RS1", {}});

  auto m = rebuild(h);
  CHECK(m->lot_trace().size() == 1);
  CHECK(m->lot_trace().lot("L2") == nullptr);
  const LotRecord& r = *m->lot_trace().lot("L1");
  CHECK(movements_text(r) ==
        "received production -> warehouse:W1 100xA\n"
        "transfer_shipped warehouse:W1 -> transit:T1 60xA\n"
        "transfer_received transit:T1 -> dealer:D1 60xA\n"
        "transfer_shipped dealer:D1 -> transit:T2 10xA\n"
        "transfer_received transit:T2 -> store:S1 10xA\n"
        "transfer_shipped dealer:D1 -> transit:T3 20xA\n"
        "transfer_received transit:T3 -> store:S3 20xA\n"
        "transfer_shipped dealer:D1 -> transit:T4 5xA\n"
        "transfer_received transit:T4 -> store:S4 5xA\n"
        "transfer_shipped dealer:D1 -> transit:T5 5xA\n"
        "transfer_received transit:T5 -> store:S3 5xA\n"
        "reserved store:S1 -> customer 2xA\n"
        "reservation_posted store:S1 -> customer 2xA\n");
  CHECK(r.movements.back().ts_us == test::t0_us + hour_us);
  CHECK(r.movements_dropped == 0);
  CHECK(holders_text(r) ==
        "customer A 2\n"
        "dealer:D1 A 20\n"  // 60 in, 10 + 20 + 5 + 5 out
        "store:S1 A 8\n"
        "store:S3 A 25\n"
        "store:S4 A 5\n"
        "warehouse:W1 A 40\n");  // transits emptied: no entry
  CHECK(r.first_dealer == "D1");
  CHECK(r.skus == std::set<std::string, std::less<>>{"A"});
  CHECK(r.touched ==
        std::set<std::string, std::less<>>{"dealer:D1", "store:S1", "store:S3", "store:S4", "warehouse:W1"});

  auto raised = conflicts(*m);
  REQUIRE(raised.size() == 1);
  CHECK(raised[0].subject == "lot:L1");
  CHECK(raised[0].region == "R2");  // the store's region and dealer see it
  CHECK(raised[0].dealer == "D2");
  CHECK(raised[0].store == "S3");
  CHECK(raised[0].message ==
        "lot L1 (20 x A) first received by dealer:D1 reached store:S3 of dealer:D2 in region R2, outside dealer:D1's "
        "region R1 and territory");

  // A restart from snapshots plus a tail that raises another conflict equals the rebuild.
  test::save_live_snapshots(*h.engine, h.dir.path());
  h.ok(DefineStore{"S5", "Store five", "D2", "R2", 34'200'000, 108'200'000});
  transfer(h, "T6", "store:S3", "store:S5", 1);  // S3 passes it on: S5 is D2's too, still D1's lot
  auto restored = test::restore_model(h.dir.path());
  REQUIRE(restored->catch_up(h.dir.path()).ok());
  auto rebuilt = rebuild(h);
  test::require_same_models(test::render_model(*restored), test::render_model(*rebuilt));
  CHECK(conflicts(*rebuilt).size() == 2);
  CHECK(conflicts(*rebuilt).back().store == "S5");
}

TEST_CASE("lot trace: the newest lot_movements_kept_max movements of a lot are kept, the older counted") {
  Harness h;
  lot_network(h);
  // 512 lines of one unit each per receipt: 20 receipts are 10,240 movements of lot LX.
  std::vector<StockLineInput> lines(limits::lines_max, StockLineInput{"A", 1, "LX"});
  for (int i = 0; i < 20; ++i) h.ok(ReceiveStock{"W1", lines, fmt::format("BATCH-{}", i)});
  auto m = rebuild(h);
  const LotRecord& r = *m->lot_trace().lot("LX");
  CHECK(r.movements.size() == lot_movements_kept_max);
  CHECK(r.movements_dropped == 20 * limits::lines_max - lot_movements_kept_max);
  CHECK(r.movements.back().seq == h.engine->last_seq());
  CHECK(r.holders.at({"warehouse:W1", "A"}) == 20 * std::int64_t(limits::lines_max));  // holders are whole
}

TEST_SUITE_END();
