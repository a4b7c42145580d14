// Copyright memlog authors.

#include "bench/baseline/log.h"

#include <time.h>

#include <mutex>
#include <thread>
#include <utility>

namespace memlog_bench::baseline {

int64_t CoarseNowUnixNanos() {
  timespec now;
  clock_gettime(CLOCK_REALTIME_COARSE, &now);
  return int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

Log::Log(int64_t segment_size, int64_t max_record_bytes)
    : segment_size_(static_cast<size_t>(segment_size)),
      max_record_bytes_(max_record_bytes) {
  history_.reserve(segment_size_);
  active_.reserve(segment_size_);
}

int64_t Log::Write(std::string_view data) {
  if (data.empty() || static_cast<int64_t>(data.size()) > max_record_bytes_) {
    return -1;
  }
  std::string copy(data);
  std::unique_lock lock(mu_);
  if (active_.size() == segment_size_) {
    // The full active segment becomes the history; the old history is purged
    // and its vector, with its capacity, becomes the new active segment.
    std::swap(history_, active_);
    active_.clear();
  }
  const int64_t offset = next_++;
  active_.push_back(Record{offset, CoarseNowUnixNanos(), std::move(copy)});
  return offset;
}

int64_t Log::EarliestLocked() const {
  if (!history_.empty()) return history_.front().offset;
  if (!active_.empty()) return active_.front().offset;
  return next_;
}

Status Log::Locate(int64_t offset, const Record** record) const {
  if (offset >= next_) return Status::kFutureOffset;
  const int64_t earliest = EarliestLocked();
  if (offset < earliest) return Status::kOutOfRange;
  // The history and the active segment hold consecutive offsets.
  const size_t index = static_cast<size_t>(offset - earliest);
  *record = index < history_.size() ? &history_[index]
                                    : &active_[index - history_.size()];
  return Status::kOk;
}

ReadResult Log::Read(int64_t offset) const {
  std::shared_lock lock(mu_);
  const Record* record = nullptr;
  const Status status = Locate(offset, &record);
  if (status != Status::kOk) return {status, {}};
  return {Status::kOk, *record};
}

BatchResult Log::ReadBatch(int64_t start, std::span<Record> batch) const {
  std::shared_lock lock(mu_);
  BatchResult result;
  for (; result.count < batch.size(); ++result.count) {
    const Record* record = nullptr;
    const Status status =
        Locate(start + static_cast<int64_t>(result.count), &record);
    if (status != Status::kOk) {
      // Go: a purged start is out of range; the end of the log is a partial
      // batch with the future-offset error.
      result.status = status;
      if (status == Status::kOutOfRange) result.count = 0;
      break;
    }
    batch[result.count] = *record;
  }
  return result;
}

OffsetRange Log::Range() const {
  std::shared_lock lock(mu_);
  if (next_ == 0) return {};
  return {EarliestLocked(), next_ - 1};
}

Log::Stream Log::StreamFrom(int64_t start, std::stop_token stop) const {
  return Stream(this, start, std::move(stop));
}

int64_t Log::records() const {
  std::shared_lock lock(mu_);
  return static_cast<int64_t>(history_.size() + active_.size());
}

int64_t Log::payload_bytes() const {
  std::shared_lock lock(mu_);
  int64_t bytes = 0;
  for (const auto* segment : {&history_, &active_}) {
    for (const Record& record : *segment) {
      bytes += static_cast<int64_t>(record.data.size());
    }
  }
  return bytes;
}

ReadResult Log::Stream::Next() {
  for (;;) {
    if (stop_.stop_requested()) return {Status::kCancelled, {}};
    ReadResult result = log_->Read(position_);
    if (result.status == Status::kFutureOffset) {
      std::this_thread::sleep_for(kPollInterval);
      continue;
    }
    if (result.status == Status::kOk) ++position_;
    return result;
  }
}

}  // namespace memlog_bench::baseline
