// Snapshot files: the binary codec's primitives, atomic writes and checked reads. The LedgerState
// codec is in state_codec.cpp.
#include "ledger/snapshot.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <span>
#include <system_error>

namespace ledger {

namespace {

constexpr std::string_view snapshot_magic = "LEDGSNP1";
constexpr std::size_t snapshot_name_bytes_max = 64;
constexpr std::size_t checksum_bytes = 32;

std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

Status check_name(std::string_view name) {
  bool ok = !name.empty() && name.size() <= snapshot_name_bytes_max && name != "." && name != "..";
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
                c == '.');
  }
  if (ok) return Ok{};
  return make_error(ErrorCode::invalid_argument, fmt::format("snapshot name '{}' must be 1..{} bytes of [A-Za-z0-9_.-]",
                                                             name.substr(0, 80), snapshot_name_bytes_max))
      .with("field", "name");
}

Error io_error(std::string_view doing, const std::filesystem::path& path, int err) {
  return make_error(err == ENOSPC || err == EDQUOT ? ErrorCode::storage_full : ErrorCode::storage_error,
                    fmt::format("{} {}: {}", doing, path.string(), std::strerror(err)))
      .with("errno", std::int64_t{err});
}

Error damaged(const std::filesystem::path& path, std::string message) {
  return make_error(ErrorCode::corruption, std::move(message)).with("path", path.string());
}

// Closes the descriptor on every path out.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release_and_close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

Status write_all(int fd, std::string_view bytes, const std::filesystem::path& path) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error("writing", path, errno);
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return Ok{};
}

Status fsync_dir(const std::filesystem::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return io_error("opening directory", dir, errno);
  if (::fsync(fd.get()) != 0) return io_error("syncing directory", dir, errno);
  return Ok{};
}

}  // namespace

// ---- SnapshotWriter

void SnapshotWriter::u32(std::uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out_.append(b, 4);
}

void SnapshotWriter::u64(std::uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out_.append(b, 8);
}

void SnapshotWriter::str(std::string_view s) {
  u64(s.size());
  out_.append(s.data(), s.size());
}

void SnapshotWriter::hash(const Hash32& h) { out_.append(reinterpret_cast<const char*>(h.data()), h.size()); }

// ---- SnapshotReader

const unsigned char* SnapshotReader::take(std::size_t n) {
  if (!ok_ || n > in_.size() - pos_) {
    ok_ = false;
    return nullptr;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(in_.data() + pos_);
  pos_ += n;
  return p;
}

std::uint8_t SnapshotReader::u8() {
  const unsigned char* p = take(1);
  return p == nullptr ? 0 : p[0];
}

std::uint32_t SnapshotReader::u32() {
  const unsigned char* p = take(4);
  if (p == nullptr) return 0;
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= std::uint32_t{p[i]} << (8 * i);
  return v;
}

std::uint64_t SnapshotReader::u64() {
  const unsigned char* p = take(8);
  if (p == nullptr) return 0;
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= std::uint64_t{p[i]} << (8 * i);
  return v;
}

bool SnapshotReader::boolean() {
  std::uint8_t v = u8();
  if (v > 1) fail();
  return ok_ && v == 1;
}

std::string SnapshotReader::str() {
  std::uint64_t n = u64();
  if (!ok_ || n > remaining()) {
    fail();
    return {};
  }
  const unsigned char* p = take(static_cast<std::size_t>(n));
  return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
}

Hash32 SnapshotReader::hash() {
  Hash32 h{};
  if (const unsigned char* p = take(h.size())) std::memcpy(h.data(), p, h.size());
  return h;
}

std::uint64_t SnapshotReader::count(std::size_t min_bytes_each) {
  std::uint64_t n = u64();
  if (!ok_ || n > remaining() / std::max<std::size_t>(min_bytes_each, 1)) {
    fail();
    return 0;
  }
  return n;
}

// ---- files

std::filesystem::path snapshot_dir(const std::filesystem::path& data_dir) { return data_dir / "snapshots"; }

Status write_snapshot_file(const std::filesystem::path& dir, const SnapshotHeader& header, std::string_view payload) {
  if (auto st = check_name(header.name); !st) return st;
  std::error_code ec;
  bool existed = std::filesystem::is_directory(dir, ec);
  if (!existed) {
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      return make_error(ErrorCode::storage_error,
                        fmt::format("cannot create snapshot directory {}: {}", dir.string(), ec.message()));
    }
  }

  SnapshotWriter w;
  w.bytes().reserve(snapshot_magic.size() + 8 + header.name.size() + 4 + 8 + 32 + 8 + payload.size() + 32);
  w.bytes().append(snapshot_magic);
  w.str(header.name);
  w.u32(header.version);
  w.u64(header.seq);
  w.hash(header.chain_hash);
  w.u64(payload.size());
  w.bytes().append(payload);
  Sha256 sha;
  w.hash(sha.update(as_bytes(w.bytes())).finish());

  std::filesystem::path final_path = dir / (header.name + ".snap");
  std::filesystem::path tmp_path = dir / (header.name + ".snap.tmp");
  Fd fd(::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (fd.get() < 0) return io_error("creating", tmp_path, errno);
  Status st = write_all(fd.get(), w.bytes(), tmp_path);
  if (st && ::fsync(fd.get()) != 0) st = io_error("syncing", tmp_path, errno);
  if (st && fd.release_and_close() != 0) st = io_error("closing", tmp_path, errno);
  if (st && ::rename(tmp_path.c_str(), final_path.c_str()) != 0) st = io_error("renaming to", final_path, errno);
  if (!st) {
    fd.reset();
    ::unlink(tmp_path.c_str());
    return st;
  }
  if (auto synced = fsync_dir(dir); !synced) return synced;
  // A directory created just now must itself be durable in its parent.
  if (!existed && dir.has_parent_path()) return fsync_dir(dir.parent_path());
  return Ok{};
}

Result<SnapshotFile> read_snapshot_file(const std::filesystem::path& dir, std::string_view name) {
  if (auto st = check_name(name); !st) return st.take_error();
  std::filesystem::path path = dir / (std::string(name) + ".snap");
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) {
      return make_error(ErrorCode::unknown_id, fmt::format("no snapshot {}", path.string()))
          .with("path", path.string());
    }
    return io_error("opening", path, errno);
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return io_error("reading", path, errno);
  if (!S_ISREG(info.st_mode)) return damaged(path, "not a regular file");
  std::string bytes;
  bytes.resize(static_cast<std::size_t>(info.st_size));
  std::size_t got = 0;
  while (got < bytes.size()) {
    ssize_t n = ::read(fd.get(), bytes.data() + got, bytes.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error("reading", path, errno);
    if (n == 0) break;  // shrank meanwhile: the checks below find it truncated
    got += static_cast<std::size_t>(n);
  }
  bytes.resize(got);

  if (bytes.size() < snapshot_magic.size() ||
      std::string_view(bytes).substr(0, snapshot_magic.size()) != snapshot_magic) {
    return damaged(path, bytes.size() < snapshot_magic.size()
                             ? fmt::format("truncated: the file is only {} bytes", bytes.size())
                             : std::string("not a snapshot file (bad magic)"));
  }
  SnapshotReader r(std::string_view(bytes).substr(snapshot_magic.size()));
  SnapshotFile out;
  std::uint64_t name_bytes = r.u64();
  if (r.ok() && name_bytes > snapshot_name_bytes_max) {
    return damaged(path,
                   fmt::format("the stored name is {} bytes long (at most {})", name_bytes, snapshot_name_bytes_max));
  }
  if (r.ok() && name_bytes <= r.remaining()) {
    out.header.name.assign(std::string_view(bytes).substr(snapshot_magic.size() + r.position(), name_bytes));
    for (std::uint64_t i = 0; i < name_bytes; ++i) r.u8();
  } else {
    r.fail();
  }
  out.header.version = r.u32();
  out.header.seq = r.u64();
  out.header.chain_hash = r.hash();
  std::uint64_t payload_bytes = r.u64();
  if (!r.ok()) return damaged(path, fmt::format("truncated: the header is cut off at {} bytes", bytes.size()));
  std::size_t rest = r.remaining();
  if (rest < checksum_bytes || payload_bytes > rest - checksum_bytes) {
    return damaged(path, fmt::format("truncated: the payload is {} bytes but only {} follow the header (with the "
                                     "checksum)",
                                     payload_bytes, rest));
  }
  if (payload_bytes < rest - checksum_bytes) {
    return damaged(path, fmt::format("{} unexpected bytes after the checksum (or a damaged payload length)",
                                     rest - checksum_bytes - payload_bytes));
  }
  std::string_view body = std::string_view(bytes).substr(0, bytes.size() - checksum_bytes);
  Sha256 sha;
  Hash32 sum = sha.update(as_bytes(body)).finish();
  if (std::memcmp(sum.data(), bytes.data() + body.size(), checksum_bytes) != 0) {
    return damaged(path, "checksum mismatch: the file is damaged");
  }
  if (out.header.name != name) {
    return damaged(path, fmt::format("the file holds snapshot '{}', not '{}'", out.header.name, name));
  }
  out.payload.assign(body.substr(body.size() - payload_bytes));
  return out;
}

// ---- the decision state

Status save_ledger_snapshot(const std::filesystem::path& data_dir, const LedgerState& state) {
  SnapshotWriter w;
  encode_state(state, w);
  SnapshotHeader header{std::string(ledger_snapshot_name), ledger_state_snapshot_version, state.last_seq(),
                        state.chain_head()};
  return write_snapshot_file(snapshot_dir(data_dir), header, w.bytes());
}

Result<LedgerState> load_ledger_snapshot(const std::filesystem::path& data_dir,
                                         const std::function<std::optional<Hash32>(std::uint64_t)>& chain_hash_at) {
  auto file = read_snapshot_file(snapshot_dir(data_dir), ledger_snapshot_name);
  if (!file) return file.take_error();
  const SnapshotHeader& h = file->header;
  if (h.version != ledger_state_snapshot_version) {
    return make_error(ErrorCode::illegal_transition, fmt::format("it is of version {}; this engine reads version {}",
                                                                 h.version, ledger_state_snapshot_version))
        .with("version", std::int64_t{h.version});
  }
  std::optional<Hash32> log_hash = chain_hash_at(h.seq);
  if (!log_hash) {
    return make_error(ErrorCode::illegal_transition,
                      fmt::format("it was taken at seq {}, which the log does not have", h.seq))
        .with("seq", static_cast<std::int64_t>(h.seq));
  }
  if (*log_hash != h.chain_hash) {
    return make_error(ErrorCode::illegal_transition,
                      fmt::format("it is of another history: its chain hash at seq {} is {}..., the log's is {}...",
                                  h.seq, to_hex(h.chain_hash).substr(0, 16), to_hex(*log_hash).substr(0, 16)))
        .with("seq", static_cast<std::int64_t>(h.seq));
  }
  LedgerState state;
  SnapshotReader r(file->payload);
  if (auto st = decode_state(r, state); !st) return st.take_error();
  if (state.last_seq() != h.seq || state.chain_head() != h.chain_hash) {
    return make_error(ErrorCode::corruption,
                      fmt::format("its state is at seq {}, its header says seq {}", state.last_seq(), h.seq));
  }
  return state;
}

}  // namespace ledger
