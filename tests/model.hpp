// A reference model of the stock ledger for the simulation: the rules of DESIGN.md written again,
// as plainly as possible, with no shared code. The engine must agree with it on every outcome and
// every balance (the db_stress idea: an expected state kept outside the database).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "ledger/commands.hpp"
#include "ledger/ledger_state.hpp"

namespace test {

class Model {
 public:
  std::set<std::string> warehouses, dealers, stores, skus;

  // nullopt: the command is accepted (and applied to the model); otherwise the expected error.
  std::optional<ledger::ErrorCode> apply(const ledger::CommandBody& body, std::int64_t now_us);
  // What the writer does at the start of a batch: expire reservations whose deadline has passed.
  void expire_due(std::int64_t now_us);

  std::int64_t available(const std::string& location, const std::string& sku) const;
  ledger::Balance balance(const std::string& location, const std::string& sku) const;
  // (location, sku) pairs changed since the last call, and forgets them.
  std::vector<std::pair<std::string, std::string>> take_touched();
  // Non-zero balances as sorted "location sku on_hand reserved" lines.
  std::string render_balances() const;

  struct Transfer {
    std::string from, to;
    std::vector<ledger::StockLineInput> lines;
    bool received = false;
  };
  struct Reservation {
    std::string from, to;
    std::vector<ledger::StockLineInput> lines;
    std::int64_t deadline_us = 0;
    bool pending = true;
  };
  std::map<std::string, Transfer> transfers;
  std::map<std::string, Reservation> reservations;

 private:
  bool location_exists(const std::string& location) const;
  std::optional<ledger::ErrorCode> check_lines(const std::vector<ledger::StockLineInput>& lines) const;
  bool covers(const std::string& location, const std::vector<ledger::StockLineInput>& lines) const;
  void add(const std::string& location, const std::string& sku, std::int64_t on_hand, std::int64_t reserved);
  void release(Reservation& r);

  std::unordered_map<std::string, ledger::Balance> balances_;  // key: location + '|' + sku
  std::set<std::pair<std::string, std::string>> touched_;
};

// The order invariants, checked on the engine's own state (orders have no reference model: the
// matcher is not written twice). Per order and SKU: 0 <= returned <= delivered <= shipped and
// held + shipped <= ordered; what the order holds is exactly what its pending reservations hold;
// transit:order.ID carries exactly shipped - delivered; an ended order holds nothing, has no
// milestones and (cancelled or rejected) shipped nothing. Across orders: presale quota sold and
// dealer credit used are the sums over the orders that still count; every backorder and every
// milestone names a live order that still waits for it. Empty when all hold, else the first
// violation as a sentence.
std::string order_invariant_violation(const ledger::LedgerState& state);

}  // namespace test
