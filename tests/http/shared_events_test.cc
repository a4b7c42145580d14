// Copyright memlog authors.
//
// Many streams of one log (curl clients): whether a stream's events come
// from the events its log's streams share (ServerOptions::
// shared_window_bytes) or from its own reading, as it starts behind, falls
// behind or meets a purge, every stream accounts for every offset exactly
// once and in order: as a record or in the count of a `lagged` event. Each
// test runs with sharing at its default, with a window so small that streams
// keep leaving it, and with sharing off.
//
// No test sleeps: a stream that must be open before records are written is
// read until its first event.

#include <charconv>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "http/server.h"
#include "memlog/log.h"
#include "tests/http/http_test_support.h"

namespace memlog::http {
namespace {

using test::Curl;
using test::Get;
using test::Response;

// The integer after `"name":` in `json`, or -1.
int64_t Field(std::string_view json, std::string_view name) {
  const std::string key = "\"" + std::string(name) + "\":";
  const size_t at = json.find(key);
  if (at == std::string_view::npos) return -1;
  int64_t value = -1;
  std::from_chars(json.data() + at + key.size(), json.data() + json.size(),
                  value);
  return value;
}

// `text` cut at each `separator`.
std::vector<std::string_view> Split(std::string_view text,
                                    std::string_view separator) {
  std::vector<std::string_view> parts;
  for (;;) {
    const size_t at = text.find(separator);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + separator.size());
  }
}

// What a stream's body accounts for, event by event.
struct Account {
  int64_t next = 0;      // the offset due next
  int64_t records = 0;   // records received
  int64_t missed = 0;    // offsets reported by `lagged`
  bool closed = false;   // ended with `closed`
  std::string error;     // the first event out of order, if any
};

Account Check(const std::string& body, bool ndjson, int64_t from) {
  Account account;
  account.next = from;
  const auto record = [&](int64_t offset) {
    if (account.closed || offset != account.next) {
      if (account.error.empty()) {
        account.error = absl::StrCat("record ", offset, " where ",
                                     account.next, " was due");
      }
    }
    account.next = offset + 1;
    ++account.records;
  };
  const auto lagged = [&](std::string_view json) {
    const int64_t missed = Field(json, "missed");
    const int64_t continue_from = Field(json, "from");
    if (missed != continue_from - account.next && account.error.empty()) {
      account.error = absl::StrCat("lagged ", missed, " to ", continue_from,
                                   " where ", account.next, " was due");
    }
    account.missed += missed;
    account.next = continue_from;
  };
  if (ndjson) {
    for (std::string_view line : Split(body, "\n")) {
      if (line.substr(0, 10) == "{\"offset\":") {
        record(Field(line, "offset"));
      } else if (line.substr(0, 18) == "{\"event\":\"lagged\",") {
        lagged(line);
      } else if (line.substr(0, 18) == "{\"event\":\"closed\",") {
        account.closed = true;
      } else if (!line.empty() && account.error.empty()) {
        account.error = "unexpected line: " + std::string(line);
      }
    }
    return account;
  }
  for (std::string_view event : Split(body, "\n\n")) {
    const size_t data = event.find("data: ");
    const std::string_view json =
        data == std::string_view::npos ? "" : event.substr(data + 6);
    if (event.substr(0, 4) == "id: " && json.substr(0, 10) == "{\"offset\":") {
      const int64_t offset = Field(json, "offset");
      if (event.substr(4, event.find('\n') - 4) != absl::StrCat(offset) &&
          account.error.empty()) {
        account.error = "id and offset differ: " + std::string(event);
      }
      record(offset);
    } else if (event.substr(0, 14) == "event: lagged\n") {
      lagged(json);
    } else if (event.substr(0, 14) == "event: closed\n") {
      account.closed = true;
    } else if (!event.empty() && event.substr(0, 7) != "retry: " &&
               account.error.empty()) {
      account.error = "unexpected event: " + std::string(event);
    }
  }
  return account;
}

// Records per segment where nothing must be purged.
constexpr int64_t kRetained = 1 << 16;

struct Sharing {
  const char* name;
  // < 0: the server's default.
  int64_t window_bytes;
};

class SharedEventsTest : public ::testing::TestWithParam<Sharing> {
 protected:
  void Start(memlog::Options log_options) {
    ServerOptions options{.port = 0, .heartbeat_interval = absl::Seconds(60)};
    if (GetParam().window_bytes >= 0) {
      options.shared_window_bytes =
          static_cast<size_t>(GetParam().window_bytes);
    }
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
  void Write(int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(log_->Write(absl::StrCat("record ", written_++)).ok());
    }
  }
  // The value of an unlabelled metric, or -1.
  int64_t Metric(std::string_view name) {
    const std::string body = Get({Url("/metrics")}).body;
    const std::string line = "\n" + std::string(name) + " ";
    const size_t at = body.find(line);
    if (at == std::string::npos) return -1;
    int64_t value = -1;
    std::from_chars(body.data() + at + line.size(), body.data() + body.size(),
                    value);
    return value;
  }
  // Streams from `from`, every other one NDJSON.
  struct Stream {
    std::unique_ptr<Curl> curl;
    bool ndjson;
    int64_t from;
  };
  Stream Open(int i, int64_t from) {
    std::vector<std::string> args = {"-N"};
    const bool ndjson = i % 2 == 1;
    if (ndjson) {
      args.push_back("-H");
      args.push_back("Accept: application/x-ndjson");
    }
    args.push_back(Url(absl::StrCat("/v1/logs/events/records?from=", from)));
    return {std::make_unique<Curl>(args), ndjson, from};
  }
  // Reads `stream` until its first record (so it is open and served).
  static void AwaitFirstRecord(Stream& stream) {
    const std::string first =
        stream.ndjson ? absl::StrCat("{\"offset\":", stream.from, ",")
                      : absl::StrCat("id: ", stream.from);
    std::string line;
    while (stream.curl->ReadLine(&line) && line.rfind(first, 0) != 0) {
    }
    ASSERT_EQ(line.rfind(first, 0), 0u) << line;
  }
  // Reads the rest of `stream`: what its whole body accounts for.
  static Account Finish(Stream& stream) {
    return Check(stream.curl->ReadAll().body, stream.ndjson, stream.from);
  }

  std::unique_ptr<Log> log_;
  std::unique_ptr<Server> server_;
  int written_ = 0;
};

TEST_P(SharedEventsTest, ManyStreamsAtTheEndEachGetEveryRecordOnceInOrder) {
  Start({.segment_size = kRetained});
  Write(1);
  std::vector<Stream> streams;
  for (int i = 0; i < 6; ++i) streams.push_back(Open(i, 0));
  for (Stream& stream : streams) AwaitFirstRecord(stream);
  // Record 0 was formatted once, for all (or by each, with sharing off).
  const int64_t shared = Metric("memlog_http_shared_event_bytes");
  if (GetParam().window_bytes == 0) {
    EXPECT_EQ(shared, 0);
  } else {
    EXPECT_GT(shared, 0);
  }
  for (int burst = 0; burst < 20; ++burst) Write(50);
  log_->Close();
  for (Stream& stream : streams) {
    const Account account = Finish(stream);
    EXPECT_EQ(account.error, "");
    EXPECT_EQ(account.records, 1001);
    EXPECT_EQ(account.missed, 0);
    EXPECT_EQ(account.next, 1001);
    EXPECT_TRUE(account.closed);
  }
}

TEST_P(SharedEventsTest, AStreamThatStartsFarBehindCatchesUpThenGoesOn) {
  Start({.segment_size = kRetained});
  Write(1);
  Stream at_end = Open(0, 0);
  AwaitFirstRecord(at_end);
  Write(2000);  // far more than the small window holds
  Stream behind = Open(1, 0);
  Stream middle = Open(2, 1500);
  AwaitFirstRecord(behind);
  AwaitFirstRecord(middle);
  Write(500);
  log_->Close();
  for (Stream* stream : {&at_end, &behind, &middle}) {
    const Account account = Finish(*stream);
    EXPECT_EQ(account.error, "");
    EXPECT_EQ(account.records, 2501 - stream->from);
    EXPECT_EQ(account.missed, 0);
    EXPECT_EQ(account.next, 2501);
    EXPECT_TRUE(account.closed);
  }
}

TEST_P(SharedEventsTest, APurgeThatOvertakesStreamsIsReportedAsLagged) {
  // 4 records per segment, a few segments retained: writes purge quickly,
  // while the streams (and their shared events) are still behind.
  Start({.segment_size = 4});
  Write(1);
  std::vector<Stream> streams;
  for (int i = 0; i < 4; ++i) streams.push_back(Open(i, 0));
  for (Stream& stream : streams) AwaitFirstRecord(stream);
  Write(3000);
  log_->Close();
  for (Stream& stream : streams) {
    const Account account = Finish(stream);
    EXPECT_EQ(account.error, "");
    // Every offset once: received or counted as missed.
    EXPECT_EQ(account.records + account.missed, 3001);
    EXPECT_EQ(account.next, 3001);
    EXPECT_TRUE(account.closed);
  }
}

TEST_P(SharedEventsTest, AStreamFromTheFutureStartsAtItsOffset) {
  Start({.segment_size = kRetained});
  Write(1);
  Stream at_end = Open(0, 0);
  AwaitFirstRecord(at_end);
  Stream ahead = Open(1, 100);
  Stream also_ahead = Open(2, 50);
  Write(200);
  AwaitFirstRecord(ahead);
  AwaitFirstRecord(also_ahead);
  log_->Close();
  for (Stream* stream : {&at_end, &ahead, &also_ahead}) {
    const Account account = Finish(*stream);
    EXPECT_EQ(account.error, "");
    EXPECT_EQ(account.records, 201 - stream->from);
    EXPECT_EQ(account.missed, 0);
    EXPECT_TRUE(account.closed);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Sharing, SharedEventsTest,
    ::testing::Values(Sharing{"Default", -1}, Sharing{"SmallWindow", 1024},
                      Sharing{"Off", 0}),
    [](const ::testing::TestParamInfo<Sharing>& sharing) {
      return std::string(sharing.param.name);
    });

}  // namespace
}  // namespace memlog::http
