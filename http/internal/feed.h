// Copyright memlog authors.
//
// Feed: a plain log's latest records, formatted once as stream events (SSE
// or NDJSON) for every stream that has caught up with the log to share. Not
// part of the public API.
//
// Why: N streams at the tail of one log would otherwise format each record N
// times, and each write would run N notification handlers on the writer's
// thread. A feed asks the log for one notification, formats what was
// written into an immutable block on its own strand, and wakes the streams
// waiting for it; each of them then writes slices of the shared blocks, as
// many records per write as have arrived since its last one.
//
// A feed keeps its most recent blocks up to a byte budget (its window). A
// stream whose position lies before the window (it started at an old
// offset, or fell behind) reads and formats on its own until it reaches the
// window. When the feed's own read meets anything but a record or the log's
// end (a purge overtook it, the log was closed), the feed drops its window
// and wakes its waiters, which then read on their own and report what they
// meet (`lagged`, `closed`).
//
// Thread-safety: TakeOrWait() and Forget() may be called from any thread;
// the feed reads the log on its strand, and a mutex guards what both share.
// Ownership and lifetime: the log, the executor's io_context and the metric
// outlive the feed; waiters are held by weak reference; blocks are shared
// with the streams that write them and outlive the feed if need be.

#ifndef MEMLOG_HTTP_INTERNAL_FEED_H_
#define MEMLOG_HTTP_INTERNAL_FEED_H_

// Debian's Asio under GCC 12 with -std=c++20 uses std::exchange without
// including <utility>.
#include <utility>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include "http/internal/format.h"
#include "memlog/log.h"
#include "memlog/notification.h"
#include "memlog/stream.h"

namespace memlog::http::internal {

// Closed by Server::Shutdown() before the io_context stops: notification
// handlers, which run on writers' threads, post into the loop only while it
// is open.
struct Gate {
  std::mutex mu;
  bool open = true;
};

// Consecutive records formatted as events, back to back. Immutable once
// published.
struct FeedBlock {
  Offset first = 0;
  std::string bytes;
  // ends[i]: where the event of record first + i ends in `bytes`.
  std::vector<uint32_t> ends;

  Offset end() const { return first + static_cast<Offset>(ends.size()); }
  size_t StartOf(Offset offset) const {
    return offset == first ? 0 : ends[static_cast<size_t>(offset - first - 1)];
  }
};

// Bytes [begin, end) of a block: the events of `records` records.
struct FeedSlice {
  std::shared_ptr<const FeedBlock> block;
  size_t begin = 0;
  size_t end = 0;
  int64_t records = 0;
};

// A stream that waits for a feed. OnFeed() runs once per registration, on
// the feed's strand (or on the thread of a TakeOrWait() that found the feed
// broken): it must only post the waiter's own work to its own executor.
class FeedWaiter {
 public:
  virtual ~FeedWaiter() = default;
  virtual void OnFeed() = 0;
};

class Feed {
 public:
  using Executor = boost::asio::io_context::executor_type;

  // `window_bytes`: the formatted bytes kept for streams that are a little
  // behind. `shared_bytes` counts the bytes of every feed's window.
  Feed(const memlog::Log* log, EventFormat format, const Executor& executor,
       std::shared_ptr<Gate> gate, size_t window_bytes,
       std::atomic<int64_t>* shared_bytes);
  ~Feed();

  Feed(const Feed&) = delete;
  Feed& operator=(const Feed&) = delete;

  enum class Take {
    // Slices were appended; *next is the offset after them.
    kTaken,
    // Nothing at `from` yet: `waiter` is registered and its OnFeed() will
    // run once there may be (or once the feed gives up).
    kWaiting,
    // `from` is not in the window (before it, or the feed cannot serve):
    // the caller reads the log itself.
    kBehind,
  };

  // Appends to *slices the events from `from` on, up to at least
  // `max_bytes` (whole events, at least one) and at most `max_slices`
  // slices; or registers `waiter` if `from` is at or past the feed's end.
  Take TakeOrWait(Offset from, size_t max_bytes, size_t max_slices,
                  std::vector<FeedSlice>* slices, Offset* next,
                  const std::shared_ptr<FeedWaiter>& waiter);

  // Withdraws `waiter`'s registration, if any. Its OnFeed() may still run
  // if the feed was waking it at the time.
  void Forget(const FeedWaiter* waiter);

  // A stream starts or stops using the feed. The window is dropped when the
  // last one stops, so that a log nobody streams holds no formatted events.
  void Attach();
  void Detach();

 private:
  struct Waiting {
    std::weak_ptr<FeedWaiter> waiter;
    const FeedWaiter* id;
  };

  // On strand_: formats what the log has past next_, publishes it, wakes
  // the waiters, and asks to be told of the next record if any wait.
  void Drain();
  // Publishes `block` and wakes the waiters. The ...Locked() functions
  // require mu_.
  void Publish(std::shared_ptr<FeedBlock> block);
  // Asks the log for a notification at next_ (the handler posts Drain()).
  // On failure the feed is broken and the waiters are moved to *woken.
  void ArmLocked(std::vector<Waiting>* woken);
  // Drops the window (and what it counts in the metric).
  void ClearWindowLocked();
  static void Wake(std::vector<Waiting>& woken);

  const memlog::Log* const log_;
  const EventFormat format_;
  const boost::asio::strand<Executor> strand_;
  const std::shared_ptr<Gate> gate_;
  const size_t window_bytes_;
  std::atomic<int64_t>* const shared_bytes_;

  // Guards what follows, up to stream_. A std::mutex rather than
  // absl::Mutex: Debian's Abseil is not built for ThreadSanitizer, which
  // would not see its locking.
  std::mutex mu_;
  // The window: consecutive blocks ending at next_.
  std::deque<std::shared_ptr<const FeedBlock>> blocks_;
  size_t window_held_ = 0;
  // The next offset the feed formats. Moves forward only: when the feed is
  // idle, to where a waiter starts; else as Drain() publishes.
  Offset next_ = 0;
  // stream_ must be made anew at next_ (the feed jumped to a waiter).
  bool reposition_ = true;
  // A notification is requested, or Drain() is running or posted.
  bool armed_ = false;
  bool draining_ = false;
  // The log is closed (or the feed cannot go on): every take is kBehind.
  bool broken_ = false;
  WriteNotification notification_;
  std::vector<Waiting> waiters_;
  int64_t streams_ = 0;

  // Used on strand_ only (made there, under mu_).
  std::optional<memlog::Stream> stream_;
};

}  // namespace memlog::http::internal

#endif  // MEMLOG_HTTP_INTERNAL_FEED_H_
