// ledgerd: the HTTP/JSON server over the engine on an embedded LMDB data directory.
#include <fmt/format.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <cstdlib>
#include <cstring>
#include <fstream>

#include "http_server.hpp"
#include "ledger/demo_network.hpp"

using namespace ledger;
using namespace ledger::api;

namespace {

constexpr const char* usage = R"(usage: ledgerd [options]

  --listen HOST:PORT    address to serve on               (LEDGER_LISTEN, default 127.0.0.1:8080)
  --data DIR            the ledger's data directory        (LEDGER_DATA, default ./data)
  --threads N           HTTP I/O threads                   (LEDGER_THREADS, default 2)
  --cors ORIGINS        comma-separated allowed origins, or *   (LEDGER_CORS_ORIGINS, default none)
  --no-demo             do not load the demo network into an empty data directory
  --os-buffered         acknowledge before fsync (survives a crash of ledgerd, not of the machine)
  --map-max-bytes N     the largest the LMDB map may grow     (LEDGER_MAP_MAX_BYTES, default 1 TiB)
  --quiet               no per-request log lines
  --help                this text

On first start in an empty directory ledgerd loads a demo network, creates an hq_admin token,
prints it and writes it to DIR/admin.token (mode 0600). SIGINT/SIGTERM stop it gracefully.
)";

struct Flags {
  std::string listen = "127.0.0.1:8080";
  std::string data = "./data";
  unsigned threads = 2;
  std::string cors;
  bool demo = true;
  bool os_buffered = false;
  bool quiet = false;
  std::size_t map_max_bytes = 0;  // 0: the engine's default
};

std::string env_or(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

std::uint64_t number(const std::string& what, const std::string& text) {
  std::size_t used = 0;
  std::uint64_t value = 0;
  try {
    value = std::stoull(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size()) throw std::invalid_argument(what + " takes a whole number, not '" + text + "'");
  return value;
}

std::optional<Flags> parse(int argc, char** argv) {
  Flags f;
  f.listen = env_or("LEDGER_LISTEN", f.listen);
  f.data = env_or("LEDGER_DATA", f.data);
  f.threads = static_cast<unsigned>(number("LEDGER_THREADS", env_or("LEDGER_THREADS", "2")));
  f.cors = env_or("LEDGER_CORS_ORIGINS", "");
  f.map_max_bytes = number("LEDGER_MAP_MAX_BYTES", env_or("LEDGER_MAP_MAX_BYTES", "0"));
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    if (a == "--listen") f.listen = value();
    else if (a == "--data") f.data = value();
    else if (a == "--threads") f.threads = static_cast<unsigned>(number(a, value()));
    else if (a == "--cors") f.cors = value();
    else if (a == "--no-demo") f.demo = false;
    else if (a == "--os-buffered") f.os_buffered = true;
    else if (a == "--quiet") f.quiet = true;
    else if (a == "--map-max-bytes") f.map_max_bytes = number(a, value());
    else if (a == "--help") return std::nullopt;
    else throw std::invalid_argument("unknown option " + a + " (see --help)");
  }
  return f;
}

bool write_private(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text << "\n";
  out.close();
  return ::chmod(path.c_str(), 0600) == 0 && out.good();
}

// A secret kept beside the log, for deriving tokens issued under an Idempotency-Key.
std::string token_secret(const std::filesystem::path& dir) {
  auto path = dir / "server.secret";
  std::ifstream in(path);
  std::string secret;
  if (in >> secret && secret.size() == 64) return secret;
  std::uint8_t bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no randomness for the server secret");
  secret = to_hex(bytes);
  if (!write_private(path, secret)) throw std::runtime_error("cannot write " + path.string());
  return secret;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // one request, one line, even into a pipe or file
  std::optional<Flags> flags;
  try {
    flags = parse(argc, argv);
  } catch (const std::exception& e) {
    fmt::print(stderr, "ledgerd: {}\n", e.what());
    return 2;
  }
  if (!flags) {
    fmt::print("{}", usage);
    return 0;
  }
  auto colon = flags->listen.rfind(':');
  if (colon == std::string::npos) {
    fmt::print(stderr, "ledgerd: --listen takes HOST:PORT, not '{}'\n", flags->listen);
    return 2;
  }
  HttpOptions http;
  http.host = flags->listen.substr(0, colon);
  try {
    unsigned long port = std::stoul(flags->listen.substr(colon + 1));
    if (port > 65535) throw std::out_of_range("port");
    http.port = static_cast<unsigned short>(port);
  } catch (const std::exception&) {
    fmt::print(stderr, "ledgerd: '{}' is not a port (0-65535)\n", flags->listen.substr(colon + 1));
    return 2;
  }
  http.threads = flags->threads;
  http.log_requests = !flags->quiet;

  EngineOptions engine_options;
  engine_options.dir = flags->data;
  engine_options.durability = flags->os_buffered ? Durability::os_buffered : Durability::fsync_per_batch;
  engine_options.map_bytes_max = flags->map_max_bytes;
  engine_options.on_notice = [](std::string_view line) { fmt::print("ledgerd: {}\n", line); };
  engine_options.on_open_progress = [](std::uint64_t done, std::uint64_t total) {
    if (total > 1'000'000) fmt::print(stderr, "\rledgerd: reading the log {}/{} events", done, total);
  };
  auto engine = Engine::open(engine_options);
  if (!engine) {
    fmt::print(stderr, "ledgerd: {}\n", engine.error().to_string());
    return 1;
  }
  if ((*engine)->last_seq() == 0 && flags->demo) {
    fmt::print("ledgerd: {} is empty; loading the demo network\n", flags->data);
    demo::load_history(**engine, demo::NetworkSize{}, SystemClock().now_us(), [](const std::string& line) {
      fmt::print("{}\n", line);
    });
  }
  LiveOptions live_options;
  live_options.data_dir = flags->data;
  live_options.on_notice = [](std::string_view line) { fmt::print("ledgerd: {}\n", line); };
  auto live = LiveState::start(**engine, live_options);
  if (!live) {
    fmt::print(stderr, "ledgerd: {}\n", live.error().to_string());
    return 1;
  }
  Metrics metrics;
  ServiceOptions service_options;
  service_options.token_secret = token_secret(flags->data);
  for (std::size_t start = 0; !flags->cors.empty() && start <= flags->cors.size();) {
    auto comma = flags->cors.find(',', start);
    service_options.cors_origins.push_back(flags->cors.substr(start, comma - start));
    start = comma == std::string::npos ? flags->cors.size() + 1 : comma + 1;
  }
  HttpServer* server_ptr = nullptr;
  service_options.schedule = [&server_ptr](std::uint64_t ms, std::function<void()> fn) {
    return server_ptr->schedule(ms, std::move(fn));
  };
  service_options.post = [&server_ptr](std::function<void()> fn) { server_ptr->post(std::move(fn)); };
  Service service(**engine, **live, metrics, service_options);

  bool has_admin = (*live)->read([](const LedgerState& s, std::uint64_t) {
    bool found = false;
    s.for_each_token([&](std::string_view, const TokenRecord& t) { found |= t.role == "hq_admin" && !t.revoked; });
    return found;
  });
  std::string admin_note = fmt::format("admin token: in {}/admin.token", flags->data);
  if (!has_admin) {
    auto token = service.issue_token("hq_admin", "", "");
    if (!token) {
      fmt::print(stderr, "ledgerd: cannot create the admin token: {}\n", token.error().to_string());
      return 1;
    }
    if (!write_private(std::filesystem::path(flags->data) / "admin.token", *token)) {
      fmt::print(stderr, "ledgerd: cannot write {}/admin.token\n", flags->data);
      return 1;
    }
    admin_note = fmt::format("admin token: {}   (also in {}/admin.token)", *token, flags->data);
  }

  HttpServer server(service, metrics, http);
  server_ptr = &server;
  auto port = server.start();
  if (!port) {
    fmt::print(stderr, "ledgerd: {}\n", port.error().message);
    return 1;
  }
  fmt::print("ledgerd: serving http://{}:{}  (log at seq {})\n{}\nsales board: http://{}:{}/board  (paste the token)\n",
             http.host, *port, (*engine)->last_seq(), admin_note, http.host, *port);
  std::fflush(stdout);
  server.wait_for_signal();
  fmt::print("ledgerd: stopped at seq {}\n", (*engine)->last_seq());
  return 0;
}
