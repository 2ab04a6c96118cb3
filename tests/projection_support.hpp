// Test helpers for the read model and its projections.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "ledger/live_state.hpp"
#include "ledger/read_model.hpp"
#include "ledger/verify.hpp"

namespace test {

inline std::string render_model(const ledger::ReadModel& m) {
  std::string out;
  for (const auto& [name, text] : m.render_all()) out += "## " + name + "\n" + text;
  return out;
}

inline std::string render_model(const ledger::LiveState& live) {
  return live.read_model([](const ledger::ReadModel& m, std::uint64_t) { return render_model(m); });
}

// Compares two renders, naming the first line that differs (whole renders are too long to print).
inline void require_same_models(const std::string& got, const std::string& want) {
  if (got == want) return;
  std::size_t line = 1, i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) line += got[i++] == '\n';
  auto line_at = [](const std::string& s, std::size_t at) {
    std::size_t b = s.rfind('\n', at == 0 ? 0 : at - 1);
    b = b == std::string::npos ? 0 : b + 1;
    return s.substr(b, s.find('\n', b) - b);
  };
  FAIL("models differ at line " << line << "\n got: " << line_at(got, i) << "\nwant: " << line_at(want, i));
}

inline std::unique_ptr<ledger::LiveState> start_live(ledger::Engine& engine, ledger::LiveOptions options = {}) {
  auto live = ledger::LiveState::start(engine, std::move(options));
  REQUIRE_MESSAGE(live.ok(), (live.ok() ? "" : live.error().to_string()));
  return std::move(*live);
}

inline void wait_applied(ledger::LiveState& live, std::uint64_t seq) {
  std::promise<void> applied;
  live.when_applied(seq, [&] { applied.set_value(); });
  applied.get_future().wait();
}

// Waits until `live` has no periodic snapshot due or being written (its own rule: one is due once
// `every_events` were applied since the last). The follower writes them after it wakes the waiters of
// wait_applied, file by file: reading the snapshot directory before this can see half a set.
inline void wait_snapshots_settled(const ledger::LiveState& live, std::uint64_t every_events) {
  for (int i = 0; i < 6000 && live.applied_seq() >= live.snapshot_seq() + every_events; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  REQUIRE(live.applied_seq() < live.snapshot_seq() + every_events);
}

// The whole read model re-derived from the log in `dir`.
inline std::unique_ptr<ledger::ReadModel> rebuild_model(const std::filesystem::path& dir) {
  auto m = ledger::ReadModel::rebuild(dir);
  REQUIRE_MESSAGE(m.ok(), (m.ok() ? "" : m.error().to_string()));
  return std::move(*m);
}

// Writes every snapshot of `engine`'s log in `dir` at its last seq, as a live state does.
inline void save_live_snapshots(ledger::Engine& engine, const std::filesystem::path& dir) {
  ledger::LiveOptions options;
  options.data_dir = dir;
  auto live = start_live(engine, options);
  wait_applied(*live, engine.last_seq());
  REQUIRE(live->save_snapshots().ok());
}

// The read model restored from the snapshots in `dir` (the log there confirms them).
inline std::unique_ptr<ledger::ReadModel> restore_model(const std::filesystem::path& dir) {
  auto restored = ledger::ReadModel::restore(dir);
  REQUIRE_MESSAGE(restored.ok(), (restored.ok() ? "" : restored.error().to_string()));
  return std::move(*restored);
}

}  // namespace test
