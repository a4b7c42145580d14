// Copyright memlog authors.

#include "bench/baseline/sharded_log.h"

#include <functional>
#include <thread>
#include <utility>

namespace memlog_bench::baseline {

ShardedLog::ShardedLog(size_t num_shards, int64_t segment_size,
                       int64_t max_record_bytes)
    : max_record_bytes_(max_record_bytes) {
  shards_.reserve(num_shards);
  for (size_t i = 0; i < num_shards; ++i) {
    shards_.push_back(
        std::make_unique<Shard>(static_cast<size_t>(segment_size)));
  }
}

size_t ShardedLog::ShardOf(std::string_view key) const {
  std::lock_guard lock(hash_mu_);
  return std::hash<std::string_view>{}(key) % shards_.size();
}

int64_t ShardedLog::Write(std::string_view key, std::string_view data) {
  if (key.empty() || data.empty() ||
      static_cast<int64_t>(data.size()) > max_record_bytes_) {
    return -1;
  }
  const size_t shard = ShardOf(key);
  return shards_[shard]->Write(
      KeyedRecord{-1, 0, std::string(key), std::string(data)});
}

KeyedReadResult ShardedLog::Read(std::string_view key, int64_t offset) const {
  KeyedReadResult result = shards_[ShardOf(key)]->Read(offset);
  if (result.status == Status::kOk && result.record.key != key) {
    return {Status::kNotFound, {}};
  }
  return result;
}

ShardedLog::KeyStream ShardedLog::StreamFrom(std::string_view key,
                                             int64_t offset,
                                             std::stop_token stop) const {
  return KeyStream(shards_[ShardOf(key)].get(), std::string(key), offset,
                   std::move(stop));
}

int64_t ShardedLog::Shard::Write(KeyedRecord record) {
  std::unique_lock lock(mu_);
  if (active_.size() == segment_size_) {
    std::swap(history_, active_);
    active_.clear();
  }
  record.offset = next_++;
  record.created_unix_nanos = CoarseNowUnixNanos();
  active_.push_back(std::move(record));
  return active_.back().offset;
}

KeyedReadResult ShardedLog::Shard::Read(int64_t offset) const {
  std::shared_lock lock(mu_);
  if (offset >= next_) return {Status::kFutureOffset, {}};
  const int64_t earliest = !history_.empty()  ? history_.front().offset
                           : !active_.empty() ? active_.front().offset
                                              : next_;
  if (offset < earliest) return {Status::kOutOfRange, {}};
  const size_t index = static_cast<size_t>(offset - earliest);
  return {Status::kOk, index < history_.size()
                           ? history_[index]
                           : active_[index - history_.size()]};
}

KeyedReadResult ShardedLog::KeyStream::Next() {
  for (;;) {
    if (stop_.stop_requested()) return {Status::kCancelled, {}};
    KeyedReadResult result = shard_->Read(position_);
    if (result.status == Status::kFutureOffset) {
      std::this_thread::sleep_for(kPollInterval);
      continue;
    }
    if (result.status != Status::kOk) return result;
    ++position_;
    if (result.record.key == key_) return result;
  }
}

}  // namespace memlog_bench::baseline
