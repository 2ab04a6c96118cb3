// Commands: what callers ask the writer to do. Each is decided against the current state and
// either becomes events in the log or a typed error that writes nothing.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "ledger/result.hpp"

namespace ledger {

struct StockLineInput {
  std::string sku;
  std::int64_t qty = 0;
  std::string lot;  // optional production lot, for traceability
};

struct Prices {
  std::int64_t wholesale_cents = 0;  // HQ -> dealer
  std::int64_t supply_cents = 0;     // dealer -> store
  std::int64_t retail_cents = 0;     // store -> member
};

// ---- master data (PUT semantics: defining an existing id redefines it)
struct DefineRegion {
  std::string id, name;
};
struct DefineWarehouse {
  std::string id, name, region;
  std::int32_t lat_e6 = 0, lon_e6 = 0;  // micro-degrees
  std::int32_t daily_capacity_cases = 0;
};
struct DefineDealer {
  std::string id, name, region;
  std::vector<std::string> territory;  // region ids the dealer may sell into
  std::int64_t credit_limit_cents = 0;
};
struct DefineStore {
  std::string id, name, dealer, region;
  std::int32_t lat_e6 = 0, lon_e6 = 0;
};
struct DefineSku {
  std::string id, name;
  std::int32_t case_units = 1;
  Prices prices, floors;
};

// ---- stock
struct ReceiveStock {  // production -> warehouse:W
  std::string warehouse;
  std::vector<StockLineInput> lines;
  std::string ref;
};
struct AdjustStock {  // count corrections, breakage: adjustment <-> location
  std::string location;
  std::string sku;
  std::int64_t qty_delta = 0;
  std::string reason;
};
struct ShipTransfer {  // from -> transit:id
  std::string id, from, to;
  std::vector<StockLineInput> lines;
};
struct ReceiveTransfer {  // transit:id -> to
  std::string id;
};
struct CreateReservation {  // holds stock at `from` until the deadline
  std::string id, from, to;
  std::vector<StockLineInput> lines;
  std::int64_t deadline_us = 0;
};
struct PostReservation {  // moves what is posted (all when lines is empty) and releases the hold
  std::string id;
  std::vector<StockLineInput> lines;
};
struct VoidReservation {
  std::string id, reason;
};

// ---- access tokens: only their SHA-256 is stored, never the token
struct IssueToken {
  std::string prefix;  // the token's public part, used to name it (revocation, logs)
  std::array<std::uint8_t, 32> token_sha256{};
  std::string role;   // hq_admin, region_manager, sales_director, finance, dealer, store, member, auditor
  std::string scope;  // the region, dealer, store or member the role is bound to; empty for global roles
};
struct RevokeToken {
  std::string prefix;
};

using CommandBody = std::variant<DefineRegion, DefineWarehouse, DefineDealer, DefineStore, DefineSku,
                                 ReceiveStock, AdjustStock, ShipTransfer, ReceiveTransfer,
                                 CreateReservation, PostReservation, VoidReservation, IssueToken, RevokeToken>;

struct Actor {
  std::string principal = "system";
  std::string role = "system";
};

struct Command {
  // Idempotency key: a command with an id is applied at most once. Retrying it with the same
  // body answers the first outcome again; with another body, `idempotency_mismatch`.
  // Empty: no idempotency (internal commands only).
  std::string command_id;
  Actor actor;
  CommandBody body;
};

struct CommandOutcome {
  std::uint64_t first_seq = 0;  // the events this command wrote: [first_seq, last_seq]
  std::uint64_t last_seq = 0;
  bool replayed = false;  // true when this answers a retry of an already applied command
};

using CommandResult = Result<CommandOutcome>;
// Called on the writer thread once the outcome is durable (or the command was rejected).
// Keep it short: post the answer elsewhere; the next batch waits for it.
using Completion = std::function<void(const CommandResult&)>;

// The stable name of a command kind ("ship_transfer"), for logs and metrics.
const char* command_name(const CommandBody& body);

}  // namespace ledger
