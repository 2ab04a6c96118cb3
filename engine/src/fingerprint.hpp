// The fingerprint of a command body: SHA-256 over a canonical encoding of its fields, so a retry
// with the same idempotency key can be told apart from a different command reusing the key.
#pragma once

#include "ledger/commands.hpp"
#include "ledger/hash.hpp"

namespace ledger {

Hash32 fingerprint(Sha256& hasher, const CommandBody& body);

}  // namespace ledger
