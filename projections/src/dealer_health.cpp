// Dealer health score. Every component is 0..1 (1 healthy), over windows ending at the last event:
//   purchase_frequency  min(1, orders placed as a buyer in 90 days / 12)          (weekly buying is full)
//   volume_trend        units bought in the last 30 days (u1) against the 30 before (u0):
//                       u0 = 0: 1 if u1 > 0 else 0.5; else clamp(0.5 + 0.5 * (u1 - u0) / u0, 0, 1)
//                       (flat 0.5, doubled 1, halved 0.25)
//   fulfilment_rate     orders it sold that were delivered / (delivered + cancelled or rejected); none: 1
//   on_time_delivery    of those delivered, delivered by promised_by_us; none: 1
//   on_time_payment     invoices (shipped value, due payment_terms_days after shipment, settled oldest
//                       first by payments) paid by their due date / (paid + paid late + open past due);
//                       none: 1
//   return_rate         1 - min(1, 10 * units returned / units received)           (10% returns is 0)
//   violations          max(0, 1 - 0.25 * price and channel violations in 90 days) (4 is 0)
//   credit_use          1 - min(1, credit used / limit); no limit: 1 unless it uses credit, then 0
// score = round(15 f + 10 t + 15 r + 15 o + 15 p + 10 q + 10 v + 10 c), 0..100.
// tier: A >= 80, B >= 60, C >= 40, else D.
// Suggested credit line: dealers ranked by score (ties by id); the top fifth (ceil(n / 5)) earn terms of
// twice their average monthly purchases over 90 days, rounded down to 1,000 yuan; the others 0
// (cash before delivery).
#include "ledger/dealer_health.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "ledger/order_facts.hpp"

namespace ledger {

namespace {
constexpr std::int64_t window_90_days = 90;
constexpr std::int64_t credit_line_rounding_cents = 100'000;

std::int64_t value_of(const OrderRecord& order, std::string_view sku, std::int64_t qty) {
  for (const auto& l : order.lines) {
    if (l.sku == sku) return qty * l.unit_price_cents;
  }
  return 0;
}
}  // namespace

void DealerHealth::add_violation(Stats& s, std::int64_t ts_us) {
  s.violation_us.push_back(ts_us);
  auto old = std::find_if(s.violation_us.begin(), s.violation_us.end(),
                          [&](std::int64_t t) { return t > ts_us - window_90_days * us_per_day; });
  s.violation_us.erase(s.violation_us.begin(), old);
}

DealerHealth::Stats& DealerHealth::stats(std::string_view dealer) {
  auto it = dealers_.find(dealer);
  if (it == dealers_.end()) it = dealers_.emplace(std::string(dealer), Stats{}).first;
  return it->second;
}

void DealerHealth::apply(const FoldStep& step) {
  const fb::Event& e = step.event;
  now_us_ = std::max(now_us_, e.ts_us());
  const LedgerState& state = step.state;
  auto order_named = [&](const flatbuffers::String* id) -> const OrderRecord* {
    return id == nullptr ? nullptr : state.order(id->string_view());
  };
  switch (e.body_type()) {
    case fb::Body::OrderPlaced: {
      const OrderRecord* o = order_named(e.body_as_OrderPlaced()->id());
      if (o == nullptr) return;
      if (auto buyer = party_id(o->buyer, "dealer"); !buyer.empty()) {
        Stats& s = stats(buyer);
        std::int64_t today = china_day_of(e.ts_us());
        if (s.buys.empty() || s.buys.back().day < today) s.buys.push_back(Day{today, 0, 0, 0});
        Day& d = s.buys.back();
        d.orders += 1;
        for (const auto& l : o->lines) d.units += l.qty;
        d.purchase_cents += o->total_cents - o->discount_cents;
        while (!s.buys.empty() && s.buys.front().day <= today - window_90_days) s.buys.erase(s.buys.begin());
      }
      OrderViolations v = order_violations(state, *o);
      if (!v.offender.empty() && (!v.below_floor_sku.empty() || v.outside_territory)) {
        add_violation(stats(v.offender), e.ts_us());
      }
      return;
    }
    case fb::Body::AlertRaised: {
      const auto* a = e.body_as_AlertRaised();
      std::string_view kind = a->kind() ? a->kind()->string_view() : std::string_view();
      std::string_view dealer = a->subject() ? party_id(a->subject()->string_view(), "dealer") : std::string_view();
      if (!dealer.empty() && (kind == "price" || kind == "channel_conflict")) add_violation(stats(dealer), e.ts_us());
      return;
    }
    case fb::Body::OrderShipped: {
      const auto* sh = e.body_as_OrderShipped();
      const OrderRecord* o = order_named(sh->id());
      if (o == nullptr || sh->lines() == nullptr) return;
      auto buyer = party_id(o->buyer, "dealer");
      if (buyer.empty()) return;
      std::int64_t value = 0;
      for (const auto* l : *sh->lines()) value += value_of(*o, l->sku() ? l->sku()->string_view() : "", l->qty());
      if (value > 0) stats(buyer).open.push_back(Receivable{e.ts_us() + payment_terms_days * us_per_day, value});
      return;
    }
    case fb::Body::OrderDelivered: {
      const OrderRecord* o = order_named(e.body_as_OrderDelivered()->id());
      if (o == nullptr) return;
      if (auto seller = party_id(o->seller, "dealer"); !seller.empty()) {
        Stats& s = stats(seller);
        s.sold_delivered += 1;
        s.sold_on_time += o->promised_by_us <= 0 || e.ts_us() <= o->promised_by_us ? 1 : 0;
      }
      if (auto buyer = party_id(o->buyer, "dealer"); !buyer.empty()) {
        std::int64_t units = 0;
        for (const auto& [sku, u] : o->units) units += u.delivered;
        stats(buyer).units_received += units;  // counted when the order is delivered
      }
      return;
    }
    case fb::Body::OrderCancelled:
    case fb::Body::OrderRejected: {
      const OrderRecord* o = order_named(e.body_type() == fb::Body::OrderCancelled ? e.body_as_OrderCancelled()->id()
                                                                                   : e.body_as_OrderRejected()->id());
      if (o == nullptr) return;
      if (auto seller = party_id(o->seller, "dealer"); !seller.empty()) stats(seller).sold_cancelled += 1;
      return;
    }
    case fb::Body::OrderReturned: {
      const auto* r = e.body_as_OrderReturned();
      const OrderRecord* o = order_named(r->id());
      if (o == nullptr || r->lines() == nullptr) return;
      auto buyer = party_id(o->buyer, "dealer");
      if (buyer.empty()) return;
      for (const auto* l : *r->lines()) stats(buyer).units_returned += l->qty();
      return;
    }
    case fb::Body::PaymentReceived: {
      const auto* p = e.body_as_PaymentReceived();
      if (p->dealer() == nullptr) return;
      Stats& s = stats(p->dealer()->string_view());
      std::int64_t amount = p->amount_cents();
      while (amount > 0 && !s.open.empty()) {
        Receivable& r = s.open.front();
        std::int64_t paid = std::min(amount, r.left_cents);
        r.left_cents -= paid;
        amount -= paid;
        if (r.left_cents == 0) {
          (e.ts_us() <= r.due_us ? s.paid_on_time : s.paid_late) += 1;
          s.open.pop_front();
        }
      }
      return;
    }
    default: return;
  }
}

// ---------------------------------------------------------------- scoring

DealerHealthReport DealerHealth::score(const LedgerState& state, std::string_view dealer, const Stats* s) const {
  static const Stats none;
  if (s == nullptr) s = &none;
  DealerHealthReport r;
  r.dealer = std::string(dealer);
  std::int64_t today = china_day_of(now_us_);
  for (const Day& d : s->buys) {
    if (d.day > today - window_90_days) {
      r.orders_90d += d.orders;
      r.purchases_90d_cents += d.purchase_cents;
    }
    if (d.day > today - 30)
      r.units_30d += d.units;
    else if (d.day > today - 60)
      r.units_prev_30d += d.units;
  }
  for (auto t : s->violation_us) r.violations_90d += t > now_us_ - window_90_days * us_per_day ? 1 : 0;
  r.sold_delivered = s->sold_delivered;
  r.sold_on_time = s->sold_on_time;
  r.sold_cancelled = s->sold_cancelled;
  r.units_received = s->units_received;
  r.units_returned = s->units_returned;
  r.paid_on_time = s->paid_on_time;
  r.paid_late = s->paid_late;
  for (const auto& inv : s->open) {
    r.open_receivables_cents += inv.left_cents;
    r.overdue_receivables += now_us_ > inv.due_us ? 1 : 0;
  }
  if (const DealerRecord* d = state.dealer(dealer)) r.credit_limit_cents = d->credit_limit_cents;
  // What the credit line carries: open orders less payments received.
  r.credit_used_cents = std::max<std::int64_t>(0, state.dealer_account(dealer).exposure_cents());

  auto ratio = [](std::int64_t num, std::int64_t den) { return den > 0 ? static_cast<double>(num) / den : 1.0; };
  HealthComponents& c = r.components;
  c.purchase_frequency = std::min(1.0, static_cast<double>(r.orders_90d) / 12.0);
  if (r.units_prev_30d == 0) {
    c.volume_trend = r.units_30d > 0 ? 1.0 : 0.5;
  } else {
    double change = static_cast<double>(r.units_30d - r.units_prev_30d) / static_cast<double>(r.units_prev_30d);
    c.volume_trend = std::clamp(0.5 + 0.5 * change, 0.0, 1.0);
  }
  c.fulfilment_rate = ratio(r.sold_delivered, r.sold_delivered + r.sold_cancelled);
  c.on_time_delivery = ratio(r.sold_on_time, r.sold_delivered);
  c.on_time_payment = ratio(r.paid_on_time, r.paid_on_time + r.paid_late + r.overdue_receivables);
  c.return_rate =
      r.units_received > 0 ? 1.0 - std::min(1.0, 10.0 * static_cast<double>(r.units_returned) / r.units_received) : 1.0;
  c.violations = std::max(0.0, 1.0 - 0.25 * static_cast<double>(r.violations_90d));
  if (r.credit_limit_cents > 0) {
    c.credit_use = 1.0 - std::min(1.0, static_cast<double>(r.credit_used_cents) / r.credit_limit_cents);
  } else {
    c.credit_use = r.credit_used_cents > 0 ? 0.0 : 1.0;
  }
  double points = 15 * c.purchase_frequency + 10 * c.volume_trend + 15 * c.fulfilment_rate + 15 * c.on_time_delivery +
                  15 * c.on_time_payment + 10 * c.return_rate + 10 * c.violations + 10 * c.credit_use;
  r.score = static_cast<int>(std::lround(points));
  r.tier = r.score >= 80 ? 'A' : r.score >= 60 ? 'B' : r.score >= 40 ? 'C' : 'D';
  return r;
}

std::vector<DealerHealthReport> DealerHealth::report_all(const LedgerState& state) const {
  std::vector<std::string> ids;
  state.for_each_dealer([&](std::string_view id, const DealerRecord&) { ids.emplace_back(id); });
  std::sort(ids.begin(), ids.end());
  std::vector<DealerHealthReport> out;
  out.reserve(ids.size());
  for (const auto& id : ids) {
    auto it = dealers_.find(id);
    out.push_back(score(state, id, it == dealers_.end() ? nullptr : &it->second));
  }
  std::vector<std::size_t> rank(out.size());
  for (std::size_t i = 0; i < rank.size(); ++i) rank[i] = i;
  std::stable_sort(rank.begin(), rank.end(), [&](std::size_t a, std::size_t b) { return out[a].score > out[b].score; });
  std::size_t with_terms = (out.size() + 4) / 5;
  for (std::size_t i = 0; i < with_terms; ++i) {
    DealerHealthReport& r = out[rank[i]];
    r.earns_terms = true;
    std::int64_t monthly = r.purchases_90d_cents / 3;
    r.suggested_credit_line_cents = 2 * monthly / credit_line_rounding_cents * credit_line_rounding_cents;
  }
  return out;
}

DealerHealthReport DealerHealth::report(const LedgerState& state, std::string_view dealer) const {
  for (auto& r : report_all(state)) {
    if (r.dealer == dealer) return r;
  }
  return score(state, dealer, nullptr);
}

// ---------------------------------------------------------------- snapshot and render

void DealerHealth::save(SnapshotWriter& out) const {
  out.i64(now_us_);
  std::vector<std::string_view> ids;
  for (const auto& [id, s] : dealers_) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  out.u64(ids.size());
  for (auto id : ids) {
    const Stats& s = dealers_.find(id)->second;
    out.str(id);
    out.u64(s.buys.size());
    for (const Day& d : s.buys) {
      out.i64(d.day);
      out.i64(d.orders);
      out.i64(d.units);
      out.i64(d.purchase_cents);
    }
    for (auto v : {s.sold_delivered, s.sold_on_time, s.sold_cancelled, s.units_received, s.units_returned,
                   s.paid_on_time, s.paid_late}) {
      out.i64(v);
    }
    out.u64(s.open.size());
    for (const auto& r : s.open) {
      out.i64(r.due_us);
      out.i64(r.left_cents);
    }
    out.u64(s.violation_us.size());
    for (auto t : s.violation_us) out.i64(t);
  }
}

Status DealerHealth::load(SnapshotReader& in) {
  *this = DealerHealth{};
  now_us_ = in.i64();
  std::uint64_t n = in.count(64);
  for (std::uint64_t i = 0; i < n && in.ok(); ++i) {
    std::string id = in.str();
    Stats s;
    std::uint64_t days = in.count(32);
    for (std::uint64_t j = 0; j < days && in.ok(); ++j) {
      Day d;
      d.day = in.i64();
      d.orders = in.i64();
      d.units = in.i64();
      d.purchase_cents = in.i64();
      s.buys.push_back(d);
    }
    for (auto* v : {&s.sold_delivered, &s.sold_on_time, &s.sold_cancelled, &s.units_received, &s.units_returned,
                    &s.paid_on_time, &s.paid_late}) {
      *v = in.i64();
    }
    std::uint64_t open = in.count(16);
    for (std::uint64_t j = 0; j < open && in.ok(); ++j) {
      Receivable r;
      r.due_us = in.i64();
      r.left_cents = in.i64();
      s.open.push_back(r);
    }
    std::uint64_t violations = in.count(8);
    for (std::uint64_t j = 0; j < violations && in.ok(); ++j) s.violation_us.push_back(in.i64());
    dealers_.insert_or_assign(std::move(id), std::move(s));
  }
  if (!in.ok()) return make_error(ErrorCode::corruption, "dealer_health: the snapshot does not decode");
  return Ok{};
}

std::string DealerHealth::render() const {
  std::vector<std::string> lines;
  for (const auto& [id, s] : dealers_) {
    std::string line =
        fmt::format("{} delivered={} on_time={} cancelled={} received={} returned={} paid={}/{}", id, s.sold_delivered,
                    s.sold_on_time, s.sold_cancelled, s.units_received, s.units_returned, s.paid_on_time, s.paid_late);
    for (const Day& d : s.buys) line += fmt::format(" d{}:{}:{}:{}", d.day, d.orders, d.units, d.purchase_cents);
    for (const auto& r : s.open) line += fmt::format(" r{}:{}", r.due_us, r.left_cents);
    for (auto t : s.violation_us) line += fmt::format(" v{}", t);
    lines.push_back(std::move(line));
  }
  std::sort(lines.begin(), lines.end());
  return fmt::format("now={}\n{}\n", now_us_, fmt::join(lines, "\n"));
}

}  // namespace ledger
