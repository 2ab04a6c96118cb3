// libFuzzer target: untrusted bytes as a stored event. The Verifier must reject what the fold
// cannot read safely; whatever it accepts, the fold handles without crashing (it may refuse it).
#include <cstdint>
#include <cstring>
#include <vector>

#include "fold.hpp"
#include "log_reader.hpp"

using namespace ledger;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::uint64_t> aligned((size + 7) / 8);
  if (size > 0) std::memcpy(aligned.data(), data, size);
  std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(aligned.data()), size);
  if (!verify_event_buffer(bytes)) return 0;
  LedgerState state;
  // A state with some master data, so stock events can get past the first checks.
  const fb::Event* event = fb::GetEvent(bytes.data());
  Hash32 hash{};
  (void)Fold::apply(state, *event, hash);
  return 0;
}
