// Orders: one case per rule of DESIGN.md "Orders" and API.md "Orders", each rejection included.
// Read top to bottom, this is the documentation of the order lifecycle: how an order is allocated
// (held by reservations order.ID.N at its source), shipped (into transit:order.ID), delivered (to
// the buyer), returned (to the source), approved, cancelled, expired and warned about.
#include <map>
#include <optional>

#include "model.hpp"
#include "support.hpp"

using namespace ledger;
using test::Harness;


namespace {

constexpr std::int64_t hour_us = 3'600'000'000;
constexpr std::int64_t day_us = 24 * hour_us;

const Actor sales_director{"zhao", "sales_director", ""};
const Actor finance{"qian", "finance", ""};
const Actor manager_east{"li", "region_manager", "R1"};
const Actor manager_west{"wang", "region_manager", "R2"};

// An approval rule for `step`, from an order total on (0: any total); set more conditions on it.
ApprovalRuleInput rule(std::string step, std::int64_t min_amount_cents = 0) {
  ApprovalRuleInput r;
  r.step = std::move(step);
  r.min_amount_cents = min_amount_cents;
  return r;
}

// Runs a command as someone other than the harness's hq_admin.
CommandResult run_as(Harness& h, const Actor& actor, CommandBody body, std::string command_id = {}) {
  return h.engine->execute(Command{std::move(command_id), actor, std::move(body)});
}

// A spot order sold by hq to dealer D1, shipped to a point next to Chengdu (warehouse W1) in R1,
// promised in three days.
PlaceOrder hq_order(std::string id, std::vector<OrderLineInput> lines, std::string buyer = "dealer:D1") {
  PlaceOrder o;
  o.id = std::move(id);
  o.buyer = std::move(buyer);
  o.seller = "hq";
  o.channel = "dealer_storefront";
  o.ship_to_region = "R1";
  o.ship_to_lat_e6 = 30'600'000;
  o.ship_to_lon_e6 = 104'100'000;
  o.lines = std::move(lines);
  o.promised_by_us = test::t0_us + 3 * day_us;
  return o;
}

PlaceOrder presale(std::string id, std::int64_t qty, std::string sku = "A") {
  PlaceOrder o = hq_order(std::move(id), {{std::move(sku), qty, 70000}});
  o.type = OrderType::presale;
  o.promised_by_us = test::t0_us + 40 * day_us;
  return o;
}

// Member M1 books units at store S1 for pickup tomorrow.
PlaceOrder booking(std::string id, std::int64_t qty) {
  PlaceOrder o;
  o.id = std::move(id);
  o.type = OrderType::reservation;
  o.buyer = "member:M1";
  o.seller = "store:S1";
  o.channel = "store";
  o.ship_to_region = "R1";
  o.lines = {{"A", qty, 100000}};
  o.promised_by_us = test::t0_us + 2 * day_us;
  o.pickup_at_us = test::t0_us + day_us;
  return o;
}

std::optional<OrderRecord> order(Harness& h, const std::string& id) {
  std::optional<OrderRecord> out;
  h.engine->inspect([&](const LedgerState& s) {
    if (const OrderRecord* o = s.order(id)) out = *o;
  });
  return out;
}

std::string status(Harness& h, const std::string& id) {
  auto o = order(h, id);
  return o ? order_status_name(o->status()) : "none";
}

std::int64_t held(Harness& h, const std::string& id, const std::string& sku) {
  auto o = order(h, id);
  REQUIRE(o);
  auto it = o->held.find(sku);
  return it == o->held.end() ? 0 : it->second;
}

std::string allocation(Harness& h, const std::string& id) {
  auto o = order(h, id);
  REQUIRE(o);
  std::string out;
  for (const auto& a : o->allocation) out += fmt::format("{} {}x{} {};", a.location, a.qty, a.sku, a.reservation);
  return out;
}

std::string detail(const Error& e, std::string_view key) {
  for (const auto& d : e.details) {
    if (d.key == key && std::holds_alternative<std::string>(d.value)) return std::get<std::string>(d.value);
  }
  return {};
}

std::vector<std::string> timeline(Harness& h, const std::string& id) {
  std::vector<std::string> out;
  auto o = order(h, id);
  REQUIRE(o);
  for (const auto& t : o->timeline) out.push_back(t.note.empty() ? t.kind : t.kind + ":" + t.note);
  return out;
}

// The writer expires holds and raises delay warnings at the start of a batch: this runs one that
// changes nothing else (it redefines R1 as it is).
void tick(Harness& h) { h.ok(DefineRegion{"R1", "East"}); }

// The stock invariants and the order invariants (tests/model.hpp).
void check(Harness& h) {
  h.check_invariants();
  h.engine->inspect([](const LedgerState& s) {
    std::string violation = test::order_invariant_violation(s);
    CHECK_MESSAGE(violation.empty(), violation);
  });
}

// small_network() plus a second region, member M1 of store S1, and stock: A 50 at W1 and at W2.
void network(Harness& h) {
  h.small_network();
  h.ok(DefineRegion{"R2", "West"});
  h.ok(DefineMember{"M1", "Member one", "S1"});
  h.ok(ReceiveStock{"W1", {{"A", 50, {}}, {"B", 50, {}}}, "BATCH-1"});
  h.ok(ReceiveStock{"W2", {{"A", 50, {}}, {"B", 50, {}}}, "BATCH-2"});
}

// Stock at store S1: 10 of A, moved down from W1.
void stock_store(Harness& h) {
  h.ok(ShipTransfer{"T-S1", "warehouse:W1", "store:S1", {{"A", 10, {}}}});
  h.ok(ReceiveTransfer{"T-S1"});
}

}  // namespace

TEST_SUITE_BEGIN("orders");

// ---- spot orders and sourcing

TEST_CASE("a spot order sold by hq is allocated from the best warehouse, where a reservation holds its stock") {
  Harness h;
  network(h);
  h.ok(hq_order("O1", {{"A", 12, 70000}}));
  CHECK(status(h, "O1") == "allocated");
  // Shipped to Chengdu: W1 is next door, W2 (Wuhan) 1,000 km away.
  CHECK(allocation(h, "O1") == "warehouse:W1 12xA order.O1.0;");
  CHECK(h.balance("warehouse:W1", "A") == Balance{50, 12});
  CHECK(h.balance("warehouse:W2", "A") == Balance{50, 0});
  h.engine->inspect([](const LedgerState& s) {
    const ReservationRecord* r = s.reservation("order.O1.0");
    REQUIRE(r != nullptr);
    CHECK(r->from == "warehouse:W1");
    CHECK(r->to == "transit:order.O1");
    CHECK(r->status == ReservationStatus::pending);
    CHECK(r->deadline_us == test::t0_us + 3 * day_us + order_hold_after_promise_us);
  });
  // Shipped to Wuhan, the same order comes from W2.
  PlaceOrder wuhan = hq_order("O2", {{"A", 5, 70000}});
  wuhan.ship_to_lat_e6 = 30'600'000;
  wuhan.ship_to_lon_e6 = 114'300'000;
  h.ok(wuhan);
  CHECK(allocation(h, "O2") == "warehouse:W2 5xA order.O2.0;");
  CHECK(h.balance("warehouse:W2", "A") == Balance{50, 5});
  check(h);
}

TEST_CASE("a spot order the warehouses cannot cover is rejected with insufficient_stock naming what is short") {
  Harness h;
  network(h);
  h.ok(hq_order("O1", {{"A", 90, 70000}}));  // leaves 10 of A across W1 and W2
  auto e = h.rejected(hq_order("O2", {{"B", 1, 20000}, {"A", 12, 70000}}), ErrorCode::insufficient_stock);
  CHECK(detail(e, "sku") == "A");
  CHECK(e.number("requested") == 12);
  CHECK(e.number("available") == 10);
  CHECK(e.number("short") == 2);
  // Nothing was written: no order, no hold on B.
  CHECK(status(h, "O2") == "none");
  CHECK(h.balance("warehouse:W1", "B").reserved + h.balance("warehouse:W2", "B").reserved == 0);
  check(h);
}

TEST_CASE("a backorder holds what there is now and the rest when stock arrives, the oldest backorder first") {
  Harness h;
  h.small_network();
  h.ok(ReceiveStock{"W1", {{"A", 4, {}}}, "BATCH-1"});
  PlaceOrder first = hq_order("O1", {{"A", 10, 70000}});
  first.allow_backorder = true;
  h.ok(first);
  CHECK(held(h, "O1", "A") == 4);
  CHECK(status(h, "O1") == "approved");  // approved, not every unit allocated yet
  PlaceOrder second = hq_order("O2", {{"A", 5, 70000}});
  second.allow_backorder = true;
  h.ok(second);
  CHECK(held(h, "O2", "A") == 0);
  // 8 arrive at W2: 6 complete O1, the other 2 go to O2.
  h.ok(ReceiveStock{"W2", {{"A", 8, {}}}, "BATCH-2"});
  CHECK(status(h, "O1") == "allocated");
  CHECK(allocation(h, "O1") == "warehouse:W1 4xA order.O1.0;warehouse:W2 6xA order.O1.1;");
  CHECK(held(h, "O2", "A") == 2);
  CHECK(h.balance("warehouse:W2", "A") == Balance{8, 8});
  // 10 more at W1: O2 takes the 3 it still misses; the other 7 stay available.
  h.ok(ReceiveStock{"W1", {{"A", 10, {}}}, "BATCH-3"});
  CHECK(status(h, "O2") == "allocated");
  CHECK(h.balance("warehouse:W1", "A") == Balance{14, 7});
  h.engine->inspect([](const LedgerState& s) { CHECK(s.backorders().empty()); });
  check(h);
}

// ---- presales

TEST_CASE("a presale sells the quota of an announced batch and is refused with rule_violation once it is sold") {
  Harness h;
  h.small_network();
  h.ok(AnnouncePresaleBatch{"PB1", "A", "W1", 10, test::t0_us + 30 * day_us});
  h.ok(presale("P1", 6));
  CHECK(status(h, "P1") == "approved");  // sold, nothing allocated until the batch arrives
  auto e = h.rejected(presale("P2", 5), ErrorCode::rule_violation);
  CHECK(detail(e, "reason") == "presale_quota");
  CHECK(detail(e, "sku") == "A");
  h.ok(presale("P3", 4));
  h.engine->inspect([](const LedgerState& s) {
    CHECK(s.presale_batch("PB1")->sold_qty == 10);
    CHECK(s.presale_batch("PB1")->waiting == std::vector<std::string>{"P1", "P3"});
  });
  h.rejected(presale("P4", 1), ErrorCode::rule_violation);
  // Cancelling a presale gives its quota back.
  h.ok(CancelOrder{"P3", "changed my mind"});
  h.ok(presale("P5", 4));
  // Presales are sold by hq, against a batch of a SKU that has one.
  PlaceOrder by_dealer = presale("P6", 1);
  by_dealer.seller = "dealer:D1";
  by_dealer.buyer = "store:S1";
  h.rejected(by_dealer, ErrorCode::rule_violation);
  PlaceOrder no_batch = presale("P7", 1);
  no_batch.lines[0].sku = "B";
  h.rejected(no_batch, ErrorCode::rule_violation);
  check(h);
}

TEST_CASE("a presale batch arriving is allocated first come first served: a later small order never jumps the queue") {
  Harness h;
  h.small_network();
  h.ok(AnnouncePresaleBatch{"PB1", "A", "W1", 10, test::t0_us + 30 * day_us});
  h.ok(presale("P1", 6));
  h.ok(presale("P2", 3));
  h.ok(presale("P3", 1));
  // The batch's ref arriving at another warehouse is not the batch.
  h.ok(ReceiveStock{"W2", {{"A", 20, {}}}, "PB1"});
  CHECK(held(h, "P1", "A") == 0);
  // 8 of the batch arrive: P1 takes 6; P2 needs 3 and 2 are left, so it waits, and P3 waits behind it.
  h.ok(ReceiveStock{"W1", {{"A", 8, {}}}, "PB1"});
  CHECK(status(h, "P1") == "allocated");
  CHECK(allocation(h, "P1") == "warehouse:W1 6xA order.P1.0;");
  CHECK(held(h, "P2", "A") == 0);
  CHECK(held(h, "P3", "A") == 0);
  CHECK(h.balance("warehouse:W1", "A") == Balance{8, 6});
  // The rest of the batch: P2, then P3.
  h.ok(ReceiveStock{"W1", {{"A", 2, {}}}, "PB1"});
  CHECK(status(h, "P2") == "allocated");
  CHECK(status(h, "P3") == "allocated");
  CHECK(h.balance("warehouse:W1", "A") == Balance{10, 10});
  h.engine->inspect([](const LedgerState& s) {
    CHECK(s.presale_batch("PB1")->received);
    CHECK(s.presale_batch("PB1")->waiting.empty());
  });
  // A received batch sells no more quota.
  h.rejected(presale("P4", 1), ErrorCode::rule_violation);
  check(h);
}

// ---- reservations (a member books units at a store)

TEST_CASE("a member books units at a store; picking them up delivers them") {
  Harness h;
  network(h);
  stock_store(h);
  h.ok(booking("R-1", 2));
  CHECK(status(h, "R-1") == "allocated");
  CHECK(h.balance("store:S1", "A") == Balance{10, 2});
  h.ok(DeliverOrder{"R-1"});  // the pickup
  CHECK(status(h, "R-1") == "delivered");
  CHECK(h.balance("store:S1", "A") == Balance{8, 0});
  CHECK(h.balance("customer", "A").on_hand == 2);
  CHECK(h.balance("transit:order.R-1", "A").on_hand == 0);
  // A booking is picked up, not shipped; and it is a member's, at a store, for a pickup time ahead.
  h.ok(booking("R-2", 1));
  h.rejected(ShipOrder{"R-2", {}}, ErrorCode::illegal_transition);
  PlaceOrder at_dealer = booking("R-3", 1);
  at_dealer.seller = "dealer:D1";
  h.rejected(at_dealer, ErrorCode::rule_violation);
  PlaceOrder past = booking("R-4", 1);
  past.pickup_at_us = test::t0_us;
  h.rejected(past, ErrorCode::invalid_argument);
  h.rejected(booking("R-5", 9), ErrorCode::insufficient_stock);  // 8 on hand, 1 held by R-2
  check(h);
}

TEST_CASE("a booking not picked up by its pickup time is cancelled and its units are available again") {
  Harness h;
  network(h);
  stock_store(h);
  h.ok(booking("R-1", 3));
  CHECK(h.balance("store:S1", "A") == Balance{10, 3});
  h.clock->set_us(test::t0_us + day_us - 1);
  tick(h);
  CHECK(status(h, "R-1") == "allocated");  // not yet
  h.clock->set_us(test::t0_us + day_us);
  tick(h);
  auto o = order(h, "R-1");
  CHECK(order_status_name(o->status()) == std::string("cancelled"));
  CHECK(o->end_reason == "not picked up by the pickup time");
  CHECK(h.balance("store:S1", "A") == Balance{10, 0});
  h.engine->inspect([](const LedgerState& s) { CHECK(s.reservation("order.R-1.0")->status == ReservationStatus::expired); });
  h.rejected(DeliverOrder{"R-1"}, ErrorCode::illegal_transition);
  check(h);
}

// ---- the lifecycle

TEST_CASE("an order goes placed, approved, allocated, shipped, delivered, completed, moving its stock at each step") {
  Harness h;
  h.small_network();
  h.ok(SetApprovalPolicy{{rule("sales_director", 1)}});  // every order needs the sales director
  PlaceOrder o = hq_order("O1", {{"A", 10, 70000}});
  o.allow_backorder = true;  // no stock yet
  h.ok(o);
  CHECK(status(h, "O1") == "placed");
  REQUIRE(run_as(h, sales_director, ApproveOrder{"O1", "sales_director"}).ok());
  CHECK(status(h, "O1") == "approved");
  h.ok(ReceiveStock{"W1", {{"A", 30, {}}}, "BATCH-1"});
  CHECK(status(h, "O1") == "allocated");
  CHECK(h.balance("warehouse:W1", "A") == Balance{30, 10});
  h.ok(ShipOrder{"O1", {}});
  CHECK(status(h, "O1") == "shipped");
  CHECK(h.balance("warehouse:W1", "A") == Balance{20, 0});
  CHECK(h.balance("transit:order.O1", "A") == Balance{10, 0});
  h.engine->inspect([](const LedgerState& s) { CHECK(s.inbound("dealer:D1", "A") == 10); });
  h.ok(DeliverOrder{"O1"});
  CHECK(status(h, "O1") == "delivered");
  CHECK(h.balance("transit:order.O1", "A") == Balance{});
  CHECK(h.balance("dealer:D1", "A") == Balance{10, 0});
  h.ok(CompleteOrder{"O1"});
  CHECK(status(h, "O1") == "completed");
  CHECK(timeline(h, "O1") == std::vector<std::string>{"placed", "approved:sales_director", "allocated",
                                                       "shipped:O1.s1", "delivered", "completed"});
  auto record = order(h, "O1");
  REQUIRE(record->approvals.size() == 1);
  CHECK(record->approvals[0].principal == "zhao");
  check(h);
}

TEST_CASE("a partial shipment ships the units named and keeps holding the rest") {
  Harness h;
  network(h);
  h.ok(hq_order("O1", {{"A", 10, 70000}, {"B", 5, 20000}}));
  h.ok(ShipOrder{"O1", {{"A", 4, {}}}});
  CHECK(status(h, "O1") == "partially_shipped");
  CHECK(h.balance("transit:order.O1", "A").on_hand == 4);
  CHECK(h.balance("warehouse:W1", "A") == Balance{46, 6});
  CHECK(held(h, "O1", "A") == 6);
  CHECK(held(h, "O1", "B") == 5);
  // More than the order holds is refused, and writes nothing.
  auto e = h.rejected(ShipOrder{"O1", {{"A", 7, {}}}}, ErrorCode::invalid_argument);
  CHECK(e.number("held") == 6);
  h.ok(DeliverOrder{"O1"});  // what is on the road arrives; the rest is still held
  CHECK(h.balance("dealer:D1", "A").on_hand == 4);
  CHECK(status(h, "O1") == "partially_shipped");
  h.ok(ShipOrder{"O1", {}});  // everything still held
  CHECK(status(h, "O1") == "shipped");
  CHECK(h.balance("warehouse:W1", "A") == Balance{40, 0});
  CHECK(h.balance("warehouse:W1", "B") == Balance{45, 0});
  h.ok(DeliverOrder{"O1"});
  CHECK(status(h, "O1") == "delivered");
  CHECK(h.balance("dealer:D1", "A").on_hand == 10);
  check(h);
}

TEST_CASE("cancelling before shipment voids the holds and the units are available again") {
  Harness h;
  network(h);
  h.ok(hq_order("O1", {{"A", 10, 70000}, {"B", 2, 20000}}));
  CHECK(h.balance("warehouse:W1", "A").available() == 40);
  h.ok(CancelOrder{"O1", "customer changed plans"});
  CHECK(status(h, "O1") == "cancelled");
  CHECK(h.balance("warehouse:W1", "A") == Balance{50, 0});
  CHECK(h.balance("warehouse:W1", "B") == Balance{50, 0});
  h.engine->inspect([](const LedgerState& s) { CHECK(s.reservation("order.O1.0")->status == ReservationStatus::voided); });
  h.engine->inspect([](const LedgerState& s) { CHECK(s.dealer_account("D1").credit_used_cents == 0); });
  check(h);
}

TEST_CASE("cancelling after a shipment is an illegal transition and writes nothing") {
  Harness h;
  network(h);
  h.ok(hq_order("O1", {{"A", 10, 70000}}));
  h.ok(ShipOrder{"O1", {{"A", 1, {}}}});
  auto e = h.rejected(CancelOrder{"O1", "too late"}, ErrorCode::illegal_transition);
  CHECK(detail(e, "status") == "partially_shipped");
  CHECK(held(h, "O1", "A") == 9);
  check(h);
}

TEST_CASE("a return after delivery moves the units back to the warehouse they shipped from") {
  Harness h;
  network(h);
  h.ok(hq_order("O1", {{"A", 10, 70000}}));
  h.rejected(ReturnOrder{"O1", {{"A", 1, {}}}, "not delivered yet"}, ErrorCode::illegal_transition);
  h.ok(ShipOrder{"O1", {}});
  h.ok(DeliverOrder{"O1"});
  CHECK(h.balance("warehouse:W1", "A").on_hand == 40);
  h.ok(ReturnOrder{"O1", {{"A", 3, {}}}, "broken seals"});
  CHECK(h.balance("dealer:D1", "A").on_hand == 7);
  CHECK(h.balance("warehouse:W1", "A") == Balance{43, 0});
  CHECK(order(h, "O1")->units.at("A").returned == 3);
  // The dealer's credit is freed by the value returned.
  h.engine->inspect([](const LedgerState& s) {
    CHECK(s.dealer_account("D1").credit_used_cents == 7 * 70000);
    CHECK(s.dealer_account("D1").returned_units == 3);
  });
  auto e = h.rejected(ReturnOrder{"O1", {{"A", 8, {}}}, "more than is left"}, ErrorCode::illegal_transition);
  CHECK(e.number("returnable") == 7);
  h.rejected(ReturnOrder{"O1", {{"B", 1, {}}}, "never ordered"}, ErrorCode::illegal_transition);
  check(h);
}

TEST_CASE("a return of an order split over two warehouses sends back to each what it shipped, first source first") {
  Harness h;
  network(h);  // 50 of A at W1 and at W2
  h.ok(hq_order("O1", {{"A", 80, 70000}}));
  CHECK(allocation(h, "O1") == "warehouse:W1 50xA order.O1.0;warehouse:W2 30xA order.O1.1;");
  h.ok(ShipOrder{"O1", {{"A", 30, {}}}});  // from W1, the first source: it keeps holding 20
  h.ok(DeliverOrder{"O1"});
  h.ok(ReturnOrder{"O1", {{"A", 10, {}}}, "damaged"});
  CHECK(h.balance("warehouse:W1", "A") == Balance{30, 20});
  CHECK(h.balance("warehouse:W2", "A") == Balance{50, 30});
  h.ok(ShipOrder{"O1", {}});
  h.ok(DeliverOrder{"O1"});
  CHECK(h.balance("warehouse:W1", "A") == Balance{10, 0});
  CHECK(h.balance("warehouse:W2", "A") == Balance{20, 0});
  // W1 shipped 50 and has 10 back: 40 more go to W1, the other 20 to W2.
  h.ok(ReturnOrder{"O1", {{"A", 60, {}}}, "overstock"});
  CHECK(h.balance("warehouse:W1", "A") == Balance{50, 0});
  CHECK(h.balance("warehouse:W2", "A") == Balance{40, 0});
  CHECK(h.balance("dealer:D1", "A") == Balance{10, 0});
  check(h);
}

TEST_CASE("illegal transitions are refused with illegal_transition and write nothing") {
  Harness h;
  network(h);
  h.ok(SetApprovalPolicy{{rule("finance", 1'000'000)}});
  h.ok(hq_order("BIG", {{"A", 20, 70000}}));  // 1,400,000: waits for finance
  h.ok(hq_order("O1", {{"A", 1, 70000}}));
  CHECK(status(h, "BIG") == "placed");
  h.rejected(ShipOrder{"BIG", {}}, ErrorCode::illegal_transition);  // not approved
  h.rejected(DeliverOrder{"O1"}, ErrorCode::illegal_transition);     // nothing on the road
  h.rejected(CompleteOrder{"O1"}, ErrorCode::illegal_transition);    // not delivered
  h.rejected(ApproveOrder{"O1", "finance"}, ErrorCode::illegal_transition);  // needs no approval
  h.rejected(AllocateOrder{"O1"}, ErrorCode::illegal_transition);    // every unit allocated already
  h.ok(CancelOrder{"O1", "no longer needed"});
  h.rejected(CancelOrder{"O1", "again"}, ErrorCode::illegal_transition);
  h.rejected(ShipOrder{"O1", {}}, ErrorCode::illegal_transition);
  h.rejected(AllocateOrder{"O1"}, ErrorCode::illegal_transition);
  h.rejected(ShipOrder{"NOPE", {}}, ErrorCode::unknown_id);
  h.rejected(hq_order("O1", {{"A", 1, 70000}}), ErrorCode::already_exists);
  check(h);
}

// ---- approvals

TEST_CASE("the approval policy decides the steps: amount, price below floor, order type, credit overrun, health") {
  Harness h;
  network(h);
  auto steps = [&](const std::string& id) {
    auto o = order(h, id);
    REQUIRE(o);
    return fmt::format("{}", fmt::join(o->approvals_required, ","));
  };
  // A:70000 wholesale, floor 66500. D1's credit limit is 1,000,000.
  h.ok(SetApprovalPolicy{{rule("region_manager", 300'000)}});
  h.ok(hq_order("AMOUNT-5", {{"A", 5, 70000}}));  // 350,000
  h.ok(hq_order("AMOUNT-4", {{"A", 4, 70000}}));  // 280,000
  CHECK(steps("AMOUNT-5") == "region_manager");
  CHECK(steps("AMOUNT-4") == "");
  CHECK(status(h, "AMOUNT-4") == "allocated");
  h.ok(CancelOrder{"AMOUNT-5", "done"});
  h.ok(CancelOrder{"AMOUNT-4", "done"});

  ApprovalRuleInput floor_rule = rule("sales_director");
  floor_rule.below_floor = true;
  h.ok(SetApprovalPolicy{{floor_rule}});
  h.ok(hq_order("CHEAP", {{"A", 1, 66499}}));
  h.ok(hq_order("FAIR", {{"A", 1, 66500}}));
  CHECK(steps("CHEAP") == "sales_director");
  CHECK(steps("FAIR") == "");

  ApprovalRuleInput type_rule = rule("region_manager");
  type_rule.order_type = "presale";
  h.ok(SetApprovalPolicy{{type_rule}});
  h.ok(AnnouncePresaleBatch{"PB1", "A", "W1", 10, test::t0_us + 30 * day_us});
  h.ok(presale("PRE", 1));
  h.ok(hq_order("SPOT", {{"A", 1, 70000}}));
  CHECK(steps("PRE") == "region_manager");
  CHECK(steps("SPOT") == "");

  ApprovalRuleInput credit_rule = rule("finance");
  credit_rule.credit_overrun = true;
  h.ok(SetApprovalPolicy{{credit_rule}});
  // Used: CHEAP 66,499 + FAIR 66,500 + PRE 70,000 + SPOT 70,000 = 272,999; 727,001 left.
  h.engine->inspect([](const LedgerState& s) { CHECK(s.dealer_account("D1").credit_used_cents == 272'999); });
  h.ok(hq_order("WITHIN", {{"B", 36, 20000}}));  // 720,000: fits
  h.ok(hq_order("OVER", {{"B", 1, 20000}}));     // 7,001 left: 20,000 does not
  CHECK(steps("WITHIN") == "");
  CHECK(steps("OVER") == "finance");
  h.ok(hq_order("STORE", {{"B", 1, 25000}}, "store:S1"));  // a store buys on no credit line
  CHECK(steps("STORE") == "");

  // D1 now uses 1,012,999 of 1,000,000 (over 100%): health tier 1. The tier rule catches it.
  ApprovalRuleInput health_rule = rule("sales_director");
  health_rule.health_tier_at_most = 2;
  h.ok(SetApprovalPolicy{{health_rule}});
  h.engine->inspect([](const LedgerState& s) {
    CHECK(dealer_health_tier(s.dealer_account("D1"), s.dealer("D1")->credit_limit_cents) == 1);
  });
  h.ok(hq_order("UNHEALTHY", {{"B", 1, 20000}}));
  h.ok(hq_order("STORE-2", {{"B", 1, 25000}}, "store:S1"));
  CHECK(steps("UNHEALTHY") == "sales_director");
  CHECK(steps("STORE-2") == "");
  // Several rules: the steps in chain order, each once.
  h.ok(SetApprovalPolicy{{rule("finance", 1), health_rule, rule("region_manager", 1), rule("finance", 2)}});
  h.ok(hq_order("ALL", {{"B", 1, 20000}}));
  CHECK(steps("ALL") == "region_manager,sales_director,finance");
  // Rules name real steps and order types.
  h.rejected(SetApprovalPolicy{{rule("ceo", 1)}}, ErrorCode::invalid_argument);
  ApprovalRuleInput bad_type = rule("finance");
  bad_type.order_type = "gift";
  h.rejected(SetApprovalPolicy{{bad_type}}, ErrorCode::invalid_argument);
  check(h);
}

TEST_CASE("the principal that placed an order never approves a step of it; another manager of the region does") {
  Harness h;
  network(h);
  h.ok(SetApprovalPolicy{{rule("region_manager", 1)}});
  REQUIRE(run_as(h, manager_east, hq_order("O1", {{"A", 2, 70000}})).ok());
  std::uint64_t before = h.engine->last_seq();
  auto own = run_as(h, manager_east, ApproveOrder{"O1", "region_manager"});
  REQUIRE(!own.ok());
  CHECK(own.error().code == ErrorCode::forbidden);
  CHECK(detail(own.error(), "reason") == "own_order");
  auto own_reject = run_as(h, manager_east, RejectOrder{"O1", "mine"});
  REQUIRE(!own_reject.ok());
  CHECK(own_reject.error().code == ErrorCode::forbidden);
  CHECK(detail(own_reject.error(), "reason") == "own_order");
  CHECK(h.engine->last_seq() == before);  // nothing written
  REQUIRE(run_as(h, Actor{"zhao", "region_manager", "R1"}, ApproveOrder{"O1", "region_manager"}).ok());
  CHECK(status(h, "O1") == "allocated");
  check(h);
}

TEST_CASE("a step is approved by its role only, a region manager only in their region; every step is recorded") {
  Harness h;
  network(h);
  h.ok(SetApprovalPolicy{{rule("region_manager", 1), rule("finance", 1)}});
  h.ok(hq_order("O1", {{"A", 2, 70000}}));
  CHECK(status(h, "O1") == "placed");
  std::uint64_t before = h.engine->last_seq();
  auto wrong_role = run_as(h, sales_director, ApproveOrder{"O1", "region_manager"});
  REQUIRE(!wrong_role.ok());
  CHECK(wrong_role.error().code == ErrorCode::forbidden);
  auto other_region = run_as(h, manager_west, ApproveOrder{"O1", "region_manager"});
  REQUIRE(!other_region.ok());
  CHECK(other_region.error().code == ErrorCode::forbidden);
  auto dealer = run_as(h, Actor{"d1", "dealer", "D1"}, ApproveOrder{"O1", "finance"});
  REQUIRE(!dealer.ok());
  CHECK(dealer.error().code == ErrorCode::forbidden);
  CHECK(h.engine->last_seq() == before);
  auto not_needed = run_as(h, sales_director, ApproveOrder{"O1", "sales_director"});
  REQUIRE(!not_needed.ok());
  CHECK(not_needed.error().code == ErrorCode::invalid_argument);

  REQUIRE(run_as(h, manager_east, ApproveOrder{"O1", "region_manager"}).ok());
  CHECK(status(h, "O1") == "placed");  // finance still to approve
  auto twice = run_as(h, manager_east, ApproveOrder{"O1", "region_manager"});
  REQUIRE(!twice.ok());
  CHECK(twice.error().code == ErrorCode::illegal_transition);
  REQUIRE(run_as(h, finance, ApproveOrder{"O1", "finance"}).ok());
  CHECK(status(h, "O1") == "allocated");
  auto o = order(h, "O1");
  REQUIRE(o->approvals.size() == 2);
  CHECK(o->approvals[0].principal == "li");
  CHECK(o->approvals[1].principal == "qian");
  CHECK(o->approved_at_us == test::t0_us);
  check(h);
}

TEST_CASE("a rejection by an approver of a pending step ends the order and voids its holds") {
  Harness h;
  network(h);
  h.ok(SetApprovalPolicy{{rule("region_manager", 1)}});
  h.ok(hq_order("O1", {{"A", 8, 70000}}));
  CHECK(h.balance("warehouse:W1", "A") == Balance{50, 8});
  auto outsider = run_as(h, manager_west, RejectOrder{"O1", "not mine"});
  REQUIRE(!outsider.ok());
  CHECK(outsider.error().code == ErrorCode::forbidden);
  REQUIRE(run_as(h, manager_east, RejectOrder{"O1", "price too low for this dealer"}).ok());
  CHECK(status(h, "O1") == "rejected");
  CHECK(order(h, "O1")->end_reason == "price too low for this dealer");
  CHECK(h.balance("warehouse:W1", "A") == Balance{50, 0});
  h.rejected(ApproveOrder{"O1", "region_manager"}, ErrorCode::illegal_transition);
  h.rejected(RejectOrder{"O1", "again"}, ErrorCode::illegal_transition);
  check(h);
}

// ---- delay warnings

TEST_CASE("a delay warning is raised once when an approval is not given within 4 hours") {
  Harness h;
  network(h);
  h.ok(SetApprovalPolicy{{rule("sales_director", 1)}});
  h.ok(hq_order("O1", {{"A", 2, 70000}}));
  auto warnings = [&] {
    int n = 0;
    auto st = h.engine->read_events(1, 1'000'000, [&](const fb::Event& e, const Hash32&) {
      if (e.body_type() == fb::Body::OrderDelayWarned && e.body_as_OrderDelayWarned()->id()->str() == "O1") {
        CHECK(e.body_as_OrderDelayWarned()->milestone()->str() == "approval");
        CHECK(e.body_as_OrderDelayWarned()->due_us() == test::t0_us + approval_due_after_us);
        ++n;
      }
      return true;
    });
    REQUIRE(st.ok());
    return n;
  };
  h.clock->set_us(test::t0_us + approval_due_after_us - 1);
  tick(h);
  CHECK(warnings() == 0);
  h.clock->set_us(test::t0_us + approval_due_after_us);
  tick(h);
  CHECK(warnings() == 1);
  h.clock->advance_us(hour_us);
  tick(h);
  tick(h);
  CHECK(warnings() == 1);
  CHECK(timeline(h, "O1") == std::vector<std::string>{"placed", "allocated", "delay_warned:approval"});
  // Approved late, it carries on.
  REQUIRE(run_as(h, sales_director, ApproveOrder{"O1", "sales_director"}).ok());
  CHECK(status(h, "O1") == "allocated");
  check(h);
}

TEST_CASE("shipment and delivery milestones warn when missed, and not when met") {
  Harness h;
  network(h);
  h.ok(hq_order("LATE", {{"A", 1, 70000}}));  // promised t0 + 3 days: ship by t0 + 2 days
  h.ok(hq_order("ON-TIME", {{"A", 1, 70000}}));
  h.ok(ShipOrder{"ON-TIME", {}});
  h.clock->set_us(test::t0_us + 2 * day_us);
  tick(h);
  CHECK(timeline(h, "LATE").back() == "delay_warned:shipment");
  CHECK(timeline(h, "ON-TIME").back() == "shipped:ON-TIME.s1");
  h.clock->set_us(test::t0_us + 3 * day_us);
  tick(h);
  CHECK(timeline(h, "LATE").back() == "delay_warned:delivery");
  CHECK(timeline(h, "ON-TIME").back() == "delay_warned:delivery");
  h.engine->inspect([](const LedgerState& s) { CHECK(s.milestones().empty()); });
  check(h);
}

// ---- who sells to whom

TEST_CASE("a dealer sells from its own stock, inside its territory only, to its own stores and to members") {
  Harness h;
  network(h);
  h.ok(DefineDealer{"D2", "Dealer two", "R2", {"R2"}, 1'000'000});
  h.ok(DefineStore{"S3", "Store of D2", "D2", "R2", 30'000'000, 100'000'000});
  h.ok(ShipTransfer{"T-D1", "warehouse:W1", "dealer:D1", {{"A", 10, {}}}});
  h.ok(ReceiveTransfer{"T-D1"});
  PlaceOrder sale;
  sale.id = "DS1";
  sale.buyer = "store:S1";
  sale.seller = "dealer:D1";
  sale.channel = "dealer_storefront";
  sale.ship_to_region = "R1";
  sale.lines = {{"A", 4, 85000}};
  sale.promised_by_us = test::t0_us + day_us;
  h.ok(sale);
  CHECK(allocation(h, "DS1") == "dealer:D1 4xA order.DS1.0;");
  CHECK(h.balance("dealer:D1", "A") == Balance{10, 4});

  PlaceOrder outside = sale;
  outside.id = "DS2";
  outside.buyer = "member:M1";
  outside.ship_to_region = "R2";
  auto e = h.rejected(outside, ErrorCode::rule_violation);
  CHECK(detail(e, "reason") == "out_of_territory");
  PlaceOrder other_dealers_store = sale;
  other_dealers_store.id = "DS3";
  other_dealers_store.buyer = "store:S3";
  h.rejected(other_dealers_store, ErrorCode::rule_violation);
  PlaceOrder store_to_store = sale;
  store_to_store.id = "DS4";
  store_to_store.seller = "store:S2";
  h.rejected(store_to_store, ErrorCode::rule_violation);
  PlaceOrder too_many = sale;
  too_many.id = "DS5";
  too_many.lines = {{"A", 7, 85000}};  // 6 left at D1
  auto short_stock = h.rejected(too_many, ErrorCode::insufficient_stock);
  CHECK(short_stock.number("available") == 6);
  check(h);
}

// ---- idempotency

TEST_CASE("placing an order again with the same command id answers the first outcome; another body is a mismatch") {
  Harness h;
  network(h);
  auto first = h.ok(hq_order("O1", {{"A", 10, 70000}}), "cmd-1");
  CHECK(!first.replayed);
  std::uint64_t last = h.engine->last_seq();
  auto again = h.run(hq_order("O1", {{"A", 10, 70000}}), "cmd-1");
  REQUIRE(again.ok());
  CHECK(again->replayed);
  CHECK(again->first_seq == first.first_seq);
  CHECK(again->last_seq == first.last_seq);
  CHECK(h.engine->last_seq() == last);
  h.rejected(hq_order("O1", {{"A", 11, 70000}}), ErrorCode::idempotency_mismatch, "cmd-1");
  h.rejected(hq_order("O9", {{"A", 10, 70000}}), ErrorCode::idempotency_mismatch, "cmd-1");
  CHECK(h.balance("warehouse:W1", "A") == Balance{50, 10});
  // The same order id under another command id is a new command: the order exists already.
  h.rejected(hq_order("O1", {{"A", 10, 70000}}), ErrorCode::already_exists, "cmd-2");
  check(h);
}

// ---- replay

TEST_CASE("the state folded from the log after an order history equals the live state, and so does a restart") {
  Harness h;
  network(h);
  stock_store(h);
  h.ok(SetApprovalPolicy{{rule("region_manager", 500'000)}});
  h.ok(SetSourcingWeights{"", {{"distance", 900}, {"stock", 100}}});
  h.ok(AnnouncePresaleBatch{"PB1", "B", "W2", 20, test::t0_us + 10 * day_us});
  h.ok(hq_order("O1", {{"A", 10, 70000}, {"B", 3, 20000}}));  // needs the region manager
  REQUIRE(run_as(h, manager_east, ApproveOrder{"O1", "region_manager"}).ok());
  h.ok(ShipOrder{"O1", {{"A", 6, {}}}});
  h.ok(DeliverOrder{"O1"});
  h.ok(ShipOrder{"O1", {}});
  h.ok(DeliverOrder{"O1"});
  h.ok(ReturnOrder{"O1", {{"A", 2, {}}}, "damaged"});
  h.ok(CompleteOrder{"O1"});
  h.ok(presale("P1", 5, "B"));
  h.ok(presale("P2", 7, "B"));
  h.ok(ReceiveStock{"W2", {{"B", 7, {}}}, "PB1"});
  CHECK(status(h, "P1") == "allocated");
  CHECK(status(h, "P2") == "allocated");
  PlaceOrder back = hq_order("O2", {{"A", 200, 70000}});
  back.allow_backorder = true;
  h.ok(back);
  h.ok(booking("R-1", 2));
  h.ok(booking("R-2", 1));
  h.ok(DeliverOrder{"R-2"});
  h.ok(hq_order("O3", {{"B", 1, 20000}}));
  h.ok(CancelOrder{"O3", "duplicate"});
  h.clock->set_us(test::t0_us + 3 * day_us);  // R-1 expires; O2 is late on every milestone
  tick(h);
  CHECK(status(h, "R-1") == "cancelled");
  auto o2 = timeline(h, "O2");
  CHECK(std::vector<std::string>(o2.end() - 3, o2.end()) ==
        std::vector<std::string>{"delay_warned:approval", "delay_warned:shipment", "delay_warned:delivery"});
  check(h);

  std::string live = h.render();
  CHECK(live.find("order O1 spot completed hq->dealer:D1") != std::string::npos);
  auto folded = fold_log(h.dir.path());
  REQUIRE_MESSAGE(folded.ok(), (folded.ok() ? "" : folded.error().to_string()));
  CHECK(folded->render() == live);
  h.close();
  auto report = verify_log(h.dir.path());
  REQUIRE_MESSAGE(report.ok(), (report.ok() ? "" : report.error().to_string()));
  h.open();
  CHECK(h.render() == live);
  check(h);
}

TEST_CASE("a member's tier is due when old spend leaves the window, spend of one instant leaving together") {
  Harness h;
  network(h);
  stock_store(h);
  // Member M1 picks up one unit for 1,000 yuan (A at 100000 fen each, S1's stock).
  auto pickup = [&](std::string id, std::int64_t qty, std::int64_t price, std::int64_t points) {
    PlaceOrder o = booking(id, qty);
    o.lines[0].unit_price_cents = price;
    o.pickup_at_us = h.clock->now_us() + hour_us;
    o.promised_by_us = h.clock->now_us() + day_us;
    o.points = points;
    h.ok(o);
    h.ok(DeliverOrder{id});
  };
  auto account = [&] {
    MemberAccount out;
    h.engine->inspect([&](const LedgerState& s) { out = *s.member_account("M1"); });
    return out;
  };
  pickup("B-1", 1, 100000, 0);  // spend +100000 now
  h.clock->advance_us(day_us);
  const std::int64_t same_instant = h.clock->now_us();
  pickup("B-2", 1, 100000, 0);                               // +100000 ...
  h.ok(ReturnOrder{"B-1", {{"A", 1, {}}}, "changed mind"});  // ... and -100000 at the same instant
  h.clock->advance_us(day_us);
  const std::int64_t last = h.clock->now_us();
  // 2,500 yuan more (silver), paid partly with the points of B-2, so no lot expires before B-3's.
  pickup("B-3", 2, 125000, 1000);
  MemberAccount a = account();
  REQUIRE(a.tier == "silver");
  REQUIRE(a.lots.size() == 1);
  // When B-2's +100000 and B-1's -100000 leave the window together the spend stays 250000: still
  // silver. Only B-3's spend leaving makes the tier fall (and its points expire then too).
  CHECK(a.due_us == last + tier_window_us);
  h.clock->advance_us(same_instant + tier_window_us + hour_us - h.clock->now_us());
  tick(h);
  a = account();
  CHECK(a.tier == "silver");
  CHECK(a.due_us > h.clock->now_us());
  h.engine->inspect([&](const LedgerState& s) {
    CHECK(s.member_due().begin()->first > h.clock->now_us());  // nothing left overdue
  });
  h.clock->advance_us(last + tier_window_us - h.clock->now_us());
  tick(h);
  a = account();
  CHECK(a.tier == "standard");
  CHECK(a.points == 0);
  CHECK(a.due_us == 0);
  check(h);
}

TEST_CASE("a member whose tier would fall and rise again while the clock jumps past both is not left overdue") {
  Harness h;
  network(h);
  stock_store(h);
  auto place = [&](std::string id, std::int64_t qty, std::int64_t price, std::int64_t points) {
    PlaceOrder o = booking(id, qty);
    o.lines[0].unit_price_cents = price;
    o.pickup_at_us = h.clock->now_us() + hour_us;
    o.promised_by_us = h.clock->now_us() + day_us;
    o.points = points;
    h.ok(o);
    h.ok(DeliverOrder{id});
  };
  auto account = [&] {
    MemberAccount out;
    h.engine->inspect([&](const LedgerState& s) { out = *s.member_account("M1"); });
    return out;
  };
  const std::int64_t first = h.clock->now_us();
  place("B-1", 2, 125000, 0);  // +250000: silver
  h.clock->advance_us(day_us);
  const std::int64_t second = h.clock->now_us();
  h.ok(ReturnOrder{"B-1", {{"A", 1, {}}}, "one broken"});  // -125000: standard
  h.clock->advance_us(day_us);
  const std::int64_t third = h.clock->now_us();
  place("B-2", 2, 100000, 1250);  // +200000: silver again; B-1's points spent
  MemberAccount a = account();
  REQUIRE(a.tier == "silver");
  REQUIRE(a.lots.size() == 1);
  // A return takes its spend from its own order's entry (B-1 keeps 125000), so B-1 leaving the window
  // leaves B-2's 200000: still silver. Only B-2 leaving makes it fall; the clock jumps past B-1's.
  CHECK(a.due_us == third + tier_window_us);
  CHECK(first < second);
  h.clock->advance_us(second + tier_window_us + hour_us - h.clock->now_us());
  tick(h);
  a = account();
  CHECK(a.tier == "silver");
  CHECK(a.due_us == third + tier_window_us);
  h.engine->inspect([&](const LedgerState& s) { CHECK(s.member_due().begin()->first > h.clock->now_us()); });
  h.clock->advance_us(third + tier_window_us - h.clock->now_us());
  tick(h);
  a = account();
  CHECK(a.tier == "standard");
  CHECK(a.points == 0);
  CHECK(a.due_us == 0);
  check(h);
  auto folded = fold_log(h.dir.path());
  REQUIRE(folded.ok());
  CHECK(folded->render() == h.render());
}

TEST_SUITE_END();
