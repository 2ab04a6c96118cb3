// SHA-256, for the hash chain and command fingerprints.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace ledger {

using Hash32 = std::array<std::uint8_t, 32>;

std::string to_hex(std::span<const std::uint8_t> bytes);

// Incremental SHA-256. Reusable: finish() resets it for the next message. Not thread-safe.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  Sha256& update(std::span<const std::uint8_t> bytes);
  Sha256& update(std::string_view text);
  Hash32 finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The chain hash of an event: SHA-256(prev_hash || event bytes).
Hash32 chain_hash(Sha256& hasher, const Hash32& prev_hash, std::span<const std::uint8_t> event_bytes);

}  // namespace ledger
