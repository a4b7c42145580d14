// Copyright memlog authors.
//
// memlog::jetstream::Mirror: follows a JetStream stream into a local
// memlog::Log (or every shard stream of a sharded log into a local
// sharded::Log), so that each server's consumers read at in-process speed.
//
//   auto log = memlog::Log::Create({.start_offset = 1});
//   auto mirror = memlog::jetstream::Mirror::Start(*connection, **log,
//                                                  {.stream = "EVENTS"});
//   // (*log)->StreamFrom(checkpoint + 1) on any server: the same records.
//
// The mirror's offsets are the stream's sequence numbers, and each record's
// `created` is the message's stream timestamp (written through the replica
// path, memlog/replica.h), so two mirrors of one stream hold identical logs
// and a client's checkpointed offset means the same record on every server.
// A memlog::Log mirror starts at the stream's first sequence when its log is
// empty (earlier offsets then read as purged); a sharded mirror's shards
// start at `shard.start_offset`, which must be the stream's first sequence.
// A mirror whose log already holds records resumes at its latest offset + 1.
//
// Reconnection: the mirror reads through an ordered push consumer from the
// next sequence it needs. When the connection drops, or no message arrived
// for `idle_check` while the stream holds more, it subscribes again from
// its latest offset + 1.
//
// Gaps are never renumbered. If the stream no longer holds the sequence the
// mirror needs (it fell behind the stream's retention while disconnected),
// the mirror stops with memlog::IsLagged, LaggedCount() saying how many
// sequences it missed, as a memlog::Stream reports a lag; make a new mirror
// over an empty log to continue from the stream's first sequence. If the
// stream skips a sequence (a deleted message, a per-subject limit), the
// mirror stops with IsSequenceGap naming the missing sequences. A message
// the log cannot hold (empty, larger than `max_record_bytes`) stops it with
// memlog's error for it; a sharded mirror stops with IsForeignMessage at a
// message without the Memlog-Key header.
//
// Timestamps: a stream timestamp earlier than the previous record's (clock
// steps between cluster nodes) is raised to the previous record's, and
// counted in `clamped`; the rule is deterministic, so mirrors still agree.
//
// Thread-safety: all methods may be called concurrently; one thread per
// stream writes to the log. Lifetime: the connection and the log must
// outlive the mirror. Nothing else may write to the log.

#ifndef MEMLOG_JETSTREAM_MIRROR_H_
#define MEMLOG_JETSTREAM_MIRROR_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "jetstream/connection.h"
#include "memlog/log.h"
#include "sharded/log.h"

namespace memlog::jetstream {

struct MirrorOptions {
  // The stream of a memlog::Log; for a sharded::Log, the name from which
  // ShardStreamName() makes each shard's.
  std::string stream = "";
  // After this long without a message, the mirror asks the stream whether it
  // holds more, and subscribes again if so.
  absl::Duration idle_check = absl::Milliseconds(500);
  // The pause between attempts while the servers are unreachable.
  absl::Duration retry_wait = absl::Milliseconds(50);
};

// What a mirror did, per stream or summed. Monotonic but `lag`.
struct MirrorCounters {
  int64_t appended = 0;       // records written to the log
  int64_t redelivered = 0;    // messages already mirrored, skipped
  int64_t resubscribed = 0;   // subscriptions made after the first
  int64_t clamped = 0;        // timestamps raised to the previous record's
  int64_t lag = 0;            // messages the stream holds beyond the mirror
};

class Mirror {
 public:
  // Starts mirroring `options.stream` into `log`. Fails with
  // IsStreamNotFound, IsServerUnavailable, IsNatsError, or kInvalidArgument for an
  // empty `options.stream`.
  static absl::StatusOr<std::unique_ptr<Mirror>> Start(
      const Connection& connection, memlog::Log& log, MirrorOptions options);
  // Starts mirroring shard stream ShardStreamName(options.stream, i) into
  // shard i of `log`, for every shard. `log` must use the source's number of
  // shards and sharder. PERFORMANCE WARNING: one thread per shard.
  static absl::StatusOr<std::unique_ptr<Mirror>> Start(
      const Connection& connection, sharded::Log& log, MirrorOptions options);

  ~Mirror();
  Mirror(const Mirror&) = delete;
  Mirror& operator=(const Mirror&) = delete;

  // Stops mirroring; returns once every thread has ended. Idempotent.
  void Stop();

  // OK while mirroring (or after Stop()); else the first status that stopped
  // a stream's mirror (see the header comment).
  absl::Status status() const;

  // Blocks until the record at `offset` of shard `shard` (0 for a
  // memlog::Log) is in the log. Returns OK then, or kDeadlineExceeded
  // (memlog::IsWaitTimedOut) at `deadline`, or at once the status that
  // stopped that stream's mirror, or kInvalidArgument for a shard that does
  // not exist.
  absl::Status WaitForMirrored(size_t shard, Offset offset,
                               absl::Time deadline) const;

  MirrorCounters counters() const;
  // REQUIRES: shard < number of streams.
  MirrorCounters shard_counters(size_t shard) const;

  class Worker;  // one stream's mirror; in mirror.cc

 private:
  explicit Mirror(std::vector<std::unique_ptr<Worker>> workers);
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace memlog::jetstream

#endif  // MEMLOG_JETSTREAM_MIRROR_H_
