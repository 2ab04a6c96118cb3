// Snapshots of the decision state (ledger/snapshot.hpp): the codec gives back the same state exactly
// (and the same bytes), a restart folds only the events after the snapshot and ends in the state a
// whole fold gives, and every damaged, foreign, other-version or hostile snapshot is refused and the
// whole log folded instead.
//
// The histories are seeded and varied: the demo history on a small network (stock down the tiers,
// reservations, an approval policy, members, dealer orders), then waves of random commands of every
// kind (orders of each type through approval, allocation, shipment, delivery, completion,
// cancellation and return; backorders, presale batches announced and arriving, sourcing weights,
// policies, tokens, transfers, reservations, adjustments), with the clock jumping so holds expire
// and delays are warned. Outcomes are not predicted here (the simulation suite does that): any
// state the engine reaches must survive a snapshot.
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <sstream>
#include <tuple>

#include "ledger/demo_network.hpp"
#include "ledger/fold.hpp"
#include "ledger/snapshot.hpp"
#include "model.hpp"
#include "support.hpp"

using namespace ledger;

namespace {

constexpr std::int64_t hour_us = 3'600'000'000;
constexpr std::int64_t day_us = 24 * hour_us;

// The demo history on a small network, then random waves (see the top of the file).
class History {
 public:
  static constexpr demo::NetworkSize size{4, 3, 24, 96, 16};

  History(test::Harness& h, std::uint64_t seed) : h_(h), rng_(seed) {}

  void load() {
    demo::load_history(*h_.engine, size, h_.clock->now_us(), [](const std::string&) {});
    for (int s = 0; s < size.stores; s += 12) members_.push_back(fmt::format("M-{}", s + 1));
    for (int i = 0; i < 6; ++i) run(issue_token());
  }

  void waves(int n, int commands_per_wave) {
    for (int i = 0; i < n; ++i) wave(commands_per_wave);
  }

  std::uint64_t applied() const { return applied_; }
  std::uint64_t rejected() const { return rejected_; }

 private:
  struct OrderView {
    std::string id, region;
    OrderType type = OrderType::spot;
    std::vector<std::string> pending_steps;
    std::vector<std::pair<std::string, std::int64_t>> held, returnable;
  };
  struct Planned {
    Actor actor{"snap", "hq_admin", ""};
    CommandBody body;
  };

  std::uint64_t pick(std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng_); }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  std::string id(std::string_view prefix) { return fmt::format("{}-{}", prefix, ++n_); }
  static int index_of(std::string_view id) { return std::stoi(std::string(id.substr(id.find('-') + 1))) - 1; }
  static std::string region_of_store(std::string_view store) {
    return demo::region_id(demo::region_of_dealer(demo::dealer_of_store(index_of(store), size), size));
  }
  static std::int64_t retail(int sku) { return 150'00 + (sku % 40) * 50'00; }
  std::int64_t price(int sku, char level) {
    std::int64_t list = level == 'w' ? retail(sku) * 70 / 100 : level == 's' ? retail(sku) * 85 / 100 : retail(sku);
    return list * std::int64_t(88 + pick(25)) / 100;
  }
  template <typename T>
  T take(std::vector<T>& pool) {
    std::size_t i = pick(pool.size());
    T out = std::move(pool[i]);
    pool[i] = std::move(pool.back());
    pool.pop_back();
    return out;
  }

  void run(const Planned& p) {
    auto r = h_.engine->execute(Command{"", p.actor, p.body});
    ++(r.ok() ? applied_ : rejected_);
  }

  void wave(int commands) {
    h_.clock->advance_us(chance(0.3) ? std::int64_t(1 + pick(40)) * hour_us : std::int64_t(1 + pick(600)) * 1'000'000);
    observe();
    for (int i = 0; i < commands; ++i) run(next());
  }

  // What the next commands can act on, from the state at the start of the wave.
  void observe() {
    h_.engine->inspect([&](const LedgerState& s) {
      approvable_.clear();
      shippable_.clear();
      deliverable_.clear();
      completable_.clear();
      cancellable_.clear();
      returnable_.clear();
      allocatable_.clear();
      s.for_each_order([&](const std::string& id, const OrderRecord& o) {
        if (o.cancelled || o.rejected) return;
        OrderView v;
        v.id = id;
        v.type = o.type;
        v.region = o.ship_to_region;
        if (o.buyer.rfind("dealer:", 0) == 0) v.region = s.dealer(o.buyer.substr(7))->region;
        if (o.buyer.rfind("store:", 0) == 0) v.region = s.store(o.buyer.substr(6))->region;
        for (const auto& step : o.approvals_required) {
          bool done =
              std::any_of(o.approvals.begin(), o.approvals.end(), [&](const auto& a) { return a.step == step; });
          if (!done) v.pending_steps.push_back(step);
        }
        bool on_road = false, unallocated = false;
        for (const auto& [sku, qty] : o.held) v.held.emplace_back(sku, qty);
        for (const auto& [sku, u] : o.units) {
          on_road |= u.shipped > u.delivered;
          unallocated |= o.unallocated(sku) > 0;
          if (u.delivered > u.returned) v.returnable.emplace_back(sku, u.delivered - u.returned);
        }
        bool approved = v.pending_steps.empty();
        if (!v.returnable.empty()) returnable_.push_back(v);
        if (o.completed) return;
        if (!approved) approvable_.push_back(v);
        if (approved && !v.held.empty() && o.type != OrderType::reservation) shippable_.push_back(v);
        if (on_road || (o.type == OrderType::reservation && approved && !v.held.empty())) deliverable_.push_back(v);
        if (o.status() == OrderStatus::delivered) completable_.push_back(v);
        if (!o.anything_shipped()) cancellable_.push_back(v);
        if (unallocated) allocatable_.push_back(v);
      });
      stock_.clear();
      s.for_each_balance([&](std::string_view l, std::string_view k, const Balance& b) {
        if (b.available() > 0 && l.find(':') != std::string_view::npos && l.rfind("transit:", 0) != 0) {
          stock_.push_back({std::string(l), std::string(k), b.available()});
        }
      });
      std::sort(stock_.begin(), stock_.end());  // the balances come in no particular order
      std::erase_if(in_transit_, [&](const std::string& t) {
        return s.transfer(t) == nullptr || s.transfer(t)->status != TransferStatus::in_transit;
      });
      std::erase_if(pending_, [&](const std::string& r) {
        return s.reservation(r) == nullptr || s.reservation(r)->status != ReservationStatus::pending;
      });
      std::erase_if(open_batches_, [&](const std::string& b) {
        return s.presale_batch(b) == nullptr || s.presale_batch(b)->received;
      });
    });
  }

  Planned issue_token() {
    Planned p;
    IssueToken t;
    t.prefix = id("tok");
    for (auto& byte : t.token_sha256) byte = static_cast<std::uint8_t>(pick(256));
    switch (pick(4)) {
      case 0: t.role = "auditor"; break;
      case 1:
        t.role = "dealer";
        t.scope = demo::dealer_id(int(pick(size.dealers)));
        break;
      case 2:
        t.role = "region_manager";
        t.scope = demo::region_id(int(pick(size.regions)));
        break;
      default:
        t.role = "member";
        t.scope = members_[pick(members_.size())];
        break;
    }
    tokens_.push_back(t.prefix);
    p.body = std::move(t);
    return p;
  }

  PlaceOrder order(OrderType type, std::string buyer, std::string seller, std::string channel, std::string region) {
    PlaceOrder o;
    o.id = id("ORD");
    o.type = type;
    o.buyer = std::move(buyer);
    o.seller = std::move(seller);
    o.channel = std::move(channel);
    o.ship_to_region = std::move(region);
    o.ship_to_lat_e6 = 25'000'000 + std::int32_t(pick(1000)) * 15'000;
    o.ship_to_lon_e6 = 100'000'000 + std::int32_t(pick(997)) * 20'000;
    o.promised_by_us = h_.clock->now_us() + std::int64_t(1 + pick(10)) * day_us;
    return o;
  }

  Planned place() {
    Planned p;
    double u = std::uniform_real_distribution<double>(0, 1)(rng_);
    std::vector<const std::tuple<std::string, std::string, std::int64_t>*> at_stores, at_dealers;
    for (const auto& s : stock_) {
      if (std::get<0>(s).rfind("store:", 0) == 0) at_stores.push_back(&s);
      if (std::get<0>(s).rfind("dealer:", 0) == 0) at_dealers.push_back(&s);
    }
    if (u < 0.45) {  // hq sells to a dealer (or a store) from the warehouses; some wait for stock
      bool to_store = chance(0.2);
      int who = int(pick(to_store ? size.stores : size.dealers));
      PlaceOrder o = to_store ? order(OrderType::spot, "store:" + demo::store_id(who), "hq", "regional_storefront",
                                      region_of_store(demo::store_id(who)))
                              : order(OrderType::spot, "dealer:" + demo::dealer_id(who), "hq", "regional_storefront",
                                      demo::region_id(demo::region_of_dealer(who, size)));
      for (std::uint64_t i = 0, n = 1 + pick(3); i < n; ++i) {
        int k = int(pick(size.skus));
        o.lines.push_back(
            {demo::sku_id(k), std::int64_t(1 + pick(chance(0.2) ? 9000 : 200)), price(k, to_store ? 's' : 'w')});
      }
      o.allow_backorder = chance(0.35);
      p.body = std::move(o);
    } else if (u < 0.6 && !open_batches_.empty()) {  // a presale on an announced batch
      const std::string& b = open_batches_[pick(open_batches_.size())];
      int d = int(pick(size.dealers));
      PlaceOrder o = order(OrderType::presale, "dealer:" + demo::dealer_id(d), "hq", "regional_storefront",
                           demo::region_id(demo::region_of_dealer(d, size)));
      o.promised_by_us = h_.clock->now_us() + std::int64_t(10 + pick(10)) * day_us;
      int k = index_of(batch_sku_.at(b));
      o.lines = {{batch_sku_.at(b), std::int64_t(1 + pick(40)), price(k, 'w')}};
      p.body = std::move(o);
    } else if (u < 0.85 && !at_stores.empty()) {  // a member at a store: a booking, or bought there
      const auto& [location, sku, available] = *at_stores[pick(at_stores.size())];
      std::string store = location.substr(6);
      bool booking = chance(0.5);
      PlaceOrder o =
          order(booking ? OrderType::reservation : OrderType::spot, "member:" + members_[pick(members_.size())],
                location, booking ? "store" : "o2o", region_of_store(store));
      if (booking) {
        o.pickup_at_us = h_.clock->now_us() + std::int64_t(1 + pick(72)) * hour_us;
        o.promised_by_us = o.pickup_at_us + day_us;
      }
      o.lines = {{sku, 1 + std::int64_t(pick(std::uint64_t(std::min<std::int64_t>(available, 4)))),
                  price(index_of(sku), 'r')}};
      p.body = std::move(o);
    } else if (!at_dealers.empty()) {  // a dealer sells to one of its stores or to a member
      const auto& [location, sku, available] = *at_dealers[pick(at_dealers.size())];
      int d = index_of(location.substr(7));
      std::string region = demo::region_id(demo::region_of_dealer(d, size));
      bool to_store = chance(0.5);
      int stores_of_d = (size.stores - 1 - d) / size.dealers + 1;
      PlaceOrder o = to_store
                         ? order(OrderType::spot, "store:" + demo::store_id(d + int(pick(stores_of_d)) * size.dealers),
                                 location, "dealer_storefront", region)
                         : order(OrderType::spot, "member:" + members_[pick(members_.size())], location,
                                 "dealer_storefront", region);
      o.lines = {{sku, 1 + std::int64_t(pick(std::uint64_t(std::min<std::int64_t>(available, 12)))),
                  price(index_of(sku), to_store ? 's' : 'r')}};
      p.body = std::move(o);
    } else {
      p.body = DefineMember{id("MM"), "a member", demo::store_id(int(pick(size.stores)))};
    }
    return p;
  }

  Actor approver(const OrderView& o, const std::string& step) {
    if (chance(0.05)) return {"someone", "finance", ""};  // now and then the wrong person: refused
    if (step == "region_manager") return {"manager-" + o.region, step, o.region};
    return {step + "-1", step, ""};
  }

  std::optional<Planned> lifecycle(double u) {
    Planned p;
    if (u < 0.25) {
      if (approvable_.empty()) return std::nullopt;
      OrderView o = take(approvable_);
      const std::string& step = o.pending_steps[pick(o.pending_steps.size())];
      p.actor = approver(o, step);
      p.body =
          chance(0.1) ? CommandBody{RejectOrder{o.id, "not at this price"}} : CommandBody{ApproveOrder{o.id, step}};
    } else if (u < 0.5) {
      if (shippable_.empty()) return std::nullopt;
      OrderView o = take(shippable_);
      const auto& [sku, held] = o.held[pick(o.held.size())];
      p.body =
          chance(0.5) ? ShipOrder{o.id, {}} : ShipOrder{o.id, {{sku, 1 + std::int64_t(pick(std::uint64_t(held))), {}}}};
    } else if (u < 0.65) {
      if (deliverable_.empty()) return std::nullopt;
      p.body = DeliverOrder{take(deliverable_).id};
    } else if (u < 0.75) {
      if (completable_.empty()) return std::nullopt;
      p.body = CompleteOrder{take(completable_).id};
    } else if (u < 0.83) {
      if (cancellable_.empty()) return std::nullopt;
      p.body = CancelOrder{take(cancellable_).id, "plans changed"};
    } else if (u < 0.92) {
      if (returnable_.empty()) return std::nullopt;
      OrderView o = take(returnable_);
      const auto& [sku, qty] = o.returnable[pick(o.returnable.size())];
      p.body = ReturnOrder{o.id, {{sku, 1 + std::int64_t(pick(std::uint64_t(qty))), {}}}, "broken seal"};
    } else {
      if (allocatable_.empty()) return std::nullopt;
      p.body = AllocateOrder{take(allocatable_).id};
    }
    return p;
  }

  Planned stock() {
    Planned p;
    double u = std::uniform_real_distribution<double>(0, 1)(rng_);
    std::string w = demo::warehouse_id(int(pick(size.warehouses)));
    if (u < 0.25) {
      ReceiveStock r{w, {}, id("REF")};
      for (std::uint64_t i = 0, n = 1 + pick(3); i < n; ++i) {
        r.lines.push_back(
            {demo::sku_id(int(pick(size.skus))), std::int64_t(50 + pick(800)), chance(0.3) ? id("LOT") : ""});
      }
      p.body = std::move(r);
    } else if (u < 0.33 && !open_batches_.empty()) {  // a presale batch arrives, more or less than its quota
      std::string b = take(open_batches_);
      p.body = ReceiveStock{batch_warehouse_.at(b), {{batch_sku_.at(b), std::int64_t(20 + pick(400)), {}}}, b};
    } else if (u < 0.4) {
      AnnouncePresaleBatch a{id("PB"), demo::sku_id(int(pick(size.skus))), w, std::int64_t(50 + pick(400)),
                             h_.clock->now_us() + std::int64_t(2 + pick(7)) * day_us};
      batch_sku_[a.id] = a.sku;
      batch_warehouse_[a.id] = a.warehouse;
      open_batches_.push_back(a.id);
      p.body = std::move(a);
    } else if (u < 0.45) {
      std::vector<std::pair<std::string, std::int32_t>> weights;
      for (std::uint64_t i = 0, n = 1 + pick(4); i < n; ++i) {
        weights.emplace_back(dimension_name(Dimension(pick(dimension_count))), std::int32_t(pick(1001)));
      }
      p.body = SetSourcingWeights{chance(0.3) ? "" : demo::region_id(int(pick(size.regions))), weights};
    } else if (u < 0.48) {
      ApprovalRuleInput big, second;
      big.step = "region_manager";
      big.min_amount_cents = std::int64_t(1 + pick(10)) * 1'000'000;
      second.step = chance(0.5) ? "sales_director" : "finance";
      switch (pick(4)) {
        case 0: second.below_floor = true; break;
        case 1: second.credit_overrun = true; break;
        case 2: second.health_tier_at_most = 1 + int(pick(3)); break;
        default: second.order_type = "presale"; break;
      }
      p.body = SetApprovalPolicy{{big, second}};
    } else if (u < 0.52) {
      if (chance(0.3) && !tokens_.empty()) {
        p.body = RevokeToken{take(tokens_)};
      } else {
        p = issue_token();
      }
    } else if (u < 0.55) {
      std::string m = id("MM");
      members_.push_back(m);
      p.body = DefineMember{m, "member " + m, demo::store_id(int(pick(size.stores)))};
    } else if (u < 0.7 && !stock_.empty()) {  // a transfer down the tiers, or one received
      if (chance(0.4) && !in_transit_.empty()) {
        p.body = ReceiveTransfer{take(in_transit_)};
      } else {
        const auto& [from, sku, available] = stock_[pick(stock_.size())];
        std::string to = chance(0.5) ? "dealer:" + demo::dealer_id(int(pick(size.dealers)))
                                     : "store:" + demo::store_id(int(pick(size.stores)));
        std::string t = id("T");
        in_transit_.push_back(t);
        p.body = ShipTransfer{
            t, from, to, {{sku, 1 + std::int64_t(pick(std::uint64_t(std::min<std::int64_t>(available, 60)))), {}}}};
      }
    } else if (u < 0.85 && !stock_.empty()) {  // a plain reservation: created, posted (partly) or voided
      if (chance(0.5) && !pending_.empty()) {
        std::string r = take(pending_);
        p.body = chance(0.5) ? CommandBody{PostReservation{r, {}}} : CommandBody{VoidReservation{r, "changed"}};
      } else {
        const auto& [from, sku, available] = stock_[pick(stock_.size())];
        std::string r = id("RSV");
        pending_.push_back(r);
        p.body =
            CreateReservation{r,
                              from,
                              chance(0.7) ? "customer" : "dealer:" + demo::dealer_id(int(pick(size.dealers))),
                              {{sku, 1 + std::int64_t(pick(std::uint64_t(std::min<std::int64_t>(available, 20)))), {}}},
                              h_.clock->now_us() + std::int64_t(1 + pick(48)) * hour_us};
      }
    } else if (!stock_.empty()) {
      const auto& [location, sku, available] = stock_[pick(stock_.size())];
      p.body =
          AdjustStock{location, sku, chance(0.5) ? -(1 + std::int64_t(pick(std::uint64_t(available)))) : 5, "count"};
    } else {
      p.body = ReceiveStock{w, {{demo::sku_id(0), 100, {}}}, id("REF")};
    }
    return p;
  }

  Planned next() {
    double u = std::uniform_real_distribution<double>(0, 1)(rng_);
    if (u < 0.3) return place();
    if (u < 0.7) {
      if (auto p = lifecycle((u - 0.3) / 0.4)) return std::move(*p);
    }
    return stock();
  }

  test::Harness& h_;
  std::mt19937_64 rng_;
  std::uint64_t n_ = 0, applied_ = 0, rejected_ = 0;
  std::vector<std::string> members_, tokens_, in_transit_, pending_, open_batches_;
  std::map<std::string, std::string> batch_sku_, batch_warehouse_;
  std::vector<std::tuple<std::string, std::string, std::int64_t>> stock_;  // (location, sku, available > 0)
  std::vector<OrderView> approvable_, shippable_, deliverable_, completable_, cancellable_, returnable_, allocatable_;
};

EngineOptions quick_options() {
  EngineOptions o;
  o.durability = Durability::os_buffered;  // these tests check snapshots, not durability
  return o;
}

LedgerState copy_state(test::Harness& h) {
  LedgerState out;
  h.engine->inspect([&](const LedgerState& s) { out = s; });
  return out;
}

std::string encode(const LedgerState& s) {
  SnapshotWriter w;
  encode_state(s, w);
  return std::move(w.bytes());
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::filesystem::path& p, std::string_view bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
  REQUIRE(out.good());
}

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

// What render() leaves out, read through the public accessors only (independent of the codec):
// every field of every order, inbound stock, dealer accounts, warehouse loads, token hashes, the
// warehouse order, presale batches per SKU, the effective sourcing weights.
std::string deep_render(const LedgerState& s, const demo::NetworkSize& size) {
  std::string out = s.render();
  std::vector<std::pair<std::string, const OrderRecord*>> orders;
  s.for_each_order([&](const std::string& id, const OrderRecord& o) { orders.emplace_back(id, &o); });
  std::sort(orders.begin(), orders.end());
  for (const auto& [id, o] : orders) {
    out += fmt::format("order {} type={} {} {} {} {} {},{} promised={} pickup={} total={} discount={} backorder={}", id,
                       int(o->type), o->buyer, o->seller, o->channel, o->ship_to_region, o->ship_to_lat_e6,
                       o->ship_to_lon_e6, o->promised_by_us, o->pickup_at_us, o->total_cents, o->discount_cents,
                       o->allow_backorder);
    for (const auto& l : o->lines) out += fmt::format(" line:{}x{}@{}", l.qty, l.sku, l.unit_price_cents);
    out +=
        fmt::format(" coupons=[{}] required=[{}]", fmt::join(o->coupons, ","), fmt::join(o->approvals_required, ","));
    for (const auto& a : o->approvals) out += fmt::format(" approval:{}/{}/{}", a.step, a.principal, a.at_us);
    out += fmt::format(" placed={}@{} approved={}", o->placed_seq, o->placed_at_us, o->approved_at_us);
    for (const auto& a : o->allocation)
      out += fmt::format(" alloc:{}/{}/{}/{}", a.location, a.sku, a.qty, a.reservation);
    for (const auto& [sku, batch] : o->presale_batch) out += fmt::format(" batch:{}={}", sku, batch);
    for (const auto& [sku, qty] : o->held) out += fmt::format(" held:{}={}", sku, qty);
    out += fmt::format(" dues={}/{}/{} ended={}{}{} '{}'", o->approval_due_us, o->shipment_due_us, o->delivery_due_us,
                       o->completed, o->cancelled, o->rejected, o->end_reason);
    for (const auto& t : o->timeline)
      out += fmt::format(" t:{}/{}/{}/{}/{}", t.seq, t.ts_us, t.kind, t.principal, t.note);
    out += "\n";
  }
  std::vector<std::string> locations, skus;
  for (int i = 0; i < size.warehouses; ++i) locations.push_back("warehouse:" + demo::warehouse_id(i));
  for (int i = 0; i < size.dealers; ++i) locations.push_back("dealer:" + demo::dealer_id(i));
  for (int i = 0; i < size.stores; ++i) locations.push_back("store:" + demo::store_id(i));
  for (int i = 0; i < size.skus; ++i) skus.push_back(demo::sku_id(i));
  for (const auto& l : locations) {
    for (const auto& k : skus) {
      if (std::int64_t q = s.inbound(l, k); q != 0) out += fmt::format("inbound {} {} {}\n", l, k, q);
    }
  }
  for (int i = 0; i < size.dealers; ++i) {
    DealerAccount a = s.dealer_account(demo::dealer_id(i));
    out += fmt::format("account {} {}/{}/{}\n", i, a.credit_used_cents, a.delivered_units, a.returned_units);
  }
  std::int64_t today = china_day_of(s.last_ts_us());
  for (int i = 0; i < size.warehouses; ++i) {
    for (std::int64_t day = today - 3; day <= today; ++day) {
      out += fmt::format("load {} {} {}\n", i, day, s.warehouse_load_cases(demo::warehouse_id(i), day));
    }
  }
  std::vector<std::string> tokens;
  s.for_each_token([&](std::string_view prefix, const TokenRecord& t) {
    tokens.push_back(fmt::format("token {} {}", prefix, to_hex(t.token_sha256)));
  });
  std::sort(tokens.begin(), tokens.end());
  out += fmt::format("{}\nwarehouses {}\n", fmt::join(tokens, "\n"), fmt::join(s.warehouse_ids(), ","));
  for (const auto& k : skus) {
    if (const auto* batches = s.presale_batches_of(k))
      out += fmt::format("batches {} {}\n", k, fmt::join(*batches, ","));
    out += fmt::format("presale_for {} '{}'\n", k, s.presale_batch_for(k, 10));
  }
  for (int i = 0; i < size.regions; ++i) {
    out += fmt::format("weights {} {}\n", i, fmt::join(s.sourcing_weights(demo::region_id(i)), ","));
  }
  out += fmt::format("streams {}\n", s.stream_count());
  return out;
}

std::string full_fold_render(const std::filesystem::path& dir) {
  auto folded = fold_log(dir);
  REQUIRE_MESSAGE(folded.ok(), (folded.ok() ? "" : folded.error().to_string()));
  return folded->render();
}

// A reopened engine that ignored the snapshot: it folded the whole log, said why once, and is in the
// state a whole fold gives.
void check_ignored(test::Harness& h, const std::vector<std::string>& notices, const std::string& full,
                   std::string_view reason) {
  CHECK(h.engine->restored_from_seq() == 0);
  REQUIRE(notices.size() == 1);
  CHECK_MESSAGE(notices[0].rfind("snapshot ledger.snap ignored (", 0) == 0, notices[0]);
  CHECK_MESSAGE(notices[0].find(": folding the whole log") != std::string::npos, notices[0]);
  CHECK_MESSAGE(notices[0].find(reason) != std::string::npos, notices[0]);
  CHECK(h.render() == full);
}

}  // namespace

TEST_SUITE_BEGIN("snapshot");

TEST_CASE("snapshot: decode(encode(state)) is the same state, bytes and all, and folds on identically") {
  for (std::uint64_t seed : {11u, 12u, 13u}) {
    INFO("seed " << seed);
    test::Harness h(quick_options());
    History history(h, seed);
    history.load();
    history.waves(25, 60);
    LedgerState original = copy_state(h);
    REQUIRE(original.check_invariants().ok());

    // The history reached every table the codec writes.
    std::size_t ended = 0, backorders_ever = 0;
    std::map<std::string, int> seen;  // order types and timeline entries
    original.for_each_order([&](const std::string&, const OrderRecord& o) {
      ended += o.ended() ? 1 : 0;
      backorders_ever += o.allow_backorder ? 1 : 0;
      ++seen[order_type_name(o.type)];
      for (const auto& t : o.timeline) ++seen[t.kind];
    });
    CHECK(original.order_count() > 100);
    CHECK(ended > 0);
    CHECK(backorders_ever > 0);
    for (const char* kind : {"spot", "presale", "reservation", "placed", "approved", "allocated", "shipped",
                             "delivered", "completed", "cancelled", "rejected", "returned", "delay_warned"}) {
      CHECK_MESSAGE(seen[kind] > 0, kind);
    }
    CHECK(!original.milestones().empty());
    CHECK(!original.pending_deadlines().empty());
    CHECK(!original.sourcing_weights_by_region().empty());
    CHECK(!original.approval_policy().empty());
    MESSAGE("seed " << seed << ": " << original.last_seq() << " events, " << original.order_count() << " orders ("
                    << ended << " ended), " << original.backorders().size() << " backorders waiting, "
                    << original.milestones().size() << " milestones, " << history.applied() << " commands applied, "
                    << history.rejected() << " refused; " << fmt::format("{}", fmt::join(seen, " ")));

    auto start = std::chrono::steady_clock::now();
    std::string bytes = encode(original);
    double encode_ms = ms_since(start);
    LedgerState decoded;
    SnapshotReader reader(bytes);
    start = std::chrono::steady_clock::now();
    auto st = decode_state(reader, decoded);
    double decode_ms = ms_since(start);
    REQUIRE_MESSAGE(st.ok(), (st.ok() ? "" : st.error().to_string()));
    MESSAGE("encoded " << bytes.size() << " bytes in " << encode_ms << " ms, decoded in " << decode_ms << " ms");

    CHECK(decoded.render() == original.render());
    CHECK(deep_render(decoded, History::size) == deep_render(original, History::size));
    CHECK(encode(decoded) == bytes);   // every table, interned names in their order, orders' held units ...
    CHECK(encode(original) == bytes);  // the same state gives the same bytes
    CHECK(decoded.check_invariants().ok());
    CHECK(test::order_invariant_violation(decoded).empty());

    // Fold the same newer events into both: they stay the same, and equal to the live state. The
    // balance keys the fold reports are indexes of the interned names: equal keys, equal interning.
    std::uint64_t from = original.last_seq() + 1;
    history.waves(15, 60);
    std::uint64_t folded = 0;
    std::vector<std::uint64_t> keys_original, keys_decoded;
    original.set_change_log(&keys_original);
    decoded.set_change_log(&keys_decoded);
    auto read = h.engine->read_events(from, std::numeric_limits<std::size_t>::max(),
                                      [&](const fb::Event& e, const Hash32& hash) {
                                        auto a = apply_event(original, e, hash);
                                        auto b = apply_event(decoded, e, hash);
                                        REQUIRE_MESSAGE(a.ok(), (a.ok() ? "" : a.error().to_string()));
                                        REQUIRE_MESSAGE(b.ok(), (b.ok() ? "" : b.error().to_string()));
                                        ++folded;
                                        return true;
                                      });
    REQUIRE(read.ok());
    original.set_change_log(nullptr);
    decoded.set_change_log(nullptr);
    CHECK(folded > 100);
    CHECK(!keys_original.empty());
    CHECK(keys_decoded == keys_original);
    CHECK(decoded.render() == original.render());
    CHECK(deep_render(decoded, History::size) == deep_render(original, History::size));
    CHECK(decoded.render() == h.render());
    CHECK(encode(decoded) == encode(original));
    auto inv = decoded.check_invariants();
    CHECK_MESSAGE(inv.ok(), (inv.ok() ? "" : inv.error().to_string()));
    CHECK(test::order_invariant_violation(decoded).empty());
  }
}

TEST_CASE("snapshot: a restart starts from the snapshot, folds only the newer events and decides as before") {
  std::vector<std::string> notices;
  std::uint64_t progress_done = 0, progress_total = 0;
  EngineOptions options = quick_options();
  options.on_notice = [&](std::string_view line) { notices.emplace_back(line); };
  options.on_open_progress = [&](std::uint64_t done, std::uint64_t total) {
    progress_done = done;
    progress_total = total;
  };
  test::Harness h(options);
  CHECK(h.engine->restored_from_seq() == 0);
  CHECK(notices.empty());  // no snapshot: nothing to say
  auto absent = read_snapshot_file(snapshot_dir(h.dir.path()), "ledger");
  REQUIRE(!absent.ok());
  CHECK(snapshot_missing(absent.error()));

  History history(h, 21);
  history.load();
  history.waves(20, 50);
  std::uint64_t snap_seq = 0;
  h.engine->inspect([&](const LedgerState& s) {
    auto saved = save_ledger_snapshot(h.dir.path(), s);
    REQUIRE_MESSAGE(saved.ok(), (saved.ok() ? "" : saved.error().to_string()));
    snap_seq = s.last_seq();
  });
  CHECK(std::filesystem::exists(snapshot_dir(h.dir.path()) / "ledger.snap"));
  CHECK(!std::filesystem::exists(snapshot_dir(h.dir.path()) / "ledger.snap.tmp"));
  history.waves(15, 50);
  std::string live = h.render();
  std::uint64_t last = h.engine->last_seq();
  REQUIRE(last > snap_seq);

  h.close();
  h.open();
  CHECK(h.engine->restored_from_seq() == snap_seq);
  REQUIRE(notices.size() == 1);
  CHECK(notices[0] ==
        fmt::format("restored from snapshot at seq {}; folded {} newer events", snap_seq, last - snap_seq));
  CHECK(progress_total == last - snap_seq);
  CHECK(progress_done == last - snap_seq);
  CHECK(h.engine->last_seq() == last);
  CHECK(h.render() == live);
  CHECK(h.render() == full_fold_render(h.dir.path()));
  h.check_invariants();

  // The restored writer decides exactly as the one that folded everything would: keep going, then
  // a whole fold of the log is the live state.
  history.waves(15, 50);
  std::string after = h.render();
  h.close();
  CHECK(full_fold_render(h.dir.path()) == after);

  // A snapshot at the head: nothing newer to fold.
  notices.clear();
  h.open();
  CHECK(h.engine->restored_from_seq() == snap_seq);
  CHECK(h.render() == after);
  h.engine->inspect([&](const LedgerState& s) { REQUIRE(save_ledger_snapshot(h.dir.path(), s).ok()); });
  std::uint64_t head = h.engine->last_seq();
  h.close();
  notices.clear();
  h.open();
  CHECK(h.engine->restored_from_seq() == head);
  REQUIRE(notices.size() == 1);
  CHECK(notices[0] == fmt::format("restored from snapshot at seq {}; folded 0 newer events", head));
  CHECK(h.render() == after);
}

TEST_CASE("snapshot: every flipped byte and every truncation is detected, and open folds the whole log") {
  std::vector<std::string> notices;
  EngineOptions options = quick_options();
  options.on_notice = [&](std::string_view line) { notices.emplace_back(line); };
  test::Harness h(options);
  History history(h, 31);
  history.load();
  history.waves(4, 40);
  h.engine->inspect([&](const LedgerState& s) { REQUIRE(save_ledger_snapshot(h.dir.path(), s).ok()); });
  history.waves(2, 40);
  h.close();
  const std::filesystem::path file = snapshot_dir(h.dir.path()) / "ledger.snap";
  const std::string good = read_file(file);
  auto sound = read_snapshot_file(snapshot_dir(h.dir.path()), "ledger");
  REQUIRE(sound.ok());
  const std::string full = full_fold_render(h.dir.path());
  // magic 8 | name length 8 | "ledger" 6 | version 4 | seq 8 | chain hash 32 | payload length 8
  const std::size_t header_bytes = 8 + 8 + 6 + 4 + 8 + 32 + 8;
  REQUIRE(good.size() == header_bytes + sound->payload.size() + 32);

  std::vector<std::size_t> positions;
  for (std::size_t i = 0; i < header_bytes + 16; ++i) positions.push_back(i);  // every header byte
  for (std::size_t i = header_bytes + 16; i < good.size() - 48; i += std::max<std::size_t>(1, good.size() / 400)) {
    positions.push_back(i);
  }
  for (std::size_t i = good.size() - 48; i < good.size(); ++i) positions.push_back(i);  // payload end, checksum
  std::size_t checked = 0;
  for (std::size_t pos : positions) {
    std::string bad = good;
    bad[pos] = static_cast<char>(bad[pos] ^ static_cast<char>(1 + (pos * 37) % 255));
    write_file(file, bad);
    auto r = read_snapshot_file(snapshot_dir(h.dir.path()), "ledger");
    INFO("byte " << pos << " of " << good.size());
    REQUIRE(!r.ok());
    CHECK_MESSAGE(r.error().code == ErrorCode::corruption, r.error().to_string());
    ++checked;
  }
  std::vector<std::size_t> lengths;
  for (std::size_t n = 0; n <= header_bytes + 8; ++n) lengths.push_back(n);
  for (std::size_t n = header_bytes + 9; n < good.size(); n += std::max<std::size_t>(1, good.size() / 200)) {
    lengths.push_back(n);
  }
  for (std::size_t n = good.size() - 33; n < good.size(); ++n) lengths.push_back(n);
  for (std::size_t n : lengths) {
    write_file(file, std::string_view(good).substr(0, n));
    auto r = read_snapshot_file(snapshot_dir(h.dir.path()), "ledger");
    INFO("truncated to " << n << " of " << good.size());
    REQUIRE(!r.ok());
    CHECK_MESSAGE(r.error().code == ErrorCode::corruption, r.error().to_string());
  }
  write_file(file, good + "x");  // a byte too many
  auto longer = read_snapshot_file(snapshot_dir(h.dir.path()), "ledger");
  REQUIRE(!longer.ok());
  CHECK(longer.error().code == ErrorCode::corruption);
  MESSAGE(checked << " flipped bytes and " << lengths.size() << " truncations of a " << good.size()
                  << "-byte snapshot detected");

  // The engine: a sample of them, each time the whole log folded and the reason said.
  struct Damage {
    std::string bytes, reason;
  };
  std::vector<Damage> damages;
  for (std::size_t pos : {std::size_t{0}, std::size_t{9}, std::size_t{17}, std::size_t{23}, std::size_t{27},
                          std::size_t{35}, std::size_t{66}, std::size_t{70}, std::size_t{header_bytes}, good.size() / 2,
                          good.size() - 33, good.size() - 1}) {
    std::string bad = good;
    bad[pos] = static_cast<char>(bad[pos] ^ 0x5a);
    damages.push_back({bad, ""});
  }
  damages.push_back({good.substr(0, 0), "truncated"});
  damages.push_back({good.substr(0, header_bytes - 3), "truncated"});
  damages.push_back({good.substr(0, good.size() / 2), "truncated"});
  damages.push_back({good.substr(0, good.size() - 1), "truncated"});
  for (const auto& d : damages) {
    write_file(file, d.bytes);
    notices.clear();
    h.open();
    check_ignored(h, notices, full, d.reason);
    h.close();
  }
  // The sound file again: used.
  write_file(file, good);
  notices.clear();
  h.open();
  CHECK(h.engine->restored_from_seq() == sound->header.seq);
  CHECK(h.render() == full);
}

TEST_CASE("snapshot: a snapshot of another history, or beyond the log's end, is ignored") {
  std::vector<std::string> notices;
  EngineOptions options = quick_options();
  options.on_notice = [&](std::string_view line) { notices.emplace_back(line); };
  test::Harness a(options), b(options);
  History history_a(a, 41), history_b(b, 42);
  history_a.load();
  history_b.load();
  history_a.waves(6, 40);
  history_b.waves(6, 40);
  // Pad the shorter log with events that change nothing much, so both end at the same seq.
  for (int i = 0; i < 10'000 && a.engine->last_seq() != b.engine->last_seq(); ++i) {
    test::Harness& shorter = a.engine->last_seq() < b.engine->last_seq() ? a : b;
    shorter.ok(DefineRegion{demo::region_id(0), "Region 1"});
  }
  REQUIRE(a.engine->last_seq() == b.engine->last_seq());
  a.engine->inspect([&](const LedgerState& s) { REQUIRE(save_ledger_snapshot(a.dir.path(), s).ok()); });
  b.close();
  std::filesystem::create_directories(snapshot_dir(b.dir.path()));
  std::filesystem::copy_file(snapshot_dir(a.dir.path()) / "ledger.snap", snapshot_dir(b.dir.path()) / "ledger.snap");
  std::string full_b = full_fold_render(b.dir.path());
  notices.clear();
  b.open();
  check_ignored(b, notices, full_b, "another history");
  CHECK(b.render() != a.render());

  // A snapshot taken further along than this log goes (copied from a longer log of the same start).
  history_a.waves(2, 40);
  a.engine->inspect([&](const LedgerState& s) { REQUIRE(save_ledger_snapshot(a.dir.path(), s).ok()); });
  b.close();
  std::filesystem::copy_file(snapshot_dir(a.dir.path()) / "ledger.snap", snapshot_dir(b.dir.path()) / "ledger.snap",
                             std::filesystem::copy_options::overwrite_existing);
  notices.clear();
  b.open();
  check_ignored(b, notices, full_b, "which the log does not have");
}

TEST_CASE("snapshot: a snapshot of another version is ignored; files keep their name") {
  std::vector<std::string> notices;
  EngineOptions options = quick_options();
  options.on_notice = [&](std::string_view line) { notices.emplace_back(line); };
  test::Harness h(options);
  History history(h, 51);
  history.load();
  history.waves(3, 40);
  h.engine->inspect([&](const LedgerState& s) { REQUIRE(save_ledger_snapshot(h.dir.path(), s).ok()); });
  h.close();
  const std::filesystem::path dir = snapshot_dir(h.dir.path());
  auto sound = read_snapshot_file(dir, "ledger");
  REQUIRE(sound.ok());
  CHECK(sound->header.name == "ledger");
  CHECK(sound->header.version == ledger_state_snapshot_version);
  const std::string full = full_fold_render(h.dir.path());

  SnapshotHeader other = sound->header;
  other.version = ledger_state_snapshot_version + 1;
  REQUIRE(write_snapshot_file(dir, other, sound->payload).ok());
  auto loaded = load_ledger_snapshot(h.dir.path(), [](std::uint64_t) { return std::optional<Hash32>(); });
  REQUIRE(!loaded.ok());
  CHECK(loaded.error().code == ErrorCode::illegal_transition);
  notices.clear();
  h.open();
  check_ignored(h, notices, full, fmt::format("version {}", ledger_state_snapshot_version + 1));
  h.close();

  // Any projection's snapshot: written and read back as it was; a file under another name is refused.
  SnapshotHeader board{"sales_board", 7, 123, sound->header.chain_hash};
  REQUIRE(write_snapshot_file(dir, board, "board bytes").ok());
  auto read = read_snapshot_file(dir, "sales_board");
  REQUIRE(read.ok());
  CHECK(read->header.name == "sales_board");
  CHECK(read->header.version == 7);
  CHECK(read->header.seq == 123);
  CHECK(read->header.chain_hash == sound->header.chain_hash);
  CHECK(read->payload == "board bytes");
  std::filesystem::copy_file(dir / "sales_board.snap", dir / "ledger.snap",
                             std::filesystem::copy_options::overwrite_existing);
  auto misnamed = read_snapshot_file(dir, "ledger");
  REQUIRE(!misnamed.ok());
  CHECK(misnamed.error().code == ErrorCode::corruption);
  CHECK(misnamed.error().message.find("'sales_board'") != std::string::npos);
  auto escape = write_snapshot_file(dir, SnapshotHeader{"../escape", 1, 0, {}}, "x");
  REQUIRE(!escape.ok());
  CHECK(escape.error().code == ErrorCode::invalid_argument);
  CHECK(!read_snapshot_file(dir, "a/b").ok());
}

TEST_CASE("snapshot: hostile payloads fail to decode cleanly, huge counts allocate nothing") {
  test::Harness h(quick_options());
  History history(h, 61);
  history.load();
  history.waves(3, 40);
  LedgerState state = copy_state(h);
  const std::string good = encode(state);

  auto decodes = [](std::string_view bytes) {
    LedgerState s;
    SnapshotReader r(bytes);
    auto st = decode_state(r, s);
    if (!st.ok()) CHECK_MESSAGE(st.error().code == ErrorCode::corruption, st.error().to_string());
    return st.ok();
  };
  REQUIRE(decodes(good));
  CHECK(!decodes(good + '\0'));  // trailing bytes
  CHECK(!decodes(""));

  std::size_t accepted = 0;
  for (std::uint64_t seed = 1; seed <= 400; ++seed) {
    std::mt19937_64 rng(seed);
    auto pick = [&](std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng); };
    INFO("seed " << seed);
    // Random bytes.
    std::string noise(pick(3000), '\0');
    for (auto& c : noise) c = static_cast<char>(pick(256));
    CHECK(!decodes(noise));
    // The sound payload cut short.
    CHECK(!decodes(std::string_view(good).substr(0, pick(good.size()))));
    // The sound payload with a few bytes changed, or a count or length made huge: it may still
    // decode (a changed name is still a name), but never crashes nor allocates what is not there.
    std::string bent = good;
    switch (pick(3)) {
      case 0:
        for (std::uint64_t i = 0, n = 1 + pick(4); i < n; ++i) bent[pick(bent.size())] ^= char(1 + pick(255));
        break;
      case 1: {
        std::size_t at = pick(bent.size() - 8);
        for (int i = 0; i < 8; ++i) bent[at + i] = char(0xff);
        break;
      }
      default: {
        std::size_t at = pick(bent.size() - 8);
        std::uint64_t huge = std::uint64_t{1} << (20 + pick(40));
        for (int i = 0; i < 8; ++i) bent[at + i] = char((huge >> (8 * i)) & 0xff);
        break;
      }
    }
    accepted += decodes(bent) ? 1 : 0;
  }
  MESSAGE(accepted << " of 400 bent payloads still decoded (each then a well-formed state)");

  // A count of 2^64-1 right at the start: refused before allocating.
  SnapshotWriter w;
  w.u64(1);
  w.hash(Hash32{});
  w.i64(0);
  w.u64(~std::uint64_t{0});
  CHECK(!decodes(w.bytes()));
  SnapshotReader r(w.bytes());
  r.u64();
  r.hash();
  r.i64();
  CHECK(r.count(8) == 0);
  CHECK(!r.ok());
  CHECK(r.str().empty());  // latched

  // A hostile payload in a file with a valid checksum and this log's position: ignored by open.
  std::vector<std::string> notices;
  h.options.on_notice = [&](std::string_view line) { notices.emplace_back(line); };
  std::string noise(5000, '\0');
  std::mt19937_64 rng(7);
  for (auto& c : noise) c = static_cast<char>(rng());
  SnapshotHeader header{"ledger", ledger_state_snapshot_version, 0, {}};
  h.engine->inspect([&](const LedgerState& s) {
    header.seq = s.last_seq();
    header.chain_hash = s.chain_head();
  });
  h.close();
  REQUIRE(write_snapshot_file(snapshot_dir(h.dir.path()), header, noise).ok());
  h.open();
  check_ignored(h, notices, full_fold_render(h.dir.path()), "malformed");
}

TEST_CASE("snapshot: encode and decode at network scale") {
  // The demo network at its real size (2,000 dealers, 12,000 stores, 300 SKUs) and its history.
  test::Harness h(quick_options());
  demo::NetworkSize size;
  demo::load_history(*h.engine, size, h.clock->now_us(), [](const std::string&) {});
  LedgerState state = copy_state(h);
  auto start = std::chrono::steady_clock::now();
  std::string bytes = encode(state);
  double encode_ms = ms_since(start);
  LedgerState decoded;
  SnapshotReader reader(bytes);
  start = std::chrono::steady_clock::now();
  auto st = decode_state(reader, decoded);
  double decode_ms = ms_since(start);
  REQUIRE(st.ok());
  start = std::chrono::steady_clock::now();
  std::string full = full_fold_render(h.dir.path());
  double fold_ms = ms_since(start);
  CHECK(decoded.render() == full);
  CHECK(encode(decoded) == bytes);
  MESSAGE(state.last_seq() << " events: snapshot " << bytes.size() << " bytes, encoded in " << encode_ms
                           << " ms, decoded in " << decode_ms << " ms; folding the whole log (and rendering) took "
                           << fold_ms << " ms");
}

TEST_SUITE_END();
