// An in-process subscriber: receives every committed event from a sequence on, in order, on its own
// thread: first catching up from the log, then following commits.
//
// Why it never slows the writer: the writer only bumps a number and notifies; events are read back from
// LMDB (a read transaction never blocks the writer) in chunks of at most chunk_events, copied out so no
// transaction stays open while the handler runs. A slow handler makes this subscription fall behind,
// holding one chunk in memory, and it catches up later from the log.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "ledger/engine.hpp"

namespace ledger {

class Subscription {
 public:
  // Return false to stop receiving.
  using Handler = std::function<bool(const fb::Event& event, const Hash32& chain_hash)>;
  // REQUIRES: `engine` outlives the subscription.
  static std::unique_ptr<Subscription> start(Engine& engine, std::uint64_t from_seq, Handler handler,
                                             std::size_t chunk_events = 256);
  // Stops after the event being handled, if any.
  ~Subscription();
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  // The last sequence handed to the handler (from_seq - 1 before the first).
  std::uint64_t delivered_seq() const { return delivered_.load(std::memory_order_acquire); }
  // Committed events not handed over yet.
  std::uint64_t lag() const;
  // True once the handler returned false or reading the log failed (error() says why).
  bool stopped() const { return stopped_.load(std::memory_order_acquire); }
  std::optional<Error> error() const;

 private:
  Subscription(Engine& engine, std::uint64_t from_seq, Handler handler, std::size_t chunk_events);
  void run();

  Engine& engine_;
  Handler handler_;
  std::size_t chunk_events_;
  std::atomic<std::uint64_t> delivered_;
  std::atomic<bool> stopped_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::uint64_t committed_ = 0;  // guarded by mu_
  bool stopping_ = false;        // guarded by mu_
  std::optional<Error> error_;   // guarded by mu_
  std::uint64_t listener_id_ = 0;
  struct Held {  // an event copied out of the log, 8-byte aligned
    Hash32 chain_hash;
    std::vector<std::uint64_t> words;
  };
  std::vector<Held> chunk_;  // the subscription thread's only
  std::thread thread_;
};

}  // namespace ledger
