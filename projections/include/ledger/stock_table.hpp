// The live stock of every warehouse as the sourcing matcher reads it: without locks, while the live
// state's follower keeps applying committed events.
//
// How: every (warehouse, SKU) cell is a pair of atomics written by the one follower thread and read
// by anyone (relaxed: each figure is a fact of some committed state; a plan built from a mix of two
// states is still checked by the writer, which re-matches a stale plan). Which warehouses and SKUs
// exist, where they are and the sourcing weights form a directory that is immutable once published
// through an atomic pointer (RCU-style); a master data change publishes a new one. Replaced
// directories are kept until the table goes away, so a reader holding one never sees it freed;
// they are few (one per master data change of a warehouse, SKU or weights).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/ledger_state.hpp"
#include "ledger/matcher.hpp"

namespace ledger {

// Caller-owned buffers for StockTable::gather, reused across calls (no allocation once warm).
struct StockView {
  std::vector<MatchLine> lines;
  std::vector<MatchWarehouse> warehouses;
  std::vector<std::int64_t> available, since_us;
  Weights weights{};
  std::vector<std::uint32_t> sku_slots;
};

struct WantedLine {
  std::string_view sku;
  std::int64_t qty = 0;
};

class StockTable {
 public:
  StockTable();
  ~StockTable();
  StockTable(const StockTable&) = delete;
  StockTable& operator=(const StockTable&) = delete;

  // ---- the follower (one thread)
  // Publishes a new directory from master data, carrying over every figure.
  void rebuild(const LedgerState& state);
  // Refreshes one balance when `location` is a warehouse (others are ignored).
  void refresh(const LedgerState& state, std::string_view location, std::string_view sku);
  // Refreshes every warehouse's load for the day of `now_us`.
  void refresh_loads(const LedgerState& state, std::int64_t now_us);

  // ---- readers (any thread, no locks)
  // Fills `view` with every warehouse and its stock of `wanted`, ready for Matcher::match, and the
  // weights of `region`. Returns the index of the first unknown SKU, or -1.
  int gather(std::span<const WantedLine> wanted, std::string_view region, std::int64_t now_us, StockView& view) const;
  std::int64_t available(std::string_view warehouse, std::string_view sku) const;

 private:
  struct Cell {
    std::atomic<std::int64_t> available{0};
    std::atomic<std::int64_t> since_us{0};
  };
  struct Load {
    std::atomic<std::int64_t> day{0};
    std::atomic<std::int64_t> cases{0};
  };
  struct Cells {
    std::size_t warehouses_max = 0, skus_max = 0;
    std::unique_ptr<Cell[]> cells;  // SKU-major: a gather reads each wanted SKU's row of warehouses in turn
    std::unique_ptr<Load[]> loads;
    Cell& at(std::size_t w, std::size_t s) const { return cells[s * warehouses_max + w]; }
  };
  struct WarehouseInfo {
    std::string id, region;
    std::uint32_t region_index = 0;  // into Directory::regions
    std::int32_t lat_e6 = 0, lon_e6 = 0;
    std::int64_t daily_capacity_cases = 0;
  };
  struct RegionInfo {  // a region some warehouse is in or that has its own weights
    std::uint32_t index = 0;
    Weights weights{};  // its own, else the default set for every region, else the matcher's
  };
  struct Directory {
    std::vector<WarehouseInfo> warehouses;  // by id, ascending: the matcher's candidate order
    StringMap<std::uint32_t> warehouse_index;
    StringMap<std::uint32_t> sku_index;
    std::vector<std::int32_t> case_units;  // by SKU index
    StringMap<RegionInfo> regions;         // resolved once here: gather looks the ship-to region up once
    Weights default_weights{};             // for a region without its own
    std::shared_ptr<Cells> cells;
  };

  std::atomic<const Directory*> current_{nullptr};
  std::vector<std::unique_ptr<Directory>> directories_;  // every one published; follower only
};

}  // namespace ledger
