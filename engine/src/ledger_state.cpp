#include "ledger/ledger_state.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "ledger/location.hpp"

namespace ledger {

const char* reservation_status_name(ReservationStatus status) {
  switch (status) {
    case ReservationStatus::pending: return "pending";
    case ReservationStatus::posted: return "posted";
    case ReservationStatus::voided: return "voided";
    case ReservationStatus::expired: return "expired";
  }
  return "unknown";
}

std::uint32_t LedgerState::intern_location(std::string_view location) {
  auto it = location_index_.find(location);
  if (it != location_index_.end()) return it->second;
  auto index = static_cast<std::uint32_t>(location_names_.size());
  location_names_.emplace_back(location);
  auto parsed = parse_location(location);
  location_class_.push_back(!parsed             ? LocationClass::malformed
                            : parsed->is_real() ? LocationClass::real
                                                : LocationClass::virtual_location);
  location_index_.emplace(std::string(location), index);
  return index;
}

std::uint32_t LedgerState::intern_sku(std::string_view sku) {
  auto it = sku_index_.find(sku);
  if (it != sku_index_.end()) return it->second;
  auto index = static_cast<std::uint32_t>(sku_names_.size());
  sku_names_.emplace_back(sku);
  sku_index_.emplace(std::string(sku), index);
  return index;
}

Balance LedgerState::balance(std::string_view location, std::string_view sku) const {
  auto l = location_index_.find(location);
  auto s = sku_index_.find(sku);
  if (l == location_index_.end() || s == sku_index_.end()) return {};
  auto it = balances_.find(balance_key(l->second, s->second));
  return it == balances_.end() ? Balance{} : it->second;
}

std::int64_t LedgerState::inbound(std::string_view location, std::string_view sku) const {
  auto l = location_index_.find(location);
  auto s = sku_index_.find(sku);
  if (l == location_index_.end() || s == sku_index_.end()) return 0;
  auto it = inbound_.find(balance_key(l->second, s->second));
  return it == inbound_.end() ? 0 : it->second;
}

void LedgerState::for_each_balance(
    const std::function<void(std::string_view, std::string_view, const Balance&)>& fn) const {
  for (const auto& [key, balance] : balances_) {
    if (balance.is_zero()) continue;
    fn(location_names_[key >> 32], sku_names_[key & 0xffffffffu], balance);
  }
}

std::string_view LedgerState::presale_batch_for(std::string_view sku, std::int64_t qty) const {
  const std::vector<std::string>* batches = presale_batches_of(sku);
  if (batches == nullptr) return {};
  for (const auto& id : *batches) {
    const PresaleBatchRecord* b = presale_batch(id);
    if (!b->received && b->quota_qty - b->sold_qty >= qty) return id;
  }
  return {};
}

Weights LedgerState::sourcing_weights(std::string_view region) const {
  auto it = sourcing_weights_.find(region);
  if (it == sourcing_weights_.end()) it = sourcing_weights_.find(std::string_view{});
  return it == sourcing_weights_.end() ? default_weights() : it->second;
}

std::int64_t LedgerState::warehouse_load_cases(std::string_view warehouse, std::int64_t day) const {
  const WarehouseLoad* load = find(warehouse_loads_, warehouse);
  return load != nullptr && load->day == day ? load->cases : 0;
}

std::int64_t LedgerState::stock_since_us(std::string_view location, std::string_view sku) const {
  auto l = location_index_.find(location);
  auto s = sku_index_.find(sku);
  if (l == location_index_.end() || s == sku_index_.end()) return 0;
  auto it = stock_since_us_.find(balance_key(l->second, s->second));
  return it == stock_since_us_.end() ? 0 : it->second;
}

std::uint64_t LedgerState::stream_version(std::string_view stream) const {
  auto it = stream_versions_.find(stream);
  return it == stream_versions_.end() ? 0 : it->second;
}

Status LedgerState::check_invariants() const {
  std::vector<std::int64_t> sum_by_sku(sku_names_.size(), 0);
  for (const auto& [key, balance] : balances_) {
    const std::string& location = location_names_[key >> 32];
    const std::string& sku = sku_names_[key & 0xffffffffu];
    sum_by_sku[key & 0xffffffffu] += balance.on_hand;
    if (balance.reserved < 0) {
      return make_error(ErrorCode::corruption, fmt::format("{} has {} of {} reserved", location, balance.reserved, sku))
          .with("location", location)
          .with("sku", sku);
    }
    if (balance.is_zero()) {
      return make_error(ErrorCode::corruption, fmt::format("{} keeps a zero balance of {}", location, sku));
    }
    if (location_class_[key >> 32] == LocationClass::real && balance.available() < 0) {
      return make_error(ErrorCode::corruption,
                        fmt::format("{} has {} of {} available", location, balance.available(), sku))
          .with("location", location)
          .with("sku", sku);
    }
  }
  for (std::size_t i = 0; i < sum_by_sku.size(); ++i) {
    if (sum_by_sku[i] != 0) {
      return make_error(ErrorCode::corruption,
                        fmt::format("stock of {} sums to {} over all locations, not 0", sku_names_[i], sum_by_sku[i]))
          .with("sku", sku_names_[i]);
    }
  }
  return Ok{};
}

namespace {

template <typename V, typename F>
void render_sorted(std::string& out, const StringMap<V>& map, F&& line) {
  std::vector<const std::pair<const std::string, V>*> rows;
  rows.reserve(map.size());
  for (const auto& row : map) rows.push_back(&row);
  std::sort(rows.begin(), rows.end(), [](auto* a, auto* b) { return a->first < b->first; });
  for (auto* row : rows) line(out, row->first, row->second);
}

void render_lines(std::string& out, const std::vector<StockLineInput>& lines) {
  for (const auto& l : lines) out += fmt::format(" {}x{}{}{}", l.qty, l.sku, l.lot.empty() ? "" : "@", l.lot);
}

}  // namespace

namespace {

void render_marketing(std::string& out, const MarketingState& m) {
  for (const auto& [id, c] : m.campaigns) {
    const CreateCampaign& t = c.terms;
    out += fmt::format(
        "campaign {} {} {} off={} bp={} x={} tiers={} budget={}/{} used={}/{} per_member={} {}..{}{} "
        "scope=[{}][{}][{}][{}] issued={}\n",
        id, t.issuer, campaign_kind_name(t.kind), t.amount_off_cents, t.percent_off_bp, t.points_multiplier_permille,
        t.tiers.size(), t.max_redemptions, t.max_discount_cents, c.redemptions, c.discount_cents, t.per_member_limit,
        t.valid_from_us, t.valid_to_us, t.restore_on_cancel ? " restores" : "", fmt::join(t.scope.regions, ","),
        fmt::join(t.scope.skus, ","), fmt::join(t.scope.channels, ","), fmt::join(t.scope.tiers, ","),
        c.coupons_issued);
  }
  for (const auto& [code, c] : m.coupons) {
    out += fmt::format("coupon {} {} {} order={} discount={}\n", code, c.campaign, c.member, c.order, c.discount_cents);
  }
  for (const auto& [id, a] : m.members) {
    out += fmt::format("points {} {} tier={} due={} lots=", id, a.points, a.tier, a.due_us);
    for (const auto& lot : a.lots) out += fmt::format("{}@{},", lot.points, lot.expires_at_us);
    out += " spend=";
    for (const auto& e : a.spend) out += fmt::format("{}@{}:{},", e.cents, e.at_us, e.order);
    out += fmt::format(" coupons={}", a.coupons.size());
    for (const auto& [campaign, n] : a.redemptions) out += fmt::format(" {}:{}", campaign, n);
    out += "\n";
  }
  for (const auto& [id, o] : m.orders) {
    out += fmt::format("order_points {} {} spent={} earned={} spend={}{} from=", id, o.member, o.points_spent,
                       o.points_earned, o.spend_cents, o.points_refunded ? " refunded" : "");
    for (const auto& lot : o.spent_lots) out += fmt::format("{}@{},", lot.points, lot.expires_at_us);
    out += "\n";
  }
  if (m.price_alert_threshold_bp != MarketingState{}.price_alert_threshold_bp || m.reject_below_floor) {
    out += fmt::format("price_policy alert_bp={} reject_below_floor={}\n", m.price_alert_threshold_bp,
                       m.reject_below_floor);
  }
}

}  // namespace

std::string LedgerState::render() const {
  std::string out = fmt::format("seq={} head={} ts={}\n", last_seq_, to_hex(chain_head_), last_ts_us_);
  render_sorted(out, regions_, [](std::string& o, const std::string& id, const RegionRecord& r) {
    o += fmt::format("region {} '{}'\n", id, r.name);
  });
  render_sorted(out, warehouses_, [](std::string& o, const std::string& id, const WarehouseRecord& w) {
    o += fmt::format("warehouse {} '{}' {} {},{} cap={}\n", id, w.name, w.region, w.lat_e6, w.lon_e6,
                     w.daily_capacity_cases);
  });
  render_sorted(out, dealers_, [](std::string& o, const std::string& id, const DealerRecord& d) {
    o += fmt::format("dealer {} '{}' {} [{}] credit={}\n", id, d.name, d.region, fmt::join(d.territory, ","),
                     d.credit_limit_cents);
  });
  render_sorted(out, stores_, [](std::string& o, const std::string& id, const StoreRecord& s) {
    o += fmt::format("store {} '{}' {} {} {},{}\n", id, s.name, s.dealer, s.region, s.lat_e6, s.lon_e6);
  });
  render_sorted(out, skus_, [](std::string& o, const std::string& id, const SkuRecord& s) {
    o += fmt::format("sku {} '{}' case={} prices={}/{}/{} floors={}/{}/{}\n", id, s.name, s.case_units,
                     s.prices.wholesale_cents, s.prices.supply_cents, s.prices.retail_cents, s.floors.wholesale_cents,
                     s.floors.supply_cents, s.floors.retail_cents);
  });
  render_sorted(out, transfers_, [](std::string& o, const std::string& id, const TransferRecord& t) {
    o += fmt::format("transfer {} {}->{} {}", id, t.from, t.to,
                     t.status == TransferStatus::in_transit ? "in_transit" : "received");
    render_lines(o, t.lines);
    o += "\n";
  });
  render_sorted(out, reservations_, [](std::string& o, const std::string& id, const ReservationRecord& r) {
    o += fmt::format("reservation {} {}->{} {} by={}", id, r.from, r.to, reservation_status_name(r.status),
                     r.deadline_us);
    render_lines(o, r.lines);
    o += "\n";
  });
  render_sorted(out, tokens_, [](std::string& o, const std::string& prefix, const TokenRecord& t) {
    o += fmt::format("token {} {} {} {}{}\n", prefix, t.role, t.scope, to_hex(t.token_sha256).substr(0, 16),
                     t.revoked ? " revoked" : "");
  });
  render_sorted(out, members_, [](std::string& o, const std::string& id, const MemberRecord& m) {
    o += fmt::format("member {} '{}' {}\n", id, m.name, m.home_store);
  });
  render_sorted(out, orders_, [](std::string& o, const std::string& id, const OrderRecord& r) {
    o +=
        fmt::format("order {} {} {} {}->{} {} total={} approvals={}/{} reservations=[{}] shipments={}", id,
                    order_type_name(r.type), order_status_name(r.status()), r.seller, r.buyer, r.channel, r.total_cents,
                    r.approvals.size(), r.approvals_required.size(), fmt::join(r.reservations, ","), r.shipments);
    for (const auto& [sku, u] : r.units) {
      o += fmt::format(" {}:{}/{}/{}/{}", sku, u.ordered, u.shipped, u.delivered, u.returned);
    }
    o += fmt::format(" timeline={}\n", r.timeline.size());
  });
  render_sorted(out, presale_batches_, [](std::string& o, const std::string& id, const PresaleBatchRecord& b) {
    o += fmt::format("presale {} {} {} quota={} sold={} waiting=[{}]{}\n", id, b.sku, b.warehouse, b.quota_qty,
                     b.sold_qty, fmt::join(b.waiting, ","), b.received ? " received" : "");
  });
  render_sorted(out, dealer_accounts_, [](std::string& o, const std::string& id, const DealerAccount& a) {
    o += fmt::format("account {} used={} delivered={} returned={} shipped={} paid={}\n", id, a.credit_used_cents,
                     a.delivered_units, a.returned_units, a.shipped_cents, a.paid_cents);
  });
  render_sorted(out, warehouse_loads_, [](std::string& o, const std::string& id, const WarehouseLoad& l) {
    o += fmt::format("load {} day={} cases={}\n", id, l.day, l.cases);
  });
  render_marketing(out, marketing_);
  for (const auto& [due, member] : member_due_) out += fmt::format("member_due {} {}\n", due, member);
  for (const auto& [seq, id] : backorders_) out += fmt::format("backorder {} {}\n", seq, id);
  for (const auto& rule : approval_policy_) {
    out += fmt::format("rule {} min={} floor={} type={} tier<={} credit={}\n", rule.step, rule.min_amount_cents,
                       rule.below_floor, rule.order_type, rule.health_tier_at_most, rule.credit_overrun);
  }
  for (const auto& [region, w] : sourcing_weights_) out += fmt::format("weights '{}' {}\n", region, fmt::join(w, ","));
  for (const auto& [due, order, milestone] : milestones_)
    out += fmt::format("milestone {} {} {}\n", due, order, milestone);
  std::map<std::pair<std::string_view, std::string_view>, Balance> sorted;
  for_each_balance([&](std::string_view l, std::string_view s, const Balance& b) { sorted[{l, s}] = b; });
  for (const auto& [key, b] : sorted) {
    out += fmt::format("balance {} {} on_hand={} reserved={} since={}\n", key.first, key.second, b.on_hand, b.reserved,
                       stock_since_us(key.first, key.second));
  }
  std::map<std::string_view, std::uint64_t> streams(stream_versions_.begin(), stream_versions_.end());
  for (const auto& [stream, version] : streams) out += fmt::format("stream {} v{}\n", stream, version);
  return out;
}

}  // namespace ledger
