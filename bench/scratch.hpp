// What every benchmark binary needs, kept in one place: failing loudly (and removing its scratch data),
// a scratch directory, timing, flag parsing and the JSON lines on stdout.
//
//   bench::set_program("bench_x");                 // names the program in diagnostics; ignores SIGPIPE
//   bench::Scratch s = bench::make_scratch(dir, "bench_x");   // DIR, or a fresh /tmp/bench_x.XXXXXX
//   bench::remove_on_failure(...);                  // what die() removes
//   bench::emit(bench::JsonLine("name").field("events", n).field("ratio", r).str());
//
// Header-only: each benchmark is a single translation unit.
#pragma once

#include <fmt/format.h>
#include <stdlib.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace bench {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

namespace detail {
inline std::string& program() {
  static std::string name = "bench";
  return name;
}
inline std::vector<fs::path>& cleanup() {
  static std::vector<fs::path> paths;
  return paths;
}
}  // namespace detail

// Names the program in diagnostics and ignores SIGPIPE (a closed stdout then fails in emit(), which
// still removes the scratch data). Call first in main().
inline void set_program(std::string_view name) {
  detail::program() = std::string(name);
  std::signal(SIGPIPE, SIG_IGN);
}

// Scratch data die() removes (replaces the previous list; leave it empty with --keep).
inline void remove_on_failure(std::vector<fs::path> paths) { detail::cleanup() = std::move(paths); }
// Adds to what die() removes.
inline void also_remove_on_failure(const fs::path& path) { detail::cleanup().push_back(path); }

// Prints "PROGRAM: FAILED: message" on stderr, removes the registered scratch data and exits with 1.
[[noreturn]] inline void die(std::string_view message) {
  fmt::print(stderr, "{}: FAILED: {}\n", detail::program(), message);
  for (const auto& p : detail::cleanup()) {
    std::error_code ec;
    fs::remove_all(p, ec);
  }
  std::_Exit(1);  // not exit(): an engine's writer thread may still be running
}

// ---------------------------------------------------------------- scratch directories

struct Scratch {
  fs::path root;
  bool made_root = false;  // created by this run: remove it whole at the end
};

// `dir` itself (created when missing), or a fresh NAME.XXXXXX under the temp directory when empty.
inline Scratch make_scratch(const fs::path& dir, std::string_view name) {
  Scratch s;
  if (dir.empty()) {
    std::string templ = (fs::temp_directory_path() / fmt::format("{}.XXXXXX", name)).string();
    if (::mkdtemp(templ.data()) == nullptr) die(fmt::format("cannot create a scratch directory {}", templ));
    s.root = templ;
    s.made_root = true;
  } else {
    s.root = dir;
    std::error_code ec;
    if (!fs::exists(s.root, ec)) {
      fs::create_directories(s.root, ec);
      if (ec) die(fmt::format("cannot create {}: {}", s.root.string(), ec.message()));
      s.made_root = true;
    }
  }
  return s;
}

// Dies when any of `subdirs` exists (a benchmark writes only into fresh directories), then registers
// what die() removes unless `keep`: the whole root when this run made it, else the subdirectories.
inline void claim_fresh(const Scratch& s, const std::vector<fs::path>& subdirs, bool keep) {
  for (const auto& d : subdirs) {
    if (fs::exists(d)) die(fmt::format("{} exists; give an empty --dir", d.string()));
  }
  if (keep) return;
  remove_on_failure(s.made_root ? std::vector<fs::path>{s.root} : subdirs);
}

// Bytes of the regular files under `p` (recursively).
inline std::uint64_t bytes_under(const fs::path& p) {
  std::uint64_t total = 0;
  std::error_code ec;
  if (fs::is_regular_file(p, ec)) return fs::file_size(p, ec);
  for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code e2;
    if (it->is_regular_file(e2)) total += it->file_size(e2);
  }
  return total;
}

// ---------------------------------------------------------------- time and flags

inline double seconds_since(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// A positive integer flag value; dies naming the flag otherwise.
inline std::uint64_t parse_u64(std::string_view flag, const char* text) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(text, text + std::strlen(text), v);
  if (ec != std::errc() || *end != '\0' || v == 0) die(fmt::format("{} needs a positive integer, not '{}'", flag, text));
  return v;
}

// ---------------------------------------------------------------- JSON lines

// A figure: integers as they are; >= 1000 without decimals; >= 1 with three; below that three
// significant digits (ratios: 0.000324 rather than 0.000); non-finite as null.
inline std::string num(double v) {
  if (!std::isfinite(v)) return "null";
  if (std::fabs(v) >= 1000) return fmt::format("{:.0f}", v);
  if (std::fabs(v) >= 1) return fmt::format("{:.3f}", v);
  return fmt::format("{:.3g}", v);
}

// One JSON object, fields in the order added. Names and string values are plain ASCII identifiers
// chosen by the benchmark (no escaping needed).
class JsonLine {
 public:
  explicit JsonLine(std::string_view bench) { text_ = fmt::format(R"({{"bench":"{}")", bench); }
  JsonLine& field(std::string_view name, double v) { return raw(name, num(v)); }
  JsonLine& field(std::string_view name, std::uint64_t v) { return raw(name, std::to_string(v)); }
  JsonLine& field(std::string_view name, std::int64_t v) { return raw(name, std::to_string(v)); }
  JsonLine& field(std::string_view name, int v) { return raw(name, std::to_string(v)); }
  JsonLine& field(std::string_view name, bool v) { return raw(name, v ? "true" : "false"); }
  JsonLine& field(std::string_view name, std::string_view v) { return raw(name, fmt::format(R"("{}")", v)); }
  JsonLine& field(std::string_view name, const char* v) { return field(name, std::string_view(v)); }
  std::string str() const { return text_ + "}"; }

 private:
  JsonLine& raw(std::string_view name, std::string_view value) {
    text_ += fmt::format(R"(,"{}":{})", name, value);
    return *this;
  }
  std::string text_;
};

// Writes one JSON line to stdout and flushes it (stdout carries nothing else).
inline void emit(const std::string& json) {
  if (std::fprintf(stdout, "%s\n", json.c_str()) < 0 || std::fflush(stdout) != 0) die("cannot write to stdout");
}

}  // namespace bench
