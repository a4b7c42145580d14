// Copyright memlog authors.
//
// Load benchmark of memlog::http::Server (not a test): on loopback, N
// streaming clients (our own Asio client, NDJSON) while a writer adds R
// records per second for S seconds. Checks that every client receives every
// record in order, exactly once, and reports
//   - write-to-client latency, p50 / p99 / max (the payload of each record
//     is its write time on CLOCK_MONOTONIC, shared by both processes);
//   - server CPU (user + system of the server process, over the run);
//   - server memory per connected idle client (RSS growth / N);
//   - the writer's cost per write, without clients and with them, as the
//     throughput it implies, and their ratio (the baseline of the same run).
// The server and its writer run in a child process so that its CPU and
// memory are its own; the clients run here on one thread.
//
//   ./bazelw run --config=opt //bench:http_load -- [clients] [rate] [seconds]
// Defaults: 1000 clients, 10000 records/s, 10 s.

#include <utility>  // before Asio: Debian's Asio under GCC 12 needs it

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "http/server.h"
#include "memlog/log.h"

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

int64_t MonotonicNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// --- The server process. ---

// Reads commands from `in`, writes answers to `out`:
//   "paced R S" writes R records/s for S s; answers "<writes> <ns in Write>".
//   "quit" ends.
// First prints the port.
int ServerMain(int in, int out) {
  auto log = memlog::Log::Create({.segment_size = 1 << 21}).value();
  memlog::http::Server server({.port = 0,
                               .threads = 1,
                               .max_connections = 100'000,
                               .heartbeat_interval = absl::Seconds(60)});
  if (!server.AddLog("load", log.get()).ok() || !server.Start().ok()) return 1;
  FILE* to = fdopen(out, "w");
  FILE* from = fdopen(in, "r");
  std::fprintf(to, "%u\n", server.port());
  std::fflush(to);
  char command[64];
  while (std::fgets(command, sizeof command, from) != nullptr) {
    int rate = 0, seconds = 0;
    if (std::sscanf(command, "paced %d %d", &rate, &seconds) == 2) {
      // Bursts every millisecond, at the rate asked for.
      const int64_t total = static_cast<int64_t>(rate) * seconds;
      int64_t written = 0, in_write = 0;
      const auto start = std::chrono::steady_clock::now();
      for (int64_t tick = 1; written < total; ++tick) {
        const int64_t due = std::min(total, rate * tick / 1000);
        for (; written < due; ++written) {
          const int64_t t0 = MonotonicNanos();
          if (!log->Write(absl::StrCat(t0)).ok()) return 1;
          in_write += MonotonicNanos() - t0;
        }
        std::this_thread::sleep_until(start + std::chrono::milliseconds(tick));
      }
      std::fprintf(to, "%" PRId64 " %" PRId64 "\n", written, in_write);
      std::fflush(to);
    } else {
      break;
    }
  }
  server.Shutdown(absl::Seconds(5));
  return 0;
}

// --- Client side. ---

// Latencies in 10 µs buckets, up to 1 s.
struct Histogram {
  std::vector<int64_t> buckets = std::vector<int64_t>(100'001, 0);
  int64_t count = 0;
  int64_t max_ns = 0;
  void Add(int64_t ns) {
    ++count;
    max_ns = std::max(max_ns, ns);
    buckets[static_cast<size_t>(std::clamp<int64_t>(ns / 10'000, 0, 100'000))]++;
  }
  double PercentileMs(double p) const {
    const auto want = static_cast<int64_t>(p * static_cast<double>(count));
    int64_t seen = 0;
    for (size_t i = 0; i < buckets.size(); ++i) {
      seen += buckets[i];
      if (seen > want) return static_cast<double>(i + 1) * 0.01;
    }
    return 1000;
  }
};

// One streaming client: NDJSON over chunked encoding, parsed as it comes.
class Client {
 public:
  Client(asio::io_context& ioc, Histogram* histogram, int64_t* streaming)
      : socket_(ioc), histogram_(histogram), streaming_(streaming) {}

  void Start(const tcp::endpoint& endpoint, int64_t from) {
    expected_ = from;
    request_ = absl::StrCat("GET /v1/logs/load/records?from=", from,
                            " HTTP/1.1\r\nHost: bench\r\n"
                            "Accept: application/x-ndjson\r\n\r\n");
    socket_.async_connect(endpoint, [this](boost::system::error_code ec) {
      if (ec) return Fail("connect: " + ec.message());
      asio::async_write(socket_, asio::buffer(request_),
                        [this](boost::system::error_code e, size_t) {
                          if (e) return Fail("write: " + e.message());
                          Read();
                        });
    });
  }

  int64_t expected() const { return expected_; }
  int64_t errors() const { return errors_; }
  const std::string& error() const { return error_; }

 private:
  void Fail(std::string what) {
    ++errors_;
    if (error_.empty()) error_ = std::move(what);
  }

  void Read() {
    socket_.async_read_some(
        asio::buffer(buffer_), [this](boost::system::error_code ec, size_t n) {
          if (ec) return Fail("read: " + ec.message());
          raw_.append(buffer_.data(), n);
          Parse();
          Read();
        });
  }

  void Parse() {
    for (;;) {
      if (state_ == kHeader) {
        const size_t end = raw_.find("\r\n\r\n");
        if (end == std::string::npos) return;
        if (raw_.compare(0, 12, "HTTP/1.1 200") != 0) {
          Fail("status: " + raw_.substr(0, 12));
        }
        raw_.erase(0, end + 4);
        state_ = kSize;
        ++*streaming_;
      } else if (state_ == kSize) {
        const size_t end = raw_.find("\r\n");
        if (end == std::string::npos) return;
        left_ = std::strtoull(raw_.substr(0, end).c_str(), nullptr, 16);
        raw_.erase(0, end + 2);
        state_ = left_ == 0 ? kDone : kData;
      } else if (state_ == kData) {
        const size_t take = std::min(left_, raw_.size());
        body_.append(raw_, 0, take);
        raw_.erase(0, take);
        left_ -= take;
        Lines();
        if (left_ > 0) return;
        state_ = kEnd;
      } else if (state_ == kEnd) {
        if (raw_.size() < 2) return;
        raw_.erase(0, 2);
        state_ = kSize;
      } else {
        return;
      }
    }
  }

  void Lines() {
    const int64_t now = MonotonicNanos();
    size_t start = 0;
    for (;;) {
      const size_t end = body_.find('\n', start);
      if (end == std::string::npos) break;
      const std::string_view line(body_.data() + start, end - start);
      start = end + 1;
      // {"offset":N,"created":"...","data":"<write time>"}
      constexpr std::string_view kOffset = "{\"offset\":";
      constexpr std::string_view kDataField = "\"data\":\"";
      if (line.substr(0, kOffset.size()) != kOffset) {
        Fail(absl::StrCat("unexpected line: ", std::string(line)));
        continue;
      }
      int64_t offset = -1, written = 0;
      const size_t comma = line.find(',');
      const size_t data = line.find(kDataField);
      std::string offset_text(line.substr(kOffset.size(), comma - kOffset.size()));
      std::string written_text(
          line.substr(data + kDataField.size(),
                      line.size() - data - kDataField.size() - 2));
      if (!absl::SimpleAtoi(offset_text, &offset) ||
          !absl::SimpleAtoi(written_text, &written)) {
        Fail("unparsable line");
        continue;
      }
      if (offset != expected_) {
        Fail(absl::StrCat("got offset ", offset, ", expected ", expected_));
      }
      expected_ = offset + 1;
      histogram_->Add(now - written);
    }
    body_.erase(0, start);
  }

  enum State { kHeader, kSize, kData, kEnd, kDone };
  tcp::socket socket_;
  Histogram* histogram_;
  int64_t* streaming_;
  std::array<char, 16 * 1024> buffer_;
  std::string request_, raw_, body_, error_;
  State state_ = kHeader;
  size_t left_ = 0;
  int64_t expected_ = 0;
  int64_t errors_ = 0;
};

struct ProcessUsage {
  int64_t rss_kib = 0;
  double cpu_seconds = 0;
};

ProcessUsage UsageOf(pid_t pid) {
  ProcessUsage usage;
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) usage.rss_kib = std::atoll(line.c_str() + 6);
  }
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string all((std::istreambuf_iterator<char>(stat)),
                  std::istreambuf_iterator<char>());
  // Fields after the command's closing parenthesis; utime and stime are the
  // 14th and 15th fields of the line.
  const size_t paren = all.rfind(')');
  std::vector<std::string> fields;
  std::string field;
  for (size_t i = paren + 2; i < all.size(); ++i) {
    if (all[i] == ' ') {
      fields.push_back(field);
      field.clear();
    } else {
      field.push_back(all[i]);
    }
  }
  if (fields.size() > 12) {
    usage.cpu_seconds = static_cast<double>(std::atoll(fields[11].c_str()) +
                                            std::atoll(fields[12].c_str())) /
                        static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  return usage;
}

}  // namespace

int main(int argc, char** argv) {
  const int clients = argc > 1 ? std::atoi(argv[1]) : 1000;
  const int rate = argc > 2 ? std::atoi(argv[2]) : 10'000;
  const int seconds = argc > 3 ? std::atoi(argv[3]) : 10;

  // Each client is a descriptor here and one in the server.
  rlimit limit{static_cast<rlim_t>(clients) * 2 + 256,
               static_cast<rlim_t>(clients) * 2 + 256};
  setrlimit(RLIMIT_NOFILE, &limit);

  int to_server[2], from_server[2];
  if (pipe(to_server) != 0 || pipe(from_server) != 0) return 1;
  const pid_t child = fork();
  if (child == 0) {
    close(to_server[1]);
    close(from_server[0]);
    _exit(ServerMain(to_server[0], from_server[1]));
  }
  close(to_server[0]);
  close(from_server[1]);
  FILE* to = fdopen(to_server[1], "w");
  FILE* from = fdopen(from_server[0], "r");
  unsigned port = 0;
  if (std::fscanf(from, "%u", &port) != 1) return 1;
  const auto paced = [&](int r, int s, int64_t* writes, int64_t* ns) {
    std::fprintf(to, "paced %d %d\n", r, s);
    std::fflush(to);
    return std::fscanf(from, "%" SCNd64 " %" SCNd64, writes, ns) == 2;
  };

  // 1. The writer alone: its cost per write with nobody streaming.
  int64_t base_writes = 0, base_ns = 0;
  if (!paced(rate, 2, &base_writes, &base_ns)) return 1;
  const ProcessUsage before = UsageOf(child);

  // 2. Connect the clients; each streams from the next offset.
  asio::io_context ioc(1);
  Histogram histogram;
  int64_t streaming = 0;
  std::vector<std::unique_ptr<Client>> all;
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"),
                               static_cast<uint16_t>(port));
  for (int i = 0; i < clients; ++i) {
    all.push_back(std::make_unique<Client>(ioc, &histogram, &streaming));
    all.back()->Start(endpoint, base_writes);
  }
  while (streaming < clients) {
    ioc.run_one_for(std::chrono::seconds(10));
    int64_t errors = 0;
    for (auto& c : all) errors += c->errors();
    if (errors > 0) break;
  }
  const ProcessUsage idle = UsageOf(child);

  // 3. The paced run, clients receiving.
  std::thread client_thread([&] { ioc.run(); });
  int64_t writes = 0, ns = 0;
  const double cpu0 = UsageOf(child).cpu_seconds;
  const auto t0 = std::chrono::steady_clock::now();
  if (!paced(rate, seconds, &writes, &ns)) return 1;
  const int64_t last = base_writes + writes;
  // Let every client catch up (bounded).
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  bool caught_up = false;
  while (!caught_up && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // polling
    caught_up = true;
    asio::post(ioc, [] {});
    for (auto& c : all) caught_up = caught_up && c->expected() >= last;
  }
  const double wall = std::chrono::duration<double>(
                          std::chrono::steady_clock::now() - t0)
                          .count();
  const double cpu = UsageOf(child).cpu_seconds - cpu0;
  std::fprintf(to, "quit\n");
  std::fflush(to);
  ioc.stop();
  client_thread.join();
  waitpid(child, nullptr, 0);

  int64_t complete = 0, errors = 0;
  std::string first_error;
  for (auto& c : all) {
    complete += c->expected() == last && c->errors() == 0;
    errors += c->errors();
    if (first_error.empty()) first_error = c->error();
  }
  const double base_rate = 1e9 * static_cast<double>(base_writes) /
                           static_cast<double>(std::max<int64_t>(1, base_ns));
  const double loaded_rate = 1e9 * static_cast<double>(writes) /
                             static_cast<double>(std::max<int64_t>(1, ns));
  std::printf("http_load: %d clients, %d records/s for %d s\n", clients, rate,
              seconds);
  std::printf("  clients with every record, in order, once: %" PRId64
              " of %d (%" PRId64 " errors%s%s)\n",
              complete, clients, errors, first_error.empty() ? "" : ": ",
              first_error.c_str());
  std::printf("  events received: %" PRId64 "\n", histogram.count);
  std::printf("  write-to-client latency: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
              histogram.PercentileMs(0.50), histogram.PercentileMs(0.99),
              static_cast<double>(histogram.max_ns) / 1e6);
  std::printf("  server CPU: %.0f%% of one core (%.1f s over %.1f s)\n",
              100 * cpu / wall, cpu, wall);
  std::printf("  server memory per idle client: %.1f KiB (RSS %" PRId64
              " -> %" PRId64 " KiB)\n",
              static_cast<double>(idle.rss_kib - before.rss_kib) / clients,
              before.rss_kib, idle.rss_kib);
  std::printf("  writer: %.2f M writes/s in Write() without clients, %.2f M "
              "with them; ratio %.2f (baseline: same run, no clients)\n",
              base_rate / 1e6, loaded_rate / 1e6, loaded_rate / base_rate);
  return complete == clients ? 0 : 1;
}
