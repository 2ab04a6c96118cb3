// ledgerd as a real process: it prints its URL and admin token, stops gracefully on SIGTERM, and
// after kill -9 in the middle of a burst of writes every request that got a 2xx is in the log.
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <regex>
#include <thread>

#include "api_harness.hpp"
#include "process.hpp"

using namespace ledger;
namespace http = boost::beast::http;

namespace {

struct Ledgerd {
  pid_t pid = -1;
  int out = -1;
  unsigned short port = 0;
  std::string token;
  std::string banner;

  explicit Ledgerd(const std::filesystem::path& dir) {
    pid = test::spawn({LEDGERD_PATH, "--data", dir.string(), "--listen", "127.0.0.1:0", "--no-demo", "--quiet"}, &out);
    banner = test::read_until(out, "admin token");
    std::smatch m;
    REQUIRE_MESSAGE(std::regex_search(banner, m, std::regex("serving http://127\\.0\\.0\\.1:([0-9]+)")), banner);
    port = static_cast<unsigned short>(std::stoul(m[1]));
    std::ifstream in(dir / "admin.token");
    in >> token;
    REQUIRE(!token.empty());
  }
  int stop(int signal) {
    kill(pid, signal);
    int status = 0;
    waitpid(pid, &status, 0);
    close(out);
    pid = -1;
    return status;
  }
  ~Ledgerd() {
    if (pid > 0) stop(SIGKILL);
  }
  test::Reply call(http::verb method, const std::string& target, const std::string& body = "") {
    return test::send_http(port, method, target, body, token);
  }
};

}  // namespace

TEST_SUITE_BEGIN("ledgerd");

TEST_CASE("ledgerd prints its URL and admin token, writes the token 0600, and stops cleanly on SIGTERM") {
  test::TempDir dir;
  Ledgerd server(dir.path());
  CHECK(server.banner.find("admin token: " + server.token) != std::string::npos);
  CHECK((std::filesystem::status(dir.path() / "admin.token").permissions() & std::filesystem::perms::others_read) ==
        std::filesystem::perms::none);
  CHECK(server.call(http::verb::get, "/healthz").status == 200);
  CHECK(server.call(http::verb::put, "/v1/regions/R1", R"({"name":"East"})").status == 200);
  int status = server.stop(SIGTERM);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  // Restarted, it keeps its data and does not mint another admin token.
  Ledgerd again(dir.path());
  CHECK(again.banner.find("admin token: in") != std::string::npos);
  CHECK(again.call(http::verb::get, "/v1/events?kinds=RegionDefined").json().at("rows").as_array().size() == 1);
}

TEST_CASE("kill -9 during a burst of writes: every request that got a 2xx is in the log after restart") {
  test::TempDir dir;
  std::vector<std::string> acknowledged;
  {
    Ledgerd server(dir.path());
    REQUIRE(server.call(http::verb::put, "/v1/regions/R1", R"({"name":"East"})").status == 200);
    REQUIRE(server.call(http::verb::put, "/v1/warehouses/W1", R"({"name":"a","region":"R1","lat":1,"lon":1,"daily_capacity_cases":1})").status == 200);
    REQUIRE(server.call(http::verb::put, "/v1/warehouses/W2", R"({"name":"b","region":"R1","lat":1,"lon":1,"daily_capacity_cases":1})").status == 200);
    REQUIRE(server.call(http::verb::put, "/v1/skus/A", R"({"name":"a","case_units":6,"prices":{"wholesale_cents":1,"supply_cents":1,"retail_cents":1}})").status == 200);
    REQUIRE(server.call(http::verb::post, "/v1/stock/receipts", R"({"warehouse":"W1","lines":[{"sku":"A","qty":1000000}],"ref":"B"})").status == 201);
    std::mutex mu;
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int c = 0; c < 8; ++c) {
      clients.emplace_back([&, c] {
        for (int i = 0; !stop; ++i) {
          std::string id = fmt::format("T-{}-{}", c, i);
          try {
            auto r = server.call(http::verb::post, "/v1/stock/transfers",
                                 fmt::format(R"({{"id":"{}","from":"warehouse:W1","to":"warehouse:W2","lines":[{{"sku":"A","qty":1}}]}})", id));
            if (r.status / 100 == 2) {
              std::lock_guard lock(mu);
              acknowledged.push_back(id);
            }
          } catch (...) {
            return;  // the server is gone
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    int status = server.stop(SIGKILL);
    CHECK(WIFSIGNALED(status));
    stop = true;
    for (auto& t : clients) t.join();
  }
  REQUIRE(acknowledged.size() > 50);
  auto state = fold_log(dir.path());
  REQUIRE(state.ok());
  std::size_t missing = 0;
  for (const auto& id : acknowledged) missing += state->transfer(id) == nullptr ? 1 : 0;
  CHECK(missing == 0);
  CHECK(verify_log(dir.path()).ok());
  Ledgerd again(dir.path());
  CHECK(again.call(http::verb::get, "/healthz").status == 200);
}

TEST_SUITE_END();
