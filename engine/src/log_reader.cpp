#include "log_reader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <limits>

namespace ledger {

namespace {
constexpr std::uint64_t progress_every_events = 1 << 16;

Error corrupt(std::uint64_t seq, std::string message) {
  return make_error(ErrorCode::corruption, fmt::format("event {}: {}", seq, message))
      .with("seq", static_cast<std::int64_t>(seq));
}
}  // namespace

bool verify_event_buffer(std::span<const std::uint8_t> bytes) {
  flatbuffers::Verifier verifier(bytes.data(), bytes.size(), flatbuffer_depth_max, flatbuffer_tables_max);
  return fb::VerifyEventBuffer(verifier);
}

Status check_record(std::uint64_t seq, const Hash32& prev_hash, std::span<const std::uint8_t> record, Sha256& hasher,
                    std::vector<std::uint64_t>& aligned, const fb::Event** event, Hash32* hash) {
  if (record.size() < record_hash_bytes + 8) return corrupt(seq, fmt::format("record is only {} bytes", record.size()));
  std::span<const std::uint8_t> stored_hash = record.first(record_hash_bytes);
  std::span<const std::uint8_t> body = record.subspan(record_hash_bytes);
  aligned.resize((body.size() + 7) / 8);
  std::memcpy(aligned.data(), body.data(), body.size());
  std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(aligned.data()), body.size());

  *hash = chain_hash(hasher, prev_hash, bytes);
  if (std::memcmp(hash->data(), stored_hash.data(), record_hash_bytes) != 0) {
    return corrupt(seq, "chain hash does not match the record's bytes (tampered or damaged)");
  }
  if (!verify_event_buffer(bytes)) return corrupt(seq, "not a valid event buffer");
  const fb::Event* e = fb::GetEvent(bytes.data());
  if (e->seq() != seq) return corrupt(seq, fmt::format("envelope says seq {}", e->seq()));
  if (e->prev_hash() == nullptr ||
      std::memcmp(e->prev_hash()->bytes()->data(), prev_hash.data(), record_hash_bytes) != 0) {
    return corrupt(seq, "prev_hash does not match the previous event's chain hash");
  }
  *event = e;
  return Ok{};
}

Status read_log_range(const LogStore& store, std::uint64_t from_seq, std::size_t limit,
                      const std::function<bool(const fb::Event&, const Hash32&)>& visit) {
  return read_log_records(
      store, from_seq, limit,
      [&](const fb::Event& e, const Hash32& h, std::span<const std::uint8_t>) { return visit(e, h); });
}

Status read_log_records(
    const LogStore& store, std::uint64_t from_seq, std::size_t limit,
    const std::function<bool(const fb::Event&, const Hash32&, std::span<const std::uint8_t>)>& visit) {
  auto txn = Txn::begin(store, false);
  if (!txn) return txn.take_error();
  Hash32 prev{};
  if (from_seq > 1) {
    auto before = get_event_record(store, *txn, from_seq - 1);
    if (!before) return before.take_error();
    if (!*before) return Ok{};  // nothing at or after from_seq
    if ((*before)->size() < record_hash_bytes) return corrupt(from_seq - 1, "record is too short");
    std::memcpy(prev.data(), (*before)->data(), record_hash_bytes);
  }
  MDB_cursor* cursor = nullptr;
  if (int rc = mdb_cursor_open(txn->raw(), store.events(), &cursor); rc != 0) return lmdb_error(rc, "opening a cursor");
  std::uint8_t key_bytes[8];
  put_u64_be(key_bytes, from_seq);
  MDB_val key{sizeof key_bytes, key_bytes}, data{};
  Sha256 hasher;
  std::vector<std::uint64_t> aligned;
  Status status;
  std::uint64_t expected = from_seq;
  for (int rc = mdb_cursor_get(cursor, &key, &data, MDB_SET_RANGE); rc != MDB_NOTFOUND && limit > 0;
       rc = mdb_cursor_get(cursor, &key, &data, MDB_NEXT), ++expected, --limit) {
    if (rc != 0) {
      status = lmdb_error(rc, fmt::format("reading event {}", expected));
      break;
    }
    std::uint64_t seq = key.mv_size == 8 ? get_u64_be(static_cast<const std::uint8_t*>(key.mv_data)) : 0;
    if (seq != expected) {
      status = corrupt(expected, fmt::format("missing: the next stored event is {}", seq));
      break;
    }
    const fb::Event* event = nullptr;
    Hash32 hash{};
    status = check_record(seq, prev, {static_cast<const std::uint8_t*>(data.mv_data), data.mv_size}, hasher, aligned,
                          &event, &hash);
    if (!status) break;
    std::span<const std::uint8_t> bytes(static_cast<const std::uint8_t*>(data.mv_data) + record_hash_bytes,
                                        data.mv_size - record_hash_bytes);
    if (!visit(*event, hash, bytes)) break;
    prev = hash;
  }
  mdb_cursor_close(cursor);
  return status;
}

Result<std::uint64_t> count_events(const LogStore& store) {
  auto txn = Txn::begin(store, false);
  if (!txn) return txn.take_error();
  MDB_cursor* cursor = nullptr;
  if (int rc = mdb_cursor_open(txn->raw(), store.events(), &cursor); rc != 0) return lmdb_error(rc, "opening a cursor");
  MDB_val key{}, data{};
  int rc = mdb_cursor_get(cursor, &key, &data, MDB_LAST);
  mdb_cursor_close(cursor);
  if (rc == MDB_NOTFOUND) return std::uint64_t{0};
  if (rc != 0) return lmdb_error(rc, "finding the last event");
  if (key.mv_size != 8) return corrupt(0, "last key is not 8 bytes");
  return get_u64_be(static_cast<const std::uint8_t*>(key.mv_data));
}

Status walk_log(const LogStore& store, const EventVisitor& visit, const ProgressFn& progress) {
  return walk_log_from(store, 1, visit, progress);
}

Status walk_log_from(const LogStore& store, std::uint64_t from_seq, const EventVisitor& visit,
                     const ProgressFn& progress) {
  from_seq = std::max<std::uint64_t>(from_seq, 1);
  std::uint64_t before = from_seq - 1;  // events not walked
  std::uint64_t total = 0;
  if (progress) {
    auto count = count_events(store);
    if (!count) return count.take_error();
    total = *count > before ? *count - before : 0;
  }
  // One cursor loop for every reader: this is read_log_range from `from_seq`, stopping at the first
  // failure the visitor reports.
  Status visited;
  std::uint64_t done = 0;
  Status read = read_log_range(store, from_seq, std::numeric_limits<std::size_t>::max(),
                               [&](const fb::Event& e, const Hash32& h) {
                                 visited = visit(e, h);
                                 if (!visited) return false;
                                 done = e.seq() - before;
                                 if (progress && done % progress_every_events == 0) progress(done, total);
                                 return true;
                               });
  if (!read) return read;
  if (!visited) return visited;
  if (progress) progress(done, total);
  return Ok{};
}

}  // namespace ledger
