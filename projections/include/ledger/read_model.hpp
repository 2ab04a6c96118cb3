// The read model: the ledger state (stock per location, orders and their timelines, master data) and
// every projection over it, folded event by event in one fixed order, with their snapshots.
//
// Snapshots: all of them are written at one sequence number (DATA_DIR/snapshots/NAME.snap, see
// ledger/snapshot.hpp). restore() takes them only if every one is sound, of its code's version, at the
// same sequence, and the log's chain hash at that sequence is the one they were taken at; otherwise the
// caller folds the whole log. Restart cost is then the snapshot's size plus the tail, not the history.
#pragma once

#include <array>
#include <boost/unordered/unordered_flat_map.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ledger/alerts.hpp"
#include "ledger/dealer_health.hpp"
#include "ledger/lot_trace.hpp"
#include "ledger/options.hpp"
#include "ledger/order_index.hpp"
#include "ledger/recommendations.hpp"
#include "ledger/sales_board.hpp"
#include "ledger/stock_flow.hpp"

namespace ledger {

class ReadModel {
 public:
  ReadModel();
  ReadModel(const ReadModel&) = delete;
  ReadModel& operator=(const ReadModel&) = delete;

  // REQUIRES: `event` passed the Verifier. On error the model is partly applied and must be discarded.
  Status apply(const fb::Event& event, const Hash32& chain_hash);

  const LedgerState& ledger() const { return ledger_; }
  const StockFlow& stock_flow() const { return flow_; }
  const SalesBoard& sales_board() const { return board_; }
  const DealerHealth& dealer_health() const { return health_; }
  const Alerts& alerts() const { return alerts_; }
  const OrderIndex& order_index() const { return orders_; }
  const LotTrace& lot_trace() const { return lots_; }
  const Recommendations& recommendations() const { return recommendations_; }
  std::uint64_t last_seq() const { return ledger_.last_seq(); }
  // The stock changes the last apply() made (valid until the next apply).
  const std::vector<StockDelta>& last_deltas() const { return deltas_; }

  // Every projection after the ledger state, in fold order (alerts read the flow and the lot trace).
  std::vector<const Projection*> projections() const {
    return {&flow_, &board_, &health_, &lots_, &alerts_, &orders_, &recommendations_};
  }
  // (name, canonical text) of the ledger state and every projection: equal models render equal.
  std::vector<std::pair<std::string, std::string>> render_all() const;

  // The whole read model re-derived from the log in `dir` alone (read-only), up to `to_seq` (0: the end).
  static Result<std::unique_ptr<ReadModel>> rebuild(const std::filesystem::path& dir, std::uint64_t to_seq = 0,
                                                    const ProgressFn& progress = {});
  // Folds the log's events after last_seq() (up to `to_seq`, 0: the end) into this model.
  Status catch_up(const std::filesystem::path& dir, std::uint64_t to_seq = 0, const ProgressFn& progress = {});

  // Writes the ledger state's and every projection's snapshot at last_seq().
  Status save_snapshots(const std::filesystem::path& data_dir) const;
  using ChainHashAt = std::function<std::optional<Hash32>(std::uint64_t seq)>;
  static Result<std::unique_ptr<ReadModel>> restore(const std::filesystem::path& data_dir,
                                                    const ChainHashAt& chain_hash_at);
  // The same, confirming against the log in data_dir read on its own (the CLI, tests: not inside a
  // process that has the engine open, where LMDB forbids a second environment).
  static Result<std::unique_ptr<ReadModel>> restore(const std::filesystem::path& data_dir);

 private:
  void collect_deltas();
  void remember_stock();
  // The same list as projections(), to apply events to and load snapshots into (an array: apply()
  // allocates nothing for it).
  std::array<Projection*, 7> mutable_projections() {
    return {&flow_, &board_, &health_, &lots_, &alerts_, &orders_, &recommendations_};
  }

  LedgerState ledger_;
  StockFlow flow_;
  SalesBoard board_;
  DealerHealth health_;
  LotTrace lots_;
  Alerts alerts_{flow_, lots_};
  OrderIndex orders_;
  Recommendations recommendations_;
  // Balances of stocking locations as of the previous event, to turn the ledger's change log into deltas.
  boost::unordered_flat_map<std::uint64_t, Balance> stock_;
  std::vector<std::uint64_t> changed_;
  std::vector<StockDelta> deltas_;
};

}  // namespace ledger
