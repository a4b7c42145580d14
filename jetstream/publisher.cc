// Copyright memlog authors.

#include "jetstream/publisher.h"

#include <nats/nats.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "jetstream/internal/headers.h"
#include "jetstream/internal/nats_status.h"
#include "jetstream/internal/pub_ack.h"
#include "jetstream/internal/worker.h"
#include "jetstream/status.h"
#include "memlog/status.h"

namespace memlog::jetstream {
namespace {

using internal::FromNats;
using internal::IntHeader;

constexpr size_t kBatch = 256;

// JetStream's headers for deduplication and the expected last sequence.
constexpr char kMsgIdHeader[] = "Nats-Msg-Id";
constexpr char kExpectedLastSeqHeader[] = "Nats-Expected-Last-Sequence";

// A decimal integer as a NUL-terminated string, without allocating.
class Digits {
 public:
  explicit Digits(int64_t value) {
    // 19 digits and a sign always fit.
    char* const end =
        std::to_chars(buffer_, buffer_ + sizeof(buffer_) - 1, value).ptr;
    *end = '\0';
    size_ = static_cast<size_t>(end - buffer_);
  }
  const char* c_str() const { return buffer_; }
  std::string_view view() const { return {buffer_, size_}; }

 private:
  char buffer_[24];
  size_t size_;
};

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

// Design: the worker thread reads the source and publishes each record with
// natsConnection_PublishMsg to the stream's subject, with a reply subject of
// its own, "<inbox>.<epoch>.<offset>". The server's acknowledgements arrive
// on one subscription to "<inbox>.>" and go to HandleReply() on nats.c's
// delivery thread. Up to `max_pending` publishes are in flight (the window);
// because offsets are consecutive, the window is a count, not a table of
// messages, and the reply subject says which record a reply is for.
//
// Why not js_PublishMsgAsync: it keeps a hash entry (and, with a MaxWait, a
// timer entry and a late timeout message) per publish, and parses every
// acknowledgement into a JSON tree; the window and one stall check per
// stream make that unnecessary, and the publisher pays for it on every
// record.
//
// Pipelining is safe because each publish expects the sequence of the
// record before it (offset + delta - 1), which is known without waiting for
// that record's acknowledgement. Any failure (a refused publish, a publish
// that could not be sent, or no reply at all for `ack_timeout` while
// publishes are in flight) makes the worker resynchronise: it lets the
// replies in flight arrive, starts a new epoch (replies to earlier epochs are
// ignored), reads the stream's last message and resumes after it. The
// stream, not the worker's memory, is the truth about what was published; a
// late publish of an earlier epoch that lands after the resynchronisation is
// stored only at its own sequence, and our next publish of that record is
// then recognised as a duplicate.
class Publisher::Worker {
 public:
  Worker(const Connection& connection, std::unique_ptr<Source> source,
         std::string stream, std::string subject, PublisherOptions options)
      : connection_(connection),
        source_(std::move(source)),
        stream_(std::move(stream)),
        subject_(std::move(subject)),
        options_(std::move(options)),
        low_water_(options_.max_pending / 2) {}

  ~Worker() {
    Stop();
    CloseSubscription();
  }

  absl::Status Init() {
    // The stream must exist: an error now is better than a silent retry loop.
    absl::StatusOr<StreamState> state = GetStreamState(connection_, stream_);
    if (!state.ok()) return state.status();
    natsInbox* inbox = nullptr;
    natsStatus s = natsInbox_Create(&inbox);
    if (s == NATS_OK) {
      reply_prefix_ = absl::StrCat(inbox, ".");
      natsInbox_Destroy(inbox);
      s = natsConnection_Subscribe(&replies_sub_, connection_.nats(),
                                   absl::StrCat(reply_prefix_, ">").c_str(),
                                   &Worker::OnReply, this);
    }
    // At most max_pending replies are outstanding: no limit is needed, and
    // one dropped would cost a stall.
    if (s == NATS_OK) {
      s = natsSubscription_SetPendingLimits(replies_sub_, -1, -1);
    }
    if (s == NATS_OK) {
      s = natsSubscription_SetOnCompleteCB(replies_sub_, &Worker::OnClosed,
                                           this);
    }
    if (s == NATS_OK) {
      std::lock_guard lock(window_mu_);
      on_closed_set_ = true;
    }
    if (s != NATS_OK) {
      absl::Status status = FromNats(
          s, static_cast<jsErrCode>(0),
          absl::StrCat("subscribing to the acknowledgements of ", stream_));
      CloseSubscription();
      return status;
    }
    thread_.Start([this](std::stop_token stop) { Run(stop); });
    return absl::OkStatus();
  }

  void Stop() { thread_.Stop(); }

  absl::Status status() const { return progress_.status(); }

  absl::Status WaitForAcknowledged(Offset offset, absl::Time deadline) const {
    return progress_.WaitFor(offset, deadline, [&](Offset latest) {
      return absl::StrCat("offset ", offset, " of stream ", stream_,
                          " was not acknowledged before the deadline; latest "
                          "acknowledged is ",
                          latest);
    });
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
    const Offset acked = progress_.latest();
    if (range.latest != kInvalidOffset) {
      c.lag = range.latest - std::max(acked, range.earliest - 1);
    }
    return c;
  }

 private:
  static void OnReply(natsConnection*, natsSubscription*, natsMsg* msg,
                      void* closure) {
    static_cast<Worker*>(closure)->HandleReply(msg);
    natsMsg_Destroy(msg);
  }

  static void OnClosed(void* closure) {
    auto* self = static_cast<Worker*>(closure);
    // Notified under the lock: once CloseSubscription() sees the flag it
    // destroys the worker, and this must be done with it by then.
    std::lock_guard lock(self->window_mu_);
    self->replies_closed_ = true;
    self->window_changed_.notify_all();
  }

  // Unsubscribes, and returns once nats.c will not call OnReply() again.
  void CloseSubscription() {
    if (replies_sub_ == nullptr) return;
    natsSubscription_Unsubscribe(replies_sub_);
    {
      std::unique_lock lock(window_mu_);
      if (on_closed_set_) {
        window_changed_.wait(lock, [&] { return replies_closed_; });
      }
    }
    natsSubscription_Destroy(replies_sub_);
    replies_sub_ = nullptr;
  }

  // "<epoch>.<offset>" after reply_prefix_; false if the subject is not one
  // of ours.
  bool ParseReplySubject(const char* subject, uint64_t& epoch,
                         Offset& offset) const {
    if (subject == nullptr) return false;
    std::string_view rest(subject);
    if (!rest.starts_with(reply_prefix_)) return false;
    rest.remove_prefix(reply_prefix_.size());
    const char* end = rest.data() + rest.size();
    auto [dot, e1] = std::from_chars(rest.data(), end, epoch);
    if (e1 != std::errc() || dot == end || *dot != '.') return false;
    auto [last, e2] = std::from_chars(dot + 1, end, offset);
    return e2 == std::errc() && last == end;
  }

  // On nats.c's delivery thread, one reply at a time.
  void HandleReply(natsMsg* msg) {
    uint64_t epoch = 0;
    Offset offset = kInvalidOffset;
    if (!ParseReplySubject(natsMsg_GetSubject(msg), epoch, offset)) return;
    // No responders: no stream leader took the publish (an election).
    std::optional<internal::PubAck> ack;
    if (!natsMsg_IsNoResponders(msg)) {
      ack = internal::ParsePubAck(
          std::string_view(natsMsg_GetData(msg),
                           static_cast<size_t>(natsMsg_GetDataLength(msg))));
    }
    const bool stored = ack.has_value() && ack->stored;
    bool wake;
    {
      std::lock_guard lock(window_mu_);
      if (epoch != epoch_) return;  // a publish before the last resync
      --in_flight_;
      ++replies_;
      if (!stored) resync_ = true;
      wake = worker_waiting_ && (resync_ || in_flight_ <= wake_at_);
    }
    if (!stored && ack.has_value() &&
        ack->error_code == JSStreamMessageExceedsMaximumErr) {
      // A resynchronisation would resend it, refused the same way forever.
      Fail(MakeError(ErrorKind::kRecordRefused,
                     absl::StrCat("stream ", stream_, " refused offset ",
                                  offset, ": ", ack->error, " (err_code ",
                                  ack->error_code,
                                  "); raise the stream's max_msg_size or "
                                  "keep such records out of the source")));
      return;
    }
    if (stored) {
      acknowledged_.fetch_add(1, std::memory_order_relaxed);
      if (ack->duplicate) duplicates_.fetch_add(1, std::memory_order_relaxed);
      const int64_t delta = delta_.load(std::memory_order_acquire);
      if (static_cast<int64_t>(ack->sequence) != offset + delta) {
        Fail(MakeError(
            ErrorKind::kSequenceConflict,
            absl::StrCat("stream ", stream_, " stored offset ", offset,
                         " at sequence ", ack->sequence, ", not ",
                         offset + delta,
                         ": another publisher writes to its subject")));
        return;
      }
      progress_.Advance(offset);
    }
    if (wake) window_changed_.notify_all();
  }

  // Stops the worker with `status` (the first failure stays).
  void Fail(absl::Status status) {
    progress_.Fail(std::move(status));
    {
      std::lock_guard lock(window_mu_);
      resync_ = true;  // gets the worker out of its window wait
    }
    window_changed_.notify_all();
  }

  bool ResyncWanted() {
    std::lock_guard lock(window_mu_);
    return resync_;
  }

  // Whether publishes are in flight and no reply came for ack_timeout: the
  // replies were lost (a server died, the connection dropped), or will come
  // too late to matter.
  bool Stalled() {
    const absl::Time now = absl::Now();
    std::lock_guard lock(window_mu_);
    if (in_flight_ == 0 || replies_ != stall_replies_) {
      stall_replies_ = replies_;
      stall_since_ = now;
      return false;
    }
    return now - stall_since_ >= options_.ack_timeout;
  }

  // Takes up to `wanted` places in the window, waiting while it is full.
  // Returns how many it took, or 0 when the worker must resynchronise
  // (stalled_ says whether for a stall) or stop.
  int64_t Reserve(std::stop_token stop, int64_t wanted) {
    std::unique_lock lock(window_mu_);
    for (;;) {
      if (resync_ || stop.stop_requested()) return 0;
      const int64_t room = options_.max_pending - in_flight_;
      if (room > 0) {
        // The stall clock runs from the oldest unreplied publish.
        if (in_flight_ == 0) {
          stall_replies_ = replies_;
          stall_since_ = absl::Now();
          window_was_empty_ = true;
        }
        const int64_t taken = std::min(room, wanted);
        in_flight_ += taken;
        return taken;
      }
      // Full: wait until half of it is acknowledged (one wake-up per half
      // window, not per reply), a failure, or ack_timeout without replies.
      const int64_t replies_before = replies_;
      wake_at_ = low_water_;
      worker_waiting_ = true;
      const bool woken = window_changed_.wait_for(
          lock, stop, absl::ToChronoMilliseconds(options_.ack_timeout),
          [&] { return resync_ || in_flight_ <= wake_at_; });
      worker_waiting_ = false;
      if (!woken && !stop.stop_requested() && replies_ == replies_before) {
        stalled_ = true;
        return 0;
      }
    }
  }

  // Gives back places taken by Reserve() for publishes that were not sent.
  void Release(int64_t unsent) {
    std::lock_guard lock(window_mu_);
    in_flight_ -= unsent;
  }

  void Run(std::stop_token stop) {
    while (!stop.stop_requested() && !progress_.failed()) {
      absl::Status synced = Resync(stop);
      if (stop.stop_requested()) break;
      if (IsServerUnavailable(synced)) {
        thread_.Pause(stop, options_.retry_wait);
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
  absl::Status Resync(std::stop_token stop) {
    resyncs_.fetch_add(1, std::memory_order_relaxed);
    {
      std::unique_lock lock(window_mu_);
      // Unless they stalled, the replies in flight are let in first, so that
      // the stream state read below includes what they stored (a late one
      // still cannot land twice: its expected sequence is taken).
      if (!stalled_ && in_flight_ > 0) {
        wake_at_ = 0;
        worker_waiting_ = true;
        window_changed_.wait_for(
            lock, stop, absl::ToChronoMilliseconds(options_.ack_timeout),
            [&] { return in_flight_ <= 0; });
        worker_waiting_ = false;
      }
      if (stop.stop_requested()) return absl::OkStatus();
      ++epoch_;
      in_flight_ = 0;
      resync_ = false;
    }
    stalled_ = false;
    absl::StatusOr<StreamState> state = GetStreamState(connection_, stream_);
    if (!state.ok()) return state.status();
    const Offset sent = next_;
    if (state->messages == 0) {
      if (delta_known_.load(std::memory_order_relaxed)) {
        if (state->last_seq == 0 && progress_.latest() != kInvalidOffset) {
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
      progress_.Advance(*offset);
    }
    if (sent > next_) {
      retried_.fetch_add(sent - next_, std::memory_order_relaxed);
    }
    return absl::OkStatus();
  }

  // Publishes from next_ until stopped or told to resynchronise (OK), or
  // failed (the error).
  absl::Status Pump(std::stop_token stop) {
    // True until the first publish after the resynchronisation: a lag seen
    // then is exactly what the stream lacks.
    bool fresh = true;
    std::vector<Outgoing> batch;
    while (!stop.stop_requested()) {
      if (ResyncWanted() || progress_.failed()) return absl::OkStatus();
      if (Stalled()) {
        stalled_ = true;
        return absl::OkStatus();
      }
      const ReadResult read =
          source_->Read(batch, absl::Now() + absl::Milliseconds(100));
      if (memlog::IsWaitTimedOut(read.status)) continue;
      if (memlog::IsClosed(read.status)) {
        thread_.Pause(stop, options_.retry_wait);
        continue;
      }
      if (memlog::IsLagged(read.status) && !fresh) {
        // Records sent but not yet acknowledged may never land: count the
        // loss from what the stream holds, after a resynchronisation.
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
      if (!delta_known_.load(std::memory_order_relaxed) && !batch.empty()) {
        delta_.store(empty_last_seq_ + 1 - batch.front().offset,
                     std::memory_order_release);
        delta_known_.store(true, std::memory_order_release);
      }
      window_was_empty_ = false;
      size_t done = 0;
      while (done < batch.size()) {
        const int64_t taken =
            Reserve(stop, static_cast<int64_t>(batch.size() - done));
        if (taken == 0) return absl::OkStatus();
        for (int64_t i = 0; i < taken; ++i, ++done) {
          absl::StatusOr<bool> sent = Publish(batch[done]);
          if (!sent.ok() || !*sent) {
            Release(taken - i);
            return sent.status();  // OK for a send to resynchronise after
          }
          published_.fetch_add(1, std::memory_order_relaxed);
          fresh = false;
          next_ = batch[done].offset + 1;
        }
      }
      if (window_was_empty_ && batch.size() < kBatch) SendNow();
    }
    return absl::OkStatus();
  }

  // Sends what nats.c buffered. Its flusher thread waits a millisecond for
  // more before it writes, which is right while records stream in but is
  // the whole latency of a record written to an idle publisher (the source
  // had no more, nothing was in flight). natsConnection_FlushTimeout()
  // writes at once and then waits for the server's PONG, a round trip the
  // worker would have spent waiting for records anyway. Its failure is only
  // that of the publishes, which their replies (or their absence) report.
  void SendNow() {
    natsConnection_FlushTimeout(
        connection_.nats(), absl::ToInt64Milliseconds(options_.ack_timeout));
  }

  // Sends one record. Returns true once sent, false if it could not be sent
  // now (disconnected: resynchronise), or the error that stops the worker.
  absl::StatusOr<bool> Publish(const Outgoing& record) {
    const int64_t delta = delta_.load(std::memory_order_relaxed);
    const Digits offset(record.offset);
    reply_.assign(reply_prefix_);
    reply_.append(Digits(static_cast<int64_t>(epoch_)).view());
    reply_.push_back('.');
    reply_.append(offset.view());
    natsMsg* msg = nullptr;
    natsStatus s = natsMsg_Create(&msg, subject_.c_str(), reply_.c_str(),
                                  record.data.data(),
                                  static_cast<int>(record.data.size()));
    if (s == NATS_OK) {
      s = natsMsgHeader_Set(msg, internal::kOffsetHeader, offset.c_str());
    }
    if (s == NATS_OK) {
      s = natsMsgHeader_Set(msg, internal::kCreatedHeader,
                            Digits(record.created).c_str());
    }
    if (s == NATS_OK && source_->keyed()) {
      key_header_ = absl::Base64Escape(
          absl::string_view(record.key.data(), record.key.size()));
      s = natsMsgHeader_Set(msg, internal::kKeyHeader, key_header_.c_str());
    }
    if (s == NATS_OK) s = natsMsgHeader_Set(msg, kMsgIdHeader, offset.c_str());
    const int64_t expected_last = record.offset + delta - 1;
    if (s == NATS_OK && expected_last > 0) {
      s = natsMsgHeader_Set(msg, kExpectedLastSeqHeader,
                            Digits(expected_last).c_str());
    }
    if (s != NATS_OK) {
      natsMsg_Destroy(msg);
      return FromNats(s, static_cast<jsErrCode>(0), "making a message");
    }
    s = natsConnection_PublishMsg(connection_.nats(), msg);
    natsMsg_Destroy(msg);
    if (s == NATS_MAX_PAYLOAD) {
      // Retrying would fail the same way forever.
      return FromNats(
          s, static_cast<jsErrCode>(0),
          absl::StrCat("publishing offset ", record.offset, " to ", stream_));
    }
    return s == NATS_OK;
  }

  const Connection& connection_;
  const std::unique_ptr<Source> source_;
  const std::string stream_;
  const std::string subject_;
  const PublisherOptions options_;
  const int64_t low_water_;
  std::string reply_prefix_;  // "<inbox>."; set by Init()
  natsSubscription* replies_sub_ = nullptr;

  // Worker thread only.
  Offset next_ = kInvalidOffset;
  int64_t empty_last_seq_ = 0;
  bool stalled_ = false;           // the resynchronisation is for a stall
  bool window_was_empty_ = false;  // the batch's first publish found it empty
  int64_t stall_replies_ = 0;
  absl::Time stall_since_;
  std::string reply_;
  std::string key_header_;

  // seq = offset + delta_. Written by the worker thread (release, with
  // delta_known_ after it), read by the reply handler.
  std::atomic<int64_t> delta_{0};
  std::atomic<bool> delta_known_{false};

  std::atomic<int64_t> published_{0};
  std::atomic<int64_t> acknowledged_{0};
  std::atomic<int64_t> retried_{0};
  std::atomic<int64_t> duplicates_{0};
  std::atomic<int64_t> lost_{0};
  std::atomic<int64_t> resyncs_{0};

  // The window, shared by the worker and the reply handler.
  std::mutex window_mu_;
  std::condition_variable_any window_changed_;
  uint64_t epoch_ = 0;     // guarded by window_mu_; written by the worker
  int64_t in_flight_ = 0;  // guarded by window_mu_: this epoch's, unreplied
  int64_t replies_ = 0;    // guarded by window_mu_: this epoch's and before
  bool resync_ = false;    // guarded by window_mu_: a publish failed
  bool worker_waiting_ = false;  // guarded by window_mu_
  int64_t wake_at_ = 0;          // guarded by window_mu_: in_flight_ to wake at
  bool on_closed_set_ = false;   // guarded by window_mu_
  bool replies_closed_ = false;  // guarded by window_mu_

  internal::Progress progress_;    // the latest offset acknowledged
  internal::WorkerThread thread_;  // last: stopped before the rest goes
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
