#include "ledger/recommendations.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <set>

#include "ledger/fold.hpp"
#include "ledger/order_facts.hpp"

namespace ledger {

const char* recommendation_reason_name(RecommendationReason reason) {
  return reason == RecommendationReason::co_purchase ? "co_purchase" : "popular_in_region";
}

void Recommendations::apply(const FoldStep& step) {
  if (step.event.body_type() != fb::Body::OrderDelivered) return;
  const OrderRecord* o = step.state.order(fb_str(step.event.body_as_OrderDelivered()->id()));
  if (o == nullptr || o->status() != OrderStatus::delivered) return;  // a part: counted with the last
  std::string_view member = party_id(o->buyer, "member");
  if (member.empty()) return;
  count_order(*o, member, step.event.seq());
}

void Recommendations::count_order(const OrderRecord& order, std::string_view member, std::uint64_t seq) {
  std::vector<std::uint32_t> distinct;
  bool truncated = false;
  Counts& popular = popular_[order.ship_to_region];
  for (const auto& line : order.lines) {  // popularity counts every line; pairs the first distinct SKUs
    std::uint32_t id = skus_.intern(line.sku);
    if (co_.size() < skus_.size()) co_.resize(skus_.size());
    popular[id] += line.qty;
    if (std::find(distinct.begin(), distinct.end(), id) != distinct.end()) continue;
    if (distinct.size() == recommendation_order_skus_max) {
      truncated = true;
      continue;
    }
    distinct.push_back(id);
  }
  if (truncated) ++orders_truncated_;
  assert(distinct.size() <= recommendation_order_skus_max);
  for (std::uint32_t a : distinct) {
    for (std::uint32_t b : distinct) {
      if (a != b) co_[a][b] += 1;
    }
  }
  auto it = members_.find(member);
  if (it == members_.end()) it = members_.emplace(std::string(member), MemberBasket{}).first;
  MemberBasket& basket = it->second;
  basket.last_order_skus = distinct;
  basket.last_region = order.ship_to_region;
  basket.last_seq = seq;
  remember(basket, distinct);
  ++orders_counted_;
}

void Recommendations::remember(MemberBasket& basket, const std::vector<std::uint32_t>& skus) {
  for (std::uint32_t id : skus) {
    auto at = std::find(basket.bought.begin(), basket.bought.end(), id);
    if (at != basket.bought.end()) basket.bought.erase(at);
    basket.bought.push_back(id);
  }
  while (basket.bought.size() > recommendation_member_skus_max) {
    basket.bought.erase(basket.bought.begin());
    ++basket.bought_dropped;
  }
  assert(basket.bought.size() <= recommendation_member_skus_max);
}

const MemberBasket* Recommendations::basket(std::string_view member) const {
  auto it = members_.find(member);
  return it == members_.end() ? nullptr : &it->second;
}

std::int64_t Recommendations::co_purchases(std::string_view a, std::string_view b) const {
  std::uint32_t x = skus_.find(a), y = skus_.find(b);
  if (x == 0 || y == 0) return 0;
  auto it = co_[x].find(y);
  return it == co_[x].end() ? 0 : it->second;
}

std::string_view Recommendations::region_of(const LedgerState& state, std::string_view member,
                                            const MemberBasket* basket) const {
  if (const MemberRecord* m = state.member(member)) {
    if (const StoreRecord* home = state.store(m->home_store)) return home->region;
  }
  return basket == nullptr ? std::string_view{} : std::string_view(basket->last_region);
}

std::vector<Recommendation> Recommendations::recommend(const LedgerState& state, std::string_view member,
                                                       std::size_t k) const {
  k = std::min(k, recommendations_max);
  const MemberBasket* basket = this->basket(member);
  std::set<std::uint32_t> excluded;
  if (basket != nullptr) excluded.insert(basket->last_order_skus.begin(), basket->last_order_skus.end());

  // Co-purchase: sum over the last order's SKUs; `with` is the one contributing most (ties: lower SKU id).
  struct Candidate {
    std::int64_t score = 0, with_count = 0;
    std::uint32_t with = 0;
  };
  std::map<std::uint32_t, Candidate> candidates;
  const std::vector<std::uint32_t> none;
  for (std::uint32_t s : basket != nullptr ? basket->last_order_skus : none) {
    for (const auto& [c, n] : co_[s]) {
      if (excluded.contains(c)) continue;
      Candidate& cand = candidates[c];
      cand.score += n;
      if (n > cand.with_count || (n == cand.with_count && skus_[s] < skus_[cand.with])) {
        cand.with = s;
        cand.with_count = n;
      }
    }
  }
  std::vector<Recommendation> out;
  for (const auto& [c, cand] : candidates) {
    out.push_back({skus_[c], cand.score, RecommendationReason::co_purchase, skus_[cand.with]});
  }
  auto by_score = [](const Recommendation& a, const Recommendation& b) {
    return a.score != b.score ? a.score > b.score : a.sku < b.sku;
  };
  std::sort(out.begin(), out.end(), by_score);
  if (out.size() >= k) {
    out.resize(k);
    return out;
  }

  // Filled up with the region's most popular SKUs not listed or excluded yet.
  for (const auto& r : out) excluded.insert(skus_.find(r.sku));
  std::vector<Recommendation> popular;
  if (auto it = popular_.find(region_of(state, member, basket)); it != popular_.end()) {
    for (const auto& [id, units] : it->second) {
      if (units > 0 && !excluded.contains(id)) {
        popular.push_back({skus_[id], units, RecommendationReason::popular_in_region, {}});
      }
    }
  }
  std::sort(popular.begin(), popular.end(), by_score);
  for (auto& p : popular) {
    if (out.size() == k) break;
    out.push_back(std::move(p));
  }
  return out;
}

namespace {
void save_ids(SnapshotWriter& out, const std::vector<std::uint32_t>& ids) {
  out.u64(ids.size());
  for (std::uint32_t id : ids) out.u32(id);
}

// SKU ids must name an interned SKU and not repeat.
void load_ids(SnapshotReader& in, std::vector<std::uint32_t>& ids, std::size_t names, std::size_t max) {
  std::uint64_t n = in.count(4);
  if (n > max) in.fail();
  for (std::uint64_t i = 0; i < n && in.ok(); ++i) {
    std::uint32_t id = in.u32();
    if (id == 0 || id >= names || std::find(ids.begin(), ids.end(), id) != ids.end()) in.fail();
    ids.push_back(id);
  }
}

void save_counts(SnapshotWriter& out, const std::map<std::uint32_t, std::int64_t>& counts) {
  out.u64(counts.size());
  for (const auto& [id, n] : counts) {
    out.u32(id);
    out.i64(n);
  }
}

void load_counts(SnapshotReader& in, std::map<std::uint32_t, std::int64_t>& counts, std::size_t names) {
  std::uint64_t n = in.count(12);
  for (std::uint64_t i = 0; i < n && in.ok(); ++i) {
    std::uint32_t id = in.u32();
    std::int64_t count = in.i64();
    if (id == 0 || id >= names || !counts.emplace(id, count).second) in.fail();
  }
}
}  // namespace

void Recommendations::save(SnapshotWriter& out) const {
  skus_.save(out);
  out.u64(orders_counted_);
  out.u64(orders_truncated_);
  for (std::size_t id = 1; id < skus_.size(); ++id) save_counts(out, co_[id]);
  out.u64(popular_.size());
  for (const auto& [region, counts] : popular_) {
    out.str(region);
    save_counts(out, counts);
  }
  std::vector<std::string_view> members;
  members.reserve(members_.size());
  for (const auto& [id, b] : members_) members.push_back(id);
  std::sort(members.begin(), members.end());
  out.u64(members.size());
  for (auto id : members) {
    const MemberBasket& b = members_.find(id)->second;
    out.str(id);
    save_ids(out, b.last_order_skus);
    save_ids(out, b.bought);
    out.u64(b.bought_dropped);
    out.str(b.last_region);
    out.u64(b.last_seq);
  }
}

Status Recommendations::load(SnapshotReader& in) {
  *this = Recommendations{};
  if (!skus_.load(in)) in.fail();
  std::size_t names = skus_.size();
  orders_counted_ = in.u64();
  orders_truncated_ = in.u64();
  co_.resize(names);
  for (std::size_t id = 1; id < names && in.ok(); ++id) load_counts(in, co_[id], names);
  std::uint64_t n = in.count(16);
  for (std::uint64_t i = 0; i < n && in.ok(); ++i) {
    std::string region = in.str();
    Counts counts;
    load_counts(in, counts, names);
    if (!popular_.emplace(std::move(region), std::move(counts)).second) in.fail();
  }
  n = in.count(8 * 6);
  for (std::uint64_t i = 0; i < n && in.ok(); ++i) {
    std::string id = in.str();
    MemberBasket b;
    load_ids(in, b.last_order_skus, names, recommendation_order_skus_max);
    load_ids(in, b.bought, names, recommendation_member_skus_max);
    b.bought_dropped = in.u64();
    b.last_region = in.str();
    b.last_seq = in.u64();
    if (id.empty() || !members_.emplace(std::move(id), std::move(b)).second) in.fail();
  }
  if (!in.ok()) return make_error(ErrorCode::corruption, "recommendations: the snapshot does not decode");
  return Ok{};
}

std::string Recommendations::render() const {
  auto names_of = [&](const std::vector<std::uint32_t>& ids) {
    std::string out;
    for (std::uint32_t id : ids) out += fmt::format("{}{}", out.empty() ? "" : ",", skus_[id]);
    return out;
  };
  std::vector<std::string> lines;
  for (std::size_t a = 1; a < co_.size(); ++a) {
    for (const auto& [b, n] : co_[a]) lines.push_back(fmt::format("co {} {} {}", skus_[a], skus_[b], n));
  }
  for (const auto& [region, counts] : popular_) {
    for (const auto& [id, units] : counts) lines.push_back(fmt::format("popular {} {} {}", region, skus_[id], units));
  }
  for (const auto& [id, b] : members_) {
    lines.push_back(fmt::format("member {} last=[{}] bought=[{}] dropped={} region={} seq={}", id,
                                names_of(b.last_order_skus), names_of(b.bought), b.bought_dropped, b.last_region,
                                b.last_seq));
  }
  std::sort(lines.begin(), lines.end());
  std::string out = fmt::format("orders={} truncated={}\n", orders_counted_, orders_truncated_);
  for (const auto& line : lines) out += line + "\n";
  return out;
}

}  // namespace ledger
