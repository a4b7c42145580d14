// Copyright memlog authors.

#include "http/internal/feed.h"

#include <algorithm>

#include <boost/asio/post.hpp>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "memlog/status.h"

namespace memlog::http::internal {
namespace {

// Records read per TryNextBatch().
constexpr size_t kBatch = 64;
// A block is published once it holds this much, so that streams get the
// first records of a burst before the feed has formatted all of it.
constexpr size_t kBlockBytes = 64 * 1024;
// Bytes one Drain() formats before it yields the strand to other work.
constexpr size_t kDrainBytes = 512 * 1024;

}  // namespace

Feed::Feed(const memlog::Log* log, EventFormat format,
           const Executor& executor, std::shared_ptr<Gate> gate,
           size_t window_bytes, std::atomic<int64_t>* shared_bytes)
    : log_(log),
      format_(format),
      strand_(boost::asio::make_strand(executor)),
      gate_(std::move(gate)),
      window_bytes_(window_bytes),
      shared_bytes_(shared_bytes) {}

Feed::~Feed() {
  std::lock_guard<std::mutex> lock(mu_);
  notification_.Cancel();
  ClearWindowLocked();
}

Feed::Take Feed::TakeOrWait(Offset from, size_t max_bytes, size_t max_slices,
                            std::vector<FeedSlice>* slices, Offset* next,
                            const std::shared_ptr<FeedWaiter>& waiter) {
  std::vector<Waiting> woken;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (broken_ || window_bytes_ == 0) return Take::kBehind;
    const Offset first = blocks_.empty() ? next_ : blocks_.front()->first;
    if (from < first) return Take::kBehind;
    if (from < next_) {
      // The last block that starts at or before `from`.
      auto it = std::upper_bound(
          blocks_.begin(), blocks_.end(), from,
          [](Offset offset, const std::shared_ptr<const FeedBlock>& block) {
            return offset < block->first;
          });
      --it;
      size_t taken = 0;
      Offset at = from;
      for (; it != blocks_.end() && taken < max_bytes &&
             slices->size() < max_slices;
           ++it) {
        const FeedBlock& block = **it;
        const size_t index = static_cast<size_t>(at - block.first);
        const size_t begin = block.StartOf(at);
        // Whole events within the budget, at least one.
        size_t end_index = static_cast<size_t>(
            std::upper_bound(block.ends.begin() + static_cast<ptrdiff_t>(index),
                             block.ends.end(), begin + (max_bytes - taken)) -
            block.ends.begin());
        end_index = std::max(end_index, index + 1);
        const size_t end = block.ends[end_index - 1];
        slices->push_back({*it, begin, end,
                           static_cast<int64_t>(end_index - index)});
        taken += end - begin;
        at = block.first + static_cast<Offset>(end_index);
        if (end_index < block.ends.size()) break;
      }
      *next = at;
      return Take::kTaken;
    }
    const bool idle = !armed_ && !draining_ && waiters_.empty();
    // An idle feed jumps ahead to a stream that starts past it, unless its
    // window is worth keeping: formatting the records in between pushes out
    // no more than the window holds.
    if (idle && from > next_ &&
        (blocks_.empty() || from - next_ >= next_ - first)) {
      ClearWindowLocked();
      next_ = from;
      reposition_ = true;
    }
    waiters_.push_back({waiter, waiter.get()});
    if (!armed_ && !draining_) ArmLocked(&woken);
  }
  Wake(woken);
  return Take::kWaiting;
}

void Feed::Forget(const FeedWaiter* waiter) {
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < waiters_.size(); ++i) {
    if (waiters_[i].id == waiter) {
      waiters_[i] = std::move(waiters_.back());
      waiters_.pop_back();
      return;
    }
  }
}

void Feed::Attach() {
  std::lock_guard<std::mutex> lock(mu_);
  ++streams_;
}

void Feed::Detach() {
  std::lock_guard<std::mutex> lock(mu_);
  if (--streams_ == 0) ClearWindowLocked();
}

void Feed::Drain() {
  std::vector<Waiting> woken;
  {
    std::lock_guard<std::mutex> lock(mu_);
    armed_ = false;
    notification_ = WriteNotification();
    if (broken_) return;
    draining_ = true;
    if (reposition_ || !stream_.has_value()) {
      absl::StatusOr<memlog::Stream> made = log_->StreamFrom(next_);
      if (!made.ok()) {
        broken_ = true;
        draining_ = false;
        ClearWindowLocked();
        woken.swap(waiters_);
      } else {
        stream_.emplace(*std::move(made));
        reposition_ = false;
      }
    }
  }
  if (!woken.empty()) return Wake(woken);

  memlog::RecordView views[kBatch];
  auto block = std::make_shared<FeedBlock>();
  block->first = stream_->position();
  size_t drained = 0;
  ReadResult read;
  for (;;) {
    read = stream_->TryNextBatch(absl::MakeSpan(views));
    for (int64_t i = 0; i < read.count; ++i) {
      const memlog::RecordView& view = views[i];
      AppendRecordEvent(&block->bytes, format_, view.offset(), view.created(),
                        view.data(), std::nullopt);
      block->ends.push_back(static_cast<uint32_t>(block->bytes.size()));
    }
    if (read.count == 0) break;
    if (block->bytes.size() >= kBlockBytes) {
      drained += block->bytes.size();
      Publish(std::move(block));
      if (drained >= kDrainBytes) {
        // Still draining_: go on after what else waits for this thread.
        boost::asio::post(strand_, [this] { Drain(); });
        return;
      }
      block = std::make_shared<FeedBlock>();
      block->first = stream_->position();
    }
  }
  if (!block->ends.empty()) Publish(std::move(block));

  {
    std::lock_guard<std::mutex> lock(mu_);
    draining_ = false;
    if (IsFutureOffset(read.status)) {
      if (!waiters_.empty()) ArmLocked(&woken);
    } else {
      // A purge overtook the feed (its window would have a gap: start anew
      // at the earliest record), or the log is closed. The waiters read on
      // their own and report it.
      ClearWindowLocked();
      if (IsLagged(read.status)) {
        next_ = stream_->position();
      } else {
        broken_ = true;
      }
      woken.swap(waiters_);
    }
  }
  Wake(woken);
}

void Feed::Publish(std::shared_ptr<FeedBlock> block) {
  std::vector<Waiting> woken;
  {
    std::lock_guard<std::mutex> lock(mu_);
    next_ = block->end();
    // Unless the streams have all gone (Detach()) while this was formatted:
    // then only the waking is left to do.
    if (streams_ > 0) {
      const auto size = block->bytes.size();
      window_held_ += size;
      shared_bytes_->fetch_add(static_cast<int64_t>(size),
                               std::memory_order_relaxed);
      blocks_.push_back(std::move(block));
    }
    while (window_held_ > window_bytes_ && blocks_.size() > 1) {
      const auto dropped = blocks_.front()->bytes.size();
      window_held_ -= dropped;
      shared_bytes_->fetch_sub(static_cast<int64_t>(dropped),
                               std::memory_order_relaxed);
      blocks_.pop_front();
    }
    woken.swap(waiters_);
  }
  Wake(woken);
}

void Feed::ArmLocked(std::vector<Waiting>* woken) {
  armed_ = true;
  // The handler runs on the writer's thread (or here, at once, if next_ is
  // written already): it only posts.
  absl::StatusOr<WriteNotification> armed = log_->NotifyWhenWritten(
      next_, [this, gate = gate_](absl::Status) {
        std::lock_guard<std::mutex> lock(gate->mu);
        if (!gate->open) return;
        boost::asio::post(strand_, [this] { Drain(); });
      });
  if (armed.ok()) {
    notification_ = *std::move(armed);
    return;
  }
  armed_ = false;
  broken_ = true;
  ClearWindowLocked();
  for (Waiting& waiting : waiters_) woken->push_back(std::move(waiting));
  waiters_.clear();
}

void Feed::ClearWindowLocked() {
  shared_bytes_->fetch_sub(static_cast<int64_t>(window_held_),
                           std::memory_order_relaxed);
  window_held_ = 0;
  blocks_.clear();
}

void Feed::Wake(std::vector<Waiting>& woken) {
  for (Waiting& waiting : woken) {
    if (std::shared_ptr<FeedWaiter> waiter = waiting.waiter.lock()) {
      waiter->OnFeed();
    }
  }
  woken.clear();
}

}  // namespace memlog::http::internal
