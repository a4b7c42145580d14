// Copyright memlog authors.
//
// The specification of memlog::http::Server (http/server.h), checked with
// curl as the client: SSE and NDJSON streams, resumption with Last-Event-ID,
// long polling, single records and ranges, sharded keys and shards, metrics,
// authentication, limits, and every error with its status and JSON body.
//
// The server runs in this process on a free loopback port; the fixture
// waits for a health request before each test. No test sleeps: a stream that
// must be open before the test acts is read until its first event.

#include "http/server.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "memlog/log.h"
#include "sharded/log.h"
#include "tests/http/http_test_support.h"

namespace memlog::http {
namespace {

using test::Curl;
using test::Get;
using test::Response;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// Replaces every "created":"<RFC 3339>" with "created":"T", checking the
// format on the way (UTC, "2026-12-01T23:20:59[.fraction]Z").
std::string WithoutTimes(const std::string& body) {
  static constexpr std::string_view kField = "\"created\":\"";
  std::string out;
  size_t at = 0;
  for (;;) {
    const size_t field = body.find(kField, at);
    if (field == std::string::npos) break;
    const size_t start = field + kField.size();
    const size_t end = body.find('"', start);
    const std::string time = body.substr(start, end - start);
    bool ok = time.size() >= 20 && time[4] == '-' && time[7] == '-' &&
              time[10] == 'T' && time[13] == ':' && time[16] == ':' &&
              time.back() == 'Z' && (time.size() == 20 || time[19] == '.');
    for (const size_t digit : {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18}) {
      ok = ok && absl::ascii_isdigit(static_cast<unsigned char>(time[digit]));
    }
    EXPECT_TRUE(ok) << "not RFC 3339 UTC: " << time;
    out += body.substr(at, start - at) + "T";
    at = end;
  }
  return out + body.substr(at);
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer({}); }

  void StartServer(ServerOptions options) {
    options.port = 0;
    if (options.heartbeat_interval == absl::Seconds(15)) {
      options.heartbeat_interval = absl::Seconds(60);
    }
    log_ = Log::Create({.segment_size = 4}).value();
    sharded_ = sharded::Log::Create({.num_shards = 4}).value();
    secret_ = Log::Create().value();
    server_ = std::make_unique<Server>(options);
    ASSERT_TRUE(server_->AddLog("events", log_.get()).ok());
    ASSERT_TRUE(server_->AddShardedLog("by-key", sharded_.get()).ok());
    ASSERT_TRUE(
        server_->AddLog("secret", secret_.get(), {.bearer_token = "s3cret"})
            .ok());
    ASSERT_TRUE(server_->Start().ok());
    ASSERT_NE(server_->port(), 0);
    // Readiness: a health request.
    const Response health = Get({Url("/health")});
    ASSERT_EQ(health.status, 200);
    ASSERT_EQ(health.body, R"({"status":"ok"})");
  }

  void TearDown() override {
    if (server_) server_->Shutdown(absl::Seconds(2));
  }

  std::string Url(std::string_view path) const {
    return absl::StrCat("http://127.0.0.1:", server_->port(),
                        std::string(path));
  }

  void Write(int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(log_->Write(absl::StrCat("r", written_++)).ok());
    }
  }

  std::unique_ptr<Log> log_;
  std::unique_ptr<sharded::Log> sharded_;
  std::unique_ptr<Log> secret_;
  std::unique_ptr<Server> server_;
  int written_ = 0;
};

// --- Server-Sent Events. ---

TEST_F(ServerTest, SseSendsOneEventPerRecordWithItsIdThenClosed) {
  Write(2);
  ASSERT_TRUE(log_->Write(std::string("\xff\x00\x01", 3)).ok());
  log_->Close();
  const Response r = Get({"-N", Url("/v1/logs/events/records?from=0")});
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.headers, HasSubstr("Content-Type: text/event-stream"));
  EXPECT_EQ(WithoutTimes(r.body),
            "retry: 1000\n\n"
            "id: 0\ndata: {\"offset\":0,\"created\":\"T\",\"data\":\"r0\"}\n\n"
            "id: 1\ndata: {\"offset\":1,\"created\":\"T\",\"data\":\"r1\"}\n\n"
            "id: 2\ndata: {\"offset\":2,\"created\":\"T\","
            "\"data_base64\":\"/wAB\"}\n\n"
            "event: closed\ndata: {\"reason\":\"log closed\"}\n\n");
}

TEST_F(ServerTest, SseResumesAfterTheLastEventId) {
  Write(4);
  log_->Close();
  const Response r = Get({"-N", "-H", "Last-Event-ID: 1",
                          Url("/v1/logs/events/records?from=0")});
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.body, Not(HasSubstr("id: 1\n")));
  EXPECT_THAT(r.body, HasSubstr("retry: 1000\n\nid: 2\n"));
  EXPECT_THAT(r.body, HasSubstr("id: 3\n"));
}

TEST_F(ServerTest, SseReportsAPurgeAsLaggedAndContinuesFromTheEarliest) {
  Write(10);  // segment_size 4: offsets 4 to 9 are retained
  log_->Close();
  const Response r = Get({"-N", Url("/v1/logs/events/records?from=0")});
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.body,
              HasSubstr("event: lagged\nid: 3\ndata: "
                        "{\"missed\":4,\"exact\":true,\"from\":4}\n\n"
                        "id: 4\n"));
}

TEST_F(ServerTest, SseDeliversRecordsWrittenWhileTheStreamWaits) {
  Curl stream({"-N", Url("/v1/logs/events/records?from=0")});
  Write(1);
  std::string line;
  while (stream.ReadLine(&line) && line != "id: 0") {
  }
  ASSERT_EQ(line, "id: 0");  // the stream is open and waiting
  Write(2);
  log_->Close();
  const Response r = stream.ReadAll();
  EXPECT_THAT(r.body, HasSubstr("id: 1\n"));
  EXPECT_THAT(r.body, HasSubstr("id: 2\n"));
  EXPECT_THAT(r.body, HasSubstr("event: closed\n"));
}

TEST_F(ServerTest, ShutdownEndsOpenStreamsWithClosed) {
  Curl stream({"-N", Url("/v1/logs/events/records?from=0")});
  Write(1);
  std::string line;
  while (stream.ReadLine(&line) && line != "id: 0") {
  }
  ASSERT_EQ(line, "id: 0");
  server_->Shutdown(absl::Seconds(2));
  const Response r = stream.ReadAll();
  EXPECT_THAT(r.body, HasSubstr("event: closed\ndata: "
                                "{\"reason\":\"server shutting down\"}\n\n"));
}

TEST_F(ServerTest, SseSendsHeartbeatCommentsWhileIdle) {
  server_->Shutdown();
  StartServer({.heartbeat_interval = absl::Milliseconds(50)});
  Curl stream({"-N", Url("/v1/logs/events/records?from=0")});
  std::string line;
  while (stream.ReadLine(&line) && line != ": heartbeat") {
  }
  EXPECT_EQ(line, ": heartbeat");
}

// --- NDJSON. ---

TEST_F(ServerTest, NdjsonSendsOneObjectPerLineThenClosed) {
  Write(2);
  log_->Close();
  const Response r = Get({"-N", "-H", "Accept: application/x-ndjson",
                          Url("/v1/logs/events/records?from=0")});
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.headers, HasSubstr("Content-Type: application/x-ndjson"));
  EXPECT_THAT(r.headers, HasSubstr("Transfer-Encoding: chunked"));
  EXPECT_EQ(WithoutTimes(r.body),
            "{\"offset\":0,\"created\":\"T\",\"data\":\"r0\"}\n"
            "{\"offset\":1,\"created\":\"T\",\"data\":\"r1\"}\n"
            "{\"event\":\"closed\",\"reason\":\"log closed\"}\n");
}

// --- Long polling. ---

TEST_F(ServerTest, LongPollReturnsUpToLimitRecordsAtOnce) {
  Write(3);
  const Response r =
      Get({Url("/v1/logs/events/records?from=0&limit=2&wait=5s")});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(WithoutTimes(r.body),
            "[{\"offset\":0,\"created\":\"T\",\"data\":\"r0\"},"
            "{\"offset\":1,\"created\":\"T\",\"data\":\"r1\"}]");
}

TEST_F(ServerTest, LongPollAnswersAsSoonAsARecordIsWritten) {
  // Whether the write lands before or during the wait, the answer is the
  // record; only a lost wake-up would make it wait the full 20 s and fail.
  Curl poll({Url("/v1/logs/events/records?from=0&wait=20s")});
  Write(1);
  const Response r = poll.ReadAll();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(WithoutTimes(r.body),
            "[{\"offset\":0,\"created\":\"T\",\"data\":\"r0\"}]");
}

TEST_F(ServerTest, LongPollEndsWithAnEmptyArrayWhenTheWaitEnds) {
  const Response r = Get({Url("/v1/logs/events/records?from=0&wait=100ms")});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "[]");
}

TEST_F(ServerTest, ANonWaitingPollOfTheFutureIs404WithTheLatest) {
  Write(2);
  const Response r = Get({Url("/v1/logs/events/records?from=5&limit=1")});
  EXPECT_EQ(r.status, 404);
  EXPECT_THAT(r.body, StartsWith("{\"error\":\"future_offset\""));
  EXPECT_THAT(r.body, HasSubstr("\"latest\":1}"));
}

TEST_F(ServerTest, APollOfAPurgedOffsetIs410WithTheEarliest) {
  Write(10);
  const Response r = Get({Url("/v1/logs/events/records?from=0&limit=5")});
  EXPECT_EQ(r.status, 410);
  EXPECT_THAT(r.body, StartsWith("{\"error\":\"purged_offset\""));
  EXPECT_THAT(r.body, HasSubstr("\"earliest\":4}"));
}

// --- One record, range. ---

TEST_F(ServerTest, OneRecordByOffset) {
  Write(2);
  const Response r = Get({Url("/v1/logs/events/records/1")});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(WithoutTimes(r.body),
            "{\"offset\":1,\"created\":\"T\",\"data\":\"r1\"}");
}

TEST_F(ServerTest, ReadErrorsSayWhatIsValid) {
  Write(10);
  Response r = Get({Url("/v1/logs/events/records/0")});
  EXPECT_EQ(r.status, 410);
  EXPECT_EQ(r.body,
            "{\"error\":\"purged_offset\",\"message\":\"offset 0 is purged; "
            "earliest available is 4\",\"earliest\":4}");
  r = Get({Url("/v1/logs/events/records/10")});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body,
            "{\"error\":\"future_offset\",\"message\":\"offset 10 is not "
            "written yet; latest is 9\",\"latest\":9}");
  r = Get({Url("/v1/logs/events/records/x")});
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, StartsWith("{\"error\":\"bad_offset\""));
}

TEST_F(ServerTest, RangeGivesEarliestAndLatest) {
  Response r = Get({Url("/v1/logs/events/range")});
  EXPECT_EQ(r.body, "{\"earliest\":null,\"latest\":null}");
  Write(10);
  r = Get({Url("/v1/logs/events/range")});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{\"earliest\":4,\"latest\":9}");
}

// --- Bad requests. ---

TEST_F(ServerTest, ABadFromIs400) {
  for (const char* from : {"abc", "-1", "99999999999999999999", "1.5", ""}) {
    const Response r =
        Get({Url(absl::StrCat("/v1/logs/events/records?from=", from))});
    EXPECT_EQ(r.status, 400) << from;
    EXPECT_EQ(r.body,
              absl::StrCat("{\"error\":\"bad_from\",\"message\":\"from must "
                           "be a decimal offset in [0, 9223372036854775806]; "
                           "got '",
                           from, "'\"}"))
        << from;
  }
}

TEST_F(ServerTest, BadLimitWaitAndLastEventIdAre400) {
  EXPECT_EQ(Get({Url("/v1/logs/events/records?from=0&limit=0")}).status, 400);
  EXPECT_EQ(Get({Url("/v1/logs/events/records?from=0&limit=99999")}).status,
            400);
  EXPECT_EQ(Get({Url("/v1/logs/events/records?from=0&wait=soon")}).status,
            400);
  EXPECT_EQ(Get({"-H", "Last-Event-ID: x",
                 Url("/v1/logs/events/records?from=0")})
                .status,
            400);
}

TEST_F(ServerTest, AnUnknownLogIs404) {
  const Response r = Get({Url("/v1/logs/nope/records?from=0")});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body,
            "{\"error\":\"unknown_log\",\"message\":\"no log named nope is "
            "served; see /v1/logs\"}");
}

TEST_F(ServerTest, AnUnknownPathIs404AndOtherMethodsAre405) {
  EXPECT_EQ(Get({Url("/nothing/here")}).status, 404);
  const Response r = Get({"-X", "POST", Url("/v1/logs/events/records")});
  EXPECT_EQ(r.status, 405);
  EXPECT_THAT(r.headers, HasSubstr("Allow: GET"));
}

TEST_F(ServerTest, TheLogsAreListed) {
  const Response r = Get({Url("/v1/logs")});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            "{\"logs\":[{\"name\":\"by-key\",\"kind\":\"sharded\",\"shards\":"
            "4,\"auth\":false},{\"name\":\"events\",\"kind\":\"log\",\"auth\":"
            "false},{\"name\":\"secret\",\"kind\":\"log\",\"auth\":true}]}");
}

// --- Sharded logs. ---

TEST_F(ServerTest, AShardedLogsBareRecordsIs400NamingBothForms) {
  const Response r = Get({Url("/v1/logs/by-key/records?from=0")});
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, StartsWith("{\"error\":\"sharded_log\""));
  EXPECT_THAT(r.body, HasSubstr("/v1/logs/by-key/keys/{key}/records"));
  EXPECT_THAT(r.body, HasSubstr("/v1/logs/by-key/shards/{n}/records"));
}

TEST_F(ServerTest, AKeyIsPercentEncodedAndOnlyItsRecordsAreStreamed) {
  const std::string key("a/b c\xff", 6);
  ASSERT_TRUE(sharded_->Write(key, "mine 1").ok());
  ASSERT_TRUE(sharded_->Write("other", "not mine").ok());
  ASSERT_TRUE(sharded_->Write(key, "mine 2").ok());
  sharded_->Close();
  const Response r = Get({"-N", "-H", "Accept: application/x-ndjson",
                          Url("/v1/logs/by-key/keys/a%2Fb%20c%FF/records?from=0")});
  EXPECT_EQ(r.status, 200);
  const std::string body = WithoutTimes(r.body);
  EXPECT_THAT(body, HasSubstr("\"key_base64\":\"YS9iIGP/\",\"data\":\"mine 1\"}"));
  EXPECT_THAT(body, HasSubstr("\"data\":\"mine 2\"}\n{\"event\":\"closed\""));
  EXPECT_THAT(body, Not(HasSubstr("not mine")));
}

TEST_F(ServerTest, AKeysRecordAndRange) {
  const absl::StatusOr<Offset> offset = sharded_->Write("k", "v");
  ASSERT_TRUE(offset.ok());
  Response r = Get({Url(absl::StrCat("/v1/logs/by-key/keys/k/records/", *offset))});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(WithoutTimes(r.body),
            absl::StrCat("{\"offset\":", *offset,
                         ",\"created\":\"T\",\"key\":\"k\",\"data\":\"v\"}"));
  r = Get({Url("/v1/logs/by-key/keys/k/range")});
  EXPECT_EQ(r.body, absl::StrCat("{\"earliest\":", *offset, ",\"latest\":",
                                 *offset, "}"));
}

TEST_F(ServerTest, AShardStreamHasEveryKeyOfTheShard) {
  const size_t shard = sharded_->ShardFor("k").value();
  ASSERT_TRUE(sharded_->Write("k", "v1").ok());
  sharded_->Close();
  const Response r = Get(
      {"-N", Url(absl::StrCat("/v1/logs/by-key/shards/", shard, "/records?from=0"))});
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(WithoutTimes(r.body),
              HasSubstr("id: 0\ndata: {\"offset\":0,\"created\":\"T\","
                        "\"key\":\"k\",\"data\":\"v1\"}\n\n"));
}

TEST_F(ServerTest, AnUnknownShardIs404) {
  const Response r = Get({Url("/v1/logs/by-key/shards/4/records?from=0")});
  EXPECT_EQ(r.status, 404);
  EXPECT_THAT(r.body, HasSubstr("\"shards\":4}"));
}

// --- Authentication, metrics, limits. ---

TEST_F(ServerTest, ALogWithATokenNeedsIt) {
  Response r = Get({Url("/v1/logs/secret/range")});
  EXPECT_EQ(r.status, 401);
  EXPECT_THAT(r.headers, HasSubstr("WWW-Authenticate: Bearer"));
  r = Get({"-H", "Authorization: Bearer wrong", Url("/v1/logs/secret/range")});
  EXPECT_EQ(r.status, 401);
  r = Get({"-H", "Authorization: Bearer s3cret", Url("/v1/logs/secret/range")});
  EXPECT_EQ(r.status, 200);
  // Other logs need none.
  EXPECT_EQ(Get({Url("/v1/logs/events/range")}).status, 200);
}

TEST_F(ServerTest, MetricsAreInThePrometheusTextFormat) {
  Write(3);
  Get({Url("/v1/logs/nope/range")});
  Get({Url("/v1/logs/secret/range")});
  const Response r = Get({Url("/metrics")});
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.headers, HasSubstr("text/plain; version=0.0.4"));
  EXPECT_THAT(r.body, HasSubstr("# TYPE memlog_log_records gauge\n"));
  EXPECT_THAT(r.body, HasSubstr("memlog_log_records{log=\"events\"} 3\n"));
  EXPECT_THAT(r.body, HasSubstr("memlog_log_latest_offset{log=\"events\"} 2\n"));
  EXPECT_THAT(r.body, HasSubstr("memlog_http_connections 1\n"));
  EXPECT_THAT(r.body, HasSubstr("# TYPE memlog_http_requests_total counter\n"));
  EXPECT_THAT(r.body, HasSubstr(
      "memlog_http_rejected_requests_total{reason=\"unauthorized\"} 1\n"));
}

TEST_F(ServerTest, TooLargeHeadersAre431AndTooLongTargetsAre414) {
  Response r = Get({"-H", "X-Big: " + std::string(20'000, 'x'),
                    Url("/health")});
  EXPECT_EQ(r.status, 431);
  EXPECT_THAT(r.body, StartsWith("{\"error\":\"header_too_large\""));
  r = Get({Url("/v1/logs/events/records?from=0&pad=" + std::string(5'000, 'x'))});
  EXPECT_EQ(r.status, 414);
  EXPECT_THAT(r.body, StartsWith("{\"error\":\"uri_too_long\""));
  EXPECT_EQ(Get({Url("/health")}).status, 200);
}

TEST_F(ServerTest, ConnectionsBeyondTheLimitAre503) {
  server_->Shutdown();
  StartServer({.max_connections = 1});
  // The fixture's health request has gone; hold the one connection with a
  // stream.
  Curl stream({"-N", Url("/v1/logs/events/records?from=0")});
  Write(1);
  std::string line;
  while (stream.ReadLine(&line) && line != "id: 0") {
  }
  ASSERT_EQ(line, "id: 0");
  const Response r = Get({Url("/health")});
  EXPECT_EQ(r.status, 503);
  EXPECT_THAT(r.body, StartsWith("{\"error\":\"too_many_connections\""));
}

TEST_F(ServerTest, PagesAreServed) {
  server_->Shutdown();
  server_ = std::make_unique<Server>(ServerOptions{.port = 0});
  ASSERT_TRUE(server_->AddPage("/", "text/html", "<p>hi</p>").ok());
  ASSERT_TRUE(server_->Start().ok());
  const Response r = Get({Url("/")});
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.headers, HasSubstr("Content-Type: text/html"));
  EXPECT_EQ(r.body, "<p>hi</p>");
}

TEST(ServerConfigTest, RegistrationErrorsAndTheDefaultAddress) {
  auto log = Log::Create().value();
  Server server;
  EXPECT_TRUE(absl::IsInvalidArgument(server.AddLog("", log.get())));
  EXPECT_TRUE(absl::IsInvalidArgument(server.AddLog("a/b", log.get())));
  EXPECT_TRUE(server.AddLog("a", log.get()).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(server.AddLog("a", log.get())));
  EXPECT_EQ(ServerOptions().address, "127.0.0.1");
}

TEST(ServerConfigTest, APortInUseFailsToStart) {
  Server first(ServerOptions{.port = 0});
  ASSERT_TRUE(first.Start().ok());
  Server second(ServerOptions{.port = first.port()});
  EXPECT_TRUE(absl::IsUnavailable(second.Start()));
}

}  // namespace
}  // namespace memlog::http
