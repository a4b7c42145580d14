// Copyright memlog authors.

#include "jetstream/publisher.h"

#include <nats/nats.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "jetstream/internal/headers.h"
#include "jetstream/internal/nats_status.h"
#include "jetstream/status.h"
#include "memlog/status.h"

namespace memlog::jetstream {
namespace {

using internal::FromNats;
using internal::IntHeader;

constexpr size_t kBatch = 256;

// One record to publish; the views behind `key` and `data` live until the
// next Read().
struct Outgoing {
  Offset offset;
  int64_t created;
  std::string_view key;  // empty for a memlog::Log
  std::string_view data;
};

// The records of one stream's source: a memlog::Log or one shard.
class Source {
 public:
  virtual ~Source() = default;
  // Positions the source at `next`.
  virtual absl::Status Seek(Offset next) = 0;
  // Reads what is written from the position on, waiting until `deadline`
  // for the first record; as memlog::Stream::NextBatch().
  virtual ReadResult Read(std::vector<Outgoing>& out, absl::Time deadline) = 0;
  virtual OffsetRange Range() const = 0;
  virtual Offset start_offset() const = 0;
  virtual bool keyed() const = 0;
};

class LogSource final : public Source {
 public:
  explicit LogSource(const memlog::Log& log) : log_(log), views_(kBatch) {}
  absl::Status Seek(Offset next) override {
    absl::StatusOr<memlog::Stream> stream = log_.StreamFrom(next);
    if (!stream.ok()) return stream.status();
    stream_.emplace(*std::move(stream));
    return absl::OkStatus();
  }
  ReadResult Read(std::vector<Outgoing>& out, absl::Time deadline) override {
    out.clear();
    ReadResult read = stream_->NextBatch(absl::MakeSpan(views_), deadline);
    for (int64_t i = 0; i < read.count; ++i) {
      const memlog::RecordView& view = views_[static_cast<size_t>(i)];
      out.push_back({view.offset(), absl::ToUnixNanos(view.created()), {},
                     view.data()});
    }
    return read;
  }
  OffsetRange Range() const override { return log_.Range(); }
  Offset start_offset() const override { return log_.options().start_offset; }
  bool keyed() const override { return false; }

 private:
  const memlog::Log& log_;
  std::optional<memlog::Stream> stream_;
  std::vector<memlog::RecordView> views_;
};

class ShardSource final : public Source {
 public:
  ShardSource(const sharded::Log& log, size_t shard)
      : log_(log), shard_(shard), views_(kBatch) {}
  absl::Status Seek(Offset next) override {
    absl::StatusOr<sharded::ShardStream> stream =
        log_.ShardStreamFrom(shard_, next);
    if (!stream.ok()) return stream.status();
    stream_.emplace(*std::move(stream));
    return absl::OkStatus();
  }
  ReadResult Read(std::vector<Outgoing>& out, absl::Time deadline) override {
    out.clear();
    ReadResult read = stream_->NextBatch(absl::MakeSpan(views_), deadline);
    for (int64_t i = 0; i < read.count; ++i) {
      const sharded::RecordView& view = views_[static_cast<size_t>(i)];
      out.push_back({view.offset(), absl::ToUnixNanos(view.created()),
                     view.key(), view.data()});
    }
    return read;
  }
  OffsetRange Range() const override {
    absl::StatusOr<OffsetRange> range = log_.ShardRange(shard_);
    return range.ok() ? *range : OffsetRange{};
  }
  Offset start_offset() const override {
    return log_.options().shard.start_offset;
  }
  bool keyed() const override { return true; }

 private:
  const sharded::Log& log_;
  const size_t shard_;
  std::optional<sharded::ShardStream> stream_;
  std::vector<sharded::RecordView> views_;
};

}  // namespace

// Design: the worker thread reads the source and publishes asynchronously;
// nats.c's threads deliver acknowledgements to OnAck(). Any failed
// acknowledgement sets `resync_`; the worker then drains what is in flight,
// reads the stream's last message, and resumes after it. The stream, not the
// worker's memory, is the truth about what was published.
class Publisher::Worker {
 public:
  Worker(const Connection& connection, std::unique_ptr<Source> source,
         std::string stream, std::string subject, PublisherOptions options)
      : connection_(connection),
        source_(std::move(source)),
        stream_(std::move(stream)),
        subject_(std::move(subject)),
        options_(std::move(options)) {}

  ~Worker() {
    Stop();
    if (js_ == nullptr) return;
    // OnAck() must not run once this is gone: let what is in flight be
    // acknowledged (bounded), then take back what is still pending, so that
    // nats.c has nothing left to call us about.
    jsPubOptions wait;
    jsPubOptions_Init(&wait);
    wait.MaxWait = absl::ToInt64Milliseconds(options_.ack_timeout);
    if (js_PublishAsyncComplete(js_, &wait) != NATS_OK) {
      natsMsgList pending = {};
      if (js_PublishAsyncGetPendingList(&pending, js_) == NATS_OK) {
        natsMsgList_Destroy(&pending);
      }
    }
    jsCtx_Destroy(js_);
  }

  absl::Status Init() {
    jsOptions js_options;
    jsOptions_Init(&js_options);
    js_options.Wait = absl::ToInt64Milliseconds(connection_.options().timeout);
    js_options.PublishAsync.MaxPending = options_.max_pending;
    js_options.PublishAsync.AckHandler = &Worker::OnAck;
    js_options.PublishAsync.AckHandlerClosure = this;
    js_options.PublishAsync.StallWait = 100;
    natsStatus s = natsConnection_JetStream(&js_, connection_.nats(), &js_options);
    if (s != NATS_OK) {
      return FromNats(s, static_cast<jsErrCode>(0), "making a JetStream context");
    }
    // The stream must exist: an error now is better than a silent retry loop.
    absl::StatusOr<StreamState> state = GetStreamState(connection_, stream_);
    if (!state.ok()) return state.status();
    thread_ = std::jthread([this](std::stop_token stop) { Run(stop); });
    return absl::OkStatus();
  }

  void Stop() {
    if (thread_.joinable()) {
      thread_.request_stop();
      wake_.notify_all();
      thread_.join();
    }
  }

  absl::Status status() const {
    std::lock_guard lock(mu_);
    return failure_;
  }

  absl::Status WaitForAcknowledged(Offset offset, absl::Time deadline) const {
    std::unique_lock lock(mu_);
    const bool done = acked_.wait_until(lock, absl::ToChronoTime(deadline), [&] {
      return acked_offset_ >= offset || !failure_.ok();
    });
    if (acked_offset_ >= offset) return absl::OkStatus();
    if (!failure_.ok()) return failure_;
    (void)done;
    return memlog::MakeError(
        memlog::ErrorKind::kWaitTimedOut,
        absl::StrCat("offset ", offset, " of stream ", stream_,
                     " was not acknowledged before the deadline; latest "
                     "acknowledged is ",
                     acked_offset_));
  }

  absl::StatusOr<int64_t> SequenceDelta() const {
    if (!delta_known_.load(std::memory_order_acquire)) {
      return memlog::MakeError(
          memlog::ErrorKind::kFutureOffset,
          absl::StrCat("stream ", stream_, " has no record of ours yet"));
    }
    return delta_.load(std::memory_order_relaxed);
  }

  PublisherCounters counters() const {
    PublisherCounters c;
    c.published = published_.load(std::memory_order_relaxed);
    c.acknowledged = acknowledged_.load(std::memory_order_relaxed);
    c.retried = retried_.load(std::memory_order_relaxed);
    c.duplicates = duplicates_.load(std::memory_order_relaxed);
    c.lost = lost_.load(std::memory_order_relaxed);
    c.resyncs = resyncs_.load(std::memory_order_relaxed);
    const OffsetRange range = source_->Range();
    Offset acked;
    {
      std::lock_guard lock(mu_);
      acked = acked_offset_;
    }
    if (range.latest != kInvalidOffset) {
      c.lag = range.latest - std::max(acked, range.earliest - 1);
    }
    return c;
  }

 private:
  static void OnAck(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae,
                    void* closure) {
    auto* self = static_cast<Worker*>(closure);
    const std::optional<int64_t> offset =
        IntHeader(msg, internal::kOffsetHeader);
    if (pa != nullptr && offset.has_value()) {
      self->acknowledged_.fetch_add(1, std::memory_order_relaxed);
      if (pa->Duplicate) {
        self->duplicates_.fetch_add(1, std::memory_order_relaxed);
      }
      const int64_t delta = self->delta_.load(std::memory_order_acquire);
      if (static_cast<int64_t>(pa->Sequence) != *offset + delta) {
        self->Fail(MakeError(
            ErrorKind::kSequenceConflict,
            absl::StrCat("stream ", self->stream_, " stored offset ", *offset,
                         " at sequence ", pa->Sequence, ", not ",
                         *offset + delta,
                         ": another publisher writes to its subject")));
      } else {
        std::lock_guard lock(self->mu_);
        self->acked_offset_ = std::max(self->acked_offset_, *offset);
      }
      self->acked_.notify_all();
    } else if (pae != nullptr) {
      self->resync_.store(true, std::memory_order_release);
      self->wake_.notify_all();
    }
    natsMsg_Destroy(msg);
  }

  void Fail(absl::Status status) {
    {
      std::lock_guard lock(mu_);
      if (failure_.ok()) failure_ = std::move(status);
    }
    acked_.notify_all();
    wake_.notify_all();
  }

  bool failed() const {
    std::lock_guard lock(mu_);
    return !failure_.ok();
  }

  // Sleeps for `wait` or until stopped.
  void Pause(std::stop_token stop, absl::Duration wait) {
    std::unique_lock lock(mu_);
    wake_.wait_for(lock, stop, absl::ToChronoMilliseconds(wait),
                   [] { return false; });
  }

  void Run(std::stop_token stop) {
    while (!stop.stop_requested() && !failed()) {
      absl::Status synced = Resync();
      if (IsServerUnavailable(synced)) {
        Pause(stop, options_.retry_wait);
        continue;
      }
      if (synced.ok()) synced = source_->Seek(next_);
      if (!synced.ok()) {
        Fail(std::move(synced));
        break;
      }
      absl::Status pumped = Pump(stop);
      if (!pumped.ok()) {
        Fail(std::move(pumped));
        break;
      }
    }
  }

  // Learns where the stream is: sets next_ (and delta_ once known).
  absl::Status Resync() {
    resyncs_.fetch_add(1, std::memory_order_relaxed);
    resync_.store(false, std::memory_order_release);
    // What is in flight is acknowledged or failed first, so that the stream
    // state read below is not overtaken by our own earlier publishes (a late
    // one still cannot land twice: its expected sequence is taken).
    jsPubOptions wait;
    jsPubOptions_Init(&wait);
    wait.MaxWait = absl::ToInt64Milliseconds(options_.ack_timeout) * 2;
    if (js_PublishAsyncComplete(js_, &wait) != NATS_OK) {
      natsMsgList pending = {};
      if (js_PublishAsyncGetPendingList(&pending, js_) == NATS_OK) {
        natsMsgList_Destroy(&pending);
      }
    }
    absl::StatusOr<StreamState> state = GetStreamState(connection_, stream_);
    if (!state.ok()) return state.status();
    const Offset sent = next_;
    if (state->messages == 0) {
      if (delta_known_.load(std::memory_order_relaxed)) {
        bool acked_any;
        {
          std::lock_guard lock(mu_);
          acked_any = acked_offset_ != kInvalidOffset;
        }
        if (state->last_seq == 0 && acked_any) {
          return MakeError(ErrorKind::kSequenceConflict,
                           absl::StrCat("stream ", stream_,
                                        " was emptied and restarted at "
                                        "sequence 1 under the publisher"));
        }
        next_ = static_cast<int64_t>(state->last_seq) -
                delta_.load(std::memory_order_relaxed) + 1;
      } else {
        // A fresh stream: start with the source's earliest record; delta is
        // fixed by the first publish.
        const OffsetRange range = source_->Range();
        next_ = range.earliest != kInvalidOffset ? range.earliest
                                                 : source_->start_offset();
        empty_last_seq_ = static_cast<int64_t>(state->last_seq);
      }
    } else {
      natsMsg* last = nullptr;
      jsErrCode error_code = static_cast<jsErrCode>(0);
      const natsStatus s = js_GetMsg(&last, connection_.admin(), stream_.c_str(),
                                     state->last_seq, nullptr, &error_code);
      if (s != NATS_OK) {
        return FromNats(s, error_code,
                        absl::StrCat("reading the last message of ", stream_));
      }
      const std::optional<int64_t> offset =
          IntHeader(last, internal::kOffsetHeader);
      natsMsg_Destroy(last);
      if (!offset.has_value()) {
        return MakeError(
            ErrorKind::kForeignMessage,
            absl::StrCat("the last message of stream ", stream_, " (sequence ",
                         state->last_seq,
                         ") has no Memlog-Offset header: another publisher "
                         "writes to its subject"));
      }
      const int64_t delta = static_cast<int64_t>(state->last_seq) - *offset;
      if (delta_known_.load(std::memory_order_relaxed) &&
          delta != delta_.load(std::memory_order_relaxed)) {
        return MakeError(ErrorKind::kSequenceConflict,
                         absl::StrCat("stream ", stream_, " holds offset ",
                                      *offset, " at sequence ", state->last_seq,
                                      "; expected sequence = offset + ",
                                      delta_.load(std::memory_order_relaxed)));
      }
      delta_.store(delta, std::memory_order_release);
      delta_known_.store(true, std::memory_order_release);
      next_ = *offset + 1;
      std::lock_guard lock(mu_);
      acked_offset_ = std::max(acked_offset_, *offset);
    }
    acked_.notify_all();
    if (sent > next_) {
      retried_.fetch_add(sent - next_, std::memory_order_relaxed);
    }
    return absl::OkStatus();
  }

  // Publishes from next_ until stopped (OK), told to resynchronise (OK), or
  // failed (the error).
  absl::Status Pump(std::stop_token stop) {
    // True until the first publish after the resynchronisation: a lag seen
    // then is exactly what the stream lacks.
    bool fresh = true;
    std::vector<Outgoing> batch;
    std::string key_header;
    while (!stop.stop_requested()) {
      if (resync_.load(std::memory_order_acquire)) return absl::OkStatus();
      if (failed()) return absl::OkStatus();
      const ReadResult read =
          source_->Read(batch, absl::Now() + absl::Milliseconds(100));
      if (memlog::IsWaitTimedOut(read.status)) continue;
      if (memlog::IsClosed(read.status)) {
        Pause(stop, options_.retry_wait);
        continue;
      }
      if (memlog::IsLagged(read.status) && !fresh) {
        // Records sent but not yet acknowledged may never land: count the
        // loss from what the stream holds, after a resynchronisation.
        resync_.store(true, std::memory_order_release);
        return absl::OkStatus();
      }
      if (memlog::IsLagged(read.status)) {
        const int64_t missed = memlog::LaggedCount(read.status);
        lost_.fetch_add(missed, std::memory_order_relaxed);
        return MakeError(
            ErrorKind::kRecordsLost,
            absl::StrCat(missed, " records of stream ", stream_,
                         "'s source were purged before they were published "
                         "(offsets ",
                         next_, " to ", next_ + missed - 1, ")"),
            missed);
      }
      if (!read.ok()) return read.status;
      for (const Outgoing& record : batch) {
        if (!delta_known_.load(std::memory_order_relaxed)) {
          delta_.store(empty_last_seq_ + 1 - record.offset,
                       std::memory_order_release);
          delta_known_.store(true, std::memory_order_release);
        }
        const int64_t delta = delta_.load(std::memory_order_relaxed);
        natsMsg* msg = nullptr;
        natsStatus s = natsMsg_Create(&msg, subject_.c_str(), nullptr,
                                      record.data.data(),
                                      static_cast<int>(record.data.size()));
        const std::string offset = absl::StrCat(record.offset);
        if (s == NATS_OK) {
          s = natsMsgHeader_Set(msg, internal::kOffsetHeader, offset.c_str());
        }
        if (s == NATS_OK) {
          s = natsMsgHeader_Set(msg, internal::kCreatedHeader,
                                absl::StrCat(record.created).c_str());
        }
        if (s == NATS_OK && source_->keyed()) {
          key_header = absl::Base64Escape(
              absl::string_view(record.key.data(), record.key.size()));
          s = natsMsgHeader_Set(msg, internal::kKeyHeader, key_header.c_str());
        }
        if (s != NATS_OK) {
          natsMsg_Destroy(msg);
          return FromNats(s, static_cast<jsErrCode>(0), "making a message");
        }
        jsPubOptions pub;
        jsPubOptions_Init(&pub);
        pub.MsgId = offset.c_str();
        pub.MaxWait = absl::ToInt64Milliseconds(options_.ack_timeout);
        pub.ExpectLastSeq = static_cast<uint64_t>(record.offset + delta - 1);
        // A full window stalls the publish (StallWait); try again until
        // acknowledgements make room, we must resynchronise, or we stop.
        for (;;) {
          s = js_PublishMsgAsync(js_, &msg, &pub);
          if (s != NATS_TIMEOUT) break;
          if (stop.stop_requested() || resync_.load(std::memory_order_acquire)) {
            break;
          }
        }
        natsMsg_Destroy(msg);  // no-op once nats.c took it
        if (s != NATS_OK) {
          resync_.store(true, std::memory_order_release);
          return absl::OkStatus();
        }
        published_.fetch_add(1, std::memory_order_relaxed);
        fresh = false;
        next_ = record.offset + 1;
      }
    }
    return absl::OkStatus();
  }

  const Connection& connection_;
  const std::unique_ptr<Source> source_;
  const std::string stream_;
  const std::string subject_;
  const PublisherOptions options_;
  jsCtx* js_ = nullptr;

  // Worker thread only.
  Offset next_ = kInvalidOffset;
  int64_t empty_last_seq_ = 0;

  // seq = offset + delta_. Written by the worker thread (release, with
  // delta_known_ after it), read by the acknowledgement handler.
  std::atomic<int64_t> delta_{0};
  std::atomic<bool> delta_known_{false};
  // Set by the handler on a failed acknowledgement; cleared by Resync().
  std::atomic<bool> resync_{false};

  std::atomic<int64_t> published_{0};
  std::atomic<int64_t> acknowledged_{0};
  std::atomic<int64_t> retried_{0};
  std::atomic<int64_t> duplicates_{0};
  std::atomic<int64_t> lost_{0};
  std::atomic<int64_t> resyncs_{0};

  mutable std::mutex mu_;
  mutable std::condition_variable acked_;
  std::condition_variable_any wake_;
  Offset acked_offset_ = kInvalidOffset;  // guarded by mu_
  absl::Status failure_;                  // guarded by mu_

  std::jthread thread_;  // last: stopped before the rest is destroyed
};

Publisher::Publisher(std::vector<std::unique_ptr<Worker>> workers)
    : workers_(std::move(workers)) {}

Publisher::~Publisher() { Stop(); }

void Publisher::Stop() {
  for (auto& worker : workers_) worker->Stop();
}

namespace {
absl::Status CheckOptions(const PublisherOptions& options) {
  if (options.stream.empty()) {
    return absl::InvalidArgumentError("PublisherOptions::stream is empty");
  }
  if (options.max_pending < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "PublisherOptions::max_pending is ", options.max_pending,
        "; it must be at least 1"));
  }
  return absl::OkStatus();
}
}  // namespace

absl::StatusOr<std::unique_ptr<Publisher>> Publisher::Start(
    const Connection& connection, const memlog::Log& log,
    PublisherOptions options) {
  if (absl::Status status = CheckOptions(options); !status.ok()) return status;
  std::vector<std::unique_ptr<Worker>> workers;
  const std::string subject =
      options.subject.empty() ? options.stream : options.subject;
  workers.push_back(std::make_unique<Worker>(
      connection, std::make_unique<LogSource>(log), options.stream, subject,
      options));
  if (absl::Status status = workers.back()->Init(); !status.ok()) {
    return status;
  }
  return std::unique_ptr<Publisher>(new Publisher(std::move(workers)));
}

absl::StatusOr<std::unique_ptr<Publisher>> Publisher::Start(
    const Connection& connection, const sharded::Log& log,
    PublisherOptions options) {
  if (absl::Status status = CheckOptions(options); !status.ok()) return status;
  std::vector<std::unique_ptr<Worker>> workers;
  const std::string subject =
      options.subject.empty() ? options.stream : options.subject;
  for (size_t shard = 0; shard < log.num_shards(); ++shard) {
    workers.push_back(std::make_unique<Worker>(
        connection, std::make_unique<ShardSource>(log, shard),
        ShardStreamName(options.stream, shard), ShardSubject(subject, shard),
        options));
    if (absl::Status status = workers.back()->Init(); !status.ok()) {
      return status;
    }
  }
  return std::unique_ptr<Publisher>(new Publisher(std::move(workers)));
}

absl::Status Publisher::status() const {
  for (const auto& worker : workers_) {
    if (absl::Status status = worker->status(); !status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status Publisher::WaitForAcknowledged(size_t shard, Offset offset,
                                            absl::Time deadline) const {
  if (shard >= workers_.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("shard ", shard, " does not exist; there are ",
                     workers_.size(), " streams"));
  }
  return workers_[shard]->WaitForAcknowledged(offset, deadline);
}

absl::StatusOr<int64_t> Publisher::SequenceDelta(size_t shard) const {
  if (shard >= workers_.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("shard ", shard, " does not exist; there are ",
                     workers_.size(), " streams"));
  }
  return workers_[shard]->SequenceDelta();
}

PublisherCounters Publisher::shard_counters(size_t shard) const {
  return workers_[shard]->counters();
}

PublisherCounters Publisher::counters() const {
  PublisherCounters total;
  for (const auto& worker : workers_) {
    const PublisherCounters c = worker->counters();
    total.published += c.published;
    total.acknowledged += c.acknowledged;
    total.retried += c.retried;
    total.duplicates += c.duplicates;
    total.lost += c.lost;
    total.resyncs += c.resyncs;
    total.lag += c.lag;
  }
  return total;
}

}  // namespace memlog::jetstream
