#include "ledger/read_model.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "ledger/fold.hpp"
#include "ledger/order_facts.hpp"
#include "ledger/verify.hpp"

namespace ledger {

ReadModel::ReadModel() { ledger_.set_change_log(&changed_); }

void ReadModel::collect_deltas() {
  deltas_.clear();
  if (changed_.empty()) return;
  std::sort(changed_.begin(), changed_.end());
  changed_.erase(std::unique(changed_.begin(), changed_.end()), changed_.end());
  for (std::uint64_t key : changed_) {
    auto [location, sku] = ledger_.balance_names(key);
    if (!is_stocking_location(location)) continue;
    Balance after = ledger_.balance(location, sku);
    auto it = stock_.find(key);
    Balance before = it == stock_.end() ? Balance{} : it->second;
    if (after == before) continue;
    deltas_.push_back(StockDelta{key, location, sku, after.on_hand - before.on_hand, after});
    if (after.is_zero()) {
      if (it != stock_.end()) stock_.erase(it);
    } else {
      stock_[key] = after;
    }
  }
  changed_.clear();
}

Status ReadModel::apply(const fb::Event& event, const Hash32& chain_hash) {
  changed_.clear();
  if (auto st = apply_event(ledger_, event, chain_hash); !st) return st;
  collect_deltas();
  FoldStep step{event, ledger_, deltas_};
  for (Projection* p : mutable_projections()) p->apply(step);
  return Ok{};
}

void ReadModel::remember_stock() {
  stock_.clear();
  // The change log's keys are the ledger's interned (location, SKU) pairs; find each balance's key by
  // letting the ledger intern nothing new: every non-zero balance already has one.
  ledger_.for_each_balance_key([&](std::uint64_t key, std::string_view location, const Balance& b) {
    if (is_stocking_location(location) && !b.is_zero()) stock_[key] = b;
  });
}

std::vector<std::pair<std::string, std::string>> ReadModel::render_all() const {
  std::vector<std::pair<std::string, std::string>> out;
  out.emplace_back("ledger", ledger_.render());
  for (const Projection* p : projections()) out.emplace_back(std::string(p->name()), p->render());
  return out;
}

Result<std::unique_ptr<ReadModel>> ReadModel::rebuild(const std::filesystem::path& dir, std::uint64_t to_seq,
                                                      const ProgressFn& progress) {
  auto model = std::make_unique<ReadModel>();
  if (auto st = model->catch_up(dir, to_seq, progress); !st) return st.take_error();
  return model;
}

Status ReadModel::catch_up(const std::filesystem::path& dir, std::uint64_t to_seq, const ProgressFn& progress) {
  auto last = log_last_seq(dir);
  if (!last) return last.take_error();
  std::uint64_t end = to_seq == 0 ? *last : std::min(to_seq, *last);
  std::uint64_t from = last_seq() + 1;
  if (from > end) return Ok{};
  Status failure;
  std::uint64_t done = 0, total = end - from + 1;
  auto st = scan_log(dir, from, total, [&](const fb::Event& e, const Hash32& h) {
    failure = apply(e, h);
    if (!failure) return false;
    if (progress && (++done & 0xffff) == 0) progress(done, total);
    return true;
  });
  if (!st) return st;
  if (!failure) return failure;
  if (progress) progress(total, total);
  return Ok{};
}

Status ReadModel::save_snapshots(const std::filesystem::path& data_dir) const {
  if (auto st = save_ledger_snapshot(data_dir, ledger_); !st) return st;
  for (const Projection* p : projections()) {
    SnapshotWriter out;
    p->save(out);
    SnapshotHeader header{std::string(p->name()), p->version(), ledger_.last_seq(), ledger_.chain_head()};
    if (auto st = write_snapshot_file(snapshot_dir(data_dir), header, out.bytes()); !st) return st;
  }
  return Ok{};
}

Result<std::unique_ptr<ReadModel>> ReadModel::restore(const std::filesystem::path& data_dir) {
  return restore(data_dir, [&](std::uint64_t seq) -> std::optional<Hash32> {
    std::optional<Hash32> found;
    auto st = scan_log(data_dir, seq, 1, [&](const fb::Event& e, const Hash32& h) {
      if (e.seq() == seq) found = h;
      return false;
    });
    return st ? found : std::nullopt;
  });
}

Result<std::unique_ptr<ReadModel>> ReadModel::restore(const std::filesystem::path& data_dir,
                                                      const ChainHashAt& chain_hash_at) {
  auto ledger = load_ledger_snapshot(data_dir, chain_hash_at);
  if (!ledger) return ledger.take_error();
  std::unique_ptr<ReadModel> model(new ReadModel());
  model->ledger_ = std::move(*ledger);
  model->ledger_.set_change_log(&model->changed_);
  for (Projection* p : model->mutable_projections()) {
    auto file = read_snapshot_file(snapshot_dir(data_dir), p->name());
    if (!file) {
      return make_error(file.error().code, fmt::format("{}.snap: {}", p->name(), file.error().message));
    }
    const SnapshotHeader& h = file->header;
    if (h.version != p->version()) {
      return make_error(ErrorCode::corruption,
                        fmt::format("{}.snap is of version {}, the code is at {}", p->name(), h.version, p->version()));
    }
    if (h.seq != model->ledger_.last_seq() || h.chain_hash != model->ledger_.chain_head()) {
      return make_error(ErrorCode::corruption, fmt::format("{}.snap is at seq {}, the ledger snapshot at {}", p->name(),
                                                           h.seq, model->ledger_.last_seq()));
    }
    SnapshotReader in(file->payload);
    if (auto st = p->load(in); !st) return st.take_error();
    if (!in.at_end()) return make_error(ErrorCode::corruption, fmt::format("{}.snap has trailing bytes", p->name()));
  }
  model->remember_stock();
  return model;
}

}  // namespace ledger
