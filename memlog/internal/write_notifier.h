// Copyright memlog authors.
//
// internal::WriteNotifier: the registry behind Log::NotifyWhenWritten(). Not
// part of the public API.
//
// Design: pending requests live in a map ordered by (offset, id) under the
// registry's own mutex, never the log's writer lock. `pending_` counts them;
// a writer loads it (relaxed) after publishing a record and takes the mutex
// only when it is non-zero. Why a relaxed load suffices: a request counts
// itself in `pending_` *before* it checks, under the log's writer lock,
// whether its offset is written. Either that check comes after the write's
// critical section (and sees the record: the request answers itself), or the
// write's critical section comes after it, and then the write's later load of
// `pending_` happens after the increment and sees it. Handlers run after the
// mutex is released, as do the destructors of the handlers taken out, so a
// handler may register or cancel requests of its own.

#ifndef MEMLOG_INTERNAL_WRITE_NOTIFIER_H_
#define MEMLOG_INTERNAL_WRITE_NOTIFIER_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "memlog/internal/mutex.h"
#include "memlog/notification.h"
#include "memlog/options.h"

namespace memlog::internal {

class WriteNotifier : public std::enable_shared_from_this<WriteNotifier> {
 public:
  WriteNotifier() = default;
  WriteNotifier(const WriteNotifier&) = delete;
  WriteNotifier& operator=(const WriteNotifier&) = delete;

  // One relaxed load; see the file comment for why a stale zero is safe.
  bool has_pending() const {
    return pending_.load(std::memory_order_relaxed) > 0;
  }

  // Registers `handler` for `offset`. Throws std::bad_alloc (the handler is
  // then left untouched in `handler`).
  WriteNotification Add(Offset offset, WriteHandler& handler);

  // Takes the request of `notification` out of the registry into `*handler`
  // if it is still there, leaving `notification` empty. Returns whether it
  // was there.
  static bool Take(WriteNotification& notification, WriteHandler* handler);

  // Removes the request (offset, id) if it is still pending; true if it was.
  bool Remove(Offset offset, uint64_t id);

  // Runs, on this thread, the handlers of every request for an offset below
  // `next` (all written), with OK.
  void RunWritten(Offset next);

  // Runs every pending handler: OK for offsets below `next`, else a kClosed
  // status saying `why`.
  void RunAll(Offset next, const char* why);

  // Runs `handler` with `status`, dropping whatever it throws.
  static void Run(WriteHandler& handler, const absl::Status& status) noexcept;

 private:
  using Key = std::pair<Offset, uint64_t>;
  using Map = std::map<Key, WriteHandler>;

  // Runs the handlers of `taken`, OK for offsets below `next`, else `closed`.
  static void RunTaken(Map& taken, Offset next, const absl::Status& closed);

  mutable Mutex mu_;
  Map waiters_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  // The size of waiters_, written under mu_, read racily by writers.
  std::atomic<int64_t> pending_{0};
};

}  // namespace memlog::internal

#endif  // MEMLOG_INTERNAL_WRITE_NOTIFIER_H_
