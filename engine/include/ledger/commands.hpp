// Commands: what callers ask the writer to do. Each is decided against the current state and
// either becomes events in the log or a typed error that writes nothing.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "ledger/result.hpp"

namespace ledger {

// StockLineInput, Prices, OrderLineInput, AllocationInput and ApprovalRuleInput are also kept in
// LedgerState, so snapshots write them (engine/src/state_codec.cpp): a member added to one must be
// encoded there too (and ledger_state_snapshot_version bumped).

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

struct DefineMember {
  std::string id, name, home_store;
};

// ---- orders (see ledger/orders.hpp)
enum class OrderType : std::uint8_t { spot, presale, reservation };
struct OrderLineInput {
  std::string sku;
  std::int64_t qty = 0;
  std::int64_t unit_price_cents = 0;
};
struct AllocationInput {
  std::string location, sku;
  std::int64_t qty = 0;
  std::string reservation;  // set by the engine
};
struct PlaceOrder {
  std::string id;
  OrderType type = OrderType::spot;
  std::string buyer;    // dealer:D, store:S or member:M
  std::string seller;   // hq, dealer:D or store:S
  std::string channel;  // regional_storefront, dealer_storefront, store, o2o
  std::string ship_to_region;
  std::int32_t ship_to_lat_e6 = 0, ship_to_lon_e6 = 0;
  std::vector<OrderLineInput> lines;
  std::vector<std::string> coupons;
  std::int64_t promised_by_us = 0;
  std::int64_t pickup_at_us = 0;  // reservation orders: held until then
  bool allow_backorder = false;   // spot: allocate what there is, the rest when stock arrives
  std::int64_t points = 0;        // member buyers: points spent as payment (1 point = 1 fen)
  // A plan from the lock-free stock table (orders sold by hq): kept when the writer finds it still
  // feasible, else the writer matches again on the authoritative state.
  std::vector<AllocationInput> proposed;
};
struct ApproveOrder {
  std::string id, step;
};
struct RejectOrder {
  std::string id, reason;
};
struct AllocateOrder {  // allocates what is still unallocated (backorders), from the stock there is now
  std::string id;
};
struct ShipOrder {  // ships these units (all that is held when empty)
  std::string id;
  std::vector<StockLineInput> lines;
};
struct DeliverOrder {  // delivers what is on the road; reservation orders: the member picks up
  std::string id;
};
struct CompleteOrder {
  std::string id;
};
struct CancelOrder {
  std::string id, reason;
};
struct ReturnOrder {  // delivered units go back to where they were shipped from
  std::string id;
  std::vector<StockLineInput> lines;
  std::string reason;
};
struct ApprovalRuleInput {
  std::string step;                   // region_manager, sales_director or finance
  std::int64_t min_amount_cents = 0;  // conditions; a rule applies when all it sets hold
  bool below_floor = false;
  std::string order_type;
  std::int32_t health_tier_at_most = 0;
  bool credit_overrun = false;
};
struct SetApprovalPolicy {
  std::vector<ApprovalRuleInput> rules;
};
struct SetSourcingWeights {
  std::string region;  // empty: the default for every region without its own
  std::vector<std::pair<std::string, std::int32_t>> weights;  // dimension -> per mille
};
struct AnnouncePresaleBatch {
  std::string id, sku, warehouse;
  std::int64_t quota_qty = 0;
  std::int64_t expected_at_us = 0;
};

// ---- members and marketing (see ledger/marketing.hpp for the rules)
enum class CampaignKind : std::uint8_t { amount_off, percent_off, spend_x_save_y, points_multiplier };
struct SpendTierInput {  // spend at least threshold_cents (in scope), save save_cents
  std::int64_t threshold_cents = 0, save_cents = 0;
};
struct CampaignScopeInput {  // empty lists: no restriction
  std::vector<std::string> regions, skus, channels, tiers;
};
struct CreateCampaign {
  std::string id;
  std::string issuer;  // hq, region:R, dealer:D or store:S: whose orders it applies to
  CampaignKind kind = CampaignKind::amount_off;
  std::int64_t amount_off_cents = 0;            // amount_off
  std::int32_t percent_off_bp = 0;              // percent_off, basis points (1500 = 15% off)
  std::vector<SpendTierInput> tiers;            // spend_x_save_y, ascending thresholds
  std::int32_t points_multiplier_permille = 0;  // points_multiplier (2000 = double points)
  CampaignScopeInput scope;
  std::int64_t max_redemptions = 0;     // budget; 0 = no limit
  std::int64_t max_discount_cents = 0;  // budget; 0 = no limit
  std::int32_t per_member_limit = 0;    // redemptions per member; 0 = no limit
  std::int64_t valid_from_us = 0, valid_to_us = 0;
  bool restore_on_cancel = true;  // a cancelled (or wholly returned) order gives its coupon back
};
struct IssueCoupons {
  std::string campaign, member;
  std::int32_t count = 1;
};
struct RecordPayment {  // a dealer pays down what it owes
  std::string dealer;
  std::int64_t amount_cents = 0;
  std::string ref;
};
struct SetCreditLimit {
  std::string dealer;
  std::int64_t credit_limit_cents = 0;
  std::string reason;
};
enum class PriceLevel : std::uint8_t { wholesale, supply, retail };
struct PriceChangeInput {
  std::string sku;
  PriceLevel level = PriceLevel::retail;
  std::int64_t price_cents = 0;
};
struct ChangePrices {  // one PriceChanged event per change
  std::vector<PriceChangeInput> changes;
  std::string reason;
};
struct SetPricePolicy {
  std::int32_t alert_threshold_bp = 1000;  // a change beyond this share of the old price is alerted
  bool reject_below_floor = false;         // else a line below its floor goes to approval
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
                                 CreateReservation, PostReservation, VoidReservation, IssueToken, RevokeToken,
                                 DefineMember, PlaceOrder, ApproveOrder, RejectOrder, AllocateOrder, ShipOrder,
                                 DeliverOrder, CompleteOrder, CancelOrder, ReturnOrder, SetApprovalPolicy,
                                 SetSourcingWeights, AnnouncePresaleBatch, CreateCampaign, IssueCoupons,
                                 RecordPayment, SetCreditLimit, ChangePrices, SetPricePolicy>;

struct Actor {
  std::string principal = "system";
  std::string role = "system";
  std::string scope;  // the region, dealer, store or member the role is bound to
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
