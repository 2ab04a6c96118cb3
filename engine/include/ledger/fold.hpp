// The fold, for projections outside the engine: (state, event) -> state, the same code the writer
// and every replay use.
#pragma once

#include "events_generated.h"
#include "ledger/ledger_state.hpp"

namespace ledger {

// A FlatBuffers string as a view; empty when the field is absent.
inline std::string_view fb_str(const flatbuffers::String* s) {
  return s == nullptr ? std::string_view{} : std::string_view(s->data(), s->size());
}

// REQUIRES: `event` passed the Verifier (events from Engine::read_events have). On error the state
// is partly applied and must be discarded.
Status apply_event(LedgerState& state, const fb::Event& event, const Hash32& chain_hash);

}  // namespace ledger
