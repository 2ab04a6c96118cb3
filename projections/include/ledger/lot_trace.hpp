// Lot traceability: where the units of each production lot went, folded from the events whose stock
// lines name a lot (StockReceived, TransferShipped, TransferReceived, ReservationCreated,
// ReservationPosted). Per lot: its movements, the dealer that first received it, the units each
// location holds by lot-tagged movements, and every stocking location it touched (for scope).
//
// Channel conflict (窜货) by lot: units of a lot first received by dealer D that arrive at a store of
// another dealer, in a region that is neither D's region nor in D's territory. Found once per (lot,
// store); the alerts projection, folded after this one, raises them from last_conflicts().
//
// Holders count only lot-tagged movements: units received without a lot and shipped with one (or the
// other way round) make a location's figure differ from its stock, and it can go below zero.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "ledger/projection.hpp"

namespace ledger {

// Movements kept per lot; past it the oldest are dropped (and counted). A lot is one production batch (thousands of
// cases) moving down four tiers, so a real lot makes hundreds of movements; 10,000 keeps every one of those and bounds
// a hostile or runaway lot at about 1 MB of memory and of the endpoint's answer. The first dealer, holders and touched
// locations are kept whole, so dropping old movements loses no conclusion.
inline constexpr std::size_t lot_movements_kept_max = 10'000;

enum class LotMoveKind : std::uint8_t {
  received,            // production -> warehouse (StockReceived)
  transfer_shipped,    // from -> transit:T
  transfer_received,   // transit:T -> to
  reserved,            // held at `from` for `to`; moves nothing (ReservationCreated)
  reservation_posted,  // from -> to
};
const char* lot_move_kind_name(LotMoveKind kind);

struct LotMovement {
  std::uint64_t seq = 0;
  std::int64_t ts_us = 0;
  LotMoveKind kind = LotMoveKind::received;
  std::string from, to, sku;
  std::int64_t qty = 0;
  bool operator==(const LotMovement&) const = default;
};

struct LotRecord {
  std::string first_dealer;             // the dealer id whose dealer: location first received units; empty until then
  std::deque<LotMovement> movements;    // oldest first, at most lot_movements_kept_max
  std::uint64_t movements_dropped = 0;  // older movements let go
  std::map<std::pair<std::string, std::string>, std::int64_t, std::less<>>
      holders;                                         // (location, sku) -> units, non-zero
  std::set<std::string, std::less<>> touched;          // warehouses, dealers and stores any movement named
  std::set<std::string, std::less<>> conflict_stores;  // stores already found in conflict (once each)
  std::set<std::string, std::less<>> skus;
};

// One channel conflict found by the last event.
struct LotConflict {
  std::string lot, sku, first_dealer, store;
  std::int64_t qty = 0;
};

class LotTrace final : public Projection {
 public:
  std::string_view name() const override { return "lot_trace"; }
  std::uint32_t version() const override { return 1; }
  void apply(const FoldStep& step) override;
  void save(SnapshotWriter& out) const override;
  Status load(SnapshotReader& in) override;
  std::string render() const override;

  // Null for a lot no event named.
  const LotRecord* lot(std::string_view id) const {
    auto it = lots_.find(id);
    return it == lots_.end() ? nullptr : &it->second;
  }
  std::size_t size() const { return lots_.size(); }
  // The conflicts the last apply() found, in line order (valid until the next apply; not snapshot state).
  const std::vector<LotConflict>& last_conflicts() const { return conflicts_; }

 private:
  struct Move {
    LotMoveKind kind;
    std::string_view from, to;
  };
  void apply_lines(const FoldStep& step, const Move& move,
                   const flatbuffers::Vector<flatbuffers::Offset<fb::StockLine>>* lines);
  void record(const FoldStep& step, const Move& move, std::string_view lot, std::string_view sku, std::int64_t qty);
  void check_arrival(const LedgerState& state, std::string_view lot, LotRecord& r, std::string_view to,
                     std::string_view sku, std::int64_t qty);

  StringMap<LotRecord> lots_;
  std::vector<LotConflict> conflicts_;
};

}  // namespace ledger
