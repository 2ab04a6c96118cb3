#include "ledger/event_json.hpp"

#include <flatbuffers/idl.h>
#include <fmt/format.h>

#include <stdexcept>

#include "fold.hpp"

namespace ledger {

extern const char* const events_schema_text;

struct EventJson::Impl {
  flatbuffers::Parser parser;
};

EventJson::EventJson() : impl_(std::make_unique<Impl>()) {
  impl_->parser.opts.strict_json = true;
  impl_->parser.opts.indent_step = -1;
  impl_->parser.opts.output_default_scalars_in_json = true;
  // The schema is compiled into this binary by the build: failing to parse it is a build defect.
  if (!impl_->parser.Parse(events_schema_text)) throw std::logic_error("embedded schema: " + impl_->parser.error_);
}

EventJson::~EventJson() = default;

namespace {
// Length of the valid UTF-8 sequence at text[i], or 0 when it is not one.
std::size_t utf8_sequence(std::string_view text, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char b = byte(i);
  std::size_t n = b >= 0xf0 && b <= 0xf4 ? 4 : b >= 0xe0 ? 3 : b >= 0xc2 && b <= 0xdf ? 2 : 0;
  if (n == 0 || i + n > text.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
  }
  if (n == 3 && b == 0xe0 && byte(i + 1) < 0xa0) return 0;  // overlong
  if (n == 3 && b == 0xed && byte(i + 1) >= 0xa0) return 0;  // surrogate
  if (n == 4 && b == 0xf0 && byte(i + 1) < 0x90) return 0;  // overlong
  if (n == 4 && b == 0xf4 && byte(i + 1) >= 0x90) return 0;  // beyond U+10FFFF
  return n;
}
}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  out.push_back('"');
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (static_cast<unsigned char>(c) >= 0x80) {
      // Invalid UTF-8 (from a client's bytes echoed in an error) becomes U+FFFD: the output stays JSON.
      std::size_t n = utf8_sequence(text, i);
      if (n == 0) {
        out += "\\ufffd";
      } else {
        out.append(text.substr(i, n));
        i += n - 1;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

std::string EventJson::render(const fb::Event& e, const Hash32& chain_hash) const {
  std::string out = fmt::format("{{\"seq\":{},\"ts_us\":{},\"kind\":\"{}\",\"stream\":", e.seq(), e.ts_us(),
                                fb::EnumNameBody(e.body_type()));
  append_json_string(out, fb_str(e.stream()));
  out += fmt::format(",\"stream_version\":{},\"event_id\":", e.stream_version());
  append_json_string(out, fb_str(e.event_id()));
  out += ",\"command_id\":";
  append_json_string(out, fb_str(e.command_id()));
  out += ",\"actor\":{\"principal\":";
  append_json_string(out, e.actor() != nullptr ? fb_str(e.actor()->principal()) : "");
  out += ",\"role\":";
  append_json_string(out, e.actor() != nullptr ? fb_str(e.actor()->role()) : "");
  out += fmt::format("}},\"chain_hash\":\"{}\"", to_hex(chain_hash));
  std::string body;
  if (e.body() != nullptr &&
      flatbuffers::GenerateTextFromTable(impl_->parser, e.body(), fmt::format("ledger.fb.{}", fb::EnumNameBody(e.body_type())),
                                         &body)) {
    // `body` is one JSON object: splice its fields in after the envelope's.
    auto open = body.find('{');
    auto close = body.rfind('}');
    if (open != std::string::npos && close != std::string::npos && close > open + 1) {
      out += ',';
      out.append(body, open + 1, close - open - 1);
    }
  }
  out += '}';
  return out;
}

}  // namespace ledger
