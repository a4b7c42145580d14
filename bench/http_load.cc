// Copyright memlog authors.
//
// Load benchmark of memlog::http::Server (not a test): on loopback, N
// streaming clients (our own Asio client, SSE or NDJSON) while a writer adds
// R records per second for S seconds. Checks that every client receives
// every record in order, exactly once, and reports
//   - write-to-client latency, p50 / p99 / p99.9 / max: the payload of each
//     record is its write time on CLOCK_MONOTONIC, shared by both processes,
//     and a client reads the clock once per read() it makes;
//   - CPU of the server process (its io threads and its writer apart) and of
//     the clients, over the paced run and the clients' catch-up, also per
//     event delivered: both processes share this machine's cores;
//   - server memory per connected idle client (RSS growth / N; the kernel's
//     socket buffers are not in RSS, the kernel's TCP memory is shown
//     beside it);
//   - the writer's throughput without clients and with them, in the same
//     run, two ways. Paced as above: the mean time in Write() of the writes
//     that were not descheduled (what serving costs the writer's own
//     thread; the descheduled ones, over 50 us, would measure the machine's
//     load instead). And a burst of B records written flat out: its
//     wall-clock rate, which on a small machine shares the cores with the
//     server and the clients, and its rate per second of the writer
//     thread's CPU.
// The server and its writer run in a child process so that its CPU and
// memory are its own; the clients run here, on threads of their own.
//
//   ./bazelw run --config=opt //bench:http_load -- [clients] [rate] [seconds]
//       [--format=sse|ndjson] [--client_threads=2] [--server_threads=2]
//       [--burst=20000] [--shared_window_bytes=N] [--server=both|memlog|raw]
// Defaults: 1000 clients, 10000 records/s, 10 s, SSE, the server's default
// window of shared events, and both servers: first the floor,
// RawStreamServer (the same bytes over plain sockets, bench/
// raw_stream_server.h), then memlog::http::Server, with the same clients;
// the last line compares the two.

#include <utility>  // before Asio: Debian's Asio under GCC 12 needs it

#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cinttypes>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "bench/raw_stream_server.h"
#include "http/internal/format.h"
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

int64_t ThreadCpuNanos() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec;
}

struct Flags {
  int clients = 1000;
  int rate = 10'000;
  int seconds = 10;
  bool ndjson = false;
  int client_threads = 2;
  int server_threads = 2;
  int64_t burst = 20'000;
  int64_t shared_window_bytes = -1;  // the server's default
};

// --- The server process. ---

// A Write() that takes longer than this was, most likely, descheduled (or
// interrupted): on 2 cores shared with the clients and other work, a few
// such writes would otherwise make up most of the time measured.
constexpr int64_t kDescheduledNanos = 50'000;

// Payloads are write times: CLOCK_MONOTONIC nanoseconds modulo 10^16 (115
// days), as 16 decimal digits, so that clients parse them in two 8-byte
// steps.
constexpr int64_t kTimeModulo = 10'000'000'000'000'000;
constexpr size_t kTimeDigits = 16;

// Writes one record to `log`, and its event to `raw` if there is one.
bool WriteNow(memlog::Log& log, memlog::bench::RawStreamServer* raw) {
  char text[kTimeDigits];
  int64_t now = MonotonicNanos() % kTimeModulo;
  for (size_t i = kTimeDigits; i-- > 0; now /= 10) {
    text[i] = static_cast<char>('0' + now % 10);
  }
  const std::string_view payload(text, kTimeDigits);
  if (!log.Write(payload).ok()) return false;
  return raw == nullptr || raw->Append(absl::Now(), payload);
}

// Reads commands from `in`, writes answers to `out`:
//   "paced R S": writes R records/s for S s (a burst each millisecond);
//                answers "<writes> <ns in Write()> <writes that took over
//                kDescheduled> <ns in the others> <median ns>";
//   "burst N":   writes N records as fast as it can; answers
//                "<wall ns> <writer thread CPU ns>";
//   "quit" ends.
// First prints the port.
int ServerMain(const Flags& flags, bool raw_sockets, int in, int out) {
  auto log = memlog::Log::Create({.segment_size = 1 << 21}).value();
  std::optional<memlog::http::Server> server;
  std::unique_ptr<memlog::bench::RawStreamServer> raw;
  unsigned port = 0;
  if (raw_sockets) {
    auto started = memlog::bench::RawStreamServer::Start(
        flags.ndjson ? memlog::http::internal::EventFormat::kNdjson
                     : memlog::http::internal::EventFormat::kSse,
        flags.server_threads, size_t{4} << 30);
    if (!started.ok()) return 1;
    raw = *std::move(started);
    port = raw->port();
  } else {
    memlog::http::ServerOptions options{
        .port = 0,
        .threads = flags.server_threads,
        .max_connections = 100'000,
        .heartbeat_interval = absl::Seconds(60)};
    if (flags.shared_window_bytes >= 0) {
      options.shared_window_bytes =
          static_cast<size_t>(flags.shared_window_bytes);
    }
    server.emplace(options);
    if (!server->AddLog("load", log.get()).ok() || !server->Start().ok()) {
      return 1;
    }
    port = server->port();
  }
  // The raw server sends what was written at the end of each tick, as
  // memlog's sends what it finds written when it gets to a stream.
  const auto flush = [&] {
    if (raw != nullptr) raw->Flush();
  };
  FILE* to = fdopen(out, "w");
  FILE* from = fdopen(in, "r");
  std::fprintf(to, "%u\n", port);
  std::fflush(to);
  char command[64];
  while (std::fgets(command, sizeof command, from) != nullptr) {
    int rate = 0, seconds = 0;
    int64_t count = 0;
    if (std::sscanf(command, "paced %d %d", &rate, &seconds) == 2) {
      const int64_t total = static_cast<int64_t>(rate) * seconds;
      int64_t written = 0, in_write = 0, descheduled = 0, in_fast = 0;
      // Durations in 10 ns buckets, for the median.
      std::vector<int64_t> buckets(kDescheduledNanos / 10 + 1, 0);
      const auto start = std::chrono::steady_clock::now();
      for (int64_t tick = 1; written < total; ++tick) {
        const int64_t due = std::min(total, rate * tick / 1000);
        for (; written < due; ++written) {
          const int64_t t0 = MonotonicNanos();
          if (!WriteNow(*log, raw.get())) return 1;
          const int64_t took = MonotonicNanos() - t0;
          in_write += took;
          if (took > kDescheduledNanos) {
            ++descheduled;
          } else {
            in_fast += took;
            ++buckets[static_cast<size_t>(took / 10)];
          }
        }
        flush();
        std::this_thread::sleep_until(start + std::chrono::milliseconds(tick));
      }
      int64_t median = 0;
      for (int64_t seen = 0; median < static_cast<int64_t>(buckets.size());
           ++median) {
        seen += buckets[static_cast<size_t>(median)];
        if (2 * seen > written) break;
      }
      std::fprintf(to, "%" PRId64 " %" PRId64 " %" PRId64 " %" PRId64
                   " %" PRId64 "\n",
                   written, in_write, descheduled, in_fast, median * 10 + 5);
    } else if (std::sscanf(command, "burst %" SCNd64, &count) == 1) {
      const int64_t wall0 = MonotonicNanos(), cpu0 = ThreadCpuNanos();
      for (int64_t i = 0; i < count; ++i) {
        if (!WriteNow(*log, raw.get())) return 1;
        if (i % 64 == 63) flush();
      }
      flush();
      std::fprintf(to, "%" PRId64 " %" PRId64 "\n", MonotonicNanos() - wall0,
                   ThreadCpuNanos() - cpu0);
    } else {
      break;
    }
    std::fflush(to);
  }
  if (server.has_value()) server->Shutdown(absl::Seconds(5));
  return 0;
}

// --- Client side. ---

// Latencies in 10 us buckets up to 100 ms, then 1 ms buckets up to 100 s.
struct Histogram {
  static constexpr int64_t kFine = 10'000;   // buckets of 10 us ...
  static constexpr int64_t kFineEnd = 10'000;  // ... for the first 100 ms
  static constexpr int64_t kCoarse = 1'000'000;
  std::vector<int64_t> buckets =
      std::vector<int64_t>(kFineEnd + 100'000 + 1, 0);
  int64_t count = 0;
  int64_t max_ns = 0;
  int64_t reads = 0;
  int64_t read_bytes = 0;
  void Add(int64_t ns) {
    ++count;
    max_ns = std::max(max_ns, ns);
    const int64_t fine = std::max<int64_t>(0, ns / kFine);
    const int64_t bucket =
        fine < kFineEnd ? fine
                        : std::min<int64_t>(kFineEnd + ns / kCoarse,
                                            static_cast<int64_t>(buckets.size()) - 1);
    buckets[static_cast<size_t>(bucket)]++;
  }
  // The upper end of a bucket, in ms.
  static double BucketEndMs(size_t i) {
    const auto bucket = static_cast<int64_t>(i);
    return bucket < kFineEnd
               ? static_cast<double>((bucket + 1) * kFine) / 1e6
               : static_cast<double>((bucket - kFineEnd + 1) * kCoarse) / 1e6;
  }
  void Merge(const Histogram& other) {
    for (size_t i = 0; i < buckets.size(); ++i) buckets[i] += other.buckets[i];
    count += other.count;
    max_ns = std::max(max_ns, other.max_ns);
    reads += other.reads;
    read_bytes += other.read_bytes;
  }
  double PercentileMs(double p) const {
    const auto want = static_cast<int64_t>(p * static_cast<double>(count));
    int64_t seen = 0;
    for (size_t i = 0; i < buckets.size(); ++i) {
      seen += buckets[i];
      if (seen > want) return BucketEndMs(i);
    }
    return BucketEndMs(buckets.size() - 1);
  }
};

// What the clients have reached, for the main thread to wait on.
class Progress {
 public:
  void Add(int* counter) {
    std::lock_guard<std::mutex> lock(mu_);
    ++*counter;
    cv_.notify_all();
  }
  // Waits until `*counter` reaches `n` or `seconds` pass; the final count.
  int WaitFor(const int* counter, int n, int seconds) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(seconds),
                 [&] { return *counter >= n || failed_ > 0; });
    return *counter;
  }
  void Fail() { Add(&failed_); }
  void Reset(int* counter) {
    std::lock_guard<std::mutex> lock(mu_);
    *counter = 0;
  }

  int streaming = 0;  // clients whose response header has arrived
  int reached = 0;    // clients that have the current target's records

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int failed_ = 0;
};

// The records of the current phase: [begin, target), of which those before
// timed_end count in the latency histogram.
struct Phase {
  std::atomic<int64_t> target{0};
  std::atomic<int64_t> timed_begin{0};
  std::atomic<int64_t> timed_end{0};
};

// Parses a decimal number at the start of `text`; -1 if there is none.
int64_t Number(std::string_view text) {
  int64_t value = -1;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

// One streaming client: SSE or NDJSON over chunked encoding, parsed in
// place in its read buffer. Its parsing checks what the benchmark needs
// (each record's offset, which for SSE is its id, and its payload) and
// little else: the server's own tests check the formats.
class Client {
 public:
  // Bytes per read: `buffer` holds as many, and is shared by the clients
  // of one thread.
  static constexpr size_t kReadBytes = 256 * 1024;

  Client(asio::io_context& ioc, bool ndjson, char* buffer,
         Histogram* histogram, Progress* progress, const Phase* phase)
      : socket_(ioc),
        ndjson_(ndjson),
        buffer_(buffer),
        histogram_(histogram),
        progress_(progress),
        phase_(phase) {}

  void Start(const tcp::endpoint& endpoint, int64_t from) {
    expected_ = from;
    request_ = absl::StrCat(
        "GET /v1/logs/load/records?from=", from,
        " HTTP/1.1\r\nHost: bench\r\n",
        ndjson_ ? "Accept: application/x-ndjson\r\n" : "", "\r\n");
    socket_.async_connect(endpoint, [this](boost::system::error_code ec) {
      if (ec) return Fail("connect: " + ec.message());
      asio::async_write(socket_, asio::buffer(request_),
                        [this](boost::system::error_code e, size_t) {
                          if (e) return Fail("write: " + e.message());
                          socket_.non_blocking(true, e);
                          if (e) return Fail("non_blocking: " + e.message());
                          Read();
                        });
    });
  }

  int64_t expected() const { return expected_; }
  int64_t errors() const { return errors_; }
  const std::string& error() const { return error_; }
  void Close() {
    closed_ = true;
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

 private:
  void Fail(std::string what) {
    if (errors_++ == 0) {
      error_ = std::move(what);
      progress_->Fail();
    }
  }

  // Waits until the socket is readable, then reads it dry into the
  // thread's buffer (which stays in cache, where 1,000 buffers of their own
  // would not): a read shorter than the buffer left nothing behind.
  void Read() {
    socket_.async_wait(tcp::socket::wait_read, [this](boost::system::error_code ec) {
      if (closed_) return;
      if (ec) return Fail("wait: " + ec.message());
      for (;;) {
        boost::system::error_code error;
        const size_t n =
            socket_.read_some(asio::buffer(buffer_, kReadBytes), error);
        if (error == asio::error::would_block) break;
        if (error) return Fail("read: " + error.message());
        OnRead(n);
        if (n < kReadBytes) break;
      }
      Read();
    });
  }

  void OnRead(size_t n) {
    now_ = MonotonicNanos() % kTimeModulo;
    timed_begin_ = phase_->timed_begin.load(std::memory_order_relaxed);
    timed_end_ = phase_->timed_end.load(std::memory_order_relaxed);
    if (expected_ >= timed_begin_ && expected_ < timed_end_) {
      ++histogram_->reads;  // a read of the paced run
      histogram_->read_bytes += static_cast<int64_t>(n);
    }
    Parse(std::string_view(buffer_, n));
    const int64_t target = phase_->target.load(std::memory_order_acquire);
    if (expected_ >= target && reached_ != target) {
      reached_ = target;
      progress_->Add(&progress_->reached);
    }
  }

  // The chunked framing; the bodies go to Body().
  void Parse(std::string_view in) {
    while (!in.empty()) {
      switch (state_) {
        case kHeader: {
          header_.append(in.data(), in.size());
          const size_t end = header_.find("\r\n\r\n");
          if (end == std::string::npos) return;
          if (header_.compare(0, 12, "HTTP/1.1 200") != 0) {
            return Fail("status: " + header_.substr(0, 12));
          }
          in = std::string_view(header_).substr(end + 4);
          state_ = kSize;
          chunk_left_ = 0;
          progress_->Add(&progress_->streaming);
          // The rest of the header buffer: parse it from a copy.
          std::string rest(in);
          header_.clear();
          return Parse(rest);
        }
        case kSize: {
          const char c = in[0];
          in.remove_prefix(1);
          if (c == '\n') {
            state_ = chunk_left_ == 0 ? kDone : kData;
          } else if (c != '\r') {
            const int digit = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
            chunk_left_ = chunk_left_ * 16 + static_cast<size_t>(digit);
          }
          break;
        }
        case kData: {
          const size_t take = std::min(chunk_left_, in.size());
          Body(in.substr(0, take));
          in.remove_prefix(take);
          chunk_left_ -= take;
          if (chunk_left_ == 0) state_ = kDataEnd;
          break;
        }
        case kDataEnd: {
          const char c = in[0];
          in.remove_prefix(1);
          if (c == '\n') state_ = kSize;
          break;
        }
        case kDone:
          return Fail("the stream ended");
      }
    }
  }

  // Events are parsed in place; an event cut by a read (or a chunk) is
  // completed in carry_ first.
  void Body(std::string_view body) {
    if (!carry_.empty()) {
      const size_t end = EventEnd(body);
      if (end == std::string_view::npos) {
        carry_.append(body.data(), body.size());
        return;
      }
      carry_.append(body.data(), end);
      const char* stop = Events(carry_.data(), carry_.data() + carry_.size());
      if (stop != carry_.data() + carry_.size()) return Fail("bad event");
      carry_.clear();
      body.remove_prefix(end);
    }
    const char* stop = Events(body.data(), body.data() + body.size());
    carry_.assign(stop, static_cast<size_t>(body.data() + body.size() - stop));
  }

  // Where the first event that carry_ began ends in `body` (one past its
  // last byte), or npos.
  size_t EventEnd(std::string_view body) const {
    if (ndjson_) {
      const size_t end = body.find('\n');
      return end == std::string_view::npos ? end : end + 1;
    }
    if (carry_.back() == '\n' && !body.empty() && body[0] == '\n') return 1;
    const size_t end = body.find("\n\n");
    return end == std::string_view::npos ? end : end + 2;
  }

  // Parses the complete events in [p, end); returns where the first
  // incomplete one starts.
  const char* Events(const char* p, const char* const end) {
    while (p < end) {
      const char* next = ndjson_ ? NdjsonEvent(p, end) : SseEvent(p, end);
      if (next == nullptr) return p;
      p = next;
    }
    return p;
  }

  // The common SSE event, "id: N\ndata: {...,"data":"T"}\n\n", at one
  // memchr(); anything else line by line. nullptr if incomplete.
  const char* SseEvent(const char* p, const char* const end) {
    if (end - p >= 4 && std::memcmp(p, "id: ", 4) == 0) {
      const char* q = p + 4;
      const int64_t id = Digits(&q, end);
      if (end - q < 7) return nullptr;
      if (*q != '\n' || std::memcmp(q + 1, "data: ", 6) != 0) {
        Fail("bad id line");
        return end;
      }
      const char* json = q + 7;
      const auto* line_end = static_cast<const char*>(
          std::memchr(json, '\n', static_cast<size_t>(end - json)));
      if (line_end == nullptr || line_end + 1 >= end) return nullptr;
      if (line_end[1] != '\n') {
        Fail("bad data line");
        return end;
      }
      Record(id, WriteTime(json, line_end));
      return line_end + 2;
    }
    const auto* line_end = static_cast<const char*>(
        std::memchr(p, '\n', static_cast<size_t>(end - p)));
    if (line_end == nullptr) return nullptr;
    const std::string_view line(p, static_cast<size_t>(line_end - p));
    // Blank lines, comments (heartbeats) and the stream's `retry:`.
    if (!line.empty() && line[0] != ':' && line.rfind("retry: ", 0) != 0) {
      Fail("unexpected line: " + std::string(line));
    }
    return line_end + 1;
  }

  // {"offset":N,"created":"...","data":"T"}\n
  const char* NdjsonEvent(const char* p, const char* const end) {
    const auto* line_end = static_cast<const char*>(
        std::memchr(p, '\n', static_cast<size_t>(end - p)));
    if (line_end == nullptr) return nullptr;
    constexpr std::string_view kOffset = "{\"offset\":";
    if (line_end - p > static_cast<ptrdiff_t>(kOffset.size()) &&
        std::memcmp(p, kOffset.data(), kOffset.size()) == 0) {
      const char* q = p + kOffset.size();
      Record(Digits(&q, line_end), WriteTime(p, line_end));
    } else if (std::string_view(p, static_cast<size_t>(line_end - p)) !=
               "{\"event\":\"heartbeat\"}") {
      Fail("unexpected line: " +
           std::string(p, static_cast<size_t>(line_end - p)));
    }
    return line_end + 1;
  }

  // The decimal number at *p (advanced past it), or -1.
  static int64_t Digits(const char** p, const char* end) {
    const char* q = *p;
    int64_t value = 0;
    while (q < end && static_cast<unsigned>(*q - '0') < 10) {
      value = value * 10 + (*q++ - '0');
    }
    const bool any = q != *p;
    *p = q;
    return any ? value : -1;
  }

  // The payload of a record's JSON [json, line_end), which ends with
  // "data":"<16 digits>"}.
  static int64_t WriteTime(const char* json, const char* line_end) {
    constexpr ptrdiff_t kTail = kTimeDigits + 2;  // the digits, "}
    if (line_end - json < kTail + 1 || line_end[-1] != '}' ||
        line_end[-2] != '"' || line_end[-kTail - 1] != '"') {
      return -1;
    }
    const char* digits = line_end - kTail;
    const int64_t high = EightDigits(digits), low = EightDigits(digits + 8);
    return high < 0 || low < 0 ? -1 : high * 100'000'000 + low;
  }

  // Eight decimal digits at once (the well-known SWAR reduction), or -1.
  static int64_t EightDigits(const char* p) {
    uint64_t v;
    std::memcpy(&v, p, sizeof v);
    v -= 0x3030303030303030;
    // Each byte must now be 0..9.
    if ((v & 0xF0F0F0F0F0F0F0F0) != 0 ||
        ((v + 0x0606060606060606) & 0xF0F0F0F0F0F0F0F0) != 0) {
      return -1;
    }
    v = v * 10 + (v >> 8);
    v = (((v & 0x000000FF000000FF) * (100 + (1000000ull << 32))) +
         (((v >> 16) & 0x000000FF000000FF) * (1 + (10000ull << 32)))) >>
        32;
    return static_cast<int64_t>(v);
  }

  void Record(int64_t offset, int64_t written) {
    if (offset < 0 || written < 0) return Fail("unparsable event");
    if (offset != expected_) {
      return Fail(absl::StrCat("got offset ", offset, ", expected ", expected_));
    }
    expected_ = offset + 1;
    if (offset >= timed_begin_ && offset < timed_end_) {
      histogram_->Add(now_ - written);
    }
  }

  enum State { kHeader, kSize, kData, kDataEnd, kDone };
  tcp::socket socket_;
  const bool ndjson_;
  char* const buffer_;
  Histogram* const histogram_;
  Progress* const progress_;
  const Phase* const phase_;
  std::string request_, header_, carry_, error_;
  State state_ = kHeader;
  size_t chunk_left_ = 0;
  int64_t expected_ = 0;
  int64_t timed_begin_ = 0;
  int64_t timed_end_ = 0;
  int64_t reached_ = -1;
  int64_t now_ = 0;
  int64_t errors_ = 0;
  bool closed_ = false;
};

// Clients on one thread, with their own io_context and histogram.
struct ClientThread {
  asio::io_context ioc{1};
  std::unique_ptr<char[]> buffer{new char[Client::kReadBytes]};
  Histogram histogram;
  std::vector<std::unique_ptr<Client>> clients;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>>
      work{ioc.get_executor()};
  std::thread thread;
};

// CPU seconds (user + system) per thread of a process, by thread id.
std::map<int, double> ThreadCpu(pid_t pid) {
  std::map<int, double> cpu;
  const std::string tasks = absl::StrCat("/proc/", pid, "/task/");
  std::error_code error;
  for (const auto& entry :
       std::filesystem::directory_iterator(tasks, error)) {
    const int tid = std::atoi(entry.path().filename().c_str());
    std::ifstream stat(absl::StrCat(tasks, tid, "/stat"));
    std::string all((std::istreambuf_iterator<char>(stat)),
                    std::istreambuf_iterator<char>());
    // utime and stime: the 12th and 13th fields after the command's ')'.
    const size_t paren = all.rfind(')');
    if (paren == std::string::npos) continue;
    std::vector<std::string_view> fields;
    std::string_view rest = std::string_view(all).substr(paren + 2);
    while (!rest.empty()) {
      const size_t space = rest.find(' ');
      fields.push_back(rest.substr(0, space));
      if (space == std::string_view::npos) break;
      rest.remove_prefix(space + 1);
    }
    if (fields.size() > 12) {
      cpu[tid] = static_cast<double>(Number(fields[11]) + Number(fields[12])) /
                 static_cast<double>(sysconf(_SC_CLK_TCK));
    }
  }
  return cpu;
}

int64_t RssKib(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atoll(line.c_str() + 6);
  }
  return 0;
}

// The kernel's TCP buffer memory, system-wide (both ends of every socket).
int64_t KernelTcpKib() {
  std::ifstream sockstat("/proc/net/sockstat");
  for (std::string line; std::getline(sockstat, line);) {
    if (line.rfind("TCP:", 0) != 0) continue;
    const size_t mem = line.find(" mem ");
    if (mem == std::string::npos) return 0;
    return std::atoll(line.c_str() + mem + 5) * sysconf(_SC_PAGESIZE) / 1024;
  }
  return 0;
}

bool ParseFlag(std::string_view arg, std::string_view name, int64_t* value) {
  const std::string prefix = "--" + std::string(name) + "=";
  if (arg.substr(0, prefix.size()) != prefix) return false;
  *value = Number(arg.substr(prefix.size()));
  return true;
}

// What main() compares between the two servers.
struct LoadSummary {
  bool complete = false;
  double p50_ms = 0, p99_ms = 0;
  double server_ns = 0, client_ns = 0;  // CPU per event delivered
  double server_cores = 0, client_cores = 0;
};

// One run against memlog's server or the raw sockets': forks the server,
// runs the phases, prints the report, fills *summary. False on failure.
bool RunLoad(const Flags& flags, bool raw_sockets, LoadSummary* summary) {
  // Each client is a descriptor here and one in the server.
  const auto descriptors = static_cast<rlim_t>(flags.clients) * 2 + 256;
  rlimit limit{descriptors, descriptors};
  setrlimit(RLIMIT_NOFILE, &limit);

  int to_server[2], from_server[2];
  if (pipe(to_server) != 0 || pipe(from_server) != 0) return false;
  const pid_t child = fork();
  if (child == 0) {
    close(to_server[1]);
    close(from_server[0]);
    _exit(ServerMain(flags, raw_sockets, to_server[0], from_server[1]));
  }
  close(to_server[0]);
  close(from_server[1]);
  FILE* to = fdopen(to_server[1], "w");
  FILE* from = fdopen(from_server[0], "r");
  unsigned port = 0;
  if (std::fscanf(from, "%u", &port) != 1) return false;
  const auto command = [&](const std::string& line, int64_t* a, int64_t* b) {
    std::fprintf(to, "%s\n", line.c_str());
    std::fflush(to);
    return std::fscanf(from, "%" SCNd64 " %" SCNd64, a, b) == 2;
  };
  struct PacedResult {
    int64_t writes = 0, in_write = 0, descheduled = 0, in_fast = 0, median = 0;
  };
  const auto run_paced = [&](const std::string& line, PacedResult* r) {
    std::fprintf(to, "%s\n", line.c_str());
    std::fflush(to);
    return std::fscanf(from,
                       "%" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64
                       " %" SCNd64,
                       &r->writes, &r->in_write, &r->descheduled, &r->in_fast,
                       &r->median) == 5;
  };
  const int64_t paced_records =
      static_cast<int64_t>(flags.rate) * flags.seconds;
  const std::string paced = absl::StrCat("paced ", flags.rate, " ", flags.seconds);
  const std::string burst = absl::StrCat("burst ", flags.burst);

  // 1. The writer alone: paced as with the clients, then a burst.
  PacedResult alone;
  int64_t alone_burst_wall = 0, alone_burst_cpu = 0;
  if (!run_paced(paced, &alone)) return false;
  if (flags.burst > 0 &&
      !command(burst, &alone_burst_wall, &alone_burst_cpu)) {
    return false;
  }
  int64_t written = alone.writes + flags.burst;
  const int64_t rss_before = RssKib(child);
  const int64_t tcp_before = KernelTcpKib();

  // 2. Connect the clients; each streams from the next offset.
  Progress progress;
  Phase phase;
  phase.target.store(written + paced_records);
  phase.timed_begin.store(written);
  phase.timed_end.store(written + paced_records);
  std::vector<std::unique_ptr<ClientThread>> threads;
  for (int t = 0; t < flags.client_threads; ++t) {
    threads.push_back(std::make_unique<ClientThread>());
  }
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"),
                               static_cast<uint16_t>(port));
  for (int i = 0; i < flags.clients; ++i) {
    ClientThread& thread = *threads[static_cast<size_t>(i) % threads.size()];
    thread.clients.push_back(std::make_unique<Client>(
        thread.ioc, flags.ndjson, thread.buffer.get(), &thread.histogram,
        &progress, &phase));
    thread.clients.back()->Start(endpoint, written);
  }
  for (auto& thread : threads) {
    thread->thread = std::thread([&ioc = thread->ioc] { ioc.run(); });
  }
  const int connected = progress.WaitFor(&progress.streaming, flags.clients, 60);
  const int64_t rss_idle = RssKib(child);
  const int64_t tcp_idle = KernelTcpKib();

  // 3. The paced run, the clients receiving.
  const std::map<int, double> server_cpu0 = ThreadCpu(child);
  const std::map<int, double> client_cpu0 = ThreadCpu(getpid());
  const int64_t t0 = MonotonicNanos();
  PacedResult loaded;
  if (connected == flags.clients && !run_paced(paced, &loaded)) return false;
  written += loaded.writes;
  // Every client has the run's records (bounded).
  const int caught_up = progress.WaitFor(&progress.reached, flags.clients, 30);
  const double wall = static_cast<double>(MonotonicNanos() - t0) / 1e9;
  const std::map<int, double> server_cpu1 = ThreadCpu(child);
  const std::map<int, double> client_cpu1 = ThreadCpu(getpid());

  // 4. The same burst with the clients, who must get all of it too.
  int64_t loaded_burst_wall = 0, loaded_burst_cpu = 0;
  int burst_caught_up = flags.clients;
  double burst_delivery = 0;
  if (flags.burst > 0 && caught_up == flags.clients) {
    phase.target.store(written + flags.burst);
    progress.Reset(&progress.reached);  // none can count before the burst
    const int64_t b0 = MonotonicNanos();
    if (!command(burst, &loaded_burst_wall, &loaded_burst_cpu)) return false;
    written += flags.burst;
    burst_caught_up = progress.WaitFor(&progress.reached, flags.clients, 60);
    burst_delivery = static_cast<double>(MonotonicNanos() - b0) / 1e9;
  }

  // The clients go first: the server's shutdown would send them `closed`.
  for (auto& thread : threads) {
    asio::post(thread->ioc, [&thread] {
      for (auto& client : thread->clients) client->Close();
    });
    thread->work.reset();
    thread->thread.join();
  }
  std::fprintf(to, "quit\n");
  std::fflush(to);
  waitpid(child, nullptr, 0);

  int64_t complete = 0, errors = 0;
  std::string first_error;
  Histogram histogram;
  for (auto& thread : threads) {
    histogram.Merge(thread->histogram);
    for (auto& c : thread->clients) {
      complete += c->expected() == written && c->errors() == 0;
      errors += c->errors();
      if (first_error.empty()) first_error = c->error();
    }
  }
  double io_cpu = 0, writer_cpu = 0, client_cpu = 0;
  for (const auto& [tid, seconds] : server_cpu1) {
    const auto before = server_cpu0.find(tid);
    const double used =
        seconds - (before == server_cpu0.end() ? 0 : before->second);
    (tid == child ? writer_cpu : io_cpu) += used;
  }
  for (const auto& [tid, seconds] : client_cpu1) {
    const auto before = client_cpu0.find(tid);
    client_cpu += seconds - (before == client_cpu0.end() ? 0 : before->second);
  }
  const auto per_second = [](int64_t n, int64_t ns) {
    return 1e9 * static_cast<double>(n) /
           static_cast<double>(std::max<int64_t>(1, ns));
  };
  // Throughput from the writes that ran undisturbed (see kDescheduledNanos).
  const double alone_rate =
      per_second(alone.writes - alone.descheduled, alone.in_fast);
  const double loaded_rate =
      per_second(loaded.writes - loaded.descheduled, loaded.in_fast);

  std::printf("http_load, %s: %d %s clients, %d records/s for %d s; %d "
              "server io threads, %d client threads, %ld cores\n",
              raw_sockets ? "raw sockets (the floor)" : "memlog::http::Server",
              flags.clients, flags.ndjson ? "NDJSON" : "SSE", flags.rate,
              flags.seconds, flags.server_threads, flags.client_threads,
              sysconf(_SC_NPROCESSORS_ONLN));
  std::printf("  clients with every record, in order, once: %" PRId64
              " of %d (%" PRId64 " errors%s%s)\n",
              complete, flags.clients, errors, first_error.empty() ? "" : ": ",
              first_error.c_str());
  std::printf("  paced run: %" PRId64 " events received, all clients caught "
              "up %.2f s after the run began (%d of %d); clients' reads: %.0f "
              "bytes and %.1f events each on average\n",
              histogram.count, wall, caught_up, flags.clients,
              static_cast<double>(histogram.read_bytes) /
                  static_cast<double>(std::max<int64_t>(1, histogram.reads)),
              static_cast<double>(histogram.count) /
                  static_cast<double>(std::max<int64_t>(1, histogram.reads)));
  std::printf("  write-to-client latency: p50 %.2f ms, p99 %.2f ms, p99.9 "
              "%.2f ms, max %.2f ms\n",
              histogram.PercentileMs(0.50), histogram.PercentileMs(0.99),
              histogram.PercentileMs(0.999),
              static_cast<double>(histogram.max_ns) / 1e6);
  const double events = static_cast<double>(std::max<int64_t>(1, histogram.count));
  std::printf("  CPU over the paced run and catch-up (%.1f s), %% of one core: "
              "server %.0f%% (io threads %.0f%%, writer %.0f%%), clients %.0f%%; "
              "per event delivered: server %.0f ns, clients %.0f ns\n",
              wall, 100 * (io_cpu + writer_cpu) / wall, 100 * io_cpu / wall,
              100 * writer_cpu / wall, 100 * client_cpu / wall,
              1e9 * (io_cpu + writer_cpu) / events, 1e9 * client_cpu / events);
  std::printf("  server memory per idle client: %.1f KiB (RSS %" PRId64
              " -> %" PRId64 " KiB); kernel TCP memory, both ends: %+.1f KiB "
              "per connection\n",
              static_cast<double>(rss_idle - rss_before) / flags.clients,
              rss_before, rss_idle,
              static_cast<double>(tcp_idle - tcp_before) / flags.clients);
  std::printf("  writer, paced: Write() takes %.0f ns alone, %.0f ns with the "
              "clients (medians %" PRId64 " / %" PRId64 " ns): throughput "
              "%.2f M/s -> %.2f M/s, ratio %.2f; means over the %" PRId64
              " / %" PRId64 " writes under %" PRId64 " us; with those: %.0f / "
              "%.0f ns\n",
              1e9 / alone_rate, 1e9 / loaded_rate, alone.median, loaded.median,
              alone_rate / 1e6, loaded_rate / 1e6, loaded_rate / alone_rate,
              alone.writes - alone.descheduled,
              loaded.writes - loaded.descheduled, kDescheduledNanos / 1000,
              static_cast<double>(alone.in_write) /
                  static_cast<double>(std::max<int64_t>(1, alone.writes)),
              static_cast<double>(loaded.in_write) /
                  static_cast<double>(std::max<int64_t>(1, loaded.writes)));
  if (flags.burst > 0) {
    const double alone_wall = per_second(flags.burst, alone_burst_wall);
    const double loaded_wall = per_second(flags.burst, loaded_burst_wall);
    const double alone_cpu = per_second(flags.burst, alone_burst_cpu);
    const double loaded_cpu = per_second(flags.burst, loaded_burst_cpu);
    std::printf("  writer, burst of %" PRId64 " flat out: %.2f M/s alone, %.2f "
                "M/s with the clients (ratio %.2f); per second of its "
                "thread's CPU %.2f M -> %.2f M (ratio %.2f); all clients had "
                "it %.2f s after it began (%d of %d)\n",
                flags.burst, alone_wall / 1e6, loaded_wall / 1e6,
                loaded_wall / alone_wall, alone_cpu / 1e6, loaded_cpu / 1e6,
                loaded_cpu / alone_cpu, burst_delivery, burst_caught_up,
                flags.clients);
  }
  summary->complete = complete == flags.clients;
  summary->p50_ms = histogram.PercentileMs(0.50);
  summary->p99_ms = histogram.PercentileMs(0.99);
  summary->server_ns = 1e9 * (io_cpu + writer_cpu) / events;
  summary->client_ns = 1e9 * client_cpu / events;
  summary->server_cores = (io_cpu + writer_cpu) / wall;
  summary->client_cores = client_cpu / wall;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  std::string_view servers = "both";
  int positional = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    int64_t value = 0;
    if (arg == "--format=ndjson") {
      flags.ndjson = true;
    } else if (arg == "--format=sse") {
      flags.ndjson = false;
    } else if (arg == "--server=memlog" || arg == "--server=raw" ||
               arg == "--server=both") {
      servers = arg.substr(9);
    } else if (ParseFlag(arg, "client_threads", &value)) {
      flags.client_threads = static_cast<int>(std::max<int64_t>(1, value));
    } else if (ParseFlag(arg, "server_threads", &value)) {
      flags.server_threads = static_cast<int>(std::max<int64_t>(1, value));
    } else if (ParseFlag(arg, "burst", &value)) {
      flags.burst = std::max<int64_t>(0, value);
    } else if (ParseFlag(arg, "shared_window_bytes", &value)) {
      flags.shared_window_bytes = value;

    } else if (arg.substr(0, 2) != "--" && positional < 3) {
      const int n = static_cast<int>(Number(arg));
      (positional == 0 ? flags.clients
                       : positional == 1 ? flags.rate : flags.seconds) = n;
      ++positional;
    } else {
      std::fprintf(stderr, "unknown argument: %s\n", argv[i]);
      return 2;
    }
  }

  // The floor first: what the same bytes cost over plain sockets.
  LoadSummary raw, ours;
  const bool run_raw = servers != "memlog", run_ours = servers != "raw";
  if (run_raw && !RunLoad(flags, /*raw_sockets=*/true, &raw)) return 1;
  if (run_ours && !RunLoad(flags, /*raw_sockets=*/false, &ours)) return 1;
  if (run_raw && run_ours) {
    std::printf("memlog::http::Server against raw sockets (the floor), same "
                "clients and bytes: latency p50 %.2f / %.2f ms, p99 %.2f / "
                "%.2f ms; server CPU per event %.0f / %.0f ns (%.2fx); "
                "cores used, server + clients: %.2f / %.2f\n",
                ours.p50_ms, raw.p50_ms, ours.p99_ms, raw.p99_ms,
                ours.server_ns, raw.server_ns,
                ours.server_ns / std::max(1.0, raw.server_ns),
                ours.server_cores + ours.client_cores,
                raw.server_cores + raw.client_cores);
  }
  return (!run_raw || raw.complete) && (!run_ours || ours.complete) ? 0 : 1;
}
