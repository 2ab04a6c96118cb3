// The rules of the double-entry stock ledger, one case per rule, each rejection included.
// Read top to bottom, this is the ledger's documentation.
#include "support.hpp"

using namespace ledger;
using test::Harness;

TEST_SUITE_BEGIN("rules");

TEST_CASE("a receipt moves stock from production into a warehouse; every SKU still sums to zero") {
  Harness h;
  h.small_network();
  h.ok(ReceiveStock{"W1", {{"A", 100, "LOT-1"}, {"B", 40, {}}}, "BATCH-1"});
  CHECK(h.balance("warehouse:W1", "A") == Balance{100, 0});
  CHECK(h.balance("production", "A") == Balance{-100, 0});
  CHECK(h.balance("warehouse:W1", "B").on_hand == 40);
  h.check_invariants();
}

TEST_CASE("a receipt is rejected for an unknown warehouse or SKU, or a bad quantity, and writes nothing") {
  Harness h;
  h.small_network();
  h.rejected(ReceiveStock{"W9", {{"A", 1, {}}}, "B1"}, ErrorCode::unknown_id);
  h.rejected(ReceiveStock{"W1", {{"NOPE", 1, {}}}, "B1"}, ErrorCode::unknown_id);
  h.rejected(ReceiveStock{"W1", {{"A", 0, {}}}, "B1"}, ErrorCode::invalid_argument);
  h.rejected(ReceiveStock{"W1", {{"A", -5, {}}}, "B1"}, ErrorCode::invalid_argument);
  h.rejected(ReceiveStock{"W1", {{"A", limits::qty_max + 1, {}}}, "B1"}, ErrorCode::invalid_argument);
  h.rejected(ReceiveStock{"W1", {}, "B1"}, ErrorCode::invalid_argument);
  h.rejected(ReceiveStock{"W1", {{"A", 1, {}}}, ""}, ErrorCode::invalid_argument);
  h.rejected(ReceiveStock{"W1", {{"A", 1, "lot with spaces"}}, "B1"}, ErrorCode::invalid_argument);
  std::vector<StockLineInput> too_many(limits::lines_max + 1, StockLineInput{"A", 1, {}});
  h.rejected(ReceiveStock{"W1", too_many, "B1"}, ErrorCode::invalid_argument);
  // A failure inside a multi-line command writes none of its lines.
  h.rejected(ReceiveStock{"W1", {{"A", 5, {}}, {"NOPE", 1, {}}}, "B1"}, ErrorCode::unknown_id);
  CHECK(h.balance("warehouse:W1", "A").on_hand == 0);
}

TEST_CASE("an adjustment corrects a count in either direction but never below zero available") {
  Harness h;
  h.small_network();
  h.ok(ReceiveStock{"W1", {{"A", 10, {}}}, "B1"});
  h.ok(AdjustStock{"warehouse:W1", "A", -3, "breakage"});
  h.ok(AdjustStock{"warehouse:W1", "A", 1, "found in count"});
  CHECK(h.balance("warehouse:W1", "A").on_hand == 8);
  CHECK(h.balance("adjustment", "A").on_hand == 2);
  auto e = h.rejected(AdjustStock{"warehouse:W1", "A", -9, "loss"}, ErrorCode::insufficient_stock);
  CHECK(e.number("available") == 8);
  CHECK(e.number("requested") == 9);
  h.rejected(AdjustStock{"warehouse:W1", "A", 0, "nothing"}, ErrorCode::invalid_argument);
  h.rejected(AdjustStock{"warehouse:W1", "A", 1, ""}, ErrorCode::invalid_argument);
  h.rejected(AdjustStock{"production", "A", 1, "virtual"}, ErrorCode::invalid_argument);
  h.rejected(AdjustStock{"transit:T1", "A", 1, "goods on the road are not counted"}, ErrorCode::invalid_argument);
  h.rejected(AdjustStock{"store:S9", "A", 1, "unknown store"}, ErrorCode::unknown_id);
  h.rejected(AdjustStock{"warehouse:W1", "Z", 1, "unknown sku"}, ErrorCode::unknown_id);
  h.rejected(AdjustStock{"shelf:W1", "A", 1, "not a location"}, ErrorCode::invalid_argument);
  h.check_invariants();
}

TEST_CASE("a transfer ships into transit:ID and its receipt moves the goods to the destination") {
  Harness h;
  h.small_network();
  h.ok(ReceiveStock{"W1", {{"A", 100, {}}}, "B1"});
  h.ok(ShipTransfer{"T1", "warehouse:W1", "dealer:D1", {{"A", 30, {}}}});
  CHECK(h.balance("warehouse:W1", "A").on_hand == 70);
  CHECK(h.balance("transit:T1", "A").on_hand == 30);
  CHECK(h.balance("dealer:D1", "A").on_hand == 0);
  h.ok(ReceiveTransfer{"T1"});
  CHECK(h.balance("transit:T1", "A").on_hand == 0);
  CHECK(h.balance("dealer:D1", "A").on_hand == 30);
  h.check_invariants();
}

TEST_CASE("a transfer is rejected when stock is short, counting a SKU listed on several lines together") {
  Harness h;
  h.small_network();
  h.ok(ReceiveStock{"W1", {{"A", 10, {}}}, "B1"});
  auto e = h.rejected(ShipTransfer{"T1", "warehouse:W1", "store:S1", {{"A", 6, {}}, {"A", 5, {}}}},
                      ErrorCode::insufficient_stock);
  CHECK(e.number("available") == 10);
  CHECK(e.number("requested") == 11);
  CHECK(e.number("short") == 1);
  h.ok(ShipTransfer{"T1", "warehouse:W1", "store:S1", {{"A", 6, {}}, {"A", 4, {}}}});
  CHECK(h.balance("transit:T1", "A").on_hand == 10);
}

TEST_CASE("transfer rejections: reused id, same ends, unknown or virtual ends, receiving twice or unknown") {
  Harness h;
  h.small_network();
  h.ok(ReceiveStock{"W1", {{"A", 10, {}}}, "B1"});
  h.ok(ShipTransfer{"T1", "warehouse:W1", "warehouse:W2", {{"A", 1, {}}}});
  h.rejected(ShipTransfer{"T1", "warehouse:W1", "warehouse:W2", {{"A", 1, {}}}}, ErrorCode::already_exists);
  h.rejected(ShipTransfer{"T2", "warehouse:W1", "warehouse:W1", {{"A", 1, {}}}}, ErrorCode::invalid_argument);
  h.rejected(ShipTransfer{"T2", "warehouse:W1", "store:S404", {{"A", 1, {}}}}, ErrorCode::unknown_id);
  h.rejected(ShipTransfer{"T2", "production", "warehouse:W2", {{"A", 1, {}}}}, ErrorCode::invalid_argument);
  h.rejected(ShipTransfer{"T2", "transit:T1", "warehouse:W2", {{"A", 1, {}}}}, ErrorCode::invalid_argument);
  h.rejected(ShipTransfer{"T 2", "warehouse:W1", "warehouse:W2", {{"A", 1, {}}}}, ErrorCode::invalid_argument);
  h.ok(ReceiveTransfer{"T1"});
  h.rejected(ReceiveTransfer{"T1"}, ErrorCode::illegal_transition);
  h.rejected(ReceiveTransfer{"T404"}, ErrorCode::unknown_id);
  h.check_invariants();
}

TEST_CASE("a reservation holds stock: reserved rises, available falls, on hand stays") {
  Harness h;
  h.small_network();
  h.ok(ReceiveStock{"W1", {{"A", 10, {}}}, "B1"});
  h.ok(CreateReservation{"R1", "warehouse:W1", "customer", {{"A", 4, {}}}, test::t0_us + 1'000'000});
  CHECK(h.balance("warehouse:W1", "A") == Balance{10, 4});
  CHECK(h.balance("warehouse:W1", "A").available() == 6);
  // What is held cannot be taken by anything else.
  h.rejected(ShipTransfer{"T1", "warehouse:W1", "store:S1", {{"A", 7, {}}}}, ErrorCode::insufficient_stock);
  h.rejected(CreateReservation{"R2", "warehouse:W1", "customer", {{"A", 7, {}}}, test::t0_us + 1'000'000},
             ErrorCode::insufficient_stock);
  h.rejected(AdjustStock{"warehouse:W1", "A", -7, "loss"}, ErrorCode::insufficient_stock);
  h.check_invariants();
}

TEST_CASE("posting a reservation moves what was posted and releases the whole hold (partial post)") {
  Harness h;
  h.small_network();
  h.ok(ReceiveStock{"W1", {{"A", 10, {}}, {"B", 10, {}}}, "B1"});
  h.ok(CreateReservation{"R1", "warehouse:W1", "store:S1", {{"A", 4, {}}, {"B", 2, {}}}, test::t0_us + 1'000'000});
  h.ok(PostReservation{"R1", {{"A", 3, {}}}});  // B not posted at all, one A left behind
  CHECK(h.balance("warehouse:W1", "A") == Balance{7, 0});
  CHECK(h.balance("warehouse:W1", "B") == Balance{10, 0});
  CHECK(h.balance("store:S1", "A").on_hand == 3);
  h.rejected(PostReservation{"R1", {}}, ErrorCode::illegal_transition);
  h.rejected(VoidReservation{"R1", "too late"}, ErrorCode::illegal_transition);
  h.check_invariants();
}

TEST_CASE("posting everything, over-posting, voiding and unknown reservations") {
  Harness h;
  h.small_network();
  h.ok(ReceiveStock{"W1", {{"A", 10, {}}}, "B1"});
  h.ok(CreateReservation{"R1", "warehouse:W1", "customer", {{"A", 4, {}}}, test::t0_us + 1'000'000});
  h.rejected(PostReservation{"R1", {{"A", 5, {}}}}, ErrorCode::invalid_argument);
  h.rejected(PostReservation{"R1", {{"B", 1, {}}}}, ErrorCode::invalid_argument);
  h.ok(PostReservation{"R1", {}});  // no lines: post all that is held
  CHECK(h.balance("customer", "A").on_hand == 4);
  h.ok(CreateReservation{"R2", "warehouse:W1", "customer", {{"A", 6, {}}}, test::t0_us + 1'000'000});
  h.rejected(VoidReservation{"R2", ""}, ErrorCode::invalid_argument);
  h.ok(VoidReservation{"R2", "member cancelled"});
  CHECK(h.balance("warehouse:W1", "A") == Balance{6, 0});
  h.rejected(PostReservation{"R404", {}}, ErrorCode::unknown_id);
  h.rejected(CreateReservation{"R2", "warehouse:W1", "customer", {{"A", 1, {}}}, test::t0_us + 1'000'000},
             ErrorCode::already_exists);
  h.check_invariants();
}

TEST_CASE("a reservation expires when the clock passes its deadline, releasing its stock") {
  Harness h;
  h.small_network();
  h.ok(ReceiveStock{"W1", {{"A", 10, {}}}, "B1"});
  h.rejected(CreateReservation{"R0", "warehouse:W1", "customer", {{"A", 1, {}}}, test::t0_us},
             ErrorCode::invalid_argument);  // a deadline must lie in the future
  h.ok(CreateReservation{"R1", "warehouse:W1", "customer", {{"A", 4, {}}}, test::t0_us + 1'000'000});
  h.clock->advance_us(999'999);
  h.ok(AdjustStock{"warehouse:W1", "A", 1, "count"});  // any batch lets the writer look at the clock
  CHECK(h.balance("warehouse:W1", "A").reserved == 4);
  h.clock->advance_us(1);
  h.ok(AdjustStock{"warehouse:W1", "A", 1, "count"});
  CHECK(h.balance("warehouse:W1", "A") == Balance{12, 0});
  h.rejected(PostReservation{"R1", {}}, ErrorCode::illegal_transition);
  std::string text = h.render();
  CHECK(text.find("reservation R1 warehouse:W1->customer expired") != std::string::npos);
}

TEST_CASE("master data: references must exist, ids are short and plain, redefining updates") {
  Harness h;
  h.rejected(DefineWarehouse{"W1", "x", "R1", 0, 0, 0}, ErrorCode::unknown_id);
  h.ok(DefineRegion{"R1", "East"});
  h.rejected(DefineRegion{"R 1", "East"}, ErrorCode::invalid_argument);
  h.rejected(DefineRegion{std::string(65, 'R'), "East"}, ErrorCode::invalid_argument);
  h.rejected(DefineRegion{"R2", ""}, ErrorCode::invalid_argument);
  h.rejected(DefineWarehouse{"W1", "x", "R1", 91'000'000, 0, 0}, ErrorCode::invalid_argument);
  h.rejected(DefineWarehouse{"W1", "x", "R1", 0, 0, -1}, ErrorCode::invalid_argument);
  h.rejected(DefineDealer{"D1", "x", "R1", {"R9"}, 0}, ErrorCode::unknown_id);
  h.rejected(DefineDealer{"D1", "x", "R1", {}, -1}, ErrorCode::invalid_argument);
  h.rejected(DefineStore{"S1", "x", "D1", "R1", 0, 0}, ErrorCode::unknown_id);
  h.rejected(DefineSku{"A", "x", 0, {}, {}}, ErrorCode::invalid_argument);
  h.rejected(DefineSku{"A", "x", 6, {-1, 0, 0}, {}}, ErrorCode::invalid_argument);
  h.ok(DefineRegion{"R1", "East China"});
  std::string text = h.render();
  CHECK(text.find("region R1 'East China'") != std::string::npos);
  CHECK(text.find("stream region:R1 v2") != std::string::npos);
}

TEST_CASE("the whole state renders canonically (a small history, as one string)") {
  Harness h;
  h.ok(DefineRegion{"R1", "East"});
  h.ok(DefineWarehouse{"W1", "Chengdu", "R1", 1, 2, 3});
  h.ok(DefineSku{"A", "Sauce", 6, {3, 2, 1}, {1, 1, 1}});
  h.ok(ReceiveStock{"W1", {{"A", 5, "L1"}}, "B1"});
  std::string text = h.render();
  std::string body = text.substr(text.find('\n') + 1);
  CHECK(body ==
        "region R1 'East'\n"
        "warehouse W1 'Chengdu' R1 1,2 cap=3\n"
        "sku A 'Sauce' case=6 prices=3/2/1 floors=1/1/1\n"
        "balance production A on_hand=-5 reserved=0 since=0\n"
        "balance warehouse:W1 A on_hand=5 reserved=0 since=1790000000000000\n"
        "stream region:R1 v1\n"
        "stream sku:A v1\n"
        "stream warehouse:W1 v2\n");
}

TEST_SUITE_END();
