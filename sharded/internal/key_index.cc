// Copyright memlog authors.

#include "sharded/internal/key_index.h"

#include <algorithm>
#include <utility>


namespace memlog::sharded::internal {

void KeyIndex::Reserve(std::string_view key, Offset offset) {
  const bool starts_segment = SegmentBase(offset) != active_base_;
  Map& target = starts_segment ? next_segment_ : active_;
  auto it = target.find(key);
  if (it == target.end()) {
    it = target.try_emplace(std::string(key)).first;
  }
  std::vector<Offset>& offsets = it->second.offsets;
  try {
    offsets.reserve(offsets.size() + 1);
  } catch (...) {
    if (offsets.empty()) target.erase(it);
    throw;
  }
}

void KeyIndex::CancelReserve(std::string_view key, Offset offset) {
  Map& target = SegmentBase(offset) != active_base_ ? next_segment_ : active_;
  // Only an entry made by the reservation is empty; a key's entry with
  // offsets just keeps the spare capacity.
  if (auto it = target.find(key);
      it != target.end() && it->second.offsets.empty()) {
    target.erase(it);
  }
}

void KeyIndex::Advance(Map next, Offset base) {
  // The old history goes to dropped_ to be freed outside the lock; a map
  // still waiting there from an earlier purge (nobody took it) is freed now.
  Map& slot = dropped_[0].empty() ? dropped_[0] : dropped_[1];
  slot = std::move(history_);
  // A log that rotated without the index knowing has already purged what is
  // now the active map's predecessor; a skipped segment leaves no history.
  if (active_base_ != kInvalidOffset && base == active_base_ + segment_size_) {
    history_ = std::move(active_);
  } else {
    Map& spare = dropped_[0].empty() ? dropped_[0] : dropped_[1];
    spare = std::move(active_);
    history_.clear();
  }
  active_ = std::move(next);
  active_base_ = base;
}

void KeyIndex::FollowPurge(Offset log_earliest) {
  // The history's segment starts at active_base_ - segment_size_ and ends
  // before active_base_: purged once the log's earliest reaches active_base_.
  if (!history_.empty() && active_base_ != kInvalidOffset &&
      log_earliest >= active_base_) {
    Map& slot = dropped_[0].empty() ? dropped_[0] : dropped_[1];
    slot = std::move(history_);
    history_.clear();
  }
}

void KeyIndex::Add(std::string_view key, Offset offset) {
  const Offset base = SegmentBase(offset);
  if (base != active_base_) Advance(std::move(next_segment_), base);
  // Reserve() made the entry and the room for the offset.
  auto it = active_.find(key);
  KeyRecords& records = it->second;
  if (records.offsets.empty()) {
    // Continue the key's chain from the history, or start a new one.
    if (auto h = history_.find(key); h != history_.end()) {
      records.chain = h->second.chain;
      records.first_seq =
          h->second.first_seq + static_cast<int64_t>(h->second.offsets.size());
    } else {
      records.chain = offset;
      records.first_seq = 0;
    }
  }
  records.offsets.push_back(offset);
}

KeyIndex::Entries KeyIndex::Find(std::string_view key) const {
  Entries entries{nullptr, nullptr};
  if (auto h = history_.find(key); h != history_.end()) {
    entries.history = &h->second;
  }
  if (auto a = active_.find(key); a != active_.end()) {
    entries.active = &a->second;
  }
  return entries;
}

KeyIndex::Cursor KeyIndex::Seek(std::string_view key, Offset from) const {
  const Entries entries = Find(key);
  Cursor cursor;
  for (const KeyRecords* records : {entries.history, entries.active}) {
    if (records == nullptr) continue;
    cursor.chain = records->chain;
    const auto it = std::lower_bound(records->offsets.begin(),
                                     records->offsets.end(), from);
    cursor.seq = records->first_seq + (it - records->offsets.begin());
    if (it != records->offsets.end()) {
      cursor.next = *it;
      return cursor;
    }
  }
  return cursor;
}

size_t KeyIndex::Collect(std::string_view key, Offset from,
                         absl::Span<Offset> out) const {
  const Entries entries = Find(key);
  size_t count = 0;
  for (const KeyRecords* records : {entries.history, entries.active}) {
    if (records == nullptr) continue;
    auto it = std::lower_bound(records->offsets.begin(), records->offsets.end(),
                               from);
    for (; it != records->offsets.end() && count < out.size(); ++it) {
      out[count++] = *it;
    }
  }
  return count;
}

OffsetRange KeyIndex::Range(std::string_view key) const {
  const Entries entries = Find(key);
  const KeyRecords* first =
      entries.history != nullptr ? entries.history : entries.active;
  const KeyRecords* last =
      entries.active != nullptr ? entries.active : entries.history;
  if (first == nullptr) return {};
  return {first->offsets.front(), last->offsets.back()};
}

size_t KeyIndex::key_count() const {
  size_t count = active_.size();
  for (const auto& [key, records] : history_) {
    if (!active_.contains(key)) ++count;
  }
  return count;
}

}  // namespace memlog::sharded::internal
