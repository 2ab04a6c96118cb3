// The fold: (state, event) -> state. Pure: no clock, no I/O. Used by the writer right after it
// stages an event, and by every replay of the log, so live state and rebuilt state are one code path.
#pragma once

#include "events_generated.h"
#include "ledger/fold.hpp"  // fb_str
#include "ledger/ledger_state.hpp"

namespace ledger {

class Fold {
 public:
  // REQUIRES: `event` passed the FlatBuffers Verifier; `hash` is its chain hash.
  // Returns `corruption` when the event contradicts the state (unknown transfer, stock below zero,
  // a sequence or stream version out of order ...). On error the state is partly applied and must
  // be discarded: callers rebuild it from the log.
  static Status apply(LedgerState& state, const fb::Event& event, const Hash32& hash);
};

}  // namespace ledger
