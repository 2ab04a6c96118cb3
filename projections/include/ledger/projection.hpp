// A projection: a pure fold over the log with a name, a version, a snapshot and a canonical render.
// The read model (read_model.hpp) runs every projection over every event, right after the ledger state
// (stock and orders, the engine's own fold) has applied it, so a projection can read master data, orders
// and balances instead of keeping copies. Time comes only from events (ts_us), never from a clock, so a
// rebuild from the log equals the live projection byte for byte.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "events_generated.h"
#include "ledger/ledger_state.hpp"
#include "ledger/result.hpp"
#include "ledger/snapshot.hpp"

namespace ledger {

// An on-hand change at a stocking location (warehouse, dealer or store) made by one event.
struct StockDelta {
  std::uint64_t key = 0;  // the ledger state's key of (location, sku): LedgerState::balance_names(key)
  std::string_view location, sku;
  std::int64_t on_hand_delta = 0;
  Balance after;
};

struct FoldStep {
  const fb::Event& event;
  const LedgerState& state;            // right after the event
  std::span<const StockDelta> deltas;  // every on-hand change the event made, in a fixed order
};

class Projection {
 public:
  virtual ~Projection() = default;
  // The snapshot file's name; never changes.
  virtual std::string_view name() const = 0;
  // Bumped whenever the fold or the snapshot layout changes: a snapshot of another version is rebuilt.
  virtual std::uint32_t version() const = 0;
  virtual void apply(const FoldStep& step) = 0;
  virtual void save(SnapshotWriter& out) const = 0;
  // Replaces the state with the snapshot's; corruption when the bytes do not decode.
  virtual Status load(SnapshotReader& in) = 0;
  // The whole state as canonical text: two projections are equal iff their renders are equal.
  virtual std::string render() const = 0;
};

}  // namespace ledger
