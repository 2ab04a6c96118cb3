// Orders per party: every order of a buyer or seller ("dealer:D", "store:S", "member:M", "hq"), newest
// first, and the open ones (not completed, cancelled or rejected). Storefronts list "my orders" through
// it without scanning every order of the network.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <utility>

#include "ledger/projection.hpp"

namespace ledger {

class OrderIndex final : public Projection {
 public:
  using Entries = std::set<std::pair<std::uint64_t, std::string>, std::greater<>>;  // (placed_seq, id), newest first

  std::string_view name() const override { return "order_index"; }
  std::uint32_t version() const override { return 1; }
  void apply(const FoldStep& step) override;
  void save(SnapshotWriter& out) const override;
  Status load(SnapshotReader& in) override;
  std::string render() const override;

  // Null when the party has no order.
  const Entries* all_of(std::string_view party) const { return find(all_, party); }
  const Entries* open_of(std::string_view party) const { return find(open_, party); }

 private:
  static const Entries* find(const StringMap<Entries>& map, std::string_view party) {
    auto it = map.find(party);
    return it == map.end() ? nullptr : &it->second;
  }
  StringMap<Entries> all_, open_;
};

}  // namespace ledger
