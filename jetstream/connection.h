// Copyright memlog authors.
//
// memlog::jetstream::Connection: a connection to a NATS server (or cluster)
// with JetStream, shared by the Publishers and Mirrors of a process, and the
// few stream administration calls they need.
//
//   auto connection = memlog::jetstream::Connection::Connect(
//       {.servers = {"nats://127.0.0.1:4222"}});
//   if (!connection.ok()) return connection.status();
//   absl::Status made = memlog::jetstream::CreateStream(
//       **connection, {.name = "EVENTS", .subjects = {"events"}});
//
// The mapping: a memlog::Log is one stream; a sharded::Log of N shards is N
// streams, ShardStreamName(name, i) with subject ShardSubject(subject, i),
// because stream sequences are per stream and offsets are per shard (the
// Kafka picture: shard = partition).
//
// The connection reconnects by itself (to any of `servers`, forever by
// default); calls made while it is down fail with IsServerUnavailable or wait for
// the reconnection, as documented per call.
//
// Thread-safety: a Connection may be used from any number of threads (nats.c
// connections are thread-safe); the functions below may run concurrently.
// Lifetime: it must outlive every Publisher and Mirror that uses it.

#ifndef MEMLOG_JETSTREAM_CONNECTION_H_
#define MEMLOG_JETSTREAM_CONNECTION_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

// nats.c's types, so that this header does not include nats.h.
typedef struct __natsConnection natsConnection;
typedef struct __jsCtx jsCtx;

namespace memlog::jetstream {

struct ConnectOptions {
  // Server URLs ("nats://127.0.0.1:4222"); at least one.
  std::vector<std::string> servers = {};
  // The connection name the server shows.
  std::string name = "memlog";
  // How long to wait for the first connection, and for each JetStream API
  // call (stream info, message get) to be answered.
  absl::Duration timeout = absl::Seconds(2);
  // The pause between reconnection attempts to the same server.
  absl::Duration reconnect_wait = absl::Milliseconds(50);
  // Reconnection attempts per server before giving up; -1 means forever.
  int max_reconnects = -1;
  // The bytes nats.c buffers for publishes made while it reconnects. The
  // default, 1, makes such publishes fail at once: a Publisher's log is its
  // buffer, and it resynchronises with the stream once reconnected, so
  // nothing is gained by sending stale publishes blindly.
  int reconnect_buffer_bytes = 1;
  // Whether to use only `servers`, ignoring the other servers of the
  // cluster that the server announces (by default they are reconnected to
  // as well).
  bool ignore_discovered_servers = false;
};

class Connection {
 public:
  // Connects to one of `options.servers`. Fails with kInvalidArgument if
  // `servers` is empty, IsServerUnavailable if no server answers within
  // `options.timeout`, IsNatsError for any other nats.c failure.
  static absl::StatusOr<std::unique_ptr<Connection>> Connect(
      ConnectOptions options);

  // Closes the connection. REQUIRES: no Publisher or Mirror uses it.
  ~Connection();

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  const ConnectOptions& options() const { return options_; }

  // The nats.c connection, for callers who need the raw client (benchmarks).
  // Owned by this object.
  natsConnection* nats() const { return nc_; }

  // The JetStream context of the administration calls below. Owned by this
  // object.
  jsCtx* admin() const { return admin_; }

 private:
  Connection(ConnectOptions options, natsConnection* nc, jsCtx* admin)
      : options_(std::move(options)), nc_(nc), admin_(admin) {}

  const ConnectOptions options_;
  natsConnection* const nc_;
  jsCtx* const admin_;
};

// A stream to create: the JetStream StreamConfig fields memlog uses.
struct StreamSpec {
  // The stream's name: letters, digits, '-' and '_'.
  std::string name = "";
  // The subjects it captures; empty means {name}.
  std::vector<std::string> subjects = {};
  // Raft replicas: 1, or 3 on a cluster.
  int replicas = 1;
  // Retention limits; -1 (or zero duration) means unlimited.
  int64_t max_msgs = -1;
  int64_t max_bytes = -1;
  absl::Duration max_age = absl::ZeroDuration();
  // The largest message the stream accepts; -1 means the server's limit.
  int32_t max_msg_size = -1;
  // Memory storage (true) or file storage.
  bool memory = true;
  // How long the stream remembers Nats-Msg-Id values to drop duplicates.
  absl::Duration duplicate_window = absl::Minutes(2);
};

// Creates the stream; a stream of that name with the same configuration
// already existing is fine. Fails with IsServerUnavailable if JetStream does not
// answer in time (a cluster still electing its meta leader, say; callers
// retry), IsNatsError with the server's description otherwise (e.g. a stream
// of that name with another configuration).
absl::Status CreateStream(const Connection& connection, const StreamSpec& spec);

// Creates the `num_shards` streams of a sharded log: spec.name and the first
// of spec.subjects (or spec.name) become ShardStreamName(name, i) and
// ShardSubject(subject, i). Fails as CreateStream().
absl::Status CreateShardStreams(const Connection& connection,
                                const StreamSpec& spec, size_t num_shards);

// Deletes the stream. Fails with IsStreamNotFound if it does not exist.
absl::Status DeleteStream(const Connection& connection, std::string_view name);

// What a stream holds now.
struct StreamState {
  uint64_t messages = 0;
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;  // 0 while nothing was ever stored
  std::vector<std::string> subjects = {};
  int64_t max_msg_size = -1;
  // The server leading the stream's Raft group ("" when not clustered).
  std::string leader;
};

// Returns the stream's state. Fails with IsStreamNotFound, IsServerUnavailable or
// IsNatsError.
absl::StatusOr<StreamState> GetStreamState(const Connection& connection,
                                           std::string_view name);

// The stream and subject of shard `shard`: "<stream>_<shard>" and
// "<subject>.<shard>".
std::string ShardStreamName(std::string_view stream, size_t shard);
std::string ShardSubject(std::string_view subject, size_t shard);

}  // namespace memlog::jetstream

#endif  // MEMLOG_JETSTREAM_CONNECTION_H_
