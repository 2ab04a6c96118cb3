#include "model.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "ledger/limits.hpp"

namespace test {

using ledger::ErrorCode;

bool Model::location_exists(const std::string& l) const {
  auto starts = [&](const char* p) { return l.rfind(p, 0) == 0; };
  if (starts("warehouse:")) return warehouses.count(l.substr(10)) != 0;
  if (starts("dealer:")) return dealers.count(l.substr(7)) != 0;
  if (starts("store:")) return stores.count(l.substr(6)) != 0;
  return false;
}

std::int64_t Model::available(const std::string& location, const std::string& sku) const {
  auto it = balances_.find(location + "|" + sku);
  return it == balances_.end() ? 0 : it->second.available();
}

ledger::Balance Model::balance(const std::string& location, const std::string& sku) const {
  auto it = balances_.find(location + "|" + sku);
  return it == balances_.end() ? ledger::Balance{} : it->second;
}

std::vector<std::pair<std::string, std::string>> Model::take_touched() {
  std::vector<std::pair<std::string, std::string>> out(touched_.begin(), touched_.end());
  touched_.clear();
  return out;
}

void Model::add(const std::string& location, const std::string& sku, std::int64_t on_hand, std::int64_t reserved) {
  touched_.emplace(location, sku);
  auto& b = balances_[location + "|" + sku];
  b.on_hand += on_hand;
  b.reserved += reserved;
}

std::optional<ErrorCode> Model::check_lines(const std::vector<ledger::StockLineInput>& lines) const {
  if (lines.empty()) return ErrorCode::invalid_argument;
  for (const auto& l : lines) {
    if (skus.count(l.sku) == 0) return ErrorCode::unknown_id;
    if (l.qty <= 0 || l.qty > ledger::limits::qty_max) return ErrorCode::invalid_argument;
  }
  return std::nullopt;
}

bool Model::covers(const std::string& location, const std::vector<ledger::StockLineInput>& lines) const {
  std::map<std::string, std::int64_t> need;
  for (const auto& l : lines) need[l.sku] += l.qty;
  for (const auto& [sku, qty] : need) {
    if (available(location, sku) < qty) return false;
  }
  return true;
}

void Model::release(Reservation& r) {
  for (const auto& l : r.lines) add(r.from, l.sku, 0, -l.qty);
  r.pending = false;
}

void Model::expire_due(std::int64_t now_us) {
  for (auto& [id, r] : reservations) {
    if (r.pending && r.deadline_us <= now_us) release(r);
  }
}

std::optional<ErrorCode> Model::apply(const ledger::CommandBody& body, std::int64_t now_us) {
  using namespace ledger;
  if (const auto* c = std::get_if<ReceiveStock>(&body)) {
    if (warehouses.count(c->warehouse) == 0) return ErrorCode::unknown_id;
    if (auto e = check_lines(c->lines)) return e;
    for (const auto& l : c->lines) {
      add("production", l.sku, -l.qty, 0);
      add("warehouse:" + c->warehouse, l.sku, l.qty, 0);
    }
    return std::nullopt;
  }
  if (const auto* c = std::get_if<AdjustStock>(&body)) {
    if (!location_exists(c->location)) return ErrorCode::unknown_id;
    if (skus.count(c->sku) == 0) return ErrorCode::unknown_id;
    if (c->qty_delta == 0) return ErrorCode::invalid_argument;
    if (c->qty_delta < 0 && available(c->location, c->sku) < -c->qty_delta) return ErrorCode::insufficient_stock;
    add(c->location, c->sku, c->qty_delta, 0);
    add("adjustment", c->sku, -c->qty_delta, 0);
    return std::nullopt;
  }
  if (const auto* c = std::get_if<ShipTransfer>(&body)) {
    if (transfers.count(c->id) != 0) return ErrorCode::already_exists;
    if (!location_exists(c->from) || !location_exists(c->to)) return ErrorCode::unknown_id;
    if (c->from == c->to) return ErrorCode::invalid_argument;
    if (auto e = check_lines(c->lines)) return e;
    if (!covers(c->from, c->lines)) return ErrorCode::insufficient_stock;
    for (const auto& l : c->lines) {
      add(c->from, l.sku, -l.qty, 0);
      add("transit:" + c->id, l.sku, l.qty, 0);
    }
    transfers[c->id] = Transfer{c->from, c->to, c->lines, false};
    return std::nullopt;
  }
  if (const auto* c = std::get_if<ReceiveTransfer>(&body)) {
    auto it = transfers.find(c->id);
    if (it == transfers.end()) return ErrorCode::unknown_id;
    if (it->second.received) return ErrorCode::illegal_transition;
    for (const auto& l : it->second.lines) {
      add("transit:" + c->id, l.sku, -l.qty, 0);
      add(it->second.to, l.sku, l.qty, 0);
    }
    it->second.received = true;
    return std::nullopt;
  }
  if (const auto* c = std::get_if<CreateReservation>(&body)) {
    if (reservations.count(c->id) != 0) return ErrorCode::already_exists;
    if (!location_exists(c->from)) return ErrorCode::unknown_id;
    if (c->to != "customer" && !location_exists(c->to)) return ErrorCode::unknown_id;
    if (c->from == c->to) return ErrorCode::invalid_argument;
    if (c->deadline_us <= now_us) return ErrorCode::invalid_argument;
    if (auto e = check_lines(c->lines)) return e;
    if (!covers(c->from, c->lines)) return ErrorCode::insufficient_stock;
    for (const auto& l : c->lines) add(c->from, l.sku, 0, l.qty);
    reservations[c->id] = Reservation{c->from, c->to, c->lines, c->deadline_us, true};
    return std::nullopt;
  }
  if (const auto* c = std::get_if<PostReservation>(&body)) {
    auto it = reservations.find(c->id);
    if (it == reservations.end()) return ErrorCode::unknown_id;
    Reservation& r = it->second;
    if (!r.pending) return ErrorCode::illegal_transition;
    const auto& posted = c->lines.empty() ? r.lines : c->lines;
    if (auto e = check_lines(posted)) return e;
    std::map<std::string, std::int64_t> held, post;
    for (const auto& l : r.lines) held[l.sku] += l.qty;
    for (const auto& l : posted) post[l.sku] += l.qty;
    for (const auto& [sku, qty] : post) {
      if (qty > held[sku]) return ErrorCode::invalid_argument;
    }
    release(r);
    for (const auto& l : posted) {
      add(r.from, l.sku, -l.qty, 0);
      add(r.to, l.sku, l.qty, 0);
    }
    return std::nullopt;
  }
  if (const auto* c = std::get_if<VoidReservation>(&body)) {
    auto it = reservations.find(c->id);
    if (it == reservations.end()) return ErrorCode::unknown_id;
    if (!it->second.pending) return ErrorCode::illegal_transition;
    release(it->second);
    return std::nullopt;
  }
  return ErrorCode::invalid_argument;  // master data is loaded directly, not simulated
}

std::string Model::render_balances() const {
  std::vector<std::string> rows;
  for (const auto& [key, b] : balances_) {
    if (b.is_zero()) continue;
    auto bar = key.find('|');
    rows.push_back(key.substr(0, bar) + " " + key.substr(bar + 1) + " " + std::to_string(b.on_hand) + " " +
                   std::to_string(b.reserved));
  }
  std::sort(rows.begin(), rows.end());
  std::string out;
  for (const auto& r : rows) out += r + "\n";
  return out;
}

namespace {

std::int64_t first_price(const ledger::OrderRecord& o, const std::string& sku) {
  for (const auto& l : o.lines) {
    if (l.sku == sku) return l.unit_price_cents;
  }
  return 0;
}

// One order on its own; empty when it holds.
std::string order_violation(const ledger::LedgerState& s, const std::string& id, const ledger::OrderRecord& o) {
  using namespace ledger;
  std::map<std::string, std::int64_t> pending;  // what the order's pending reservations hold, by SKU
  std::string transit = order_transit_location(id);
  for (const auto& rid : o.reservations) {
    const ReservationRecord* r = s.reservation(rid);
    if (r == nullptr) return fmt::format("order {} names reservation {}, which does not exist", id, rid);
    if (r->to != transit) return fmt::format("reservation {} of order {} goes to {}", rid, id, r->to);
    if (r->status != ReservationStatus::pending) continue;
    for (const auto& l : r->lines) pending[l.sku] += l.qty;
  }
  std::map<std::string, std::int64_t> allocated;
  for (const auto& a : o.allocation) allocated[a.sku] += a.qty;
  for (const auto& [sku, qty] : o.held) {
    if (o.units.count(sku) == 0) return fmt::format("order {} holds {} of {}, which it did not order", id, qty, sku);
  }
  for (const auto& [sku, u] : o.units) {
    auto h = o.held.find(sku);
    std::int64_t held = h == o.held.end() ? 0 : h->second;
    std::string where = fmt::format("order {} ({}) {}: ordered {} held {} shipped {} delivered {} returned {}", id,
                                    order_status_name(o.status()), sku, u.ordered, held, u.shipped, u.delivered,
                                    u.returned);
    if (held < 0 || u.returned < 0 || u.returned > u.delivered || u.delivered > u.shipped) return where;
    if (held + u.shipped > u.ordered) return where + ": holds and ships more than ordered";
    if (held != pending[sku]) return where + fmt::format(": its pending reservations hold {}", pending[sku]);
    if (allocated[sku] < held + u.shipped) return where + fmt::format(": only {} were ever allocated", allocated[sku]);
    Balance road = s.balance(transit, sku);
    if (road.on_hand != u.shipped - u.delivered || road.reserved != 0) {
      return where + fmt::format(": {} has on_hand {} reserved {}", transit, road.on_hand, road.reserved);
    }
    if ((o.cancelled || o.rejected) && (held != 0 || u.shipped != 0)) return where + ": ended but holds or shipped";
  }
  if (o.ended() && (o.approval_due_us != 0 || o.shipment_due_us != 0 || o.delivery_due_us != 0)) {
    return fmt::format("order {} has ended ({}) but still has a milestone", id, order_status_name(o.status()));
  }
  for (auto [due, name] : {std::pair{o.approval_due_us, "approval"}, std::pair{o.shipment_due_us, "shipment"},
                           std::pair{o.delivery_due_us, "delivery"}}) {
    if (due != 0 && s.milestones().count({due, id, name}) == 0) {
      return fmt::format("order {} is due for {} at {}, but no milestone waits for it", id, name, due);
    }
  }
  if (o.completed && o.status() != OrderStatus::completed) return fmt::format("order {} completed but not delivered", id);
  return {};
}

}  // namespace

std::string order_invariant_violation(const ledger::LedgerState& s) {
  using namespace ledger;
  std::string violation;
  std::map<std::string, std::int64_t> sold_by_batch, credit_by_dealer;
  std::set<std::string> skus;
  s.for_each_order([&](const std::string& id, const OrderRecord& o) {
    if (!violation.empty()) return;
    violation = order_violation(s, id, o);
    for (const auto& [sku, u] : o.units) skus.insert(sku);
    bool counts = !o.cancelled && !o.rejected;
    if (!counts) return;
    for (const auto& [sku, batch] : o.presale_batch) sold_by_batch[batch] += o.units.at(sku).ordered;
    if (o.buyer.rfind("dealer:", 0) == 0) {
      std::int64_t& used = credit_by_dealer[o.buyer.substr(7)];
      used += o.total_cents - o.discount_cents;
      for (const auto& [sku, u] : o.units) used -= u.returned * first_price(o, sku);
    }
  });
  if (!violation.empty()) return violation;
  for (const auto& sku : skus) {
    const auto* batches = s.presale_batches_of(sku);
    if (batches == nullptr) continue;
    for (const auto& id : *batches) {
      const PresaleBatchRecord* b = s.presale_batch(id);
      if (b->sold_qty != sold_by_batch[id] || b->sold_qty > b->quota_qty) {
        return fmt::format("presale batch {}: sold {} of quota {}, but its live orders ordered {}", id, b->sold_qty,
                           b->quota_qty, sold_by_batch[id]);
      }
    }
  }
  for (const auto& [dealer, used] : credit_by_dealer) {
    if (s.dealer_account(dealer).credit_used_cents != used) {
      return fmt::format("dealer {} uses {} of credit, but its open orders are worth {}", dealer,
                         s.dealer_account(dealer).credit_used_cents, used);
    }
  }
  for (const auto& [seq, id] : s.backorders()) {
    const OrderRecord* o = s.order(id);
    if (o == nullptr || o->ended() || o->placed_seq != seq || o->seller != "hq" || !o->allow_backorder) {
      return fmt::format("backorder {} {} is not a live backorder of hq", seq, id);
    }
    bool waits = std::any_of(o->units.begin(), o->units.end(), [&](const auto& u) { return o->unallocated(u.first) > 0; });
    if (!waits) return fmt::format("backorder {} is fully allocated but still waits", id);
  }
  for (const auto& [due, id, milestone] : s.milestones()) {
    const OrderRecord* o = s.order(id);
    std::int64_t expected = o == nullptr             ? -1
                            : milestone == "approval" ? o->approval_due_us
                            : milestone == "shipment" ? o->shipment_due_us
                            : milestone == "delivery" ? o->delivery_due_us
                                                      : -1;
    if (expected != due || o->ended()) return fmt::format("milestone {} of order {} due {} is stale", milestone, id, due);
  }
  return {};
}

}  // namespace test

// ---- members and marketing

namespace test {

namespace {

using ledger::CampaignKind;
using ledger::CreateCampaign;

std::int64_t floor_share(std::int64_t value, std::int64_t numerator, std::int64_t denominator) {
  return static_cast<std::int64_t>(static_cast<__int128>(value) * numerator / denominator);
}

bool listed_or_open(const std::vector<std::string>& list, const std::string& x) {
  return list.empty() || std::find(list.begin(), list.end(), x) != list.end();
}

int kind_rank(CampaignKind k) {
  switch (k) {
    case CampaignKind::spend_x_save_y: return 0;
    case CampaignKind::percent_off: return 1;
    case CampaignKind::amount_off: return 2;
    case CampaignKind::points_multiplier: return 3;
  }
  return 4;
}

bool valid_id(const std::string& id) {
  if (id.empty() || id.size() > ledger::limits::id_bytes_max) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
}

RedemptionPrediction refused(ledger::ErrorCode code, std::string reason = {}, std::string coupon = {}) {
  RedemptionPrediction p;
  p.error = code;
  p.reason = std::move(reason);
  p.coupon = std::move(coupon);
  return p;
}

const char* tier_of_spend(std::int64_t cents) {
  if (cents >= 5'000'000) return "platinum";
  if (cents >= 1'000'000) return "gold";
  if (cents >= 200'000) return "silver";
  return "standard";
}

constexpr std::int64_t year_us = 365LL * 86'400 * 1'000'000;

}  // namespace

RedemptionPrediction predict_discounts(const std::vector<ledger::OrderLineInput>& lines,
                                       const std::vector<std::pair<std::string, const CreateCampaign*>>& coupons) {
  RedemptionPrediction out;
  std::vector<std::int64_t> worth;
  for (const auto& l : lines) worth.push_back(l.qty * l.unit_price_cents);
  auto order = coupons;
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    int ra = kind_rank(a.second->kind), rb = kind_rank(b.second->kind);
    if (ra != rb) return ra < rb;
    return a.first < b.first;
  });
  for (const auto& [code, terms] : order) {
    std::vector<std::size_t> in;
    std::int64_t base = 0;
    for (std::size_t i = 0; i < lines.size(); ++i) {
      if (!listed_or_open(terms->scope.skus, lines[i].sku)) continue;
      in.push_back(i);
      base += worth[i];
    }
    if (in.empty()) return refused(ledger::ErrorCode::rule_violation, "out_of_scope", code);
    std::int64_t off = 0;
    if (terms->kind == CampaignKind::amount_off) {
      off = std::min(terms->amount_off_cents, base);
    } else if (terms->kind == CampaignKind::percent_off) {
      off = floor_share(base, terms->percent_off_bp, 10'000);
    } else if (terms->kind == CampaignKind::spend_x_save_y) {
      bool reached = false;
      for (const auto& t : terms->tiers) {
        if (base >= t.threshold_cents) {
          off = t.save_cents;
          reached = true;
        }
      }
      if (!reached) return refused(ledger::ErrorCode::rule_violation, "threshold_not_reached", code);
      off = std::min(off, base);
    } else {
      out.multiplier_permille = std::max(out.multiplier_permille, terms->points_multiplier_permille);
    }
    if (off > 0) {  // spread in proportion, floored; the fen left over one each in line order
      std::vector<std::int64_t> share;
      std::int64_t given = 0;
      for (std::size_t i : in) {
        share.push_back(floor_share(worth[i], off, base));
        given += share.back();
      }
      for (std::size_t j = 0; j < in.size() && given < off; ++j) {
        if (share[j] < worth[in[j]]) {
          ++share[j];
          ++given;
        }
      }
      for (std::size_t j = 0; j < in.size(); ++j) worth[in[j]] -= share[j];
    }
    out.applied.push_back({code, terms->id, off});
    out.discount_cents += off;
  }
  return out;
}

RedemptionPrediction predict_redemption(const ledger::PlaceOrder& order,
                                        const std::function<const CouponView*(const std::string&)>& coupon,
                                        const std::function<const CampaignView*(const std::string&)>& campaign,
                                        const AccountView& account,
                                        const std::function<std::string(const std::string&)>& store_dealer,
                                        std::int64_t now_us) {
  using ledger::ErrorCode;
  if (order.coupons.size() > 16) return refused(ErrorCode::invalid_argument);
  if (order.points < 0 || order.points > ledger::limits::money_cents_max) return refused(ErrorCode::invalid_argument);
  std::string member = order.buyer.rfind("member:", 0) == 0 ? order.buyer.substr(7) : std::string();
  if ((!order.coupons.empty() || order.points > 0) && member.empty()) {
    return refused(ErrorCode::rule_violation, "not_a_member");
  }
  std::set<std::string> seen, campaigns;
  std::vector<std::pair<std::string, const CreateCampaign*>> apply;
  for (const auto& code : order.coupons) {
    if (!valid_id(code) || !seen.insert(code).second) return refused(ErrorCode::invalid_argument);
    const CouponView* c = coupon(code);
    if (c == nullptr) return refused(ErrorCode::rule_violation, "unknown_coupon", code);
    if (c->member != member) return refused(ErrorCode::rule_violation, "not_yours", code);
    if (!c->order.empty()) return refused(ErrorCode::rule_violation, "already_redeemed", code);
    const CampaignView* cv = campaign(c->campaign);
    const CreateCampaign& t = cv->terms;
    if (now_us < t.valid_from_us || now_us >= t.valid_to_us) {
      return refused(ErrorCode::rule_violation, "not_valid_now", code);
    }
    bool seller_fits = t.issuer == "hq" || order.seller == t.issuer;
    if (t.issuer.rfind("region:", 0) == 0) seller_fits = order.ship_to_region == t.issuer.substr(7);
    if (t.issuer.rfind("dealer:", 0) == 0 && order.seller.rfind("store:", 0) == 0) {
      seller_fits = seller_fits || store_dealer(order.seller.substr(6)) == t.issuer.substr(7);
    }
    if (!seller_fits || !listed_or_open(t.scope.regions, order.ship_to_region) ||
        !listed_or_open(t.scope.channels, order.channel) || !listed_or_open(t.scope.tiers, account.tier)) {
      return refused(ErrorCode::rule_violation, "out_of_scope", code);
    }
    if (!campaigns.insert(c->campaign).second) return refused(ErrorCode::rule_violation, "one_per_campaign", code);
    auto used = account.redemptions.find(c->campaign);
    if (t.per_member_limit > 0 && used != account.redemptions.end() && used->second >= t.per_member_limit) {
      return refused(ErrorCode::rule_violation, "per_member_limit", code);
    }
    apply.emplace_back(code, &t);
  }
  RedemptionPrediction out = predict_discounts(order.lines, apply);
  if (out.error) return out;
  for (const auto& a : out.applied) {
    const CampaignView* cv = campaign(coupon(a.code)->campaign);
    const CreateCampaign& t = cv->terms;
    if ((t.max_redemptions > 0 && cv->redemptions >= t.max_redemptions) ||
        (t.max_discount_cents > 0 && cv->discount_cents + a.discount_cents > t.max_discount_cents)) {
      return refused(ErrorCode::rule_violation, "budget_exhausted", a.code);
    }
  }
  std::int64_t total = 0;
  for (const auto& l : order.lines) total += l.qty * l.unit_price_cents;
  if (order.points > 0 && order.points > account.usable_points) {
    return refused(ErrorCode::rule_violation, "insufficient_points");
  }
  if (order.points > 0 && order.points > total - out.discount_cents) return refused(ErrorCode::invalid_argument);
  return out;
}

std::string marketing_invariant_violation(const ledger::LedgerState& s, std::int64_t now_us) {
  using namespace ledger;
  const MarketingState& m = s.marketing();
  struct Used {
    std::int64_t redemptions = 0, discount = 0, coupons = 0;
  };
  std::map<std::string, Used, std::less<>> by_campaign;
  std::map<std::string, std::map<std::string, std::int64_t>, std::less<>> member_redemptions;
  std::map<std::string, std::int64_t, std::less<>> member_coupons;
  for (const auto& [code, c] : m.coupons) {
    auto campaign = m.campaigns.find(c.campaign);
    if (campaign == m.campaigns.end())
      return fmt::format("coupon {} is of campaign {}, which does not exist", code, c.campaign);
    if (s.member(c.member) == nullptr)
      return fmt::format("coupon {} is issued to {}, who is no member", code, c.member);
    Used& u = by_campaign[c.campaign];
    ++u.coupons;
    ++member_coupons[c.member];
    std::string prefix = c.campaign + "-";
    std::string number = code.substr(std::min(code.size(), prefix.size()));
    bool numbered = code.rfind(prefix, 0) == 0 && number.size() >= 6 &&
                    std::all_of(number.begin(), number.end(), [](char ch) { return ch >= '0' && ch <= '9'; }) &&
                    number.size() <= 8 && std::stoll(number) >= 1 &&
                    std::stoll(number) <= campaign->second.coupons_issued &&
                    fmt::format("{:06}", std::stoll(number)) == number;
    if (!numbered)
      return fmt::format("coupon {} is not numbered {}000001..{}", code, prefix, campaign->second.coupons_issued);
    if (c.order.empty()) {
      if (c.discount_cents != 0) return fmt::format("free coupon {} keeps a discount of {}", code, c.discount_cents);
      continue;
    }
    const OrderRecord* o = s.order(c.order);
    if (o == nullptr) return fmt::format("coupon {} is redeemed on order {}, which does not exist", code, c.order);
    if (o->buyer != "member:" + c.member)
      return fmt::format("coupon {} of {} is redeemed on {}'s order {}", code, c.member, o->buyer, c.order);
    if (std::find(o->coupons.begin(), o->coupons.end(), code) == o->coupons.end()) {
      return fmt::format("coupon {} is redeemed on order {}, which does not list it", code, c.order);
    }
    if (c.discount_cents < 0) return fmt::format("coupon {} took {} off", code, c.discount_cents);
    ++u.redemptions;
    u.discount += c.discount_cents;
    ++member_redemptions[c.member][c.campaign];
  }
  for (const auto& [id, c] : m.campaigns) {
    const CreateCampaign& t = c.terms;
    Used u = by_campaign[id];
    if (t.max_redemptions > 0 && c.redemptions > t.max_redemptions) {
      return fmt::format("campaign {} redeemed {} coupons; its budget is {}", id, c.redemptions, t.max_redemptions);
    }
    if (t.max_discount_cents > 0 && c.discount_cents > t.max_discount_cents) {
      return fmt::format("campaign {} gave {} fen off; its budget is {}", id, c.discount_cents, t.max_discount_cents);
    }
    if (c.redemptions != u.redemptions || c.discount_cents != u.discount) {
      return fmt::format("campaign {} counts {} redemptions worth {}, but its coupons on orders are {} worth {}", id,
                         c.redemptions, c.discount_cents, u.redemptions, u.discount);
    }
    if (c.coupons_issued != u.coupons)
      return fmt::format("campaign {} issued {} coupons, {} exist", id, c.coupons_issued, u.coupons);
  }

  auto gave_back = [](const OrderRecord& o) {
    if (o.cancelled || o.rejected) return true;
    return std::all_of(o.units.begin(), o.units.end(),
                       [](const auto& u) { return u.second.returned == u.second.ordered; });
  };
  std::string violation;
  s.for_each_order([&](const std::string& id, const OrderRecord& o) {
    if (!violation.empty()) return;
    std::int64_t total = 0;
    for (const auto& l : o.lines) total += l.qty * l.unit_price_cents;
    if (o.total_cents != total || o.discount_cents < 0 || o.discount_cents > o.total_cents) {
      violation =
          fmt::format("order {}: total {} (its lines: {}), discount {}", id, o.total_cents, total, o.discount_cents);
      return;
    }
    if (o.coupons.empty()) {
      if (o.discount_cents != 0)
        violation = fmt::format("order {} has a discount of {} and no coupon", id, o.discount_cents);
      return;
    }
    std::int64_t held_discount = 0;
    bool holds_all = true;
    std::set<std::string> campaigns;
    for (const auto& code : o.coupons) {
      const CouponRecord* c = s.coupon(code);
      if (c == nullptr || o.buyer != "member:" + c->member) {
        violation = fmt::format("order {} of {} lists coupon {}, not its buyer's", id, o.buyer, code);
        return;
      }
      if (!campaigns.insert(c->campaign).second) {
        violation = fmt::format("order {} lists two coupons of campaign {}", id, c->campaign);
        return;
      }
      bool holds = c->order == id;
      bool should = !(gave_back(o) && s.campaign(c->campaign)->terms.restore_on_cancel);
      if (holds != should) {
        violation = fmt::format("order {} ({}) lists coupon {}, which is {}redeemed on it (coupon on '{}')", id,
                                order_status_name(o.status()), code, holds ? "" : "not ", c->order);
        return;
      }
      holds_all &= holds;
      held_discount += holds ? c->discount_cents : 0;
    }
    if (holds_all ? o.discount_cents != held_discount : o.discount_cents < held_discount) {
      violation = fmt::format("order {} has a discount of {}; the coupons it holds took {}", id, o.discount_cents,
                              held_discount);
    }
  });
  if (!violation.empty()) return violation;

  for (const auto& [id, om] : m.orders) {
    const OrderRecord* o = s.order(id);
    if (o == nullptr || o->buyer != "member:" + om.member)
      return fmt::format("points of order {} are {}'s, not its buyer's", id, om.member);
    if (om.points_spent < 0 || om.points_spent > o->total_cents - o->discount_cents) {
      return fmt::format("order {} spent {} points; it owes {} - {}", id, om.points_spent, o->total_cents,
                         o->discount_cents);
    }
    bool should_refund = gave_back(*o) && om.points_spent > 0;
    if (should_refund && !om.points_refunded) {
      // Spent lots that expired before the order ended are not given back (they would have expired).
      std::int64_t ended_us = o->timeline.empty() ? 0 : o->timeline.back().ts_us;
      should_refund = refundable(om.spent_lots, ended_us).points > 0;
    }
    if (om.points_refunded != should_refund) {
      return fmt::format("order {} ({}) spent {} points, refunded: {}", id, order_status_name(o->status()),
                         om.points_spent, om.points_refunded);
    }
    std::int64_t kept_value = 0;
    bool any_returned = false;
    for (const auto& [sku, u] : o->units) {
      std::int64_t sku_value = 0;
      for (const auto& l : o->lines) sku_value += l.sku == sku ? l.qty * l.unit_price_cents : 0;
      if (u.ordered > 0) kept_value += floor_share(sku_value, u.delivered - u.returned, u.ordered);
      any_returned |= u.returned > 0;
    }
    std::int64_t spend =
        o->total_cents == 0 ? 0 : floor_share(o->total_cents - o->discount_cents, kept_value, o->total_cents);
    std::int64_t paid = o->total_cents == 0 ? 0
                                            : floor_share(o->total_cents - o->discount_cents - om.points_spent,
                                                          kept_value, o->total_cents);
    std::int32_t multiplier = 1000;
    for (const auto& code : o->coupons) {
      const CouponRecord* c = s.coupon(code);
      const CreateCampaign& t = s.campaign(c->campaign)->terms;
      if (c->order == id && t.kind == CampaignKind::points_multiplier)
        multiplier = std::max(multiplier, t.points_multiplier_permille);
    }
    std::int64_t earned = paid <= 0 ? 0 : paid / 100 * multiplier / 1000;
    if (om.spend_cents != spend || (any_returned ? om.points_earned < earned : om.points_earned != earned)) {
      return fmt::format(
          "order {}: its kept units are worth {} of {} - {} (spent {} points): spend {} and {} points "
          "earned expected, the account says {} and {}",
          id, kept_value, o->total_cents, o->discount_cents, om.points_spent, spend, earned, om.spend_cents,
          om.points_earned);
    }
  }

  for (const auto& [id, a] : m.members) {
    if (s.member(id) == nullptr) return fmt::format("points account {} is no member's", id);
    std::int64_t sum = 0, last_expiry = 0;
    for (const auto& lot : a.lots) {
      if (lot.points <= 0 || lot.expires_at_us < last_expiry)
        return fmt::format("member {} has a lot of {} points out of order", id, lot.points);
      if (lot.expires_at_us <= now_us)
        return fmt::format("member {} keeps {} points that expired at {}", id, lot.points, lot.expires_at_us);
      last_expiry = lot.expires_at_us;
      sum += lot.points;
    }
    if (a.points < 0 || a.points != sum)
      return fmt::format("member {} has {} points; its lots hold {}", id, a.points, sum);
    std::int64_t rolling = 0;
    for (const auto& e : a.spend) rolling += e.at_us > now_us - year_us ? e.cents : 0;
    if (a.tier != tier_of_spend(rolling))
      return fmt::format("member {} is {} with a rolling spend of {}", id, a.tier, rolling);
    if (a.due_us != 0 && (a.due_us <= now_us || s.member_due().count({a.due_us, id}) == 0)) {
      return fmt::format("member {} is due at {} (it is {}), {}", id, a.due_us, now_us,
                         s.member_due().count({a.due_us, id}) == 0 ? "not scheduled" : "overdue");
    }
    std::map<std::string, std::int64_t> expected;
    if (auto r = member_redemptions.find(id); r != member_redemptions.end()) expected = r->second;
    if (std::map<std::string, std::int64_t>(a.redemptions.begin(), a.redemptions.end()) != expected) {
      return fmt::format("member {} counts redemptions in {} campaigns; its coupons on orders are in {}", id,
                         a.redemptions.size(), expected.size());
    }
    auto issued = member_coupons.find(id);
    if (std::int64_t(a.coupons.size()) != (issued == member_coupons.end() ? 0 : issued->second)) {
      return fmt::format("member {} lists {} coupons", id, a.coupons.size());
    }
  }
  for (const auto& [due, id] : s.member_due()) {
    const MemberAccount* a = s.member_account(id);
    if (a == nullptr || a->due_us != due)
      return fmt::format("member {} is scheduled at {} but due at {}", id, due, a == nullptr ? 0 : a->due_us);
  }
  return {};
}

}  // namespace test
