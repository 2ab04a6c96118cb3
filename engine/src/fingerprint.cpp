#include "fingerprint.hpp"

#include <cstring>

namespace ledger {

namespace {

// Every field is length- or width-prefixed, so no two different bodies encode the same.
class Canon {
 public:
  explicit Canon(Sha256& h) : h_(h) {}
  Canon& operator()(std::int64_t v) {
    std::uint8_t bytes[9] = {'i'};
    std::memcpy(bytes + 1, &v, 8);
    h_.update(std::span<const std::uint8_t>(bytes));
    return *this;
  }
  Canon& operator()(const std::string& s) {
    (*this)(static_cast<std::int64_t>(s.size()));
    h_.update(s);
    return *this;
  }
  Canon& operator()(const std::vector<std::string>& v) {
    (*this)(static_cast<std::int64_t>(v.size()));
    for (const auto& s : v) (*this)(s);
    return *this;
  }
  Canon& operator()(const std::vector<StockLineInput>& lines) {
    (*this)(static_cast<std::int64_t>(lines.size()));
    for (const auto& l : lines) (*this)(l.sku)(l.qty)(l.lot);
    return *this;
  }
  Canon& operator()(const Prices& p) { return (*this)(p.wholesale_cents)(p.supply_cents)(p.retail_cents); }

 private:
  Sha256& h_;
};

void feed(Canon& c, const DefineRegion& x) { c(x.id)(x.name); }
void feed(Canon& c, const DefineWarehouse& x) { c(x.id)(x.name)(x.region)(x.lat_e6)(x.lon_e6)(x.daily_capacity_cases); }
void feed(Canon& c, const DefineDealer& x) { c(x.id)(x.name)(x.region)(x.territory)(x.credit_limit_cents); }
void feed(Canon& c, const DefineStore& x) { c(x.id)(x.name)(x.dealer)(x.region)(x.lat_e6)(x.lon_e6); }
void feed(Canon& c, const DefineSku& x) { c(x.id)(x.name)(x.case_units)(x.prices)(x.floors); }
void feed(Canon& c, const ReceiveStock& x) { c(x.warehouse)(x.lines)(x.ref); }
void feed(Canon& c, const AdjustStock& x) { c(x.location)(x.sku)(x.qty_delta)(x.reason); }
void feed(Canon& c, const ShipTransfer& x) { c(x.id)(x.from)(x.to)(x.lines); }
void feed(Canon& c, const ReceiveTransfer& x) { c(x.id); }
void feed(Canon& c, const CreateReservation& x) { c(x.id)(x.from)(x.to)(x.lines)(x.deadline_us); }
void feed(Canon& c, const PostReservation& x) { c(x.id)(x.lines); }
void feed(Canon& c, const VoidReservation& x) { c(x.id)(x.reason); }
void feed(Canon& c, const IssueToken& x) {
  c(x.prefix)(std::string(x.token_sha256.begin(), x.token_sha256.end()))(x.role)(x.scope);
}
void feed(Canon& c, const RevokeToken& x) { c(x.prefix); }
void feed(Canon& c, const DefineMember& x) { c(x.id)(x.name)(x.home_store); }
void feed(Canon& c, const PlaceOrder& x) {
  c(x.id)(static_cast<std::int64_t>(x.type))(x.buyer)(x.seller)(x.channel)(x.ship_to_region)(x.ship_to_lat_e6)(
      x.ship_to_lon_e6);
  c(static_cast<std::int64_t>(x.lines.size()));
  for (const auto& l : x.lines) c(l.sku)(l.qty)(l.unit_price_cents);
  c(x.coupons)(x.promised_by_us)(x.pickup_at_us)(static_cast<std::int64_t>(x.allow_backorder));
  // Fed only when set: fingerprints of commands stored before points existed stay the same.
  if (x.points != 0) c(x.points);
  // The proposed plan is the server's hint, not the caller's request: a retry may carry another.
}
void feed(Canon& c, const ApproveOrder& x) { c(x.id)(x.step); }
void feed(Canon& c, const RejectOrder& x) { c(x.id)(x.reason); }
void feed(Canon& c, const AllocateOrder& x) { c(x.id); }
void feed(Canon& c, const ShipOrder& x) { c(x.id)(x.lines); }
void feed(Canon& c, const DeliverOrder& x) { c(x.id); }
void feed(Canon& c, const CompleteOrder& x) { c(x.id); }
void feed(Canon& c, const CancelOrder& x) { c(x.id)(x.reason); }
void feed(Canon& c, const ReturnOrder& x) { c(x.id)(x.lines)(x.reason); }
void feed(Canon& c, const SetApprovalPolicy& x) {
  c(static_cast<std::int64_t>(x.rules.size()));
  for (const auto& r : x.rules) {
    c(r.step)(r.min_amount_cents)(static_cast<std::int64_t>(r.below_floor))(r.order_type)(r.health_tier_at_most)(
        static_cast<std::int64_t>(r.credit_overrun));
  }
}
void feed(Canon& c, const SetSourcingWeights& x) {
  c(x.region)(static_cast<std::int64_t>(x.weights.size()));
  for (const auto& [name, weight] : x.weights) c(name)(weight);
}
void feed(Canon& c, const CreateCampaign& x) {
  c(x.id)(x.issuer)(static_cast<std::int64_t>(x.kind))(x.amount_off_cents)(x.percent_off_bp);
  c(static_cast<std::int64_t>(x.tiers.size()));
  for (const auto& t : x.tiers) c(t.threshold_cents)(t.save_cents);
  c(x.points_multiplier_permille)(x.scope.regions)(x.scope.skus)(x.scope.channels)(x.scope.tiers);
  c(x.max_redemptions)(x.max_discount_cents)(x.per_member_limit)(x.valid_from_us)(x.valid_to_us)(
      static_cast<std::int64_t>(x.restore_on_cancel));
}
void feed(Canon& c, const IssueCoupons& x) { c(x.campaign)(x.member)(x.count); }
void feed(Canon& c, const RecordPayment& x) { c(x.dealer)(x.amount_cents)(x.ref); }
void feed(Canon& c, const SetCreditLimit& x) { c(x.dealer)(x.credit_limit_cents)(x.reason); }
void feed(Canon& c, const ChangePrices& x) {
  c(static_cast<std::int64_t>(x.changes.size()));
  for (const auto& ch : x.changes) c(ch.sku)(static_cast<std::int64_t>(ch.level))(ch.price_cents);
  c(x.reason);
}
void feed(Canon& c, const SetPricePolicy& x) { c(x.alert_threshold_bp)(static_cast<std::int64_t>(x.reject_below_floor)); }
void feed(Canon& c, const AnnouncePresaleBatch& x) { c(x.id)(x.sku)(x.warehouse)(x.quota_qty)(x.expected_at_us); }

}  // namespace

Hash32 fingerprint(Sha256& hasher, const CommandBody& body) {
  Canon canon(hasher);
  canon(static_cast<std::int64_t>(body.index()));
  std::visit([&](const auto& command) { feed(canon, command); }, body);
  return hasher.finish();
}

}  // namespace ledger
