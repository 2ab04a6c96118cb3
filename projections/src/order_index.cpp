#include "ledger/order_index.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "ledger/fold.hpp"

namespace ledger {

void OrderIndex::apply(const FoldStep& step) {
  const fb::Event& e = step.event;
  std::string_view id;
  switch (e.body_type()) {
    case fb::Body::OrderPlaced: {
      id = fb_str(e.body_as_OrderPlaced()->id());
      const OrderRecord* o = step.state.order(id);
      if (o == nullptr) return;
      for (const std::string* party : {&o->buyer, &o->seller}) {
        all_[*party].emplace(o->placed_seq, std::string(id));
        if (!o->ended()) open_[*party].emplace(o->placed_seq, std::string(id));
      }
      return;
    }
    case fb::Body::OrderCompleted: id = fb_str(e.body_as_OrderCompleted()->id()); break;
    case fb::Body::OrderCancelled: id = fb_str(e.body_as_OrderCancelled()->id()); break;
    case fb::Body::OrderRejected: id = fb_str(e.body_as_OrderRejected()->id()); break;
    default: return;
  }
  const OrderRecord* o = step.state.order(id);
  if (o == nullptr || !o->ended()) return;
  for (const std::string* party : {&o->buyer, &o->seller}) {
    auto it = open_.find(*party);
    if (it == open_.end()) continue;
    it->second.erase({o->placed_seq, std::string(id)});
    if (it->second.empty()) open_.erase(it);
  }
}

void OrderIndex::save(SnapshotWriter& out) const {
  for (const auto* map : {&all_, &open_}) {
    std::vector<std::string_view> parties;
    for (const auto& [party, entries] : *map) parties.push_back(party);
    std::sort(parties.begin(), parties.end());
    out.u64(parties.size());
    for (auto party : parties) {
      const Entries& entries = map->find(party)->second;
      out.str(party);
      out.u64(entries.size());
      for (const auto& [seq, id] : entries) {
        out.u64(seq);
        out.str(id);
      }
    }
  }
}

Status OrderIndex::load(SnapshotReader& in) {
  all_.clear();
  open_.clear();
  for (auto* map : {&all_, &open_}) {
    std::uint64_t parties = in.count(16);
    for (std::uint64_t i = 0; i < parties && in.ok(); ++i) {
      std::string party = in.str();
      std::uint64_t n = in.count(16);
      Entries entries;
      for (std::uint64_t j = 0; j < n && in.ok(); ++j) {
        std::uint64_t seq = in.u64();
        entries.emplace(seq, in.str());
      }
      if (entries.size() != n || map->contains(party)) in.fail();
      (*map)[std::move(party)] = std::move(entries);
    }
  }
  if (!in.ok()) return make_error(ErrorCode::corruption, "order_index: the snapshot does not decode");
  return Ok{};
}

std::string OrderIndex::render() const {
  std::vector<std::string> lines;
  for (const auto& [what, map] : {std::pair{"all", &all_}, std::pair{"open", &open_}}) {
    for (const auto& [party, entries] : *map) {
      std::string line = fmt::format("{} {}", what, party);
      for (const auto& [seq, id] : entries) line += fmt::format(" {}:{}", seq, id);
      lines.push_back(std::move(line));
    }
  }
  std::sort(lines.begin(), lines.end());
  return fmt::format("{}\n", fmt::join(lines, "\n"));
}

}  // namespace ledger
