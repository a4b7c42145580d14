// Copyright memlog authors.
//
// memlog::jetstream::Mirror against a real single-node nats-server: a
// publisher's streams mirrored into logs that are byte-identical to the
// source (offsets, keys, data) with `created` equal to the stream's
// timestamps; gaps and messages a log cannot hold stop a mirror with a
// status of their own, never a renumbering.

#include "jetstream/mirror.h"

#include <nats/nats.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "jetstream/connection.h"
#include "jetstream/publisher.h"
#include "jetstream/status.h"
#include "memlog/log.h"
#include "sharded/log.h"
#include "tests/jetstream/nats_server.h"

namespace memlog::jetstream {
namespace {

using testing::NatsServer;

constexpr absl::Duration kWait = absl::Seconds(60);

class MirrorTest : public ::testing::Test {
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

  std::unique_ptr<Log> NewLog(Options options) {
    absl::StatusOr<std::unique_ptr<Log>> log = Log::Create(std::move(options));
    EXPECT_TRUE(log.ok()) << log.status();
    return *std::move(log);
  }

  void PublishRaw(const char* subject, std::string_view data) {
    jsErrCode error_code = static_cast<jsErrCode>(0);
    ASSERT_EQ(js_Publish(nullptr, connection_->admin(), subject, data.data(),
                         static_cast<int>(data.size()), nullptr, &error_code),
              NATS_OK);
  }

  // The stream's timestamp of message `seq`.
  absl::Time StreamTime(const std::string& stream, uint64_t seq) {
    natsMsg* msg = nullptr;
    jsErrCode error_code = static_cast<jsErrCode>(0);
    EXPECT_EQ(js_GetMsg(&msg, connection_->admin(), stream.c_str(), seq,
                        nullptr, &error_code),
              NATS_OK);
    const absl::Time time = absl::FromUnixNanos(natsMsg_GetTime(msg));
    natsMsg_Destroy(msg);
    return time;
  }

  std::unique_ptr<NatsServer> server_;
  std::unique_ptr<Connection> connection_;
};

// Writes `count` records across `keys` keys; record i of key k is "k/i".
void WriteKeyed(sharded::Log& log, int count, int keys) {
  std::vector<int> written(static_cast<size_t>(keys));
  for (int i = 0; i < count; ++i) {
    const int key = (i * 7919) % keys;
    ASSERT_TRUE(log.Write(absl::StrCat("key-", key),
                          absl::StrCat(key, "/", written[key]++, "/payload"))
                    .ok());
  }
}

TEST_F(MirrorTest, TwoMirrorsOfAShardedLogAndAPlainLogAreByteIdentical) {
  constexpr int kRecords = 100'000;
  constexpr int kKeys = 100;
  constexpr size_t kShards = 8;
  // Start offset 1 = a fresh stream's first sequence: the mirrors' offsets
  // (sequences) then equal the source's offsets exactly.
  const sharded::Options options{
      .num_shards = kShards,
      .shard = {.start_offset = 1, .segment_size = 1 << 16}};
  absl::StatusOr<std::unique_ptr<sharded::Log>> source =
      sharded::Log::Create(options);
  ASSERT_TRUE(source.ok());
  std::unique_ptr<Log> plain =
      NewLog({.start_offset = 1, .segment_size = 1 << 17});
  ASSERT_TRUE(CreateShardStreams(*connection_, {.name = "KEYED"}, kShards).ok());
  ASSERT_TRUE(CreateStream(*connection_, {.name = "PLAIN"}).ok());

  std::vector<std::unique_ptr<sharded::Log>> mirror_logs;
  std::vector<std::unique_ptr<Mirror>> mirrors;
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<std::unique_ptr<sharded::Log>> log =
        sharded::Log::Create(options);
    ASSERT_TRUE(log.ok());
    absl::StatusOr<std::unique_ptr<Mirror>> mirror =
        Mirror::Start(*connection_, **log, {.stream = "KEYED"});
    ASSERT_TRUE(mirror.ok()) << mirror.status();
    mirror_logs.push_back(*std::move(log));
    mirrors.push_back(*std::move(mirror));
  }
  std::unique_ptr<Log> plain_mirror =
      NewLog({.start_offset = 1, .segment_size = 1 << 17});
  absl::StatusOr<std::unique_ptr<Mirror>> mirror_of_plain =
      Mirror::Start(*connection_, *plain_mirror, {.stream = "PLAIN"});
  ASSERT_TRUE(mirror_of_plain.ok()) << mirror_of_plain.status();

  absl::StatusOr<std::unique_ptr<Publisher>> keyed_publisher =
      Publisher::Start(*connection_, **source, {.stream = "KEYED"});
  ASSERT_TRUE(keyed_publisher.ok()) << keyed_publisher.status();
  absl::StatusOr<std::unique_ptr<Publisher>> plain_publisher =
      Publisher::Start(*connection_, *plain, {.stream = "PLAIN"});
  ASSERT_TRUE(plain_publisher.ok()) << plain_publisher.status();
  // Written while everything runs.
  WriteKeyed(**source, kRecords, kKeys);
  for (int i = 0; i < kRecords; ++i) {
    ASSERT_TRUE(plain->Write(absl::StrCat("plain record ", i)).ok());
  }

  // Every mirror catches up with every shard.
  for (size_t shard = 0; shard < kShards; ++shard) {
    const OffsetRange range = *(*source)->ShardRange(shard);
    ASSERT_NE(range.latest, kInvalidOffset);
    for (const auto& mirror : mirrors) {
      const absl::Status mirrored =
          mirror->WaitForMirrored(shard, range.latest, absl::Now() + kWait);
      ASSERT_TRUE(mirrored.ok()) << "shard " << shard << ": " << mirrored;
    }
  }
  ASSERT_TRUE((*mirror_of_plain)->WaitForMirrored(0, kRecords, absl::Now() + kWait).ok());

  // Byte-identical: every offset of every shard holds the same key and data,
  // and `created` is the stream's timestamp, the same in both mirrors.
  int64_t compared = 0;
  for (size_t shard = 0; shard < kShards; ++shard) {
    const OffsetRange range = *(*source)->ShardRange(shard);
    EXPECT_EQ(*mirror_logs[0]->ShardRange(shard), range);
    EXPECT_EQ(*mirror_logs[1]->ShardRange(shard), range);
    for (Offset o = range.earliest; o <= range.latest; ++o) {
      const sharded::Record want = (*source)->ReadShard(shard, o)->ToRecord();
      const sharded::Record a = mirror_logs[0]->ReadShard(shard, o)->ToRecord();
      const sharded::Record b = mirror_logs[1]->ReadShard(shard, o)->ToRecord();
      ASSERT_EQ(a.key, want.key) << "shard " << shard << " offset " << o;
      ASSERT_EQ(a.data, want.data);
      ASSERT_EQ(a.metadata.offset, o);
      ASSERT_EQ(a, b);
      ++compared;
    }
    // `created` is the stream's timestamp (sampled: one get per check).
    const std::string stream = ShardStreamName("KEYED", shard);
    for (Offset o : {range.earliest, (range.earliest + range.latest) / 2,
                     range.latest}) {
      EXPECT_EQ(mirror_logs[0]->ReadShard(shard, o)->created(),
                StreamTime(stream, static_cast<uint64_t>(o)));
    }
  }
  EXPECT_EQ(compared, kRecords);
  // Per-key order: each key's records come back in write order.
  for (int key = 0; key < kKeys; ++key) {
    std::vector<sharded::Record> records(2000);
    const ReadResult read = mirror_logs[1]->ReadBatch(
        absl::StrCat("key-", key), 1, absl::MakeSpan(records));
    ASSERT_EQ(read.count, kRecords / kKeys) << read.status;
    for (int64_t i = 0; i < read.count; ++i) {
      ASSERT_EQ(records[static_cast<size_t>(i)].data,
                absl::StrCat(key, "/", i, "/payload"));
    }
  }
  for (Offset o = 1; o <= kRecords; ++o) {
    const Record want = *plain->Read(o);
    const Record got = *plain_mirror->Read(o);
    ASSERT_EQ(got.data, want.data) << o;
    ASSERT_EQ(got.metadata.offset, o);
  }
  EXPECT_EQ(plain_mirror->Read(kRecords)->metadata.created,
            StreamTime("PLAIN", kRecords));

  for (size_t shard = 0; shard < kShards; ++shard) {
    ASSERT_TRUE((*keyed_publisher)
                    ->WaitForAcknowledged(shard,
                                          (*source)->ShardRange(shard)->latest,
                                          absl::Now() + kWait)
                    .ok());
  }
  const PublisherCounters published = (*keyed_publisher)->counters();
  EXPECT_TRUE((*keyed_publisher)->status().ok());
  EXPECT_EQ(published.published, kRecords)
      << "retried " << published.retried << " resyncs " << published.resyncs;
  EXPECT_EQ(published.lag, 0);
  EXPECT_EQ((*keyed_publisher)->counters().duplicates, 0);
  EXPECT_EQ(mirrors[0]->counters().appended, kRecords);
  EXPECT_EQ(mirrors[0]->counters().lag, 0);
  EXPECT_TRUE(mirrors[0]->status().ok());
  EXPECT_TRUE((*mirror_of_plain)->status().ok());
}

TEST_F(MirrorTest, AMirrorOfATrimmedStreamStartsAtItsFirstSequence) {
  ASSERT_TRUE(CreateStream(*connection_, {.name = "TRIMMED", .max_msgs = 10}).ok());
  for (int i = 1; i <= 25; ++i) PublishRaw("TRIMMED", absl::StrCat("m", i));
  std::unique_ptr<Log> log = NewLog({.start_offset = 1});
  absl::StatusOr<std::unique_ptr<Mirror>> mirror =
      Mirror::Start(*connection_, *log, {.stream = "TRIMMED"});
  ASSERT_TRUE(mirror.ok());
  ASSERT_TRUE((*mirror)->WaitForMirrored(0, 25, absl::Now() + kWait).ok());
  EXPECT_EQ(log->Range(), (OffsetRange{16, 25}));
  EXPECT_EQ(log->Read(16)->data, "m16");
  EXPECT_TRUE(IsPurgedOffset(log->Read(15).status()));
}

TEST_F(MirrorTest, AShardedMirrorOfTrimmedStreamsStartsEachShardAtItsFirstSequence) {
  // Each shard's stream keeps its last 10 messages; the mirror starts after
  // the source wrote 60 records to 2 shards, so each shard starts past its
  // first sequence, and at a different one.
  absl::StatusOr<std::unique_ptr<sharded::Log>> source = sharded::Log::Create(
      {.num_shards = 2, .shard = {.start_offset = 1, .segment_size = 1024}});
  ASSERT_TRUE(source.ok());
  ASSERT_TRUE(
      CreateShardStreams(*connection_, {.name = "TRIMMED_KEYED", .max_msgs = 10}, 2)
          .ok());
  absl::StatusOr<std::unique_ptr<Publisher>> publisher =
      Publisher::Start(*connection_, **source, {.stream = "TRIMMED_KEYED"});
  ASSERT_TRUE(publisher.ok()) << publisher.status();
  WriteKeyed(**source, 60, 5);
  for (size_t shard = 0; shard < 2; ++shard) {
    const Offset latest = (*source)->ShardRange(shard)->latest;
    ASSERT_GT(latest, 10) << "shard " << shard;
    const absl::Status acknowledged =
        (*publisher)->WaitForAcknowledged(shard, latest, absl::Now() + kWait);
    ASSERT_TRUE(acknowledged.ok()) << acknowledged;
  }

  // Segments of 8 records: each mirror shard rotates 8 records after its
  // first, at an offset that no count from the start offset predicts, and
  // still retains the stream's 10.
  absl::StatusOr<std::unique_ptr<sharded::Log>> log = sharded::Log::Create(
      {.num_shards = 2, .shard = {.start_offset = 1, .segment_size = 8}});
  ASSERT_TRUE(log.ok());
  absl::StatusOr<std::unique_ptr<Mirror>> mirror =
      Mirror::Start(*connection_, **log, {.stream = "TRIMMED_KEYED"});
  ASSERT_TRUE(mirror.ok()) << mirror.status();
  for (size_t shard = 0; shard < 2; ++shard) {
    const Offset latest = (*source)->ShardRange(shard)->latest;
    const absl::Status mirrored =
        (*mirror)->WaitForMirrored(shard, latest, absl::Now() + kWait);
    ASSERT_TRUE(mirrored.ok()) << "shard " << shard << ": " << mirrored;
    // The stream's 10 messages, at the source's offsets, by key too.
    EXPECT_EQ(*(*log)->ShardRange(shard), (OffsetRange{latest - 9, latest}));
    EXPECT_TRUE(IsPurgedOffset((*log)->ReadShard(shard, latest - 10).status()));
    for (Offset o = latest - 9; o <= latest; ++o) {
      const sharded::Record want = (*source)->ReadShard(shard, o)->ToRecord();
      absl::StatusOr<sharded::Record> got = (*log)->Read(want.key, o);
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_EQ(got->data, want.data);
    }
  }
}

TEST_F(MirrorTest, ADeletedMessageStopsTheMirrorWithTheGapNamed) {
  ASSERT_TRUE(CreateStream(*connection_, {.name = "HOLEY"}).ok());
  for (int i = 1; i <= 5; ++i) PublishRaw("HOLEY", absl::StrCat("m", i));
  jsErrCode error_code = static_cast<jsErrCode>(0);
  ASSERT_EQ(js_DeleteMsg(connection_->admin(), "HOLEY", 3, nullptr, &error_code),
            NATS_OK);
  std::unique_ptr<Log> log = NewLog({.start_offset = 1});
  absl::StatusOr<std::unique_ptr<Mirror>> mirror =
      Mirror::Start(*connection_, *log, {.stream = "HOLEY"});
  ASSERT_TRUE(mirror.ok());
  const absl::Status waited = (*mirror)->WaitForMirrored(0, 5, absl::Now() + kWait);
  EXPECT_TRUE(IsSequenceGap(waited)) << waited;
  EXPECT_EQ(LostCount(waited), 1);
  // Nothing after the hole was renumbered into it.
  EXPECT_EQ(log->Range(), (OffsetRange{1, 2}));
}

TEST_F(MirrorTest, AShardedMirrorStopsAtAMessageWithoutOurHeaders) {
  ASSERT_TRUE(CreateShardStreams(*connection_, {.name = "KEYED"}, 2).ok());
  PublishRaw("KEYED.0", "no key header");
  absl::StatusOr<std::unique_ptr<sharded::Log>> log =
      sharded::Log::Create({.num_shards = 2, .shard = {.start_offset = 1}});
  ASSERT_TRUE(log.ok());
  absl::StatusOr<std::unique_ptr<Mirror>> mirror =
      Mirror::Start(*connection_, **log, {.stream = "KEYED"});
  ASSERT_TRUE(mirror.ok());
  const absl::Status status =
      (*mirror)->WaitForMirrored(0, 1, absl::Now() + kWait);
  EXPECT_TRUE(IsForeignMessage(status)) << status;
  EXPECT_EQ(*(*log)->ShardRange(0), OffsetRange{});
}

TEST_F(MirrorTest, AnOversizedMessageStopsTheMirrorWithRecordTooLarge) {
  ASSERT_TRUE(CreateStream(*connection_, {.name = "BIG"}).ok());
  PublishRaw("BIG", "small");
  PublishRaw("BIG", std::string(2000, 'x'));
  std::unique_ptr<Log> log = NewLog({.start_offset = 1, .max_record_bytes = 1000});
  absl::StatusOr<std::unique_ptr<Mirror>> mirror =
      Mirror::Start(*connection_, *log, {.stream = "BIG"});
  ASSERT_TRUE(mirror.ok());
  const absl::Status waited = (*mirror)->WaitForMirrored(0, 2, absl::Now() + kWait);
  EXPECT_TRUE(IsRecordTooLarge(waited)) << waited;
  EXPECT_EQ(log->Range(), (OffsetRange{1, 1}));
}

TEST_F(MirrorTest, AStreamThatDoesNotExistIsReportedAtStart) {
  std::unique_ptr<Log> log = NewLog({});
  absl::StatusOr<std::unique_ptr<Mirror>> mirror =
      Mirror::Start(*connection_, *log, {.stream = "MISSING"});
  EXPECT_TRUE(IsStreamNotFound(mirror.status())) << mirror.status();
}

}  // namespace
}  // namespace memlog::jetstream
