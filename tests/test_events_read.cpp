// Reading committed events back: in order, from any sequence, as JSON; commit listeners.
#include <boost/json.hpp>

#include "ledger/event_json.hpp"
#include "support.hpp"

using namespace ledger;

TEST_SUITE_BEGIN("events");

TEST_CASE("committed events read back in order from any sequence, and render as JSON with their body") {
  test::Harness h;
  h.small_network();
  h.ok(ReceiveStock{"W1", {{"A", 10, "LOT-1"}}, "B1"}, "r1");
  auto shipped = h.ok(ShipTransfer{"T1", "warehouse:W1", "store:S1", {{"A", 3, {}}}}, "k1").first_seq;

  std::vector<std::uint64_t> seqs;
  REQUIRE(h.engine->read_events(1, 1000, [&](const fb::Event& e, const Hash32&) {
    seqs.push_back(e.seq());
    return true;
  }).ok());
  REQUIRE(seqs.size() == shipped);
  for (std::size_t i = 0; i < seqs.size(); ++i) CHECK(seqs[i] == i + 1);

  EventJson json;
  std::string text;
  Hash32 head{};
  REQUIRE(h.engine->read_events(shipped, 1, [&](const fb::Event& e, const Hash32& hash) {
    text = json.render(e, hash);
    head = hash;
    return true;
  }).ok());
  auto v = boost::json::parse(text).as_object();
  CHECK(v.at("seq").as_int64() == std::int64_t(shipped));
  CHECK(v.at("kind").as_string() == "TransferShipped");
  CHECK(v.at("stream").as_string() == "transfer:T1");
  CHECK(v.at("command_id").as_string() == "k1");
  CHECK(v.at("actor").at("principal").as_string() == "tester");
  CHECK(v.at("chain_hash").as_string() == to_hex(head));
  CHECK(v.at("from").as_string() == "warehouse:W1");
  CHECK(v.at("lines").as_array().at(0).at("qty").as_int64() == 3);
  CHECK(v.at("ts_us").as_int64() == test::t0_us);

  // A limit and a start past the end.
  int n = 0;
  REQUIRE(h.engine->read_events(2, 3, [&](const fb::Event&, const Hash32&) { return ++n, true; }).ok());
  CHECK(n == 3);
  n = 0;
  REQUIRE(h.engine->read_events(shipped + 1, 10, [&](const fb::Event&, const Hash32&) { return ++n, true; }).ok());
  CHECK(n == 0);
}

TEST_CASE("commit listeners hear every commit's last sequence number") {
  test::Harness h;
  std::atomic<std::uint64_t> heard{0};
  h.engine->on_commit([&](std::uint64_t seq) { heard = seq; });
  h.ok(DefineRegion{"R1", "East"});
  h.ok(DefineRegion{"R2", "West"});
  CHECK(heard == 2);
  h.rejected(DefineRegion{"R 3", "bad"}, ErrorCode::invalid_argument);  // writes nothing, no commit
  CHECK(heard == 2);
}

TEST_CASE("tokens are stored as their hash, with role and scope checked; revoking is final") {
  test::Harness h;
  h.small_network();
  Hash32 hash{};
  hash[0] = 7;
  h.ok(IssueToken{"tok1", hash, "dealer", "D1"});
  h.rejected(IssueToken{"tok1", hash, "dealer", "D1"}, ErrorCode::already_exists);
  h.rejected(IssueToken{"tok2", hash, "emperor", ""}, ErrorCode::invalid_argument);
  h.rejected(IssueToken{"tok2", hash, "dealer", "D404"}, ErrorCode::unknown_id);
  h.rejected(IssueToken{"tok2", hash, "hq_admin", "D1"}, ErrorCode::invalid_argument);
  h.rejected(IssueToken{"tok2", hash, "store", ""}, ErrorCode::invalid_argument);
  h.ok(RevokeToken{"tok1"});
  h.rejected(RevokeToken{"tok1"}, ErrorCode::illegal_transition);
  h.rejected(RevokeToken{"nope"}, ErrorCode::unknown_id);
  h.engine->inspect([&](const LedgerState& s) {
    REQUIRE(s.token("tok1") != nullptr);
    CHECK(s.token("tok1")->revoked);
    CHECK(s.token("tok1")->token_sha256 == hash);
    CHECK(s.token("tok1")->scope == "D1");
  });
}

TEST_SUITE_END();
