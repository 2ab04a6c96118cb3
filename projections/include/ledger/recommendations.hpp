// Recommendations per member, folded from the orders members buy (buyer "member:M"), each counted
// once: at the OrderDelivered that leaves every unit of it delivered (an order delivered in parts
// counts when its last part arrives; one never wholly delivered never counts).
//
// Folded: co-purchase counts (each pair of distinct SKUs in one order, both directions, +1), units per
// SKU per region the order ships to, and per member the SKUs of its most recent counted order and every
// SKU it bought (most recent last).
//
// recommend(): SKUs ranked by the sum of their co-purchase counts with the SKUs of the member's most
// recent order, then the most popular SKUs of the member's region (its home store's; else where that
// order shipped), never a SKU of that most recent order; ties by SKU id. Scores are counts: orders
// bought together for co_purchase, units sold in the region for popular_in_region.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ledger/names.hpp"
#include "ledger/projection.hpp"

namespace ledger {

// Distinct SKUs of one order that enter the co-purchase counts and the member's basket. A member's
// order holds a handful of SKUs (a bottle or a gift set or two); lines_max (512) is there for dealers
// restocking the catalogue. Pairs grow as n^2: 32 SKUs make 992 counts an order, 512 would make
// 261,632, and a basket that big says nothing about what goes with what. Past it, the first 32
// distinct SKUs in line order count and the order is counted as truncated.
inline constexpr std::size_t recommendation_order_skus_max = 32;
// SKUs remembered per member as bought. The catalogue has 200-500 SKUs, a member buys a few dozen in
// a lifetime; 128 bounds a million members at 0.5 GB in the worst case. Past it the least recently
// bought is forgotten (counted).
inline constexpr std::size_t recommendation_member_skus_max = 128;
// The most recommendations one call returns (the endpoint's limit).
inline constexpr std::size_t recommendations_max = 100;

enum class RecommendationReason : std::uint8_t { co_purchase, popular_in_region };
const char* recommendation_reason_name(RecommendationReason reason);

struct Recommendation {
  std::string sku;
  std::int64_t score = 0;
  RecommendationReason reason = RecommendationReason::co_purchase;
  std::string with_sku;  // co_purchase: the SKU of the last order it was most often bought with
  bool operator==(const Recommendation&) const = default;
};

struct MemberBasket {
  std::vector<std::uint32_t> last_order_skus;  // distinct, in line order, at most recommendation_order_skus_max
  std::vector<std::uint32_t> bought;           // distinct, least recently bought first
  std::uint64_t bought_dropped = 0;            // SKUs forgotten past recommendation_member_skus_max
  std::string last_region;                     // where the most recent counted order shipped
  std::uint64_t last_seq = 0;                  // its delivery's sequence number
};

class Recommendations final : public Projection {
 public:
  std::string_view name() const override { return "recommendations"; }
  std::uint32_t version() const override { return 1; }
  void apply(const FoldStep& step) override;
  void save(SnapshotWriter& out) const override;
  Status load(SnapshotReader& in) override;
  std::string render() const override;

  // At most min(k, recommendations_max) SKUs for `member` (an id, not "member:M"); master data (the home
  // store's region) from `state`. A member with no counted order gets its region's most popular SKUs.
  std::vector<Recommendation> recommend(const LedgerState& state, std::string_view member, std::size_t k) const;

  // Null for a member with no counted order.
  const MemberBasket* basket(std::string_view member) const;
  const std::string& sku_name(std::uint32_t id) const { return skus_[id]; }
  // Orders bought with both SKUs; 0 for unknown SKUs.
  std::int64_t co_purchases(std::string_view a, std::string_view b) const;
  std::uint64_t orders_counted() const { return orders_counted_; }
  std::uint64_t orders_truncated() const { return orders_truncated_; }

 private:
  using Counts = std::map<std::uint32_t, std::int64_t>;  // SKU id -> count
  void count_order(const OrderRecord& order, std::string_view member, std::uint64_t seq);
  void remember(MemberBasket& basket, const std::vector<std::uint32_t>& skus);
  std::string_view region_of(const LedgerState& state, std::string_view member, const MemberBasket* basket) const;

  Names skus_;
  std::vector<Counts> co_;                              // by SKU id: the other SKU -> orders with both
  std::map<std::string, Counts, std::less<>> popular_;  // region -> SKU -> units
  StringMap<MemberBasket> members_;
  std::uint64_t orders_counted_ = 0, orders_truncated_ = 0;
};

}  // namespace ledger
