// `ledger`: the audit CLI. Reads a data directory read-only (a copy, or the live one while the
// server runs: LMDB readers never block the writer) and answers from the log alone.
//
// Exit codes: 0 done; 1 the log failed verification (the first violation is printed with its
// sequence number); 2 bad usage; 3 the data directory cannot be read.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ledger/event_json.hpp"
#include "ledger/fold.hpp"
#include "ledger/hash.hpp"
#include "ledger/import.hpp"
#include "ledger/read_model.hpp"
#include "ledger/snapshot.hpp"
#include "ledger/verify.hpp"

namespace {

using namespace ledger;

constexpr int exit_ok = 0, exit_invalid = 1, exit_usage = 2, exit_unreadable = 3;

const char* const usage_text = R"(ledger: audit a ledger data directory from its log alone (read-only)

  ledger verify --data DIR [--json]
      walk the whole log: every record's FlatBuffer, the dense sequence, the hash chain, every
      invariant (stock conserved per SKU, no negative available), the stream and idempotency
      indexes. Prints the first violation with its sequence number (exit 1), or a summary.
  ledger export --data DIR [--output FILE] [--from-seq N] [--to-seq N] [--from-us T] [--to-us T]
                [--kinds K1,K2] [--stream S] [--raw]
      events as JSON lines {seq, ts_us, kind, stream, actor, chain_hash, ...body}. --raw adds each
      event's stored bytes ("raw", base64) and its command's fingerprint ("command_fingerprint"),
      what import needs to rebuild the log exactly.
  ledger import --data DIR [--input FILE]
      the JSON lines of a whole `export --raw` (stdin when no --input) into an empty data directory;
      every record is checked (buffer, sequence, chain hash, fold, invariants): the copy has the
      same chain hash, or nothing is written and the first bad line is named (exit 1).
  ledger stats --data DIR [--json] [--top N]
      events per kind and per day (UTC), log size, the largest streams.
  ledger trace --data DIR (--order ID | --location LOC --sku SKU | --lot LOT) [--json]
      everything that happened to one order, one balance or one production lot, in order.
  ledger as-of --data DIR (--seq N | --at-us T) [--stock LOC:SKU ...] [--order ID] [--member ID]
               [--board sales [--group-by region,channel,dealer,store,sku] [--bucket hour|day|month]]
               [--health DEALER] [--json]
      balances, an order, a member, the sales board or a dealer's health as they were right after
      event N (or the last event at or before T).
  ledger rebuild --data DIR [--json]
      re-derives every projection from the log up to the stored snapshots' sequence and compares
      each with the stored one; prints the differences (exit 1 when any), or that they are equal.

Every subcommand takes --help. Exit codes: 0 done, 1 verification failed, 2 bad usage,
3 the data directory cannot be read.
)";

struct Args {
  std::string command;
  std::map<std::string, std::vector<std::string>> values;  // --name value (repeatable)
  std::map<std::string, bool> flags;                       // --json, --help

  std::string get(const std::string& name) const {
    auto it = values.find(name);
    return it == values.end() || it->second.empty() ? std::string() : it->second.back();
  }
  bool has(const std::string& name) const { return values.count(name) != 0; }
};

struct UsageError {
  std::string message;
};

Args parse_args(int argc, char** argv) {
  Args a;
  static const std::vector<std::string> flag_names = {"--json", "--help", "-h", "--raw"};
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (std::find(flag_names.begin(), flag_names.end(), arg) != flag_names.end()) {
      a.flags[arg == "-h" ? "--help" : arg] = true;
    } else if (arg.rfind("--", 0) == 0) {
      std::string name = arg, value;
      if (auto eq = arg.find('='); eq != std::string::npos) {
        name = arg.substr(0, eq);
        value = arg.substr(eq + 1);
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        throw UsageError{fmt::format("{} needs a value", arg)};
      }
      a.values[name].push_back(value);
    } else if (a.command.empty()) {
      a.command = arg;
    } else {
      throw UsageError{fmt::format("unexpected argument '{}'", arg)};
    }
  }
  return a;
}

std::uint64_t parse_number(const std::string& name, const std::string& text) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    throw UsageError{fmt::format("{} must be a whole number, not '{}'", name, text)};
  }
  return v;
}

// A progress line on a terminal (rate and ETA), nothing in pipes.
class Progress {
 public:
  explicit Progress(const char* what) : what_(what), tty_(isatty(STDERR_FILENO) != 0) {}
  ~Progress() { done(); }
  void update(std::uint64_t done_count, std::uint64_t total) {
    if (!tty_) return;
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(200) && done_count != total) return;
    last_ = now;
    double s = std::chrono::duration<double>(now - start_).count();
    double rate = s > 0 ? static_cast<double>(done_count) / s : 0;
    double eta = rate > 0 && total > done_count ? static_cast<double>(total - done_count) / rate : 0;
    std::fprintf(stderr, "\r%s %llu/%llu events  %.0f ev/s  ETA %.0fs   ", what_,
                 static_cast<unsigned long long>(done_count), static_cast<unsigned long long>(total), rate, eta);
    shown_ = true;
  }
  void done() {
    if (shown_) std::fprintf(stderr, "\r%80s\r", "");
    shown_ = false;
  }
  ProgressFn fn() {
    return [this](std::uint64_t d, std::uint64_t t) { update(d, t); };
  }

 private:
  const char* what_;
  bool tty_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_{};
};

// Base64 (RFC 4648, with padding) for the raw event bytes of export --raw.
constexpr char base64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void append_base64(std::string& out, std::span<const std::uint8_t> bytes) {
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    std::uint32_t v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    for (int shift : {18, 12, 6, 0}) out += base64_alphabet[(v >> shift) & 63];
  }
  if (i < bytes.size()) {
    std::uint32_t v = bytes[i] << 16;
    if (i + 1 < bytes.size()) v |= bytes[i + 1] << 8;
    out += base64_alphabet[(v >> 18) & 63];
    out += base64_alphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? base64_alphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
}

std::optional<std::vector<std::uint8_t>> decode_base64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::vector<std::uint8_t> out;
  out.reserve(text.size() / 4 * 3);
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  for (std::size_t i = 0; i < text.size(); i += 4) {
    int a = value(text[i]), b = value(text[i + 1]);
    bool last = i + 4 == text.size();
    int c = last && text[i + 2] == '=' ? 0 : value(text[i + 2]);
    int d = last && text[i + 3] == '=' ? 0 : value(text[i + 3]);
    if (a < 0 || b < 0 || c < 0 || d < 0) return std::nullopt;
    std::uint32_t v = (a << 18) | (b << 12) | (c << 6) | d;
    out.push_back(static_cast<std::uint8_t>(v >> 16));
    if (!(last && text[i + 2] == '=')) out.push_back(static_cast<std::uint8_t>(v >> 8));
    if (!(last && text[i + 3] == '=')) out.push_back(static_cast<std::uint8_t>(v));
  }
  return out;
}

std::optional<Hash32> parse_hash_hex(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  Hash32 h{};
  for (std::size_t i = 0; i < 32; ++i) {
    unsigned v = 0;
    auto [end, ec] = std::from_chars(hex.data() + 2 * i, hex.data() + 2 * i + 2, v, 16);
    if (ec != std::errc() || end != hex.data() + 2 * i + 2) return std::nullopt;
    h[i] = static_cast<std::uint8_t>(v);
  }
  return h;
}

std::string require_data(const Args& a) {
  std::string dir = a.get("--data");
  if (dir.empty()) throw UsageError{"--data DIR is required (the server's data directory, or a copy)"};
  return dir;
}

int report_failure(const Error& e, bool json) {
  bool corrupt = e.code == ErrorCode::corruption;
  if (json) {
    std::string out = "{\"ok\":false,\"error\":";
    append_json_string(out, std::string(error_code_name(e.code)));
    out += fmt::format(",\"seq\":{},\"message\":", e.number("seq", 0));
    append_json_string(out, e.message);
    std::cout << out << "}\n";
  } else {
    std::cerr << (corrupt ? "ledger: the log failed verification: " : "ledger: ") << e.to_string() << "\n";
  }
  return corrupt ? exit_invalid : exit_unreadable;
}

// Visits every event in [from, to] with a progress line; returns the status of the walk.
Status for_each_event(const std::string& dir, std::uint64_t from, std::uint64_t to, const char* what,
                      const std::function<bool(const fb::Event&, const Hash32&)>& visit) {
  auto last = log_last_seq(dir);
  if (!last) return last.take_error();
  std::uint64_t end = std::min(to, *last);
  if (from > end) return Ok{};
  Progress progress(what);
  return scan_log(dir, from, end - from + 1, [&](const fb::Event& e, const Hash32& h) {
    if ((e.seq() & 1023) == 0) progress.update(e.seq() - from + 1, end - from + 1);
    return visit(e, h);
  });
}

int cmd_verify(const Args& a) {
  std::string dir = require_data(a);
  bool json = a.flags.count("--json") != 0;
  Progress progress("verify");
  auto started = std::chrono::steady_clock::now();
  auto report = verify_log(dir, progress.fn());
  progress.done();
  if (!report) return report_failure(report.error(), json);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::string head = to_hex(report->chain_hash);
  if (json) {
    std::cout << fmt::format(
        "{{\"ok\":true,\"events\":{},\"last_seq\":{},\"chain_hash\":\"{}\",\"streams\":{},\"commands\":{},"
        "\"first_ts_us\":{},\"last_ts_us\":{},\"seconds\":{:.3f}}}\n",
        report->events, report->last_seq, head, report->streams, report->commands, report->first_ts_us,
        report->last_ts_us, s);
  } else {
    std::cout << fmt::format("ok: {} events, {} streams, {} idempotent commands\n", report->events, report->streams,
                             report->commands);
    std::cout << fmt::format("time span: {} .. {} (us since the epoch, UTC)\n", report->first_ts_us,
                             report->last_ts_us);
    std::cout << fmt::format("chain hash of event {}: {}\n", report->last_seq, head);
    std::cout << fmt::format("checked in {:.2f} s ({:.0f} events/s)\n", s, s > 0 ? report->events / s : 0.0);
  }
  return exit_ok;
}

int cmd_export(const Args& a) {
  std::string dir = require_data(a);
  std::uint64_t from = a.has("--from-seq") ? parse_number("--from-seq", a.get("--from-seq")) : 1;
  std::uint64_t to = a.has("--to-seq") ? parse_number("--to-seq", a.get("--to-seq")) : UINT64_MAX;
  std::int64_t from_us =
      a.has("--from-us") ? static_cast<std::int64_t>(parse_number("--from-us", a.get("--from-us"))) : INT64_MIN;
  std::int64_t to_us =
      a.has("--to-us") ? static_cast<std::int64_t>(parse_number("--to-us", a.get("--to-us"))) : INT64_MAX;
  std::vector<std::string> kinds;
  for (const auto& list : a.values.count("--kinds") ? a.values.at("--kinds") : std::vector<std::string>{}) {
    std::size_t start = 0;
    for (std::size_t i = 0; i <= list.size(); ++i) {
      if (i == list.size() || list[i] == ',') {
        std::string k = list.substr(start, i - start);
        start = i + 1;
        if (k.empty()) continue;
        bool known = false;
        for (auto v : fb::EnumValuesBody()) known |= k == fb::EnumNameBody(v) && v != fb::Body::NONE;
        if (!known) throw UsageError{fmt::format("'{}' is not an event kind (e.g. OrderPlaced, TransferShipped)", k)};
        kinds.push_back(k);
      }
    }
  }
  std::string stream = a.get("--stream");
  std::ofstream file;
  std::ostream* out = &std::cout;
  if (a.has("--output") && a.get("--output") != "-") {
    file.open(a.get("--output"), std::ios::binary | std::ios::trunc);
    if (!file) {
      std::cerr << fmt::format("ledger: cannot write {}: {}\n", a.get("--output"), std::strerror(errno));
      return exit_unreadable;
    }
    out = &file;
  }
  EventJson renderer;
  std::string line;
  std::uint64_t written = 0;
  bool raw = a.flags.count("--raw") != 0;
  auto wanted = [&](const fb::Event& e) {
    if (e.ts_us() < from_us || e.ts_us() > to_us) return false;
    if (!kinds.empty() && std::find(kinds.begin(), kinds.end(), fb::EnumNameBody(e.body_type())) == kinds.end())
      return false;
    return stream.empty() || fb_str(e.stream()) == stream;
  };
  auto write_line = [&] {
    line += '\n';
    out->write(line.data(), static_cast<std::streamsize>(line.size()));
    ++written;
    return static_cast<bool>(*out);
  };
  Status st;
  if (!raw) {
    st = for_each_event(dir, from, to, "export", [&](const fb::Event& e, const Hash32& h) {
      if (!wanted(e)) return true;
      line = renderer.render(e, h);
      return write_line();
    });
  } else {
    auto last = log_last_seq(dir);
    if (!last) return report_failure(last.error(), false);
    std::uint64_t end = std::min(to, *last);
    Progress progress("export");
    st = from > end ? Status(Ok{}) : scan_log_records(dir, from, end - from + 1, [&](const LogRecordView& r) {
      if ((r.event.seq() & 1023) == 0) progress.update(r.event.seq() - from + 1, end - from + 1);
      if (!wanted(r.event)) return true;
      line = renderer.render(r.event, r.chain_hash);
      line.pop_back();  // the closing brace: the raw fields go inside the object
      line += ",\"raw\":\"";
      append_base64(line, r.bytes);
      line += '"';
      if (r.command_fingerprint) line += fmt::format(",\"command_fingerprint\":\"{}\"", to_hex(*r.command_fingerprint));
      line += '}';
      return write_line();
    });
  }
  if (!st) return report_failure(st.error(), false);
  out->flush();
  if (!*out) {
    std::cerr << "ledger: writing the export failed (disk full?)\n";
    return exit_unreadable;
  }
  if (isatty(STDERR_FILENO)) std::cerr << fmt::format("exported {} events\n", written);
  return exit_ok;
}

int cmd_stats(const Args& a) {
  std::string dir = require_data(a);
  bool json = a.flags.count("--json") != 0;
  std::size_t top = a.has("--top") ? parse_number("--top", a.get("--top")) : 10;
  std::map<std::string, std::uint64_t> by_kind;
  std::map<std::int64_t, std::uint64_t> by_day;
  std::map<std::string, std::uint64_t> by_stream;
  std::uint64_t events = 0, bytes = 0;
  auto st = for_each_event(dir, 1, UINT64_MAX, "stats", [&](const fb::Event& e, const Hash32&) {
    ++events;
    ++by_kind[fb::EnumNameBody(e.body_type())];
    ++by_day[e.ts_us() / 86'400'000'000LL];
    by_stream[std::string(fb_str(e.stream()))] = e.stream_version();
    return true;
  });
  if (!st) return report_failure(st.error(), json);
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
    bytes += entry.is_regular_file() ? entry.file_size() : 0;
  std::vector<std::pair<std::uint64_t, std::string>> largest;
  for (const auto& [s, v] : by_stream) largest.emplace_back(v, s);
  std::sort(largest.begin(), largest.end(),
            [](const auto& x, const auto& y) { return x.first != y.first ? x.first > y.first : x.second < y.second; });
  if (largest.size() > top) largest.resize(top);
  auto day_text = [](std::int64_t day) {
    std::time_t t = static_cast<std::time_t>(day * 86400);
    std::tm tm{};
    gmtime_r(&t, &tm);
    return fmt::format("{:04}-{:02}-{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  };
  if (json) {
    std::string out =
        fmt::format("{{\"events\":{},\"streams\":{},\"log_bytes\":{},\"by_kind\":{{", events, by_stream.size(), bytes);
    bool first = true;
    for (const auto& [k, n] : by_kind) out += fmt::format("{}\"{}\":{}", std::exchange(first, false) ? "" : ",", k, n);
    out += "},\"by_day\":{";
    first = true;
    for (const auto& [d, n] : by_day)
      out += fmt::format("{}\"{}\":{}", std::exchange(first, false) ? "" : ",", day_text(d), n);
    out += "},\"largest_streams\":[";
    for (std::size_t i = 0; i < largest.size(); ++i) {
      out += i ? "," : "";
      out += "{\"stream\":";
      append_json_string(out, largest[i].second);
      out += fmt::format(",\"events\":{}}}", largest[i].first);
    }
    std::cout << out << "]}\n";
    return exit_ok;
  }
  std::cout << fmt::format("{} events in {} streams; data directory {} bytes\n\nevents per kind:\n", events,
                           by_stream.size(), bytes);
  for (const auto& [k, n] : by_kind) std::cout << fmt::format("  {:<24} {:>12}\n", k, n);
  std::cout << "\nevents per day (UTC):\n";
  for (const auto& [d, n] : by_day) std::cout << fmt::format("  {}  {:>12}\n", day_text(d), n);
  std::cout << "\nlargest streams:\n";
  for (const auto& [n, s] : largest) std::cout << fmt::format("  {:<48} {:>10}\n", s, n);
  return exit_ok;
}

std::string event_line(const fb::Event& e) {
  std::string actor = e.actor() != nullptr ? std::string(fb_str(e.actor()->principal())) : std::string();
  return fmt::format("{:>10}  {}  {:<20} {:<32} {}", e.seq(), e.ts_us(), fb::EnumNameBody(e.body_type()),
                     fb_str(e.stream()), actor);
}

int cmd_trace(const Args& a) {
  std::string dir = require_data(a);
  bool json = a.flags.count("--json") != 0;
  std::string order = a.get("--order"), location = a.get("--location"), sku = a.get("--sku"), lot = a.get("--lot");
  int modes = !order.empty() + (!location.empty() || !sku.empty()) + !lot.empty();
  if (modes != 1 || (!sku.empty() && location.empty()) || (!location.empty() && sku.empty())) {
    throw UsageError{"trace takes one of --order ID, --location LOC --sku SKU, or --lot LOT"};
  }
  EventJson renderer;
  // Balances are traced through the fold: an event concerns (location, SKU) when it changed it.
  LedgerState state;
  std::vector<std::uint64_t> changed;
  state.set_change_log(&changed);
  std::string order_stream = "order:" + order, order_holds = "reservation:order." + order + ".";
  // Body fields render as "lot": "L" (reflection) or "lot":"L": accept both.
  std::string lot_needle = "\"lot\": \"" + lot + "\"", lot_needle_compact = "\"lot\":\"" + lot + "\"";
  Status folded;
  std::uint64_t found = 0;
  auto st = for_each_event(dir, 1, UINT64_MAX, "trace", [&](const fb::Event& e, const Hash32& h) {
    changed.clear();
    folded = apply_event(state, e, h);
    if (!folded) return false;
    bool hit = false;
    std::string rendered;
    if (!order.empty()) {
      std::string_view s = fb_str(e.stream());
      hit = s == order_stream || s.substr(0, order_holds.size()) == order_holds;
    } else if (!lot.empty()) {
      rendered = renderer.render(e, h);
      hit = rendered.find(lot_needle) != std::string::npos || rendered.find(lot_needle_compact) != std::string::npos;
    } else {
      for (std::uint64_t key : changed) {
        auto [l, k] = state.balance_names(key);
        hit |= l == location && k == sku;
      }
    }
    if (!hit) return true;
    ++found;
    if (json) {
      std::cout << (rendered.empty() ? renderer.render(e, h) : rendered) << "\n";
    } else if (!location.empty()) {
      Balance b = state.balance(location, sku);
      std::cout << event_line(e)
                << fmt::format("  -> on_hand {} reserved {} available {}\n", b.on_hand, b.reserved, b.available());
    } else {
      std::cout << event_line(e) << "\n";
    }
    return true;
  });
  if (!st) return report_failure(st.error(), json);
  if (!folded) return report_failure(folded.error(), json);
  if (found == 0 && !json) std::cerr << "ledger: nothing in the log matches\n";
  return exit_ok;
}

std::string order_text(const std::string& id, const OrderRecord& o, bool json) {
  if (!json) {
    std::string out = fmt::format("order {} ({}) {} -> {}: {}, total {} cents, approvals {}/{}\n", id,
                                  order_type_name(o.type), o.seller, o.buyer, order_status_name(o.status()),
                                  o.total_cents, o.approvals.size(), o.approvals_required.size());
    for (const auto& [sku, u] : o.units) {
      auto h = o.held.find(sku);
      out += fmt::format("  {:<16} ordered {} held {} shipped {} delivered {} returned {}\n", sku, u.ordered,
                         h == o.held.end() ? 0 : h->second, u.shipped, u.delivered, u.returned);
    }
    return out;
  }
  std::string out = "{\"id\":";
  append_json_string(out, id);
  out += fmt::format(",\"status\":\"{}\",\"type\":\"{}\",\"total_cents\":{},\"units\":[", order_status_name(o.status()),
                     order_type_name(o.type), o.total_cents);
  bool first = true;
  for (const auto& [sku, u] : o.units) {
    auto h = o.held.find(sku);
    out += std::exchange(first, false) ? "" : ",";
    out += "{\"sku\":";
    append_json_string(out, sku);
    out += fmt::format(",\"ordered\":{},\"held\":{},\"shipped\":{},\"delivered\":{},\"returned\":{}}}", u.ordered,
                       h == o.held.end() ? 0 : h->second, u.shipped, u.delivered, u.returned);
  }
  return out + "]}";
}

std::string sales_rows_text(const std::vector<SalesRow>& rows, bool json) {
  std::string out = json ? "[" : "";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const SalesRow& r = rows[i];
    if (json) {
      out += i ? "," : "";
      out += "{";
      for (auto [name, value] :
           {std::pair{"region", &r.region}, std::pair{"channel", &r.channel}, std::pair{"dealer", &r.dealer},
            std::pair{"store", &r.store}, std::pair{"sku", &r.sku}}) {
        if (value->empty()) continue;
        out += fmt::format("\"{}\":", name);
        append_json_string(out, *value);
        out += ",";
      }
      out += fmt::format(
          "\"bucket_start_us\":{},\"orders\":{},\"units\":{},\"revenue_cents\":{},\"discount_cents\":{}}}",
          r.bucket_start_us, r.totals.orders, r.totals.units, r.totals.revenue_cents, r.totals.discount_cents);
    } else {
      out +=
          fmt::format("  {:<10} {:<18} {:<8} {:<8} {:<10} @{}  orders {} units {} revenue_cents {} discount_cents {}\n",
                      r.region, r.channel, r.dealer, r.store, r.sku, r.bucket_start_us, r.totals.orders, r.totals.units,
                      r.totals.revenue_cents, r.totals.discount_cents);
    }
  }
  return json ? out + "]" : out;
}

int cmd_as_of(const Args& a) {
  std::string dir = require_data(a);
  bool json = a.flags.count("--json") != 0;
  if (a.has("--seq") == a.has("--at-us")) throw UsageError{"as-of takes one of --seq N or --at-us T"};
  std::vector<std::pair<std::string, std::string>> stocks;
  for (const auto& spec : a.values.count("--stock") ? a.values.at("--stock") : std::vector<std::string>{}) {
    auto colon = spec.rfind(':');
    if (colon == std::string::npos || colon == 0)
      throw UsageError{"--stock takes LOCATION:SKU, e.g. warehouse:W1:SKU-001"};
    stocks.emplace_back(spec.substr(0, colon), spec.substr(colon + 1));
  }
  std::string order = a.get("--order"), member = a.get("--member"), board = a.get("--board"),
              health = a.get("--health");
  if (stocks.empty() && order.empty() && member.empty() && board.empty() && health.empty()) {
    throw UsageError{
        "as-of needs at least one of --stock LOC:SKU, --order ID, --member ID, --board sales, --health DEALER"};
  }
  if (!board.empty() && board != "sales") throw UsageError{"--board takes 'sales'"};
  SalesQuery query;
  for (const auto& g :
       a.get("--group-by").empty() ? std::vector<std::string>{} : std::vector<std::string>{a.get("--group-by")}) {
    std::size_t start = 0;
    while (start <= g.size()) {
      std::size_t comma = g.find(',', start);
      std::string key = g.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (key == "region")
        query.by_region = true;
      else if (key == "channel")
        query.by_channel = true;
      else if (key == "dealer")
        query.by_dealer = true;
      else if (key == "store")
        query.by_store = true;
      else if (key == "sku")
        query.by_sku = true;
      else
        throw UsageError{fmt::format("cannot group by '{}'; use region, channel, dealer, store, sku", key)};
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  if (a.has("--bucket") && !sales_bucket_from_name(a.get("--bucket"), query.bucket)) {
    throw UsageError{"--bucket takes hour, day or month"};
  }
  std::uint64_t to_seq = a.has("--seq") ? parse_number("--seq", a.get("--seq")) : UINT64_MAX;
  std::int64_t at_us =
      a.has("--at-us") ? static_cast<std::int64_t>(parse_number("--at-us", a.get("--at-us"))) : INT64_MAX;
  auto last = log_last_seq(dir);
  if (!last) return report_failure(last.error(), json);
  if (a.has("--seq") && to_seq > *last) {
    throw UsageError{fmt::format("--seq {} is past the end of the log ({})", to_seq, *last)};
  }
  // Every projection, folded to the point asked for: the same code the server runs.
  ReadModel model;
  Status folded;
  auto st = for_each_event(dir, 1, to_seq, "as-of", [&](const fb::Event& e, const Hash32& h) {
    if (e.ts_us() > at_us) return false;
    folded = model.apply(e, h);
    return folded.ok();
  });
  if (!st) return report_failure(st.error(), json);
  if (!folded) return report_failure(folded.error(), json);
  const LedgerState& state = model.ledger();
  std::uint64_t seq = state.last_seq();
  if (json)
    std::cout << fmt::format("{{\"seq\":{},\"ts_us\":{},\"stock\":[", seq, state.last_ts_us());
  else
    std::cout << fmt::format("as of event {} (ts_us {}):\n", seq, state.last_ts_us());
  for (std::size_t i = 0; i < stocks.size(); ++i) {
    const auto& [l, k] = stocks[i];
    Balance b = state.balance(l, k);
    if (json) {
      std::string out = i ? "," : "";
      out += "{\"location\":";
      append_json_string(out, l);
      out += ",\"sku\":";
      append_json_string(out, k);
      out += fmt::format(",\"on_hand\":{},\"reserved\":{},\"available\":{},\"in_transit\":{}}}", b.on_hand, b.reserved,
                         b.available(), state.inbound(l, k));
      std::cout << out;
    } else {
      std::cout << fmt::format("  {} {}: on_hand {} reserved {} available {} in_transit {}\n", l, k, b.on_hand,
                               b.reserved, b.available(), state.inbound(l, k));
    }
  }
  if (json) std::cout << "],\"order\":";
  if (!order.empty()) {
    const OrderRecord* o = state.order(order);
    if (o == nullptr) {
      std::cout << (json ? "null" : fmt::format("  order {} did not exist yet\n", order));
    } else {
      std::cout << order_text(order, *o, json);
    }
  } else if (json) {
    std::cout << "null";
  }
  if (json) std::cout << ",\"member\":";
  if (!member.empty()) {
    const MemberRecord* m = state.member(member);
    const MemberAccount* found = state.member_account(member);
    const MemberAccount account = found != nullptr ? *found : MemberAccount{};
    std::size_t redeemed = 0;
    for (const auto& code : account.coupons) redeemed += state.coupon(code)->order.empty() ? 0 : 1;
    if (m == nullptr) {
      std::cout << (json ? "null" : fmt::format("  member {} did not exist yet\n", member));
    } else if (json) {
      std::string out = "{\"id\":";
      append_json_string(out, member);
      out += ",\"name\":";
      append_json_string(out, m->name);
      out += ",\"home_store\":";
      append_json_string(out, m->home_store);
      out += fmt::format(",\"points\":{},\"tier\":", account.points);
      append_json_string(out, account.tier);
      out += fmt::format(",\"coupons\":{},\"coupons_redeemed\":{}", account.coupons.size(), redeemed);
      std::cout << out << "}";
    } else {
      std::cout << fmt::format("  member {}: {} (home store {}), {} points, tier {}, {} coupons ({} redeemed)\n",
                               member, m->name, m->home_store, account.points, account.tier, account.coupons.size(),
                               redeemed);
    }
  } else if (json) {
    std::cout << "null";
  }
  if (json) std::cout << ",\"sales_board\":";
  if (!board.empty()) {
    auto rows = model.sales_board().query(query);
    if (!json) std::cout << fmt::format("  sales board ({} rows):\n", rows.size());
    std::cout << sales_rows_text(rows, json);
  } else if (json) {
    std::cout << "null";
  }
  if (json) std::cout << ",\"health\":";
  if (!health.empty()) {
    if (state.dealer(health) == nullptr) {
      std::cout << (json ? "null" : fmt::format("  dealer {} did not exist yet\n", health));
    } else {
      DealerHealthReport r = model.dealer_health().report(state, health);
      if (json) {
        std::cout << fmt::format(
            "{{\"dealer\":\"{}\",\"score\":{},\"tier\":\"{}\",\"credit_limit_cents\":{},"
            "\"credit_used_cents\":{},\"suggested_credit_line_cents\":{}}}",
            health, r.score, r.tier, r.credit_limit_cents, r.credit_used_cents, r.suggested_credit_line_cents);
      } else {
        std::cout << fmt::format("  dealer {}: health {} (tier {}), credit used {} of {} cents, suggested line {}\n",
                                 health, r.score, r.tier, r.credit_used_cents, r.credit_limit_cents,
                                 r.suggested_credit_line_cents);
      }
    }
  } else if (json) {
    std::cout << "null";
  }
  if (json) std::cout << "}\n";
  return exit_ok;
}

int cmd_import(const Args& a) {
  std::string dir = require_data(a);
  std::ifstream file;
  std::istream* in = &std::cin;
  if (a.has("--input") && a.get("--input") != "-") {
    file.open(a.get("--input"), std::ios::binary);
    if (!file) {
      std::cerr << fmt::format("ledger: cannot read {}: {}\n", a.get("--input"), std::strerror(errno));
      return exit_unreadable;
    }
    in = &file;
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    std::cerr << fmt::format("ledger: cannot create {}: {}\n", dir, ec.message());
    return exit_unreadable;
  }
  std::string line;
  std::uint64_t line_no = 0;
  Progress progress("import");
  auto next = [&]() -> Result<std::optional<ImportRecord>> {
    auto fail = [&](std::string why) {
      return make_error(ErrorCode::invalid_argument, fmt::format("line {}: {}", line_no, why));
    };
    do {
      if (!std::getline(*in, line)) return std::optional<ImportRecord>{};
      ++line_no;
    } while (line.empty());
    boost::system::error_code jec;
    boost::json::value v = boost::json::parse(line, jec);
    if (jec || !v.is_object()) return fail("not a JSON object");
    const auto& o = v.as_object();
    const auto* raw = o.if_contains("raw");
    if (raw == nullptr || !raw->is_string()) return fail("no \"raw\" field: export with --raw to import");
    ImportRecord r;
    auto bytes = decode_base64(raw->as_string());
    if (!bytes) return fail("\"raw\" is not base64");
    r.bytes = std::move(*bytes);
    if (const auto* h = o.if_contains("chain_hash"); h != nullptr) {
      auto hash = h->is_string() ? parse_hash_hex(h->as_string()) : std::nullopt;
      if (!hash) return fail("\"chain_hash\" is not 64 hex digits");
      r.chain_hash = hash;
    }
    if (const auto* f = o.if_contains("command_fingerprint"); f != nullptr) {
      auto hash = f->is_string() ? parse_hash_hex(f->as_string()) : std::nullopt;
      if (!hash) return fail("\"command_fingerprint\" is not 64 hex digits");
      r.command_fingerprint = hash;
    }
    // The readable fields must say what the bytes say: an edited line is refused, not half-applied.
    if (flatbuffers::Verifier verifier(r.bytes.data(), r.bytes.size()); fb::VerifyEventBuffer(verifier)) {
      const fb::Event& e = *fb::GetEvent(r.bytes.data());
      const auto* seq = o.if_contains("seq");
      const auto* kind = o.if_contains("kind");
      if (seq == nullptr || !seq->is_int64() || static_cast<std::uint64_t>(seq->as_int64()) != e.seq() ||
          kind == nullptr || !kind->is_string() || kind->as_string() != fb::EnumNameBody(e.body_type())) {
        return fail("its seq or kind differs from its raw bytes");
      }
    }
    if ((line_no & 1023) == 0) progress.update(line_no, line_no);
    return std::optional<ImportRecord>(std::move(r));
  };
  auto st = import_log(dir, next);
  progress.done();
  if (!st) {
    // Input errors name their line; a record the checks refuse is named by its seq (its line, in a whole export).
    std::cerr << fmt::format("ledger: import refused, nothing written: {}\n", st.error().to_string());
    return st.error().code == ErrorCode::illegal_transition                                            ? exit_usage
           : st.error().code == ErrorCode::storage_error || st.error().code == ErrorCode::storage_full ? exit_unreadable
                                                                                                       : exit_invalid;
  }
  auto last = log_last_seq(dir);
  std::cout << fmt::format("imported {} events into {}\n", last ? *last : 0, dir);
  return exit_ok;
}

// The first lines where two renders differ, at most `max_lines` of each side.
std::vector<std::string> render_differences(const std::string& stored, const std::string& rebuilt,
                                            std::size_t max_lines) {
  auto lines = [](const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < text.size()) {
      std::size_t nl = text.find('\n', start);
      out.push_back(text.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
      if (nl == std::string::npos) break;
      start = nl + 1;
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  std::vector<std::string> a = lines(stored), b = lines(rebuilt), only_a, only_b;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(only_a));
  std::set_difference(b.begin(), b.end(), a.begin(), a.end(), std::back_inserter(only_b));
  std::vector<std::string> out;
  for (std::size_t i = 0; i < only_a.size() && i < max_lines; ++i) out.push_back("stored:  " + only_a[i]);
  for (std::size_t i = 0; i < only_b.size() && i < max_lines; ++i) out.push_back("rebuilt: " + only_b[i]);
  if (only_a.size() > max_lines || only_b.size() > max_lines) {
    out.push_back(fmt::format("... {} stored and {} rebuilt lines differ in all", only_a.size(), only_b.size()));
  }
  return out;
}

int cmd_rebuild(const Args& a) {
  std::string dir = require_data(a);
  bool json = a.flags.count("--json") != 0;
  auto last = log_last_seq(dir);
  if (!last) return report_failure(last.error(), json);
  // The stored model, restored exactly as the server would restore it (the log confirms the chain hash).
  auto stored = ReadModel::restore(dir);
  if (!stored) {
    bool absent = stored.error().code == ErrorCode::unknown_id;
    if (json) {
      std::string out = fmt::format("{{\"ok\":{},\"snapshot_seq\":null,\"events\":{},\"problem\":", absent, *last);
      append_json_string(out, stored.error().message);
      std::cout << out << "}\n";
    } else if (absent) {
      std::cout << fmt::format("no stored snapshots in {}: nothing to compare ({})\n", snapshot_dir(dir).string(),
                               stored.error().message);
    } else {
      std::cout << fmt::format(
          "the stored snapshots cannot be used: {}\nthe server will rebuild them from the log "
          "at its next start\n",
          stored.error().message);
    }
    return absent ? exit_ok : exit_invalid;
  }
  std::uint64_t at = (*stored)->last_seq();
  Progress progress("rebuild");
  auto rebuilt = ReadModel::rebuild(dir, at, progress.fn());
  progress.done();
  if (!rebuilt) return report_failure(rebuilt.error(), json);
  auto stored_renders = (*stored)->render_all();
  auto rebuilt_renders = (*rebuilt)->render_all();
  bool all_equal = true;
  std::string json_rows;
  for (std::size_t i = 0; i < stored_renders.size(); ++i) {
    const auto& [name, text] = stored_renders[i];
    bool equal = text == rebuilt_renders[i].second;
    all_equal &= equal;
    auto diffs = equal ? std::vector<std::string>{} : render_differences(text, rebuilt_renders[i].second, 10);
    if (json) {
      json_rows += fmt::format("{}{{\"name\":\"{}\",\"equal\":{},\"differences\":[", i ? "," : "", name, equal);
      for (std::size_t d = 0; d < diffs.size(); ++d) {
        if (d) json_rows += ",";
        append_json_string(json_rows, diffs[d]);
      }
      json_rows += "]}";
    } else {
      std::cout << fmt::format("{:<14} {}\n", name, equal ? "equal" : "DIFFERS");
      for (const auto& d : diffs) std::cout << "    " << d << "\n";
    }
  }
  if (json) {
    std::cout << fmt::format("{{\"ok\":{},\"snapshot_seq\":{},\"events\":{},\"projections\":[{}]}}\n", all_equal, at,
                             *last, json_rows);
  } else {
    std::cout << fmt::format("{} at seq {} (the log goes on to {})\n",
                             all_equal ? "every stored projection equals its rebuild" : "stored projections differ", at,
                             *last);
  }
  return all_equal ? exit_ok : exit_invalid;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Args args = parse_args(argc, argv);
    if (args.command.empty() || args.command == "help" || (args.command.empty() && args.flags.count("--help"))) {
      std::cout << usage_text;
      return args.command.empty() && !args.flags.count("--help") ? exit_usage : exit_ok;
    }
    if (args.flags.count("--help")) {
      std::cout << usage_text;
      return exit_ok;
    }
    if (args.command == "verify") return cmd_verify(args);
    if (args.command == "export") return cmd_export(args);
    if (args.command == "stats") return cmd_stats(args);
    if (args.command == "trace") return cmd_trace(args);
    if (args.command == "as-of") return cmd_as_of(args);
    if (args.command == "rebuild") return cmd_rebuild(args);
    if (args.command == "import") return cmd_import(args);
    throw UsageError{fmt::format("unknown subcommand '{}'", args.command)};
  } catch (const UsageError& e) {
    std::cerr << "ledger: " << e.message << "\nrun 'ledger --help' for the subcommands\n";
    return exit_usage;
  }
}
