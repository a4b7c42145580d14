// Copyright memlog authors.
//
// memlog::jetstream::Publisher against a real single-node nats-server:
// every record lands once, at sequence offset + constant, in order; a
// publisher resumes from what the stream holds; bad streams are reported.

#include "jetstream/publisher.h"

#include <nats/nats.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "jetstream/connection.h"
#include "jetstream/status.h"
#include "memlog/log.h"
#include "tests/jetstream/nats_server.h"

namespace memlog::jetstream {
namespace {

using testing::NatsServer;

constexpr absl::Duration kWait = absl::Seconds(30);

class PublisherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<NatsServer>> server = NatsServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    absl::StatusOr<std::unique_ptr<Connection>> connection =
        Connection::Connect({.servers = {server_->url()}});
    ASSERT_TRUE(connection.ok()) << connection.status();
    connection_ = *std::move(connection);
  }

  std::unique_ptr<Log> NewLog(Options options = {.start_offset = 1}) {
    absl::StatusOr<std::unique_ptr<Log>> log = Log::Create(std::move(options));
    EXPECT_TRUE(log.ok()) << log.status();
    return *std::move(log);
  }

  // Returns the message at `seq` of `stream` (the caller destroys it).
  natsMsg* GetMessage(const std::string& stream, uint64_t seq) {
    natsMsg* msg = nullptr;
    jsErrCode error_code = static_cast<jsErrCode>(0);
    EXPECT_EQ(js_GetMsg(&msg, connection_->admin(), stream.c_str(), seq,
                        nullptr, &error_code),
              NATS_OK)
        << "sequence " << seq;
    return msg;
  }

  std::string Header(natsMsg* msg, const char* name) {
    const char* value = nullptr;
    if (natsMsgHeader_Get(msg, name, &value) != NATS_OK) return "<none>";
    return value;
  }

  std::unique_ptr<NatsServer> server_;
  std::unique_ptr<Connection> connection_;
};

TEST_F(PublisherTest, EveryRecordLandsOnceAtOffsetPlusAConstantInOrder) {
  ASSERT_TRUE(CreateStream(*connection_, {.name = "EVENTS"}).ok());
  std::unique_ptr<Log> log = NewLog({.start_offset = 100, .segment_size = 4096});
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(log->Write(absl::StrCat("record ", i)).ok());
  }
  absl::StatusOr<std::unique_ptr<Publisher>> publisher =
      Publisher::Start(*connection_, *log, {.stream = "EVENTS"});
  ASSERT_TRUE(publisher.ok()) << publisher.status();
  // Records written while the publisher runs follow the same way.
  for (int i = 2000; i < 3000; ++i) {
    ASSERT_TRUE(log->Write(absl::StrCat("record ", i)).ok());
  }
  ASSERT_TRUE(
      (*publisher)->WaitForAcknowledged(0, 100 + 2999, absl::Now() + kWait).ok())
      << (*publisher)->status();

  // A fresh stream starts at sequence 1: delta = 1 - 100.
  EXPECT_EQ(*(*publisher)->SequenceDelta(0), -99);
  absl::StatusOr<StreamState> state = GetStreamState(*connection_, "EVENTS");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->messages, 3000u);
  EXPECT_EQ(state->first_seq, 1u);
  EXPECT_EQ(state->last_seq, 3000u);
  for (uint64_t seq : {uint64_t{1}, uint64_t{1500}, uint64_t{3000}}) {
    natsMsg* msg = GetMessage("EVENTS", seq);
    ASSERT_NE(msg, nullptr);
    const Offset offset = static_cast<Offset>(seq) + 99;
    EXPECT_EQ(Header(msg, "Memlog-Offset"), absl::StrCat(offset));
    EXPECT_EQ(Header(msg, "Nats-Msg-Id"), absl::StrCat(offset));
    EXPECT_EQ(std::string(natsMsg_GetData(msg), natsMsg_GetDataLength(msg)),
              absl::StrCat("record ", offset - 100));
    EXPECT_EQ(Header(msg, "Memlog-Created"),
              absl::StrCat(absl::ToUnixNanos(log->Read(offset)->metadata.created)));
    natsMsg_Destroy(msg);
  }
  const PublisherCounters counters = (*publisher)->counters();
  EXPECT_EQ(counters.published, 3000);
  EXPECT_EQ(counters.acknowledged, 3000);
  EXPECT_EQ(counters.duplicates, 0);
  EXPECT_EQ(counters.lost, 0);
  EXPECT_EQ(counters.lag, 0);
  EXPECT_TRUE((*publisher)->status().ok());
}

TEST_F(PublisherTest, EveryWindowSizeKeepsEveryRecordOnceInOrder) {
  // A window of one publish at a time, a small one that fills at once, and
  // the default: the same stream contents, and no resynchronisation beyond
  // the first.
  for (const int64_t window : {int64_t{1}, int64_t{7}, int64_t{8192}}) {
    const std::string stream = absl::StrCat("WINDOW", window);
    ASSERT_TRUE(CreateStream(*connection_, {.name = stream}).ok());
    std::unique_ptr<Log> log =
        NewLog({.start_offset = 1, .segment_size = 4096});
    for (int i = 0; i < 300; ++i) {
      ASSERT_TRUE(log->Write(absl::StrCat("record ", i)).ok());
    }
    absl::StatusOr<std::unique_ptr<Publisher>> publisher = Publisher::Start(
        *connection_, *log, {.stream = stream, .max_pending = window});
    ASSERT_TRUE(publisher.ok()) << publisher.status();
    for (int i = 300; i < 600; ++i) {
      ASSERT_TRUE(log->Write(absl::StrCat("record ", i)).ok());
    }
    ASSERT_TRUE(
        (*publisher)->WaitForAcknowledged(0, 600, absl::Now() + kWait).ok())
        << "window " << window << ": " << (*publisher)->status();
    absl::StatusOr<StreamState> state = GetStreamState(*connection_, stream);
    ASSERT_TRUE(state.ok()) << state.status();
    EXPECT_EQ(state->messages, 600u) << "window " << window;
    EXPECT_EQ(state->last_seq, 600u);
    for (uint64_t seq : {uint64_t{1}, uint64_t{300}, uint64_t{600}}) {
      natsMsg* msg = GetMessage(stream, seq);
      ASSERT_NE(msg, nullptr);
      EXPECT_EQ(std::string(natsMsg_GetData(msg), natsMsg_GetDataLength(msg)),
                absl::StrCat("record ", seq - 1));
      natsMsg_Destroy(msg);
    }
    const PublisherCounters counters = (*publisher)->counters();
    EXPECT_EQ(counters.published, 600) << "window " << window;
    EXPECT_EQ(counters.acknowledged, 600);
    EXPECT_EQ(counters.resyncs, 1);
    EXPECT_EQ(counters.lag, 0);
  }
}

TEST_F(PublisherTest,
       AFrozenServerStallsThePublisherWhichResyncsAndLosesNothing) {
  ASSERT_TRUE(CreateStream(*connection_, {.name = "EVENTS"}).ok());
  std::unique_ptr<Log> log = NewLog({.start_offset = 1, .segment_size = 4096});
  constexpr absl::Duration kAckTimeout = absl::Milliseconds(200);
  absl::StatusOr<std::unique_ptr<Publisher>> publisher = Publisher::Start(
      *connection_, *log, {.stream = "EVENTS", .ack_timeout = kAckTimeout});
  ASSERT_TRUE(publisher.ok()) << publisher.status();
  for (int i = 0; i < 500; ++i) ASSERT_TRUE(log->Write("before").ok());
  ASSERT_TRUE(
      (*publisher)->WaitForAcknowledged(0, 500, absl::Now() + kWait).ok());
  ASSERT_EQ((*publisher)->counters().resyncs, 1);

  // The server takes the next publishes into its socket and answers none:
  // the publisher must notice the silence by itself. The silence lasts ten
  // acknowledgement timeouts, a timing the test sets, not a wait for the
  // publisher.
  server_->Freeze();
  for (int i = 0; i < 500; ++i) ASSERT_TRUE(log->Write("while frozen").ok());
  absl::SleepFor(10 * kAckTimeout);
  EXPECT_GE((*publisher)->counters().resyncs, 2);
  EXPECT_TRUE((*publisher)->status().ok());
  server_->Thaw();

  // The frozen publishes land when the server wakes (or are refused); the
  // publisher resumes from what the stream holds. Each record once.
  const absl::Status acked =
      (*publisher)->WaitForAcknowledged(0, 1000, absl::Now() + kWait);
  ASSERT_TRUE(acked.ok()) << acked;
  absl::StatusOr<StreamState> state = GetStreamState(*connection_, "EVENTS");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->messages, 1000u);
  EXPECT_EQ(state->last_seq, 1000u);
  natsMsg* msg = GetMessage("EVENTS", 1000);
  ASSERT_NE(msg, nullptr);
  EXPECT_EQ(Header(msg, "Memlog-Offset"), "1000");
  natsMsg_Destroy(msg);
  EXPECT_EQ((*publisher)->counters().lost, 0);
  EXPECT_TRUE((*publisher)->status().ok());
}

TEST_F(PublisherTest, ARestartedPublisherResumesFromWhatTheStreamHolds) {
  ASSERT_TRUE(CreateStream(*connection_, {.name = "EVENTS"}).ok());
  std::unique_ptr<Log> log = NewLog();
  for (int i = 0; i < 500; ++i) ASSERT_TRUE(log->Write("first half").ok());
  {
    absl::StatusOr<std::unique_ptr<Publisher>> publisher =
        Publisher::Start(*connection_, *log, {.stream = "EVENTS"});
    ASSERT_TRUE(publisher.ok()) << publisher.status();
    ASSERT_TRUE(
        (*publisher)->WaitForAcknowledged(0, 500, absl::Now() + kWait).ok());
  }
  for (int i = 0; i < 500; ++i) ASSERT_TRUE(log->Write("second half").ok());
  absl::StatusOr<std::unique_ptr<Publisher>> publisher =
      Publisher::Start(*connection_, *log, {.stream = "EVENTS"});
  ASSERT_TRUE(publisher.ok()) << publisher.status();
  ASSERT_TRUE(
      (*publisher)->WaitForAcknowledged(0, 1000, absl::Now() + kWait).ok());
  EXPECT_EQ((*publisher)->counters().published, 500);
  EXPECT_EQ(*(*publisher)->SequenceDelta(0), 0);
  absl::StatusOr<StreamState> state = GetStreamState(*connection_, "EVENTS");
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->messages, 1000u);
  EXPECT_EQ(state->last_seq, 1000u);
}

TEST_F(PublisherTest, ARetryOfAPublishThatLandedIsNotStoredTwice) {
  // The mechanism the publisher relies on, shown directly: a publish that
  // repeats one that landed (same Nats-Msg-Id and expected last sequence) is
  // acknowledged as a duplicate and stores nothing.
  ASSERT_TRUE(CreateStream(*connection_, {.name = "EVENTS"}).ok());
  std::unique_ptr<Log> log = NewLog();
  ASSERT_TRUE(log->Write("one").ok());
  ASSERT_TRUE(log->Write("two").ok());
  absl::StatusOr<std::unique_ptr<Publisher>> publisher =
      Publisher::Start(*connection_, *log, {.stream = "EVENTS"});
  ASSERT_TRUE(publisher.ok());
  ASSERT_TRUE((*publisher)->WaitForAcknowledged(0, 2, absl::Now() + kWait).ok());
  (*publisher)->Stop();
  jsPubOptions options;
  jsPubOptions_Init(&options);
  options.MsgId = "2";
  options.ExpectLastSeq = 1;
  jsPubAck* ack = nullptr;
  jsErrCode error_code = static_cast<jsErrCode>(0);
  ASSERT_EQ(js_Publish(&ack, connection_->admin(), "EVENTS", "two", 3, &options,
                       &error_code),
            NATS_OK);
  EXPECT_TRUE(ack->Duplicate);
  EXPECT_EQ(ack->Sequence, 2u);
  jsPubAck_Destroy(ack);
  EXPECT_EQ(GetStreamState(*connection_, "EVENTS")->messages, 2u);
}

TEST_F(PublisherTest, AStreamThatDoesNotExistIsReportedAtStart) {
  std::unique_ptr<Log> log = NewLog();
  absl::StatusOr<std::unique_ptr<Publisher>> publisher =
      Publisher::Start(*connection_, *log, {.stream = "MISSING"});
  EXPECT_TRUE(IsStreamNotFound(publisher.status())) << publisher.status();
  EXPECT_EQ(publisher.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(PublisherTest, AStreamEndingInAForeignMessageStopsThePublisher) {
  ASSERT_TRUE(CreateStream(*connection_, {.name = "EVENTS"}).ok());
  jsErrCode error_code = static_cast<jsErrCode>(0);
  ASSERT_EQ(js_Publish(nullptr, connection_->admin(), "EVENTS", "theirs", 6,
                       nullptr, &error_code),
            NATS_OK);
  std::unique_ptr<Log> log = NewLog();
  ASSERT_TRUE(log->Write("ours").ok());
  absl::StatusOr<std::unique_ptr<Publisher>> publisher =
      Publisher::Start(*connection_, *log, {.stream = "EVENTS"});
  ASSERT_TRUE(publisher.ok());
  const absl::Status waited =
      (*publisher)->WaitForAcknowledged(0, 1, absl::Now() + kWait);
  EXPECT_TRUE(IsForeignMessage(waited)) << waited;
  EXPECT_TRUE(IsForeignMessage((*publisher)->status()));
  EXPECT_EQ(GetStreamState(*connection_, "EVENTS")->messages, 1u);
}

TEST_F(PublisherTest, AnotherPublisherOnTheSubjectIsReportedNeverInterleaved) {
  ASSERT_TRUE(CreateStream(*connection_, {.name = "EVENTS"}).ok());
  std::unique_ptr<Log> log = NewLog();
  ASSERT_TRUE(log->Write("ours 1").ok());
  absl::StatusOr<std::unique_ptr<Publisher>> publisher =
      Publisher::Start(*connection_, *log, {.stream = "EVENTS"});
  ASSERT_TRUE(publisher.ok());
  ASSERT_TRUE((*publisher)->WaitForAcknowledged(0, 1, absl::Now() + kWait).ok());
  // Someone else publishes to the subject; our next publish expects last
  // sequence 1, finds 2, and is refused; the publisher sees whose it is.
  jsErrCode error_code = static_cast<jsErrCode>(0);
  ASSERT_EQ(js_Publish(nullptr, connection_->admin(), "EVENTS", "theirs", 6,
                       nullptr, &error_code),
            NATS_OK);
  ASSERT_TRUE(log->Write("ours 2").ok());
  const absl::Status waited =
      (*publisher)->WaitForAcknowledged(0, 2, absl::Now() + kWait);
  EXPECT_TRUE(IsForeignMessage(waited)) << waited;
  absl::StatusOr<StreamState> state = GetStreamState(*connection_, "EVENTS");
  EXPECT_EQ(state->messages, 2u);  // ours 1, theirs; never ours 2 after it
}

TEST_F(PublisherTest, ARecordTheStreamRefusesForSizeStopsThePublisherAtIt) {
  ASSERT_TRUE(
      CreateStream(*connection_, {.name = "EVENTS", .max_msg_size = 512}).ok());
  std::unique_ptr<Log> log = NewLog();
  ASSERT_TRUE(log->Write("small").ok());
  const absl::StatusOr<int64_t> big = log->Write(std::string(4096, 'x'));
  ASSERT_TRUE(big.ok());
  const absl::StatusOr<int64_t> last = log->Write("small after it");
  ASSERT_TRUE(last.ok());
  absl::StatusOr<std::unique_ptr<Publisher>> publisher =
      Publisher::Start(*connection_, *log, {.stream = "EVENTS"});
  ASSERT_TRUE(publisher.ok());
  const absl::Status waited =
      (*publisher)->WaitForAcknowledged(0, *last, absl::Now() + kWait);
  EXPECT_TRUE(IsRecordRefused(waited)) << waited;
  EXPECT_EQ(waited.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(waited.message(), absl::StrCat("offset ", *big)))
      << waited;
  EXPECT_TRUE(IsRecordRefused((*publisher)->status()));
  // Nothing after the refused record went in ahead of it.
  EXPECT_EQ(GetStreamState(*connection_, "EVENTS")->messages, 1u);
  EXPECT_EQ((*publisher)->counters().resyncs, 1);  // the start's, no more
}

TEST_F(PublisherTest, RejectsEmptyOptions) {
  std::unique_ptr<Log> log = NewLog();
  EXPECT_EQ(Publisher::Start(*connection_, *log, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Publisher::Start(*connection_, *log,
                             {.stream = "EVENTS", .max_pending = 0})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace memlog::jetstream
