// Recommendations, by hand: three members' delivered orders give known co-purchase counts and regional
// popularity; each member's ranking, its reasons, the exclusion of its last order's SKUs, partial
// deliveries counted once whole, and the bound on SKUs per order.
#include "ledger/read_model.hpp"
#include "projection_support.hpp"
#include "support.hpp"

using namespace ledger;
using test::Harness;

namespace {

constexpr std::int64_t day_us = 24LL * 3'600'000'000;

// small_network plus SKUs C D E, everything stocked at store S1, members M1 M2 M3 M4 at home there.
void member_network(Harness& h) {
  h.small_network();
  for (const char* sku : {"C", "D", "E"}) h.ok(DefineSku{sku, "Gift set", 6, {30000, 35000, 40000}, {}});
  h.ok(ReceiveStock{"W1", {{"A", 50, {}}, {"B", 50, {}}, {"C", 50, {}}, {"D", 50, {}}, {"E", 50, {}}}, "BATCH-1"});
  h.ok(ShipTransfer{
      "T1", "warehouse:W1", "store:S1", {{"A", 20, {}}, {"B", 20, {}}, {"C", 20, {}}, {"D", 20, {}}, {"E", 20, {}}}});
  h.ok(ReceiveTransfer{"T1"});
  for (const char* m : {"M1", "M2", "M3", "M4"}) h.ok(DefineMember{m, "Member", "S1"});
}

PlaceOrder order(std::string id, std::string buyer, std::string seller, std::vector<OrderLineInput> lines) {
  PlaceOrder o;
  o.id = std::move(id);
  o.buyer = std::move(buyer);
  o.seller = std::move(seller);
  o.channel = "store";
  o.ship_to_region = "R1";
  o.ship_to_lat_e6 = 30'600'000;
  o.ship_to_lon_e6 = 104'100'000;
  o.lines = std::move(lines);
  o.promised_by_us = test::t0_us + 3 * day_us;
  return o;
}

// A member buys at S1 and the order is shipped and delivered whole.
void delivered(Harness& h, const std::string& id, const std::string& member, std::vector<OrderLineInput> lines) {
  h.ok(order(id, "member:" + member, "store:S1", std::move(lines)));
  h.ok(ShipOrder{id, {}});
  h.ok(DeliverOrder{id});
}

std::unique_ptr<ReadModel> rebuild(Harness& h) { return test::rebuild_model(h.dir.path()); }

std::string ranked(const ReadModel& m, const std::string& member, std::size_t k = 10) {
  std::string out;
  for (const auto& r : m.recommendations().recommend(m.ledger(), member, k)) {
    out += fmt::format("{}:{}:{}{}{};", r.sku, r.score, recommendation_reason_name(r.reason),
                       r.with_sku.empty() ? "" : "@", r.with_sku);
  }
  return out;
}

}  // namespace

TEST_SUITE_BEGIN("projections");

TEST_CASE(
    "recommendations: co-purchases with the last order first, then the region's most popular; never the "
    "last order's SKUs") {
  Harness h;
  member_network(h);
  delivered(h, "O1", "M1", {{"A", 2, 100000}, {"B", 1, 30000}});
  delivered(h, "O2", "M2", {{"A", 1, 100000}, {"C", 3, 40000}});
  delivered(h, "O3", "M3", {{"A", 1, 100000}, {"B", 1, 30000}, {"C", 1, 40000}, {"A", 1, 95000}});  // A on two lines
  delivered(h, "O4", "M1", {{"A", 1, 100000}, {"D", 1, 40000}});  // M1's most recent order
  // M2 buys B and E; half is delivered first, which does not count; the rest completes it.
  h.ok(order("O5", "member:M2", "store:S1", {{"B", 2, 30000}, {"E", 5, 40000}}));
  h.ok(ShipOrder{"O5", {{"B", 2, {}}}});
  h.ok(DeliverOrder{"O5"});
  CHECK(rebuild(h)->recommendations().orders_counted() == 4);
  h.ok(ShipOrder{"O5", {}});
  h.ok(DeliverOrder{"O5"});
  // Not a member's: never counted.
  PlaceOrder dealer = order("O6", "dealer:D1", "hq", {{"A", 3, 70000}, {"E", 3, 30000}});
  dealer.channel = "dealer_storefront";
  h.ok(dealer);
  h.ok(ShipOrder{"O6", {}});
  h.ok(DeliverOrder{"O6"});

  auto m = rebuild(h);
  const Recommendations& r = m->recommendations();
  CHECK(r.orders_counted() == 5);
  CHECK(r.orders_truncated() == 0);
  // Co-purchases: A-B in O1 and O3, A-C in O2 and O3, B-C in O3, A-D in O4, B-E in O5; both ways.
  CHECK(r.co_purchases("A", "B") == 2);
  CHECK(r.co_purchases("B", "A") == 2);
  CHECK(r.co_purchases("A", "C") == 2);
  CHECK(r.co_purchases("B", "C") == 1);
  CHECK(r.co_purchases("D", "A") == 1);
  CHECK(r.co_purchases("E", "B") == 1);
  CHECK(r.co_purchases("A", "E") == 0);  // only in the dealer's order
  CHECK(r.co_purchases("A", "A") == 0);
  // Units in R1: A 2+1+2+1 = 6, B 1+1+2 = 4, C 3+1 = 4, D 1, E 5.
  // M1 bought {A, D} last: B and C each go with A twice (tie: by SKU); then E, the most popular left.
  CHECK(ranked(*m, "M1") == "B:2:co_purchase@A;C:2:co_purchase@A;E:5:popular_in_region;");
  CHECK(ranked(*m, "M1", 1) == "B:2:co_purchase@A;");
  // M2 bought {B, E} last: A goes with B twice, C once; D fills up.
  CHECK(ranked(*m, "M2") == "A:2:co_purchase@B;C:1:co_purchase@B;D:1:popular_in_region;");
  // M3 bought {A, B, C} last: D (with A) and E (with B) once each; nothing popular is left.
  CHECK(ranked(*m, "M3") == "D:1:co_purchase@A;E:1:co_purchase@B;");
  // M4 bought nothing: its home region's most popular.
  CHECK(ranked(*m, "M4") ==
        "A:6:popular_in_region;E:5:popular_in_region;B:4:popular_in_region;"
        "C:4:popular_in_region;D:1:popular_in_region;");
  CHECK(ranked(*m, "M4", 0).empty());
  CHECK(ranked(*m, "NOBODY").empty());  // no home store, no order: no region

  const MemberBasket* m1 = r.basket("M1");
  REQUIRE(m1 != nullptr);
  CHECK(m1->last_order_skus.size() == 2);
  CHECK(r.sku_name(m1->bought.back()) == "D");
  CHECK(m1->bought.size() == 3);  // A (again), B, D
  CHECK(r.basket("M4") == nullptr);

  // Snapshot plus a tail equals the rebuild.
  test::save_live_snapshots(*h.engine, h.dir.path());
  delivered(h, "O7", "M4", {{"C", 1, 40000}, {"D", 1, 40000}});
  auto restored = test::restore_model(h.dir.path());
  REQUIRE(restored->catch_up(h.dir.path()).ok());
  auto rebuilt = rebuild(h);
  test::require_same_models(test::render_model(*restored), test::render_model(*rebuilt));
  // M4 bought {C, D}: A goes with C twice and with D once; B with C once.
  CHECK(ranked(*rebuilt, "M4") == "A:3:co_purchase@C;B:1:co_purchase@C;E:5:popular_in_region;");
}

TEST_CASE("recommendations: an order's first recommendation_order_skus_max distinct SKUs make its pairs") {
  Harness h;
  h.small_network();
  h.ok(DefineMember{"M9", "Collector", "S1"});
  ReceiveStock receipt{"W1", {}, "BATCH-K"};
  std::vector<OrderLineInput> lines;
  for (int i = 0; i < 40; ++i) {
    std::string sku = fmt::format("K{:02}", i);
    h.ok(DefineSku{sku, "Vintage", 6, {30000, 35000, 40000}, {}});
    receipt.lines.push_back({sku, 5, {}});
    lines.push_back({sku, 1, 40000});
  }
  h.ok(receipt);
  PlaceOrder o = order("O1", "member:M9", "hq", lines);
  o.channel = "regional_storefront";
  h.ok(o);
  h.ok(ShipOrder{"O1", {}});
  h.ok(DeliverOrder{"O1"});
  auto m = rebuild(h);
  const Recommendations& r = m->recommendations();
  CHECK(r.orders_truncated() == 1);
  CHECK(r.basket("M9")->last_order_skus.size() == recommendation_order_skus_max);
  CHECK(r.co_purchases("K00", "K31") == 1);
  CHECK(r.co_purchases("K00", "K32") == 0);  // past the bound: no pairs
  // Popularity counts every line: the region's list still has the last SKUs, for other members.
  h.ok(DefineMember{"M8", "Newcomer", "S1"});
  auto after = rebuild(h);
  auto popular = after->recommendations().recommend(after->ledger(), "M8", recommendations_max);
  CHECK(popular.size() == 40);
  CHECK(popular.back().sku == "K39");
}

TEST_SUITE_END();
