// Copyright memlog authors.

#include "jetstream/mirror.h"

#include <nats/nats.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "jetstream/internal/headers.h"
#include "jetstream/internal/nats_status.h"
#include "jetstream/internal/worker.h"
#include "jetstream/status.h"
#include "memlog/replica.h"
#include "memlog/status.h"
#include "sharded/replica.h"

namespace memlog::jetstream {
namespace {

using internal::FromNats;

constexpr int64_t kNoCreated = std::numeric_limits<int64_t>::min();

// Where one stream's messages go: a memlog::Log or one shard.
class Sink {
 public:
  virtual ~Sink() = default;
  // One past the latest record, or kInvalidOffset if none was ever written.
  virtual Offset next() const = 0;
  // The created time of the latest record, or kNoCreated.
  virtual int64_t latest_created() const = 0;
  virtual Offset start_offset() const = 0;
  // Whether the first record may land past the start offset.
  virtual bool can_skip_ahead() const = 0;
  virtual absl::Status Append(Offset offset, int64_t created, natsMsg* msg) = 0;
};

std::string_view DataOf(natsMsg* msg) {
  return {natsMsg_GetData(msg),
          static_cast<size_t>(natsMsg_GetDataLength(msg))};
}

class LogSink final : public Sink {
 public:
  explicit LogSink(memlog::Log& log) : log_(log) {}
  Offset next() const override {
    const OffsetRange range = log_.Range();
    return range.latest == kInvalidOffset ? kInvalidOffset : range.latest + 1;
  }
  int64_t latest_created() const override {
    const OffsetRange range = log_.Range();
    if (range.latest == kInvalidOffset) return kNoCreated;
    absl::StatusOr<memlog::RecordView> view = log_.ReadView(range.latest);
    return view.ok() ? absl::ToUnixNanos(view->created()) : kNoCreated;
  }
  Offset start_offset() const override { return log_.options().start_offset; }
  bool can_skip_ahead() const override { return true; }
  absl::Status Append(Offset offset, int64_t created, natsMsg* msg) override {
    return ReplicaWriter::Append(log_, offset, absl::FromUnixNanos(created),
                                 DataOf(msg))
        .status();
  }

 private:
  memlog::Log& log_;
};

class ShardSink final : public Sink {
 public:
  ShardSink(sharded::Log& log, size_t shard) : log_(log), shard_(shard) {}
  Offset next() const override {
    absl::StatusOr<OffsetRange> range = log_.ShardRange(shard_);
    if (!range.ok() || range->latest == kInvalidOffset) return kInvalidOffset;
    return range->latest + 1;
  }
  int64_t latest_created() const override {
    absl::StatusOr<OffsetRange> range = log_.ShardRange(shard_);
    if (!range.ok() || range->latest == kInvalidOffset) return kNoCreated;
    absl::StatusOr<sharded::RecordView> view =
        log_.ReadShard(shard_, range->latest);
    return view.ok() ? absl::ToUnixNanos(view->created()) : kNoCreated;
  }
  Offset start_offset() const override {
    return log_.options().shard.start_offset;
  }
  // A shard's first replica record may skip ahead (sharded/replica.h).
  bool can_skip_ahead() const override { return true; }
  absl::Status Append(Offset offset, int64_t created, natsMsg* msg) override {
    const char* encoded = nullptr;
    std::string key;
    if (natsMsgHeader_Get(msg, internal::kKeyHeader, &encoded) != NATS_OK ||
        encoded == nullptr || !absl::Base64Unescape(encoded, &key)) {
      return MakeError(
          ErrorKind::kForeignMessage,
          absl::StrCat("message ", offset, " of shard ", shard_,
                       "'s stream has no valid Memlog-Key header; a sharded "
                       "mirror cannot place it"));
    }
    return sharded::ShardReplicaWriter::Append(log_, shard_, key, offset,
                                               absl::FromUnixNanos(created),
                                               DataOf(msg))
        .status();
  }

 private:
  sharded::Log& log_;
  const size_t shard_;
};

}  // namespace

class Mirror::Worker {
 public:
  Worker(const Connection& connection, std::unique_ptr<Sink> sink,
         std::string stream, MirrorOptions options)
      : connection_(connection),
        sink_(std::move(sink)),
        stream_(std::move(stream)),
        options_(std::move(options)) {}

  ~Worker() { Stop(); }

  absl::Status Init() {
    absl::StatusOr<StreamState> state = GetStreamState(connection_, stream_);
    if (!state.ok()) return state.status();
    thread_.Start([this](std::stop_token stop) { Run(stop); });
    return absl::OkStatus();
  }

  void Stop() { thread_.Stop(); }

  absl::Status status() const { return progress_.status(); }

  absl::Status WaitForMirrored(Offset offset, absl::Time deadline) const {
    return progress_.WaitFor(offset, deadline, [&](Offset latest) {
      return absl::StrCat("sequence ", offset, " of stream ", stream_,
                          " was not mirrored before the deadline; latest is ",
                          latest);
    });
  }

  MirrorCounters counters() const {
    MirrorCounters c;
    c.appended = appended_.load(std::memory_order_relaxed);
    c.redelivered = redelivered_.load(std::memory_order_relaxed);
    c.resubscribed = resubscribed_.load(std::memory_order_relaxed);
    c.clamped = clamped_.load(std::memory_order_relaxed);
    c.lag = lag_.load(std::memory_order_relaxed);
    return c;
  }

 private:
  void Fail(absl::Status status) { progress_.Fail(std::move(status)); }

  // Returns the sequence to mirror next, given what the stream holds; or the
  // status that ends the mirror.
  absl::StatusOr<Offset> NextSequence(const StreamState& state) const {
    const auto first = static_cast<Offset>(state.first_seq);
    const auto after_last = static_cast<Offset>(state.last_seq) + 1;
    // The lowest sequence the stream still holds (or will hold next).
    const Offset lowest = state.messages > 0 ? first : after_last;
    Offset next = sink_->next();
    if (next == kInvalidOffset) {
      if (sink_->can_skip_ahead()) return std::max(lowest, sink_->start_offset());
      next = sink_->start_offset();
    }
    if (next < lowest) {
      return memlog::MakeLaggedError(
          lowest - next, true,
          absl::StrCat("stream ", stream_, " no longer holds sequences ", next,
                       " to ", lowest - 1, "; the mirror stopped at ", next,
                       " rather than renumber"));
    }
    if (next > after_last) {
      return MakeError(ErrorKind::kSequenceConflict,
                       absl::StrCat("the mirror of stream ", stream_,
                                    " holds sequences up to ", next - 1,
                                    " but the stream's last is ",
                                    state.last_seq,
                                    ": the stream was recreated"));
    }
    return next;
  }

  void Run(std::stop_token stop) {
    bool first = true;
    while (!stop.stop_requested()) {
      absl::StatusOr<StreamState> state = GetStreamState(connection_, stream_);
      if (!state.ok()) {
        if (IsServerUnavailable(state.status())) {
          thread_.Pause(stop, options_.retry_wait);
          continue;
        }
        Fail(state.status());
        return;
      }
      absl::StatusOr<Offset> next = NextSequence(*state);
      if (!next.ok()) {
        Fail(next.status());
        return;
      }
      lag_.store(static_cast<int64_t>(state->last_seq) + 1 - *next,
                 std::memory_order_relaxed);
      natsSubscription* sub = nullptr;
      absl::Status subscribed = Subscribe(*state, *next, &sub);
      if (!subscribed.ok()) {
        if (IsServerUnavailable(subscribed)) {
          thread_.Pause(stop, options_.retry_wait);
          continue;
        }
        Fail(std::move(subscribed));
        return;
      }
      if (!first) resubscribed_.fetch_add(1, std::memory_order_relaxed);
      first = false;
      absl::Status consumed = Consume(stop, sub, *next);
      natsSubscription_Unsubscribe(sub);
      natsSubscription_Destroy(sub);
      if (!consumed.ok()) {
        Fail(std::move(consumed));
        return;
      }
    }
  }

  absl::Status Subscribe(const StreamState& state, Offset next,
                         natsSubscription** sub) {
    jsSubOptions sub_options;
    jsSubOptions_Init(&sub_options);
    sub_options.Stream = stream_.c_str();
    sub_options.Ordered = true;
    sub_options.Config.DeliverPolicy = js_DeliverByStartSequence;
    sub_options.Config.OptStartSeq = static_cast<uint64_t>(next);
    const std::string subject =
        state.subjects.size() == 1 ? state.subjects[0] : std::string(">");
    jsErrCode error_code = static_cast<jsErrCode>(0);
    natsStatus s = js_SubscribeSync(sub, connection_.admin(), subject.c_str(),
                                    nullptr, &sub_options, &error_code);
    if (s == NATS_OK) {
      // Flow control bounds what the server sends ahead; the client's own
      // limit must not drop what it did send.
      s = natsSubscription_SetPendingLimits(*sub, 1 << 20, 1 << 30);
    }
    if (s != NATS_OK) {
      natsSubscription_Destroy(*sub);
      *sub = nullptr;
    }
    return FromNats(s, error_code,
                    absl::StrCat("subscribing to stream ", stream_,
                                 " from sequence ", next));
  }

  // Mirrors from `next` until stopped or the subscription should be made
  // again (OK), or a failure ends the mirror (the error).
  absl::Status Consume(std::stop_token stop, natsSubscription* sub,
                       Offset next) {
    int64_t previous_created = sink_->latest_created();
    absl::Duration idle;
    constexpr absl::Duration kPoll = absl::Milliseconds(100);
    while (!stop.stop_requested()) {
      natsMsg* msg = nullptr;
      const natsStatus s = natsSubscription_NextMsg(
          &msg, sub, absl::ToInt64Milliseconds(kPoll));
      if (s == NATS_TIMEOUT) {
        idle += kPoll;
        if (idle < options_.idle_check) continue;
        idle = absl::ZeroDuration();
        absl::StatusOr<StreamState> state = GetStreamState(connection_, stream_);
        if (state.ok()) {
          lag_.store(static_cast<int64_t>(state->last_seq) + 1 - next,
                     std::memory_order_relaxed);
          // The stream holds what we have not received: the consumer was
          // lost (a leader change, a restart). Subscribe again.
          if (static_cast<Offset>(state->last_seq) >= next) {
            return absl::OkStatus();
          }
        }
        continue;
      }
      if (s != NATS_OK) {
        natsMsg_Destroy(msg);
        thread_.Pause(stop, options_.retry_wait);
        return absl::OkStatus();
      }
      idle = absl::ZeroDuration();
      jsMsgMetaData* meta = nullptr;
      if (natsMsg_GetMetaData(&meta, msg) != NATS_OK) {
        natsMsg_Destroy(msg);
        continue;
      }
      const auto seq = static_cast<Offset>(meta->Sequence.Stream);
      int64_t created = meta->Timestamp;
      const auto pending = static_cast<int64_t>(meta->NumPending);
      jsMsgMetaData_Destroy(meta);
      if (seq < next) {
        redelivered_.fetch_add(1, std::memory_order_relaxed);
        natsMsg_Destroy(msg);
        continue;
      }
      if (seq > next) {
        natsMsg_Destroy(msg);
        return MakeError(
            ErrorKind::kSequenceGap,
            absl::StrCat("stream ", stream_, " skips sequences ", next, " to ",
                         seq - 1,
                         " (deleted or removed by a limit); the mirror stopped "
                         "rather than renumber"),
            seq - next);
      }
      if (created < previous_created) {
        created = previous_created;
        clamped_.fetch_add(1, std::memory_order_relaxed);
      }
      absl::Status appended = sink_->Append(seq, created, msg);
      natsMsg_Destroy(msg);
      if (!appended.ok()) return appended;
      previous_created = created;
      progress_.Advance(next);
      ++next;
      appended_.fetch_add(1, std::memory_order_relaxed);
      lag_.store(pending, std::memory_order_relaxed);
    }
    return absl::OkStatus();
  }

  const Connection& connection_;
  const std::unique_ptr<Sink> sink_;
  const std::string stream_;
  const MirrorOptions options_;

  std::atomic<int64_t> appended_{0};
  std::atomic<int64_t> redelivered_{0};
  std::atomic<int64_t> resubscribed_{0};
  std::atomic<int64_t> clamped_{0};
  std::atomic<int64_t> lag_{0};

  internal::Progress progress_;  // the latest sequence appended

  internal::WorkerThread thread_;  // last: stopped before the rest goes
};

Mirror::Mirror(std::vector<std::unique_ptr<Worker>> workers)
    : workers_(std::move(workers)) {}

Mirror::~Mirror() { Stop(); }

void Mirror::Stop() {
  for (auto& worker : workers_) worker->Stop();
}

absl::StatusOr<std::unique_ptr<Mirror>> Mirror::Start(
    const Connection& connection, memlog::Log& log, MirrorOptions options) {
  if (options.stream.empty()) {
    return absl::InvalidArgumentError("MirrorOptions::stream is empty");
  }
  std::vector<std::unique_ptr<Worker>> workers;
  workers.push_back(std::make_unique<Worker>(
      connection, std::make_unique<LogSink>(log), options.stream, options));
  if (absl::Status status = workers.back()->Init(); !status.ok()) {
    return status;
  }
  return std::unique_ptr<Mirror>(new Mirror(std::move(workers)));
}

absl::StatusOr<std::unique_ptr<Mirror>> Mirror::Start(
    const Connection& connection, sharded::Log& log, MirrorOptions options) {
  if (options.stream.empty()) {
    return absl::InvalidArgumentError("MirrorOptions::stream is empty");
  }
  std::vector<std::unique_ptr<Worker>> workers;
  for (size_t shard = 0; shard < log.num_shards(); ++shard) {
    workers.push_back(std::make_unique<Worker>(
        connection, std::make_unique<ShardSink>(log, shard),
        ShardStreamName(options.stream, shard), options));
    if (absl::Status status = workers.back()->Init(); !status.ok()) {
      return status;
    }
  }
  return std::unique_ptr<Mirror>(new Mirror(std::move(workers)));
}

absl::Status Mirror::status() const {
  for (const auto& worker : workers_) {
    if (absl::Status status = worker->status(); !status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status Mirror::WaitForMirrored(size_t shard, Offset offset,
                                     absl::Time deadline) const {
  if (shard >= workers_.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("shard ", shard, " does not exist; there are ",
                     workers_.size(), " streams"));
  }
  return workers_[shard]->WaitForMirrored(offset, deadline);
}

MirrorCounters Mirror::shard_counters(size_t shard) const {
  return workers_[shard]->counters();
}

MirrorCounters Mirror::counters() const {
  MirrorCounters total;
  for (const auto& worker : workers_) {
    const MirrorCounters c = worker->counters();
    total.appended += c.appended;
    total.redelivered += c.redelivered;
    total.resubscribed += c.resubscribed;
    total.clamped += c.clamped;
    total.lag += c.lag;
  }
  return total;
}

}  // namespace memlog::jetstream
