// Copyright memlog authors.
//
// Faults on a 3-node JetStream cluster on loopback (three nats-server
// processes with routes between them) and an R3 stream:
// - the stream's leader is killed with SIGKILL while the publisher
//   publishes; the publisher carries on once a new leader is elected; the
//   killed node is restarted. In the end the stream holds every record
//   exactly once at sequence = offset + constant, and two mirrors (one of
//   them connected only to the killed node, so disconnected through the
//   failover) match the source.
// - the whole cluster is down for longer than the source log's retention:
//   the publisher reports the loss with the exact count of records that were
//   purged before they were published.

#include <nats/nats.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "jetstream/connection.h"
#include "jetstream/mirror.h"
#include "jetstream/publisher.h"
#include "jetstream/status.h"
#include "memlog/log.h"
#include "tests/jetstream/nats_server.h"

namespace memlog::jetstream {
namespace {

using testing::NatsServer;
using testing::StartCluster;

constexpr absl::Duration kWait = absl::Seconds(60);

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::vector<std::unique_ptr<NatsServer>>> cluster =
        StartCluster(3);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    servers_ = *std::move(cluster);
    connection_ = Connect(urls());
    ASSERT_NE(connection_, nullptr);
  }

  std::vector<std::string> urls() const {
    std::vector<std::string> all;
    for (const auto& server : servers_) all.push_back(server->url());
    return all;
  }

  std::unique_ptr<Connection> Connect(std::vector<std::string> servers,
                                      bool only_these = false) {
    absl::StatusOr<std::unique_ptr<Connection>> connection =
        Connection::Connect({.servers = std::move(servers),
                             .ignore_discovered_servers = only_these});
    EXPECT_TRUE(connection.ok()) << connection.status();
    return connection.ok() ? *std::move(connection) : nullptr;
  }

  // Creates an R3 stream, retrying while the cluster elects its JetStream
  // meta leader (each attempt waits for an answer; bounded by kWait).
  void CreateR3Stream(StreamSpec spec) {
    spec.replicas = 3;
    const absl::Time deadline = absl::Now() + kWait;
    absl::Status made;
    do {
      made = CreateStream(*connection_, spec);
    } while (!made.ok() && absl::Now() < deadline &&
             (absl::SleepFor(absl::Milliseconds(100)), true));
    ASSERT_TRUE(made.ok()) << made;
  }

  NatsServer* ServerNamed(const std::string& name) {
    for (const auto& server : servers_) {
      if (server->config().name == name) return server.get();
    }
    return nullptr;
  }

  std::vector<std::unique_ptr<NatsServer>> servers_;
  std::unique_ptr<Connection> connection_;
};

TEST_F(ClusterTest, KillingTheLeaderWhilePublishingLosesAndDuplicatesNothing) {
  constexpr int kRecords = 20'000;
  CreateR3Stream({.name = "EVENTS"});
  absl::StatusOr<StreamState> state = GetStreamState(*connection_, "EVENTS");
  ASSERT_TRUE(state.ok()) << state.status();
  NatsServer* leader = ServerNamed(state->leader);
  ASSERT_NE(leader, nullptr) << "leader '" << state->leader << "'";

  absl::StatusOr<std::unique_ptr<Log>> source =
      Log::Create({.start_offset = 1, .segment_size = kRecords});
  ASSERT_TRUE(source.ok());
  absl::StatusOr<std::unique_ptr<Publisher>> publisher = Publisher::Start(
      *connection_, **source, {.stream = "EVENTS", .ack_timeout = absl::Seconds(1)});
  ASSERT_TRUE(publisher.ok()) << publisher.status();

  // Mirror A follows through the whole cluster; mirror B only through the
  // node that is about to be killed.
  absl::StatusOr<std::unique_ptr<Log>> log_a = Log::Create({.start_offset = 1, .segment_size = kRecords});
  absl::StatusOr<std::unique_ptr<Log>> log_b = Log::Create({.start_offset = 1, .segment_size = kRecords});
  ASSERT_TRUE(log_a.ok() && log_b.ok());
  std::unique_ptr<Connection> leader_only =
      Connect({leader->url()}, /*only_these=*/true);
  ASSERT_NE(leader_only, nullptr);
  absl::StatusOr<std::unique_ptr<Mirror>> mirror_a =
      Mirror::Start(*connection_, **log_a, {.stream = "EVENTS"});
  absl::StatusOr<std::unique_ptr<Mirror>> mirror_b =
      Mirror::Start(*leader_only, **log_b, {.stream = "EVENTS"});
  ASSERT_TRUE(mirror_a.ok()) << mirror_a.status();
  ASSERT_TRUE(mirror_b.ok()) << mirror_b.status();

  for (int i = 0; i < kRecords / 2; ++i) {
    ASSERT_TRUE((*source)->Write(absl::StrCat("record ", i)).ok());
  }
  // Some records are in the stream, more are in flight: kill the leader.
  ASSERT_TRUE(
      (*publisher)->WaitForAcknowledged(0, kRecords / 4, absl::Now() + kWait).ok());
  leader->Kill();
  for (int i = kRecords / 2; i < kRecords; ++i) {
    ASSERT_TRUE((*source)->Write(absl::StrCat("record ", i)).ok());
  }
  // The publisher carries on with the new leader.
  const absl::Status acked =
      (*publisher)->WaitForAcknowledged(0, kRecords, absl::Now() + kWait);
  ASSERT_TRUE(acked.ok()) << acked;
  absl::StatusOr<StreamState> after = GetStreamState(*connection_, "EVENTS");
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_NE(after->leader, leader->config().name);
  // Mirror A read through the failover.
  ASSERT_TRUE(
      (*mirror_a)->WaitForMirrored(0, kRecords, absl::Now() + kWait).ok())
      << (*mirror_a)->status();

  // Mirror B, whose only server is down, holds none of the records written
  // after the kill.
  EXPECT_LT((*log_b)->Range().latest, kRecords / 2 + 1);

  ASSERT_TRUE(leader->Restart().ok());
  // Mirror B reconnects to the restarted node and resumes at latest + 1
  // (through nats.c's ordered-consumer reset or its own new subscription).
  const absl::Status b_done =
      (*mirror_b)->WaitForMirrored(0, kRecords, absl::Now() + kWait);
  ASSERT_TRUE(b_done.ok()) << b_done;

  // Exactly once: kRecords messages, sequences 1..kRecords, each holding
  // the record whose offset is its sequence (delta 0).
  after = GetStreamState(*connection_, "EVENTS");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->messages, static_cast<uint64_t>(kRecords));
  EXPECT_EQ(after->first_seq, 1u);
  EXPECT_EQ(after->last_seq, static_cast<uint64_t>(kRecords));
  EXPECT_EQ(*(*publisher)->SequenceDelta(0), 0);
  for (Offset o = 1; o <= kRecords; ++o) {
    const Record want = *(*source)->Read(o);
    const Record a = *(*log_a)->Read(o);
    const Record b = *(*log_b)->Read(o);
    ASSERT_EQ(a.data, want.data) << o;
    ASSERT_EQ(a, b) << o;
  }
  EXPECT_EQ((*log_a)->Range(), (OffsetRange{1, kRecords}));
  EXPECT_EQ((*log_b)->Range(), (OffsetRange{1, kRecords}));
  const PublisherCounters counters = (*publisher)->counters();
  EXPECT_GE(counters.resyncs, 2) << "the failover forced a resynchronisation";
  EXPECT_EQ(counters.lost, 0);
  EXPECT_TRUE((*publisher)->status().ok());
  EXPECT_TRUE((*mirror_a)->status().ok());
  EXPECT_TRUE((*mirror_b)->status().ok());
  ::testing::Test::RecordProperty("publisher_resyncs",
                                  static_cast<int>(counters.resyncs));
  ::testing::Test::RecordProperty("publisher_retried",
                                  static_cast<int>(counters.retried));
}

TEST_F(ClusterTest, TheWholeClusterDownLongerThanRetentionReportsTheLoss) {
  // File storage, so that the stream outlives the cluster's restart.
  CreateR3Stream({.name = "LOSSY", .memory = false});
  // The source retains between 101 and 200 records.
  absl::StatusOr<std::unique_ptr<Log>> source =
      Log::Create({.start_offset = 1, .segment_size = 100});
  ASSERT_TRUE(source.ok());
  absl::StatusOr<std::unique_ptr<Publisher>> publisher = Publisher::Start(
      *connection_, **source, {.stream = "LOSSY", .ack_timeout = absl::Seconds(1)});
  ASSERT_TRUE(publisher.ok()) << publisher.status();
  for (int i = 0; i < 150; ++i) ASSERT_TRUE((*source)->Write("before").ok());
  ASSERT_TRUE((*publisher)->WaitForAcknowledged(0, 150, absl::Now() + kWait).ok());

  for (auto& server : servers_) server->Stop();
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE((*source)->Write("while down").ok());
  const Offset earliest = (*source)->Range().earliest;
  ASSERT_GT(earliest, 151);
  for (auto& server : servers_) ASSERT_TRUE(server->Restart().ok());

  // Back up, the publisher finds the stream ending at offset 150 and the
  // source starting at `earliest`: the records between are lost.
  const absl::Status waited =
      (*publisher)->WaitForAcknowledged(0, 1150, absl::Now() + kWait);
  ASSERT_TRUE(IsRecordsLost(waited)) << waited;
  EXPECT_EQ(waited.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(LostCount(waited), earliest - 151);
  EXPECT_EQ((*publisher)->counters().lost, earliest - 151);
  // Nothing was published past the loss. (The restarted cluster may still be
  // electing the stream's leader: ask until it answers.)
  const absl::Time deadline = absl::Now() + kWait;
  absl::StatusOr<StreamState> state;
  do {
    state = GetStreamState(*connection_, "LOSSY");
  } while (!state.ok() && absl::Now() < deadline &&
           (absl::SleepFor(absl::Milliseconds(100)), true));
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->last_seq, 150u);
}

}  // namespace
}  // namespace memlog::jetstream
