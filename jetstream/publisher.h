// Copyright memlog authors.
//
// memlog::jetstream::Publisher: forwards the records of a memlog::Log (one
// stream) or of every shard of a sharded::Log (one stream per shard, see
// jetstream/connection.h) to JetStream, in order, each exactly once.
//
//   auto publisher = memlog::jetstream::Publisher::Start(
//       *connection, *log, {.stream = "EVENTS"});
//   if (!publisher.ok()) return publisher.status();
//   ...
//   absl::Status done = (*publisher)->WaitForAcknowledged(0, offset, deadline);
//
// Exactly once, across retries, server restarts and leader changes: record
// `o` is stored at stream sequence `o + delta`, a constant per stream
// (SequenceDelta()). Each publish carries `Nats-Msg-Id: <o>` and
// `Nats-Expected-Last-Sequence: <o + delta - 1>`, so the stream stores it
// only right after record `o - 1`; a retry of a publish that landed is
// refused (or recognised as a duplicate) rather than stored twice.
//
// Publishes are pipelined: up to `max_pending` per stream are in flight
// before the first of them is acknowledged. That keeps the rule above,
// because the expected last sequence of record `o` is `o + delta - 1`
// whether or not record `o - 1` was acknowledged yet; if `o - 1` did not
// land, `o` and everything after it are refused, never stored out of order.
// After any failure (a refused publish, a lost connection, or no
// acknowledgement at all for `ack_timeout` while publishes are in flight)
// the publisher waits (at most `ack_timeout`) for the acknowledgements still
// on their way, then asks the stream for its last message and resumes at
// that record's offset + 1; a publisher started on a stream that already
// holds records resumes the same way.
//
// Cost: per record, about what nats.c's own asynchronous publish loop costs
// with the same headers (bench/jetstream_bench.cc); the headers, not the
// acknowledgement tracking, are what a record costs over a plain publish. A
// record written to an idle publisher is sent at once rather than after
// nats.c's write-coalescing pause (a millisecond).
//
// Headers: `Memlog-Offset` (the source offset, decimal), `Memlog-Created`
// (the source's created time, Unix nanoseconds) and, for a sharded log,
// `Memlog-Key` (the key, base64, since keys are arbitrary bytes and header
// values are not).
//
// Loss is reported, never hidden: if the source purged records before they
// were published (the servers were down longer than the source's retention),
// the publisher stops with IsRecordsLost, `LostCount()` and the `lost`
// counter saying how many. A stream whose last message is not one of ours,
// or whose sequences disagree with `delta` (another publisher writes to its
// subject), stops it with IsForeignMessage or IsSequenceConflict; nothing is
// written out of order.
//
// Thread-safety: all methods may be called concurrently. One thread per
// stream publishes; acknowledgements arrive on nats.c's threads (one
// subscription per stream, to the publisher's own reply subjects).
// Lifetime: the connection and the log must outlive the publisher.

#ifndef MEMLOG_JETSTREAM_PUBLISHER_H_
#define MEMLOG_JETSTREAM_PUBLISHER_H_

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

struct PublisherOptions {
  // The stream of a memlog::Log; for a sharded::Log, the name from which
  // ShardStreamName() makes each shard's. The streams must exist.
  std::string stream = "";
  // The subject published to; empty means the stream's name. For a sharded
  // log, ShardSubject(subject, shard).
  std::string subject = "";
  // Publishes in flight (sent, not yet acknowledged) per stream. When the
  // window is full the publisher waits until half of it is acknowledged.
  int64_t max_pending = 8192;
  // How long the publisher waits while publishes are in flight and no
  // acknowledgement arrives before it counts them as failed (a server died
  // or the connection dropped) and resynchronises. It also bounds the wait
  // for acknowledgements still in flight when resynchronising.
  absl::Duration ack_timeout = absl::Seconds(2);
  // The pause between attempts while the servers are unreachable.
  absl::Duration retry_wait = absl::Milliseconds(50);
};

// What a publisher did, per stream or summed over the streams. Monotonic but
// `lag`.
struct PublisherCounters {
  int64_t published = 0;     // publishes sent, retries included
  int64_t acknowledged = 0;  // acknowledgements received, duplicates included
  int64_t retried = 0;       // records sent again after a resynchronisation
  int64_t duplicates = 0;    // acknowledgements marked Duplicate
  int64_t lost = 0;          // records the source purged before publication
  int64_t resyncs = 0;       // resynchronisations with the stream
  int64_t lag = 0;           // source records not acknowledged yet
};

class Publisher {
 public:
  // Starts publishing `log` to `options.stream`, from what the stream holds
  // (an empty stream: from the log's earliest record). Fails with
  // IsStreamNotFound, IsServerUnavailable, IsNatsError, or kInvalidArgument for
  // empty `options.stream` or `max_pending` < 1.
  static absl::StatusOr<std::unique_ptr<Publisher>> Start(
      const Connection& connection, const memlog::Log& log,
      PublisherOptions options);
  // Starts publishing every shard of `log`, shard i to stream
  // ShardStreamName(options.stream, i). Fails as above.
  // PERFORMANCE WARNING: one thread per shard; meant for tens of shards.
  static absl::StatusOr<std::unique_ptr<Publisher>> Start(
      const Connection& connection, const sharded::Log& log,
      PublisherOptions options);

  // Stops (see Stop()).
  ~Publisher();

  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // Stops publishing: returns once every thread has ended; acknowledgements
  // still in flight are not waited for. Idempotent.
  void Stop();

  // OK while every stream's publisher runs (or was stopped by Stop()); else
  // the first status that stopped one: IsRecordsLost, IsForeignMessage,
  // IsSequenceConflict, IsStreamNotFound, IsRecordRefused (a record larger
  // than the stream's max_msg_size), IsNatsError (a record larger than the
  // server's maximum payload, say), or a memlog error of the source.
  // While servers are unreachable the publisher retries and stays OK.
  absl::Status status() const;

  // Blocks until the record at `offset` of shard `shard` (0 for a
  // memlog::Log), and so every record before it, is acknowledged by the
  // stream. Returns OK then, or kDeadlineExceeded (memlog::IsWaitTimedOut)
  // at `deadline`, or the status that stopped that stream's publisher, or
  // kInvalidArgument for a shard that does not exist.
  absl::Status WaitForAcknowledged(size_t shard, Offset offset,
                                   absl::Time deadline) const;

  // The stream sequence of record `o` of shard `shard` is `o` plus this.
  // Fails with memlog::IsFutureOffset until the first record is published
  // to an empty stream, and kInvalidArgument for a bad shard.
  absl::StatusOr<int64_t> SequenceDelta(size_t shard) const;

  PublisherCounters counters() const;
  // REQUIRES: shard < number of streams.
  PublisherCounters shard_counters(size_t shard) const;

  class Worker;  // one stream's publisher; in publisher.cc

 private:
  explicit Publisher(std::vector<std::unique_ptr<Worker>> workers);

  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace memlog::jetstream

#endif  // MEMLOG_JETSTREAM_PUBLISHER_H_
