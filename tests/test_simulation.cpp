// The seeded randomized simulation: valid and invalid commands against a network of the real scale,
// checked against the reference model (tests/model.hpp) and the invariants after every wave of
// commands, with restarts along the way. The seed is printed on failure; --sim-seed=S replays it,
// --sim-commands=N (or SIM_COMMANDS) sets the length (millions for a soak).
//
// Orders run beside the stock commands on SKUs of their own (the last ones of the catalogue), which
// the reference model does not track: the matcher is not written twice. Their commands are
// predicted from the state observed at the start of each wave (every order is touched at most once
// a wave and nothing expires within one), and the order invariants (tests/model.hpp) are checked on
// the engine's state. The clock jumps now and then, so holds expire and milestones are missed.
#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <set>

#include "ledger/demo_network.hpp"
#include "ledger/live_state.hpp"
#include "model.hpp"
#include "projection_support.hpp"
#include "support.hpp"

using namespace ledger;

namespace {

constexpr std::int64_t wave_us = 60'000'000;       // simulated time between waves
constexpr std::size_t wave_commands_max = 2000;     // commands submitted before waiting for answers
constexpr std::size_t retry_ring_max = 4096;        // remembered accepted commands, to retry
constexpr int restart_every_waves = 40;
constexpr int disk_check_every_waves = 50;
constexpr int order_check_every_waves = 10;     // the order invariants walk every order
constexpr double order_command_share = 0.15;    // of the generated commands (not the retries)
constexpr std::int64_t hour_us = 3'600'000'000;
constexpr std::int64_t day_us = 24 * hour_us;

struct Accepted {
  Command command;
  std::uint64_t first_seq;
};

// ---- orders

ApprovalRuleInput rule_for(std::string step) {
  ApprovalRuleInput r;
  r.step = std::move(step);
  return r;
}

// What the generator knows of an order, as observed at the start of the wave.
struct OrderView {
  std::string id;
  OrderType type = OrderType::spot;
  std::string buyer, region;  // region: whose manager approves it
  std::vector<std::string> pending_steps;
  std::vector<std::pair<std::string, std::int64_t>> held, returnable;  // per SKU, only > 0
  bool on_road = false, unallocated = false, shipped_any = false, delivered = false;
};

class OrderGenerator {
 public:
  struct Planned {
    Actor actor{"sim", "hq_admin", ""};
    CommandBody body;
    std::optional<ErrorCode> expected;  // set: must be refused with exactly this
    std::vector<ErrorCode> tolerated;   // else: applied, or refused with one of these
  };

  OrderGenerator(std::uint64_t seed, const demo::NetworkSize& size);
  int stock_skus() const { return first_order_sku_; }
  bool is_order_sku(std::string_view sku) const { return order_sku_ids_.find(sku) != order_sku_ids_.end(); }
  // Members and the first approval policy, before the first wave.
  std::vector<Command> setup();
  Planned next(std::int64_t now_us);
  // At the start of every wave, after its expiries: what became of the orders.
  void observe(const LedgerState& s);
  // Extra simulated time before the next wave: now and then hours, so holds run out.
  std::int64_t clock_jump_us() { return chance(0.1) ? std::int64_t(1 + pick(30)) * hour_us : 0; }

 private:
  std::uint64_t pick(std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng_); }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  std::string order_sku() { return demo::sku_id(first_order_sku_ + int(pick(size_.skus - first_order_sku_))); }
  std::string warehouse() { return demo::warehouse_id(int(pick(size_.warehouses))); }
  int region_of_store(int s) const { return demo::region_of_dealer(demo::dealer_of_store(s, size_), size_); }
  std::string member() { return fmt::format("M-{:05}", 1 + pick(members_)); }
  std::int64_t price(int sku_index, char level);
  std::vector<OrderLineInput> lines(char level, std::int64_t qty_max);
  PlaceOrder order(OrderType type, std::string buyer, std::string seller, std::string channel, int region,
                   std::int64_t now_us);
  // An order of the category, not yet touched this wave; null when there is none.
  const OrderView* take(const std::vector<std::size_t>& category);
  Actor approver(const OrderView& o, const std::string& step) const;

  Planned place(std::int64_t now_us);
  Planned probe();
  Planned stock(std::int64_t now_us);
  std::optional<Planned> lifecycle(double u);

  std::mt19937_64 rng_;
  demo::NetworkSize size_;
  int first_order_sku_ = 0;
  std::set<std::string, std::less<>> order_sku_ids_;
  std::uint64_t members_ = 0;
  std::vector<int> dealers_, stores_;  // the ones that hold stock of the order SKUs and sell it
  std::uint64_t n_ = 0;

  std::vector<std::string> tracked_;          // orders still going, oldest first
  std::deque<std::string> completed_;         // completed orders that may still be returned
  std::vector<std::string> placed_, transfers_shipped_, transfers_to_receive_;
  std::vector<std::string> batches_;          // presale batches announced
  std::vector<std::pair<std::string, std::int64_t>> open_batches_;  // not received: (id, quota left)
  std::map<std::string, std::pair<std::string, std::string>> batch_where_;  // id -> (warehouse, sku)

  std::vector<OrderView> open_;  // observed this wave
  std::vector<std::size_t> approvable_, shippable_, deliverable_, completable_, unshipped_, shipped_,
      returnable_, allocatable_, settled_;
  std::set<std::string> busy_;  // touched this wave
};

OrderGenerator::OrderGenerator(std::uint64_t seed, const demo::NetworkSize& size) : rng_(seed), size_(size) {
  int order_skus = std::max(2, size.skus / 15);
  first_order_sku_ = size.skus - order_skus;
  for (int k = first_order_sku_; k < size.skus; ++k) order_sku_ids_.insert(demo::sku_id(k));
  members_ = std::min<std::uint64_t>(3000, std::uint64_t(size.stores));
  for (int i = 0, n = std::min(80, size.dealers); i < n; ++i) dealers_.push_back(int(pick(size.dealers)));
  for (int i = 0, n = std::min(300, size.stores); i < n; ++i) stores_.push_back(int(pick(size.stores)));
}

std::vector<Command> OrderGenerator::setup() {
  std::vector<Command> out;
  Actor admin{"sim", "hq_admin", ""};
  for (std::uint64_t m = 1; m <= members_; ++m) {
    out.push_back({"", admin, DefineMember{fmt::format("M-{:05}", m), "member", demo::store_id(int(pick(size_.stores)))}});
  }
  SetApprovalPolicy policy;
  ApprovalRuleInput big = rule_for("region_manager"), cheap = rule_for("sales_director"), credit = rule_for("finance");
  big.min_amount_cents = 5'000'000;
  cheap.below_floor = true;
  credit.credit_overrun = true;
  policy.rules = {big, cheap, credit};
  out.push_back({"", admin, policy});
  return out;
}

// The demo network's price levels (demo_network.cpp): w(holesale), s(upply), r(etail), varied
// +-12%, so some orders sell below the floor.
std::int64_t OrderGenerator::price(int sku_index, char level) {
  std::int64_t retail = 150'00 + (sku_index % 40) * 50'00;
  std::int64_t list = level == 'w' ? retail * 70 / 100 : level == 's' ? retail * 85 / 100 : retail;
  return list * std::int64_t(88 + pick(25)) / 100;
}

std::vector<OrderLineInput> OrderGenerator::lines(char level, std::int64_t qty_max) {
  std::vector<OrderLineInput> out;
  for (std::uint64_t i = 0, n = 1 + (chance(0.3) ? pick(3) : 0); i < n; ++i) {
    int k = first_order_sku_ + int(pick(size_.skus - first_order_sku_));
    out.push_back({demo::sku_id(k), std::int64_t(1 + pick(std::uint64_t(qty_max))), price(k, level)});
  }
  return out;
}

PlaceOrder OrderGenerator::order(OrderType type, std::string buyer, std::string seller, std::string channel,
                                 int region, std::int64_t now_us) {
  PlaceOrder o;
  o.id = fmt::format("ORD-{}", n_);
  o.type = type;
  o.buyer = std::move(buyer);
  o.seller = std::move(seller);
  o.channel = std::move(channel);
  o.ship_to_region = demo::region_id(region);
  o.ship_to_lat_e6 = 25'000'000 + std::int32_t(pick(1000)) * 15'000;
  o.ship_to_lon_e6 = 100'000'000 + std::int32_t(pick(997)) * 20'000;
  o.promised_by_us = now_us + std::int64_t(1 + pick(10)) * day_us;
  return o;
}

OrderGenerator::Planned OrderGenerator::place(std::int64_t now_us) {
  Planned p;
  p.tolerated = {ErrorCode::insufficient_stock};
  double u = std::uniform_real_distribution<double>(0, 1)(rng_);
  if (u < 0.45 || (u < 0.65 && open_batches_.empty())) {  // hq sells to a dealer from the warehouses
    int d = int(pick(size_.dealers));
    PlaceOrder o = order(OrderType::spot, "dealer:" + demo::dealer_id(d), "hq", "regional_storefront",
                         demo::region_of_dealer(d, size_), now_us);
    o.lines = lines('w', 24);
    // Now and then a malformed one, refused with its exact code.
    if (chance(0.04)) {
      switch (pick(4)) {
        case 0: o.lines.back().sku = "SKU-NOPE"; p.expected = ErrorCode::unknown_id; break;
        case 1: o.lines.back().qty = 0; p.expected = ErrorCode::invalid_argument; break;
        case 2: o.promised_by_us = now_us; p.expected = ErrorCode::invalid_argument; break;
        default: o.buyer = "member:M-NOPE"; p.expected = ErrorCode::unknown_id; break;
      }
    }
    p.body = std::move(o);
  } else if (u < 0.55) {  // a backorder: placed whatever there is
    bool to_store = chance(0.3);
    int who = int(pick(to_store ? size_.stores : size_.dealers));
    PlaceOrder o = to_store ? order(OrderType::spot, "store:" + demo::store_id(who), "hq", "regional_storefront",
                                    region_of_store(who), now_us)
                            : order(OrderType::spot, "dealer:" + demo::dealer_id(who), "hq", "regional_storefront",
                                    demo::region_of_dealer(who, size_), now_us);
    o.lines = lines(to_store ? 's' : 'w', 60);
    o.allow_backorder = true;
    p.tolerated.clear();
    p.body = std::move(o);
  } else if (u < 0.65) {  // a presale against an open batch: its quota may run out within the wave
    auto& [batch, left] = open_batches_[pick(open_batches_.size())];
    int d = int(pick(size_.dealers));
    PlaceOrder o = order(OrderType::presale, "dealer:" + demo::dealer_id(d), "hq", "regional_storefront",
                         demo::region_of_dealer(d, size_), now_us);
    o.promised_by_us = now_us + std::int64_t(8 + pick(10)) * day_us;
    std::int64_t qty = 1 + std::int64_t(pick(std::uint64_t(std::clamp<std::int64_t>(left, 1, 30))));
    const std::string& sku = batch_where_.at(batch).second;
    o.lines = {{sku, qty, price(std::stoi(sku.substr(4)) - 1, 'w')}};
    left -= qty;
    p.tolerated = {ErrorCode::rule_violation};
    p.body = std::move(o);
  } else if (u < 0.85) {  // a member at a store: a booking for pickup, or bought there and then
    int s = stores_[pick(stores_.size())];
    bool booking = chance(0.5);
    PlaceOrder o = order(booking ? OrderType::reservation : OrderType::spot, "member:" + member(),
                         "store:" + demo::store_id(s), booking ? "store" : "o2o", region_of_store(s), now_us);
    if (booking) {
      o.pickup_at_us = now_us + std::int64_t(1 + pick(72)) * hour_us;
      o.promised_by_us = o.pickup_at_us + day_us;
    }
    o.lines = lines('r', 4);
    p.body = std::move(o);
  } else {  // a dealer sells from its stock: to one of its stores, or to a member in its territory
    int d = dealers_[pick(dealers_.size())];
    int r = demo::region_of_dealer(d, size_);
    int stores_of_d = (size_.stores - 1 - d) / size_.dealers + 1;
    PlaceOrder o = chance(0.5) ? order(OrderType::spot, "store:" + demo::store_id(d + int(pick(stores_of_d)) * size_.dealers),
                                       "dealer:" + demo::dealer_id(d), "dealer_storefront", r, now_us)
                               : order(OrderType::spot, "member:" + member(), "dealer:" + demo::dealer_id(d),
                                       "dealer_storefront", r, now_us);
    o.lines = lines(o.buyer[0] == 's' ? 's' : 'r', 6);
    if (chance(0.05)) {  // outside the territory: the dealer's region + 2 is never in it
      o.buyer = "member:" + member();
      o.ship_to_region = demo::region_id((r + 2) % size_.regions);
      p.expected = ErrorCode::rule_violation;
    }
    p.body = std::move(o);
  }
  placed_.push_back(std::get<PlaceOrder>(p.body).id);
  return p;
}

const OrderView* OrderGenerator::take(const std::vector<std::size_t>& category) {
  for (int attempt = 0; attempt < 4 && !category.empty(); ++attempt) {
    const OrderView& o = open_[category[pick(category.size())]];
    if (busy_.insert(o.id).second) return &o;
  }
  return nullptr;
}

Actor OrderGenerator::approver(const OrderView& o, const std::string& step) const {
  if (step == "region_manager") return {"manager-" + o.region, step, o.region};
  return {step + "-1", step, ""};
}

// Stock of the order SKUs: receipts at the warehouses, transfers down to the dealers and stores
// that sell, presale batches announced and arriving, and now and then a new policy.
OrderGenerator::Planned OrderGenerator::stock(std::int64_t now_us) {
  Planned p;
  double u = std::uniform_real_distribution<double>(0, 1)(rng_);
  if (u < 0.35) {
    ReceiveStock r{warehouse(), {}, fmt::format("OR-{}", n_)};
    for (std::uint64_t i = 0, n = 1 + pick(3); i < n; ++i) r.lines.push_back({order_sku(), std::int64_t(50 + pick(600)), {}});
    p.body = std::move(r);
  } else if (u < 0.6) {
    bool to_dealer = chance(0.4);
    std::string to = to_dealer ? "dealer:" + demo::dealer_id(dealers_[pick(dealers_.size())])
                               : "store:" + demo::store_id(stores_[pick(stores_.size())]);
    std::string id = fmt::format("OT-{}", n_);
    p.body = ShipTransfer{id, "warehouse:" + warehouse(), to, {{order_sku(), std::int64_t(10 + pick(to_dealer ? 150 : 40)), {}}}};
    p.tolerated = {ErrorCode::insufficient_stock};
    transfers_shipped_.push_back(id);
  } else if (u < 0.85 && !transfers_to_receive_.empty()) {
    std::size_t i = pick(transfers_to_receive_.size());
    p.body = ReceiveTransfer{transfers_to_receive_[i]};
    transfers_to_receive_[i] = transfers_to_receive_.back();
    transfers_to_receive_.pop_back();
  } else if (u < 0.9 || batches_.empty()) {
    std::string id = fmt::format("PB-{}", n_);
    std::string wh = warehouse(), sku = order_sku();
    p.body = AnnouncePresaleBatch{id, sku, wh, std::int64_t(50 + pick(400)), now_us + std::int64_t(2 + pick(8)) * day_us};
    batches_.push_back(id);
    batch_where_[id] = {wh, sku};
  } else if (u < 0.97 && !open_batches_.empty()) {  // a batch arrives, more or less than its quota
    auto [id, left] = open_batches_[pick(open_batches_.size())];
    auto [wh, sku] = batch_where_.at(id);
    p.body = ReceiveStock{wh, {{sku, std::int64_t(20 + pick(400)), {}}}, id};
  } else if (chance(0.5)) {
    std::vector<std::pair<std::string, std::int32_t>> weights;
    for (std::uint64_t i = 0, n = 1 + pick(4); i < n; ++i) {
      weights.emplace_back(dimension_name(Dimension(pick(dimension_count))), std::int32_t(pick(1001)));
    }
    p.body = SetSourcingWeights{chance(0.3) ? "" : demo::region_id(int(pick(size_.regions))), weights};
  } else {
    ApprovalRuleInput big = rule_for("region_manager"), second = rule_for(chance(0.5) ? "sales_director" : "finance");
    big.min_amount_cents = std::int64_t(1 + pick(10)) * 1'000'000;
    switch (pick(4)) {
      case 0: second.below_floor = true; break;
      case 1: second.credit_overrun = true; break;
      case 2: second.health_tier_at_most = 1 + int(pick(3)); break;
      default: second.order_type = "presale"; break;
    }
    p.body = SetApprovalPolicy{{big, second}};
  }
  return p;
}

// The next step of an order observed at the start of the wave; predicted exactly, since nothing
// else touches the order this wave (receipts only add to what it holds).
std::optional<OrderGenerator::Planned> OrderGenerator::lifecycle(double u) {
  Planned p;
  if (u < 0.14) {
    const OrderView* o = take(approvable_);
    if (o == nullptr) return std::nullopt;
    const std::string& step = o->pending_steps[pick(o->pending_steps.size())];
    p.actor = approver(*o, step);
    p.body = ApproveOrder{o->id, step};
    if (chance(0.1)) {  // the wrong person: another role, or the manager of another region
      p.actor = step == "region_manager" && chance(0.5)
                    ? Actor{"manager-elsewhere", step, demo::region_id((std::stoi(o->region.substr(1)) % size_.regions))}
                    : Actor{"someone", step == "finance" ? "sales_director" : "finance", ""};
      p.expected = ErrorCode::forbidden;
    } else if (chance(0.1)) {
      p.body = RejectOrder{o->id, "not at this price"};
    }
    return p;
  }
  if (u < 0.40) {
    const OrderView* o = take(shippable_);
    if (o == nullptr) return std::nullopt;
    if (chance(0.5)) {
      const auto& [sku, held] = o->held[pick(o->held.size())];
      p.body = ShipOrder{o->id, {{sku, 1 + std::int64_t(pick(std::uint64_t(held))), {}}}};
    } else {
      p.body = ShipOrder{o->id, {}};
    }
    return p;
  }
  if (u < 0.62) {
    const OrderView* o = take(deliverable_);
    if (o == nullptr) return std::nullopt;
    p.body = DeliverOrder{o->id};
    return p;
  }
  if (u < 0.72) {
    const OrderView* o = take(completable_);
    if (o == nullptr) return std::nullopt;
    p.body = CompleteOrder{o->id};
    return p;
  }
  if (u < 0.82) {
    const OrderView* o = take(unshipped_);
    if (o == nullptr) return std::nullopt;
    p.body = CancelOrder{o->id, "plans changed"};
    return p;
  }
  if (u < 0.92) {
    const OrderView* o = take(returnable_);
    if (o == nullptr) return std::nullopt;
    const auto& [sku, returnable] = o->returnable[pick(o->returnable.size())];
    p.body = ReturnOrder{o->id, {{sku, 1 + std::int64_t(pick(std::uint64_t(returnable))), {}}}, "broken seal"};
    // The goods come back from the buyer's stock, which it may have sold or committed meanwhile.
    if (o->buyer.rfind("member:", 0) != 0) p.tolerated = {ErrorCode::insufficient_stock};
    return p;
  }
  const OrderView* o = take(allocatable_);
  if (o == nullptr) return std::nullopt;
  p.body = AllocateOrder{o->id};
  // Nothing there yet; or a receipt of this wave allocated the rest first.
  p.tolerated = {ErrorCode::insufficient_stock, ErrorCode::illegal_transition};
  return p;
}

// Transitions the order's state does not allow, and unknown orders: exact rejections.
OrderGenerator::Planned OrderGenerator::probe() {
  Planned p;
  p.expected = ErrorCode::illegal_transition;
  switch (pick(4)) {
    case 0:
      if (const OrderView* o = take(shipped_)) {
        p.body = CancelOrder{o->id, "too late"};
        return p;
      }
      break;
    case 1:
      if (const OrderView* o = take(approvable_)) {
        p.body = ShipOrder{o->id, {}};
        return p;
      }
      break;
    case 2:
      if (const OrderView* o = take(settled_)) {  // not delivered (yet), nothing waits for approval
        p.body = chance(0.5) ? CommandBody{CompleteOrder{o->id}} : CommandBody{ApproveOrder{o->id, "finance"}};
        return p;
      }
      break;
    default: break;
  }
  p.expected = ErrorCode::unknown_id;
  p.body = DeliverOrder{"ORD-NOPE"};
  return p;
}

OrderGenerator::Planned OrderGenerator::next(std::int64_t now_us) {
  ++n_;
  double u = std::uniform_real_distribution<double>(0, 1)(rng_);
  if (u < 0.15) return stock(now_us);
  if (u < 0.17) return probe();
  if (u < 0.65 || tracked_.size() > 4000) {
    if (auto p = lifecycle((u - 0.17) / 0.48)) return std::move(*p);
    if (tracked_.size() > 4000) return stock(now_us);
  }
  return place(now_us);
}

void OrderGenerator::observe(const LedgerState& s) {
  busy_.clear();
  for (auto& id : placed_) {
    if (s.order(id) != nullptr) tracked_.push_back(std::move(id));
  }
  placed_.clear();
  for (auto& id : transfers_shipped_) {
    if (s.transfer(id) != nullptr) transfers_to_receive_.push_back(std::move(id));
  }
  transfers_shipped_.clear();
  open_batches_.clear();
  for (const auto& id : batches_) {
    const PresaleBatchRecord* b = s.presale_batch(id);
    if (b != nullptr && !b->received) open_batches_.emplace_back(id, b->quota_qty - b->sold_qty);
  }
  std::erase_if(batches_, [&](const std::string& id) {
    const PresaleBatchRecord* b = s.presale_batch(id);
    return b == nullptr || (b->received && b->waiting.empty());
  });

  auto view = [&](const std::string& id, const OrderRecord& o) {
    OrderView v;
    v.id = id;
    v.type = o.type;
    v.buyer = o.buyer;
    v.region = o.ship_to_region;
    if (o.buyer.rfind("dealer:", 0) == 0) v.region = s.dealer(o.buyer.substr(7))->region;
    if (o.buyer.rfind("store:", 0) == 0) v.region = s.store(o.buyer.substr(6))->region;
    for (const auto& step : o.approvals_required) {
      bool done = std::any_of(o.approvals.begin(), o.approvals.end(), [&](const auto& a) { return a.step == step; });
      if (!done) v.pending_steps.push_back(step);
    }
    for (const auto& [sku, qty] : o.held) v.held.emplace_back(sku, qty);
    for (const auto& [sku, u] : o.units) {
      v.on_road |= u.shipped > u.delivered;
      v.unallocated |= o.unallocated(sku) > 0;
      v.shipped_any |= u.shipped > 0;
      if (u.delivered > u.returned) v.returnable.emplace_back(sku, u.delivered - u.returned);
    }
    v.delivered = o.status() == OrderStatus::delivered;
    return v;
  };
  open_.clear();
  std::vector<std::string> going;
  for (auto& id : tracked_) {
    const OrderRecord* o = s.order(id);
    REQUIRE(o != nullptr);
    if (o->cancelled || o->rejected) continue;
    if (o->completed) {
      completed_.push_back(std::move(id));
      if (completed_.size() > 500) completed_.pop_front();
      continue;
    }
    open_.push_back(view(id, *o));
    going.push_back(std::move(id));
  }
  tracked_ = std::move(going);
  std::size_t first_completed = open_.size();
  for (const auto& id : completed_) open_.push_back(view(id, *s.order(id)));

  for (auto* c : {&approvable_, &shippable_, &deliverable_, &completable_, &unshipped_, &shipped_, &returnable_,
                  &allocatable_, &settled_}) {
    c->clear();
  }
  for (std::size_t i = 0; i < open_.size(); ++i) {
    const OrderView& o = open_[i];
    if (!o.returnable.empty()) returnable_.push_back(i);
    if (i >= first_completed) continue;  // completed: only returns are left
    bool approved = o.pending_steps.empty();
    if (!approved) approvable_.push_back(i);
    if (approved && !o.held.empty() && o.type != OrderType::reservation) shippable_.push_back(i);
    if (o.on_road || (o.type == OrderType::reservation && approved && !o.held.empty())) deliverable_.push_back(i);
    if (o.delivered) completable_.push_back(i);
    (o.shipped_any ? shipped_ : unshipped_).push_back(i);
    if (o.unallocated) allocatable_.push_back(i);
    if (approved && !o.delivered) settled_.push_back(i);
  }
}

// ---- the generator of every command

class Generator {
 public:
  Generator(std::uint64_t seed, const demo::NetworkSize& size, test::Model& model, OrderGenerator& orders)
      : rng_(seed), size_(size), model_(model), orders_(orders) {}

  // The next command and what the model expects of it: nullopt = applied; replay_of set = a retry.
  // Order commands (`order`) are not the model's: applied, or refused with a tolerated code,
  // unless `expected` names the one refusal they must get.
  struct Planned {
    Command command;
    std::optional<ErrorCode> expected;
    std::optional<std::uint64_t> replay_of;
    bool order = false;
    std::vector<ErrorCode> tolerated;
  };
  Planned next(std::int64_t now_us);
  void remember(const Command& c, std::uint64_t first_seq) {
    ring_.push_back({c, first_seq});
    if (ring_.size() > retry_ring_max) ring_.pop_front();
  }

 private:
  std::uint64_t pick(std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng_); }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  std::string random_location() {
    std::uint64_t r = pick(size_.warehouses + size_.dealers + size_.stores);
    if (r < std::uint64_t(size_.warehouses)) return "warehouse:" + demo::warehouse_id(int(r));
    r -= size_.warehouses;
    if (r < std::uint64_t(size_.dealers)) return "dealer:" + demo::dealer_id(int(r));
    return "store:" + demo::store_id(int(r - size_.dealers));
  }
  std::pair<std::string, std::string> stocked_pair() {
    if (stocked_.empty()) return {"warehouse:" + demo::warehouse_id(0), demo::sku_id(0)};
    return stocked_[pick(stocked_.size())];
  }
  std::int64_t qty_up_to(std::int64_t available) {
    if (chance(0.08)) return available + 1;  // deliberately short
    return 1 + std::int64_t(pick(std::uint64_t(std::max<std::int64_t>(1, std::min<std::int64_t>(available, 500)))));
  }
  // The lot a location last received of a SKU (empty: none); its next transfer of the SKU carries it.
  std::string lot_at(const std::string& location, const std::string& sku) const {
    auto it = lots_.find({location, sku});
    return it == lots_.end() ? std::string() : it->second;
  }
  void note_lot(const std::string& location, const StockLineInput& line) {
    if (!line.lot.empty()) lots_[{location, line.sku}] = line.lot;
  }
  std::string take(std::vector<std::string>& ids) {
    std::size_t i = pick(ids.size());
    std::string id = ids[i];
    ids[i] = ids.back();
    ids.pop_back();
    return id;
  }
  CommandBody body(std::int64_t now_us);
  void note_applied(const CommandBody& body);

  std::mt19937_64 rng_;
  demo::NetworkSize size_;
  test::Model& model_;
  OrderGenerator& orders_;
  std::uint64_t next_id_ = 0;
  std::vector<std::pair<std::string, std::string>> stocked_;  // (location, sku) that received stock
  std::map<std::pair<std::string, std::string>, std::string> lots_;  // (location, sku) -> last lot received
  std::vector<std::string> in_transit_, pending_, settled_;
  std::deque<Accepted> ring_;
};

CommandBody Generator::body(std::int64_t now_us) {
  double u = std::uniform_real_distribution<double>(0, 1)(rng_);
  std::string n = std::to_string(next_id_);
  if (u < 0.06 || stocked_.size() < 50) {
    ReceiveStock r{demo::warehouse_id(int(pick(size_.warehouses))), {}, "BATCH-" + n};
    for (std::uint64_t i = 0, lines = 1 + pick(3); i < lines; ++i) {
      // Half the lines name a production lot: transfers and reservations carry it on (the lot trace).
      std::string lot = chance(0.5) ? fmt::format("LOT-{}-{}", n, i) : std::string();
      r.lines.push_back({demo::sku_id(int(pick(orders_.stock_skus()))), std::int64_t(1 + pick(5000)), lot});
    }
    if (chance(0.03)) r.lines.back().sku = "SKU-NOPE";
    if (chance(0.03)) r.lines.back().qty = chance(0.5) ? 0 : limits::qty_max + 1;
    return r;
  }
  if (u < 0.12) {
    auto [loc, sku] = stocked_pair();
    std::int64_t avail = model_.available(loc, sku);
    std::int64_t delta = chance(0.5) ? -qty_up_to(avail) : std::int64_t(1 + pick(50));
    return AdjustStock{loc, sku, delta, "count"};
  }
  if (u < 0.45) {
    auto [loc, sku] = stocked_pair();
    std::int64_t avail = model_.available(loc, sku);
    std::string id = (chance(0.02) && !settled_.empty()) ? settled_[pick(settled_.size())] : "T" + n;
    ShipTransfer t{id, loc, chance(0.01) ? loc : random_location(), {{sku, qty_up_to(avail), lot_at(loc, sku)}}};
    if (chance(0.2) && t.lines[0].qty > 1) {  // the same SKU on two lines, the second without a lot
      std::int64_t half = t.lines[0].qty / 2;
      t.lines[0].qty -= half;
      t.lines.push_back({sku, half, {}});
    }
    return t;
  }
  if (u < 0.62) {
    if (in_transit_.empty() || chance(0.04)) return ReceiveTransfer{chance(0.5) && !settled_.empty() ? settled_[pick(settled_.size())] : "T-NOPE"};
    std::string id = take(in_transit_);
    settled_.push_back(id);
    return ReceiveTransfer{id};
  }
  if (u < 0.77) {
    auto [loc, sku] = stocked_pair();
    std::int64_t avail = model_.available(loc, sku);
    std::int64_t deadline = chance(0.03) ? now_us : now_us + std::int64_t(1 + pick(6)) * wave_us - 1;
    return CreateReservation{"RSV" + n,
                             loc,
                             chance(0.7) ? "customer" : random_location(),
                             {{sku, qty_up_to(avail), lot_at(loc, sku)}},
                             deadline};
  }
  if (u < 0.94) {
    if (pending_.empty()) return VoidReservation{"RSV-NOPE", "none"};
    std::string id = take(pending_);
    if (u >= 0.88) return VoidReservation{id, "cancelled"};
    auto it = model_.reservations.find(id);
    if (it == model_.reservations.end() || chance(0.5)) return PostReservation{id, {}};
    std::vector<StockLineInput> lines = it->second.lines;
    lines[0].qty = chance(0.05) ? lines[0].qty + 1 : 1 + std::int64_t(pick(std::uint64_t(lines[0].qty)));
    return PostReservation{id, lines};
  }
  return AdjustStock{"warehouse:" + demo::warehouse_id(0), demo::sku_id(0), 1, "filler"};
}

void Generator::note_applied(const CommandBody& body) {
  if (const auto* c = std::get_if<ReceiveStock>(&body)) {
    for (const auto& l : c->lines) {
      stocked_.emplace_back("warehouse:" + c->warehouse, l.sku);
      note_lot("warehouse:" + c->warehouse, l);
    }
  } else if (const auto* c = std::get_if<ShipTransfer>(&body)) {
    in_transit_.push_back(c->id);
  } else if (const auto* c = std::get_if<ReceiveTransfer>(&body)) {
    const auto& t = model_.transfers.at(c->id);
    for (const auto& l : t.lines) {
      stocked_.emplace_back(t.to, l.sku);
      note_lot(t.to, l);
    }
  } else if (const auto* c = std::get_if<CreateReservation>(&body)) {
    pending_.push_back(c->id);
  } else if (const auto* c = std::get_if<PostReservation>(&body)) {
    const auto& r = model_.reservations.at(c->id);
    if (r.to != "customer") {
      stocked_.emplace_back(r.to, r.lines[0].sku);
      note_lot(r.to, r.lines[0]);
    }
  }
  if (stocked_.size() > 100'000) stocked_.erase(stocked_.begin(), stocked_.begin() + 50'000);
  if (lots_.size() > 100'000) lots_.clear();
}

Generator::Planned Generator::next(std::int64_t now_us) {
  ++next_id_;
  std::string command_id = "c" + std::to_string(next_id_);
  if (chance(0.04) && !ring_.empty()) {  // a client retrying an acknowledged command
    const Accepted& past = ring_[pick(ring_.size())];
    if (chance(0.8)) return {past.command, std::nullopt, past.first_seq, false, {}};
    Command other{past.command.command_id, past.command.actor, VoidReservation{"RSV-OTHER", "other body"}};
    return {other, ErrorCode::idempotency_mismatch, std::nullopt, false, {}};
  }
  if (chance(order_command_share)) {
    auto o = orders_.next(now_us);
    return {Command{command_id, o.actor, std::move(o.body)}, o.expected, std::nullopt, true, std::move(o.tolerated)};
  }
  Command c{command_id, {"sim", "hq_admin", ""}, body(now_us)};
  auto expected = model_.apply(c.body, now_us);
  if (!expected) note_applied(c.body);
  return {std::move(c), expected, std::nullopt, false, {}};
}

// The balances of the SKUs the model keeps (not the order SKUs).
std::string engine_balances(const LedgerState& s, const OrderGenerator& orders) {
  std::vector<std::string> rows;
  s.for_each_balance([&](std::string_view l, std::string_view k, const Balance& b) {
    if (orders.is_order_sku(k)) return;
    rows.push_back(fmt::format("{} {} {} {}", l, k, b.on_hand, b.reserved));
  });
  std::sort(rows.begin(), rows.end());
  std::string out;
  for (const auto& r : rows) out += r + "\n";
  return out;
}

struct SimulationResult {
  Hash32 chain_head{};
  std::uint64_t events = 0;
  std::string orders_by_status;  // "cancelled: 12 completed: 30 ..."
};

// Lets the writer run the expiries and delay warnings due at `now` before the wave, so that no
// command of the wave sees one happen (the model expires its reservations at the wave's start, and
// the order generator predicts from the state after them). A batch expires at most a few thousand:
// tick until none is due.
void settle(test::Harness& h, std::int64_t now) {
  for (int tick = 0; tick < 64; ++tick) {
    bool due = false;
    h.engine->inspect([&](const LedgerState& s) {
      due = (!s.pending_deadlines().empty() && s.pending_deadlines().begin()->first <= now) ||
            (!s.milestones().empty() && std::get<0>(*s.milestones().begin()) <= now);
    });
    if (!due) return;
    // A command that changes nothing (R01 redefined as it is) starts a batch.
    REQUIRE(h.engine->execute(Command{"", {"sim", "hq_admin", ""}, DefineRegion{demo::region_id(0), "Region 1"}}).ok());
  }
  FAIL("expiries still due after 64 batches");
}

// Runs one simulation of `commands` commands; every check is a doctest CHECK/REQUIRE.
SimulationResult simulate(std::uint64_t seed, std::uint64_t commands, const demo::NetworkSize& size) {
  // The simulation checks decisions, not durability (the crash tests do): skip the fsyncs.
  EngineOptions options;
  options.durability = Durability::os_buffered;
  test::Harness h(options);
  test::Model model;
  for (int i = 0; i < size.warehouses; ++i) model.warehouses.insert(demo::warehouse_id(i));
  for (int i = 0; i < size.dealers; ++i) model.dealers.insert(demo::dealer_id(i));
  for (int i = 0; i < size.stores; ++i) model.stores.insert(demo::store_id(i));
  for (int i = 0; i < size.skus; ++i) model.skus.insert(demo::sku_id(i));
  // The projections follow the run live, snapshotting often, so restarts restore them from snapshots.
  LiveOptions live_options;
  live_options.data_dir = h.dir.path();
  live_options.snapshot_every_events = 2500;
  auto live_model = test::start_live(*h.engine, live_options);
  for (auto& c : demo::network_commands(size)) REQUIRE(h.engine->execute(std::move(c)).ok());
  OrderGenerator orders(seed ^ 0x0bde5, size);
  for (auto& c : orders.setup()) REQUIRE(h.engine->execute(std::move(c)).ok());

  Generator gen(seed, size, model, orders);
  std::mt19937_64 wave_rng(seed ^ 0x5eed);
  std::uint64_t done = 0;
  for (int wave = 1; done < commands; ++wave) {
    h.clock->advance_us(wave_us + orders.clock_jump_us());
    std::int64_t now = h.clock->now_us();
    model.expire_due(now);
    settle(h, now);
    h.engine->inspect([&](const LedgerState& s) { orders.observe(s); });
    std::size_t n = std::min<std::uint64_t>(commands - done, 1 + wave_rng() % wave_commands_max);
    std::vector<Generator::Planned> planned;
    planned.reserve(n);
    for (std::size_t i = 0; i < n; ++i) planned.push_back(gen.next(now));

    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::optional<CommandResult>> results(n);
    std::size_t answered = 0;
    for (std::size_t i = 0; i < n; ++i) {
      h.engine->submit(planned[i].command, [&, i](const CommandResult& r) {
        std::lock_guard lock(mu);
        results[i] = r;
        if (++answered == n) cv.notify_one();
      });
    }
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return answered == n; });
    }
    for (std::size_t i = 0; i < n; ++i) {
      const auto& p = planned[i];
      const CommandResult& r = *results[i];
      INFO("seed=" << seed << " wave=" << wave << " command " << p.command.command_id << " ("
                   << std::string(command_name(p.command.body)) << "): " << (r.ok() ? "ok" : r.error().to_string()));
      if (p.replay_of) {
        REQUIRE(r.ok());
        CHECK(r->replayed);
        CHECK(r->first_seq == *p.replay_of);
      } else if (p.expected) {
        REQUIRE(!r.ok());
        REQUIRE(r.error().code == *p.expected);
      } else if (p.order && !r.ok()) {
        REQUIRE(std::find(p.tolerated.begin(), p.tolerated.end(), r.error().code) != p.tolerated.end());
      } else {
        REQUIRE(r.ok());
        REQUIRE(!r->replayed);
        gen.remember(p.command, r->first_seq);
      }
    }
    done += n;
    auto touched = model.take_touched();
    h.engine->inspect([&](const LedgerState& s) {
      INFO("seed=" << seed << " wave=" << wave);
      auto inv = s.check_invariants();
      REQUIRE_MESSAGE(inv.ok(), (inv.ok() ? "" : inv.error().to_string()));
      for (const auto& [location, sku] : touched) {
        INFO(location << " " << sku);
        REQUIRE(s.balance(location, sku) == model.balance(location, sku));
      }
      if (wave % disk_check_every_waves == 0) REQUIRE(engine_balances(s, orders) == model.render_balances());
      if (wave % order_check_every_waves == 0) {
        std::string violation = test::order_invariant_violation(s);
        REQUIRE_MESSAGE(violation.empty(), violation);
      }
    });
    if (wave % disk_check_every_waves == 0) {
      // The disk must say what memory says: fold the log read-only beside the live writer.
      auto on_disk = fold_log(h.dir.path());
      INFO("seed=" << seed << " wave=" << wave);
      REQUIRE_MESSAGE(on_disk.ok(), (on_disk.ok() ? "" : on_disk.error().to_string()));
      REQUIRE(on_disk->render() == h.render());
    }
    if (wave % restart_every_waves == 0) {
      std::string before = h.render();
      test::wait_applied(*live_model, h.engine->last_seq());
      std::string projections_before = test::render_model(*live_model);
      std::uint64_t seq = live_model->applied_seq();
      live_model.reset();  // writes its last snapshot
      h.close();
      h.open();
      INFO("seed=" << seed << " restart after wave " << wave);
      REQUIRE(h.engine->restored_from_seq() == seq);
      REQUIRE(h.render() == before);
      live_model = test::start_live(*h.engine, live_options);
      REQUIRE(live_model->restored_from_seq() == seq);
      test::require_same_models(test::render_model(*live_model), projections_before);
    }
  }

  // Every projection: live = a rebuild from the log = the last periodic snapshot plus the tail.
  test::wait_applied(*live_model, h.engine->last_seq());
  test::wait_snapshots_settled(*live_model, live_options.snapshot_every_events);
  {
    std::string live_projections = test::render_model(*live_model);
    auto rebuilt = ReadModel::rebuild(h.dir.path());
    REQUIRE_MESSAGE(rebuilt.ok(), (rebuilt.ok() ? "" : rebuilt.error().to_string()));
    test::require_same_models(test::render_model(**rebuilt), live_projections);
    const ReadModel& m = **rebuilt;
    auto lot_conflicts = m.alerts().query("channel_conflict", 0, alerts_kept_max,
                                          [](const AlertRecord& a) { return a.subject.rfind("lot:", 0) == 0; });
    MESSAGE("lots traced: " << m.lot_trace().size() << ", lot channel conflicts: " << lot_conflicts.size()
                            << ", member orders in the recommendations: " << m.recommendations().orders_counted());
    auto restored = test::restore_model(h.dir.path());
    REQUIRE(restored->last_seq() == live_model->snapshot_seq());
    MESSAGE("snapshot at seq " << restored->last_seq() << ", tail of " << h.engine->last_seq() - restored->last_seq());
    REQUIRE((*restored).catch_up(h.dir.path()).ok());
    test::require_same_models(test::render_model(*restored), live_projections);
  }
  live_model.reset();

  SimulationResult result;
  std::string live = h.render();
  std::map<std::string, int> by_status;
  h.engine->inspect([&](const LedgerState& s) {
    result.chain_head = s.chain_head();
    result.events = s.last_seq();
    std::string violation = test::order_invariant_violation(s);
    CHECK_MESSAGE(violation.empty(), violation);
    s.for_each_order([&](const std::string&, const OrderRecord& o) { ++by_status[order_status_name(o.status())]; });
  });
  for (const auto& [status, n] : by_status) result.orders_by_status += fmt::format("{}: {} ", status, n);
  h.close();
  auto rebuilt = fold_log(h.dir.path());
  REQUIRE(rebuilt.ok());
  CHECK(rebuilt->render() == live);
  auto report = verify_log(h.dir.path());
  REQUIRE_MESSAGE(report.ok(), (report.ok() ? "" : report.error().to_string()));
  CHECK(report->chain_hash == result.chain_head);
  CHECK(report->events == result.events);
  return result;
}

std::uint64_t pick_seed() {
  std::uint64_t seed = test::settings().sim_seed;
  if (seed == 0) seed = std::random_device{}() | 1;
  MESSAGE("simulation seed " << seed << " (replay with --sim-seed=" << seed << ")");
  return seed;
}

}  // namespace

TEST_SUITE_BEGIN("simulation");

TEST_CASE("simulation: random commands at network scale agree with the reference model, invariants hold") {
  std::uint64_t seed = pick_seed();
  demo::NetworkSize size;  // 32 regions, 8 warehouses, 2000 dealers, 12000 stores, 300 SKUs
  auto result = simulate(seed, test::settings().sim_commands, size);
  CHECK(result.events > 0);
  MESSAGE("orders by status: " << result.orders_by_status);
}

TEST_CASE("simulation: the same seed gives the same log, to the last bit of the chain hash") {
  std::uint64_t seed = pick_seed();
  demo::NetworkSize size{8, 8, 50, 200, 40};
  auto first = simulate(seed, 5000, size);
  auto second = simulate(seed, 5000, size);
  CHECK(first.events == second.events);
  CHECK(first.chain_head == second.chain_head);
}

TEST_SUITE_END();
