// Copyright memlog authors.
//
// Faults: clients that send garbage or half requests, disconnect
// mid-stream, or never read. Invariants: the server answers or closes each
// of them within its limits, its memory stays bounded (the stream buffers it
// reports in /metrics), the writer is never held up, and other clients get
// every record. Nothing here sleeps to synchronise: a condition the server
// reaches on its own clock (a timeout) is polled for in /metrics, with a
// deadline.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "http/server.h"
#include "memlog/log.h"
#include "tests/http/http_test_support.h"

namespace memlog::http {
namespace {

using test::Curl;
using test::Get;
using test::Response;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// A raw TCP client; every read gives up after 10 s so that a test fails
// instead of hanging.
class RawClient {
 public:
  explicit RawClient(uint16_t port, int receive_buffer = 0) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    if (receive_buffer > 0) {
      setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer,
                 sizeof receive_buffer);
    }
    timeval timeout{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&address),
                         sizeof address) == 0;
  }
  ~RawClient() { Close(); }

  bool connected() const { return connected_; }
  void Send(std::string_view bytes) {
    ASSERT_EQ(send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  // Reads until `wanted` appears or the peer closes; returns all read.
  std::string ReadUntil(std::string_view wanted) {
    std::string got;
    char buffer[4096];
    while (got.find(wanted) == std::string::npos) {
      const ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      got.append(buffer, static_cast<size_t>(n));
    }
    return got;
  }
  // True if the server closed the connection (a read returns 0 or reset)
  // rather than the read timing out.
  bool ClosedByServer() {
    char buffer[4096];
    for (;;) {
      const ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
    }
  }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

class FaultTest : public ::testing::Test {
 protected:
  void Start(ServerOptions options, memlog::Options log_options = {}) {
    options.port = 0;
    log_ = Log::Create(log_options).value();
    server_ = std::make_unique<Server>(options);
    ASSERT_TRUE(server_->AddLog("events", log_.get()).ok());
    ASSERT_TRUE(server_->Start().ok());
    ASSERT_EQ(Get({Url("/health")}).status, 200);
  }
  void TearDown() override {
    if (server_) server_->Shutdown(absl::Seconds(2));
  }
  std::string Url(std::string_view path) const {
    return absl::StrCat("http://127.0.0.1:", server_->port(),
                        std::string(path));
  }
  // The value of an unlabelled metric.
  int64_t Metric(std::string_view name) {
    const Response r = Get({Url("/metrics")});
    const std::string prefix = absl::StrCat("\n", std::string(name), " ");
    const size_t at = r.body.find(prefix);
    if (at == std::string::npos) return -1;
    const size_t start = at + prefix.size();
    int64_t value = -1;
    EXPECT_TRUE(absl::SimpleAtoi(
        r.body.substr(start, r.body.find('\n', start) - start), &value));
    return value;
  }
  // Polls `name` until it equals `value` (the server's own clock decides
  // when); false at the deadline.
  bool MetricBecomes(std::string_view name, int64_t value) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (absl::Now() < deadline) {
      if (Metric(name) == value) return true;
      absl::SleepFor(absl::Milliseconds(20));  // polling interval
    }
    return false;
  }

  std::unique_ptr<Log> log_;
  std::unique_ptr<Server> server_;
};

TEST_F(FaultTest, GarbageIsAnswered400AndClosed) {
  Start({});
  RawClient client(server_->port());
  ASSERT_TRUE(client.connected());
  client.Send(std::string("\x16\x03\x01 not http at all\r\n\r\n", 24));
  EXPECT_THAT(client.ReadUntil("\r\n\r\n"), StartsWith("HTTP/1.1 400"));
  EXPECT_TRUE(client.ClosedByServer());
  EXPECT_EQ(Get({Url("/health")}).status, 200);
}

TEST_F(FaultTest, HalfRequestsAndSilentConnectionsAreClosedAtTheHeaderTimeout) {
  Start({.header_timeout = absl::Milliseconds(200)});
  RawClient half(server_->port());
  RawClient silent(server_->port());
  half.Send("GET /health HTTP/1.1\r\nHost: x\r\n");  // never finished
  EXPECT_TRUE(half.ClosedByServer());
  EXPECT_TRUE(silent.ClosedByServer());
  EXPECT_EQ(Get({Url("/health")}).status, 200);
  EXPECT_GE(Metric("memlog_http_timeouts_total"), 2);
}

TEST_F(FaultTest, ManyBadClientsAtOnceLeaveTheServerServing) {
  Start({.header_timeout = absl::Milliseconds(300)});
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 50; ++i) {
    clients.push_back(std::make_unique<RawClient>(server_->port()));
    if (i % 3 == 0) clients.back()->Send("GET /v1/logs/events/rec");
    if (i % 3 == 1) clients.back()->Send("\r\n\r\n\r\n");
  }
  ASSERT_TRUE(log_->Write("still served").ok());
  const Response r = Get({Url("/v1/logs/events/records/0")});
  EXPECT_EQ(r.status, 200);
  for (auto& client : clients) EXPECT_TRUE(client->ClosedByServer());
  EXPECT_TRUE(MetricBecomes("memlog_http_connections", 1));  // this request
}

TEST_F(FaultTest, AClientThatDisconnectsMidStreamIsForgotten) {
  Start({});
  RawClient client(server_->port());
  client.Send("GET /v1/logs/events/records?from=0 HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(log_->Write("first").ok());
  ASSERT_THAT(client.ReadUntil("id: 0\n"), HasSubstr("id: 0\n"));
  client.Close();
  // The server notices at once (it reads from streaming clients), without
  // a write to fail.
  EXPECT_TRUE(MetricBecomes("memlog_http_streams", 0));
  EXPECT_TRUE(MetricBecomes("memlog_http_connections", 1));
}

// Invariant: a client that never reads (its TCP window fills) costs the
// server at most its stream buffer; the writer and another client, reading
// the same log, go on at full speed and get every record.
TEST_F(FaultTest, AClientThatNeverReadsIsBoundedAndSlowsNoOne) {
  constexpr int kRecords = 5'000;
  constexpr size_t kBuffer = 16 * 1024;
  Start({.max_buffered_bytes = kBuffer}, {.segment_size = 2 * kRecords});
  RawClient stalled(server_->port(), /*receive_buffer=*/4096);
  stalled.Send(
      "GET /v1/logs/events/records?from=0 HTTP/1.1\r\nHost: x\r\n\r\n");
  Curl good({"-N", "-H", "Accept: application/x-ndjson",
             Url("/v1/logs/events/records?from=0")});
  const std::string payload(1024, 'p');
  for (int i = 0; i < kRecords; ++i) ASSERT_TRUE(log_->Write(payload).ok());
  // Two buffers (one being written, one filling) and one batch of records
  // beyond the limit, per stream; two streams.
  const int64_t bound = 2 * (2 * static_cast<int64_t>(kBuffer) + 64 * 1200);
  EXPECT_LE(Metric("memlog_http_buffered_bytes"), bound);
  log_->Close();
  const Response r = good.ReadAll();
  int lines = 0;
  for (const char c : r.body) lines += c == '\n';
  EXPECT_EQ(lines, kRecords + 1);  // every record, then closed
  EXPECT_THAT(r.body, HasSubstr("{\"event\":\"closed\""));
  EXPECT_LE(Metric("memlog_http_buffered_bytes"), bound);
  EXPECT_EQ(Metric("memlog_http_streams"), 1);  // the stalled one, still open
}

TEST_F(FaultTest, AClientThatNeverReadsIsDroppedAtTheWriteTimeout) {
  // More than the kernel's socket buffers hold, so that a write blocks.
  Start({.write_timeout = absl::Milliseconds(300)},
        {.segment_size = 40'000});
  RawClient stalled(server_->port(), /*receive_buffer=*/4096);
  stalled.Send(
      "GET /v1/logs/events/records?from=0 HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string payload(1024, 'p');
  for (int i = 0; i < 20'000; ++i) ASSERT_TRUE(log_->Write(payload).ok());
  EXPECT_TRUE(MetricBecomes("memlog_http_streams", 0));
  EXPECT_GE(Metric("memlog_http_timeouts_total"), 1);
}

}  // namespace
}  // namespace memlog::http
