// Copyright memlog authors.
//
// memlog::WriteNotification: a pending "tell me when offset N is written"
// request, for event loops (Asio, epoll, io_uring) that serve many streams
// from a few threads instead of blocking one thread per stream.
//
//   // On the loop's thread: drain what is there, then ask to be told.
//   for (;;) {
//     absl::StatusOr<memlog::RecordView> record = stream.TryNext();
//     if (record.ok()) { Send(*record); continue; }
//     if (!memlog::IsFutureOffset(record.status())) break;  // closed, ...
//     absl::StatusOr<memlog::WriteNotification> n = stream.NotifyWhenReady(
//         [weak = weak_from_this()](absl::Status) {
//           if (auto self = weak.lock()) asio::post(self->strand_, ...);
//         });
//     if (n.ok()) pending_ = *std::move(n);
//     break;
//   }
//
// Design: each log keeps a registry of pending requests ordered by offset,
// under a mutex of its own. A write costs one relaxed atomic load (the number
// of pending requests) while nobody waits; otherwise the writer, after it has
// released the log's writer lock, takes the requests for the offsets it has
// written (and only those) and runs their handlers. 10,000 pending requests
// cost 10,000 registry entries, no threads.
//
// Thread-safety: a WriteNotification is a handle owned by one thread at a
// time; its handler may run on any thread (see Log::NotifyWhenWritten).

#ifndef MEMLOG_NOTIFICATION_H_
#define MEMLOG_NOTIFICATION_H_

#include <cstdint>
#include <memory>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "memlog/options.h"

namespace memlog {

namespace internal {
class WriteNotifier;
}  // namespace internal

// Runs once when the offset asked for is written (OK) or can no longer be
// (IsClosed: the log was closed, or destroyed, first). The status is a hint;
// the stream or read that follows tells what is really there.
//
// What a handler may do: call any method of any log, including the one that
// runs it (read, write, register another notification), and Cancel() any
// handle. What it must not do: destroy the log that runs it (a Write() or
// Close() of that log is in progress), or block for long (it delays the
// writer that runs it; post the work to an executor instead). It should not
// throw: an exception it throws is caught and dropped, so that the write that
// ran it still succeeds.
using WriteHandler = absl::AnyInvocable<void(absl::Status)>;

// A handle on a pending WriteHandler. Destroying the handle cancels the
// request. Movable, not copyable. Handles may outlive their log: Cancel() is
// then a no-op that returns false.
class WriteNotification {
 public:
  // An empty handle, for a request that was answered at once (the handler
  // has already run) or has been cancelled.
  WriteNotification() = default;
  ~WriteNotification() { Cancel(); }

  WriteNotification(WriteNotification&& other) noexcept
      : notifier_(std::move(other.notifier_)),
        offset_(other.offset_),
        id_(other.id_) {}
  WriteNotification& operator=(WriteNotification&& other) noexcept {
    if (this != &other) {
      Cancel();
      notifier_ = std::move(other.notifier_);
      offset_ = other.offset_;
      id_ = other.id_;
    }
    return *this;
  }
  WriteNotification(const WriteNotification&) = delete;
  WriteNotification& operator=(const WriteNotification&) = delete;

  // Withdraws the request. Returns true if the handler had not started: it
  // is destroyed (before Cancel() returns) and never runs. Returns false if
  // the handler has already run, is running now on another thread, or the
  // handle is empty. Leaves the handle empty. Never blocks on a handler.
  //
  // NOTE: since false may mean "running right now, elsewhere", a handler must
  // own (or hold a weak reference to) everything it touches, rather than
  // point at state that the canceller destroys after Cancel().
  bool Cancel() noexcept;

  // True while the handle refers to a request (which may have run already).
  bool engaged() const { return notifier_ != nullptr; }

 private:
  friend class internal::WriteNotifier;
  WriteNotification(std::shared_ptr<internal::WriteNotifier> notifier,
                    Offset offset, uint64_t id)
      : notifier_(std::move(notifier)), offset_(offset), id_(id) {}

  std::shared_ptr<internal::WriteNotifier> notifier_;
  Offset offset_ = kInvalidOffset;
  uint64_t id_ = 0;
};

}  // namespace memlog

#endif  // MEMLOG_NOTIFICATION_H_
