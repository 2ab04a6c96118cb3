#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string_view>

#include "ledger/clock.hpp"

namespace ledger {

enum class Durability {
  fsync_per_batch,  // default: a command is acknowledged only after its batch is on stable storage
  os_buffered,      // explicit opt-in (MDB_NOSYNC): survives a crash of the process, not of the machine
};

// Progress of long work (opening a large log, verify): events done so far, events in all.
using ProgressFn = std::function<void(std::uint64_t done, std::uint64_t total)>;

struct EngineOptions {
  std::filesystem::path dir;
  Durability durability = Durability::fsync_per_batch;
  std::shared_ptr<Clock> clock;       // null: the system clock
  std::size_t map_bytes_initial = 0;  // 0: limits::map_bytes_initial
  std::size_t map_bytes_max = 0;      // 0: limits::map_bytes_max_default
  std::size_t queue_commands_max = 0; // 0: limits::queue_commands_max
  ProgressFn on_open_progress;        // called while the log is folded at open (total: events to fold)
  // One readable line when open uses a snapshot (DIR/snapshots/ledger.snap, ledger/snapshot.hpp) or
  // finds one and ignores it (then it folds the whole log), e.g. "snapshot ledger.snap ignored
  // (checksum mismatch: the file is damaged): folding the whole log". Called on the opening thread.
  std::function<void(std::string_view)> on_notice;
};

}  // namespace ledger
