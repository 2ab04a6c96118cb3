#include "ledger/subscription.hpp"

#include <cstring>

namespace ledger {

Subscription::Subscription(Engine& engine, std::uint64_t from_seq, Handler handler, std::size_t chunk_events)
    : engine_(engine),
      handler_(std::move(handler)),
      chunk_events_(chunk_events == 0 ? 1 : chunk_events),
      delivered_(from_seq == 0 ? 0 : from_seq - 1) {}

std::unique_ptr<Subscription> Subscription::start(Engine& engine, std::uint64_t from_seq, Handler handler,
                                                  std::size_t chunk_events) {
  std::unique_ptr<Subscription> sub(new Subscription(engine, from_seq, std::move(handler), chunk_events));
  Subscription* raw = sub.get();
  sub->listener_id_ = engine.on_commit([raw](std::uint64_t seq) {
    {
      std::lock_guard lock(raw->mu_);
      raw->committed_ = seq;
    }
    raw->cv_.notify_one();
  });
  {
    std::lock_guard lock(sub->mu_);
    sub->committed_ = std::max(sub->committed_, engine.last_seq());
  }
  sub->thread_ = std::thread([raw] { raw->run(); });
  return sub;
}

Subscription::~Subscription() {
  engine_.remove_commit_listener(listener_id_);
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

std::uint64_t Subscription::lag() const {
  std::uint64_t committed = engine_.last_seq();
  std::uint64_t delivered = delivered_seq();
  return committed > delivered ? committed - delivered : 0;
}

std::optional<Error> Subscription::error() const {
  std::lock_guard lock(mu_);
  return error_;
}

void Subscription::run() {
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || committed_ > delivered_seq(); });
      if (stopping_) return;
    }
    // Copy a chunk out, then hand it over with no read transaction open: a slow handler must not pin
    // LMDB pages (the file would grow while it dawdles). At most chunk_events are held.
    chunk_.clear();
    auto st = engine_.read_records(delivered_seq() + 1, chunk_events_,
                                   [&](const fb::Event&, const Hash32& h, std::span<const std::uint8_t> bytes) {
                                     Held held{h, std::vector<std::uint64_t>((bytes.size() + 7) / 8)};
                                     std::memcpy(held.words.data(), bytes.data(), bytes.size());
                                     chunk_.push_back(std::move(held));
                                     return true;
                                   });
    bool keep_going = true;
    for (const Held& held : chunk_) {
      {
        std::lock_guard lock(mu_);
        if (stopping_) return;
      }
      const fb::Event& e = *fb::GetEvent(held.words.data());
      keep_going = handler_(e, held.chain_hash);
      delivered_.store(e.seq(), std::memory_order_release);
      if (!keep_going) break;
    }
    if (!st || !keep_going) {
      std::lock_guard lock(mu_);
      if (!st) error_ = st.error();
      stopped_.store(true, std::memory_order_release);
      return;
    }
  }
}

}  // namespace ledger
