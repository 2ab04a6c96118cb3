#include "ledger/hash.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace ledger {

std::string to_hex(std::span<const std::uint8_t> bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 0xf]);
  }
  return out;
}

// The algorithm is fetched once per hasher: OpenSSL 3's implicit fetch in EVP_Digest would cost
// a lock and a lookup per event.
struct Sha256::Impl {
  EVP_MD* md = nullptr;
  EVP_MD_CTX* ctx = nullptr;
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  impl_->md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  impl_->ctx = EVP_MD_CTX_new();
  // Out of memory or a broken OpenSSL install: nothing sensible can continue.
  if (impl_->md == nullptr || impl_->ctx == nullptr ||
      EVP_DigestInit_ex2(impl_->ctx, impl_->md, nullptr) != 1) {
    throw std::runtime_error("OpenSSL SHA-256 is unavailable");
  }
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(impl_->ctx);
  EVP_MD_free(impl_->md);
}

Sha256& Sha256::update(std::span<const std::uint8_t> bytes) {
  EVP_DigestUpdate(impl_->ctx, bytes.data(), bytes.size());
  return *this;
}

Sha256& Sha256::update(std::string_view text) {
  EVP_DigestUpdate(impl_->ctx, text.data(), text.size());
  return *this;
}

Hash32 Sha256::finish() {
  Hash32 out{};
  unsigned int size = 0;
  EVP_DigestFinal_ex(impl_->ctx, out.data(), &size);
  EVP_DigestInit_ex2(impl_->ctx, impl_->md, nullptr);
  return out;
}

Hash32 chain_hash(Sha256& hasher, const Hash32& prev_hash, std::span<const std::uint8_t> event_bytes) {
  return hasher.update(prev_hash).update(event_bytes).finish();
}

}  // namespace ledger
