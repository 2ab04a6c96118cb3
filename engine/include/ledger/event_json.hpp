// Events as JSON, the form API.md gives for SSE, event pages and the CLI's export:
// {seq, ts_us, kind, stream, stream_version, event_id, command_id, actor, chain_hash, ...body fields}.
// Body fields are rendered by FlatBuffers reflection from the embedded schema, so every event kind
// (present and future) renders without hand-written code.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "events_generated.h"
#include "ledger/hash.hpp"

namespace ledger {

class EventJson {
 public:
  EventJson();  // parses the embedded schema once
  ~EventJson();
  // Thread-safe after construction.
  std::string render(const fb::Event& event, const Hash32& chain_hash) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Appends `text` as a JSON string literal (quoted, escaped).
void append_json_string(std::string& out, std::string_view text);

}  // namespace ledger
