// Copyright memlog authors.

#include "sharded/internal/key_index.h"

#include <algorithm>
#include <utility>


namespace memlog::sharded::internal {

namespace {

using Map = KeyIndex::Map;

// Makes sure `map` has an entry for `key` with room for one more offset.
void ReserveIn(Map& map, std::string_view key) {
  auto it = map.find(key);
  if (it == map.end()) it = map.try_emplace(std::string(key)).first;
  std::vector<Offset>& offsets = it->second.offsets;
  try {
    // Geometric growth, as push_back's: reserve(size + 1) would reallocate
    // and copy the key's offsets on every write.
    if (offsets.size() == offsets.capacity()) {
      offsets.reserve(std::max<size_t>(4, 2 * offsets.capacity()));
    }
  } catch (...) {
    if (offsets.empty()) map.erase(it);
    throw;
  }
}

void EraseIfEmpty(Map& map, std::string_view key) {
  if (auto it = map.find(key); it != map.end() && it->second.offsets.empty()) {
    map.erase(it);
  }
}

}  // namespace

void KeyIndex::Reserve(std::string_view key, bool may_start_segment) {
  if (!empty()) ReserveIn(active_, key);
  if (empty() || may_start_segment) {
    try {
      ReserveIn(next_segment_, key);
    } catch (...) {
      EraseIfEmpty(active_, key);
      throw;
    }
  }
}

void KeyIndex::CancelReserve(std::string_view key) {
  // Only an entry made by the reservation is empty; a key's entry with
  // offsets just keeps the spare capacity.
  EraseIfEmpty(active_, key);
  EraseIfEmpty(next_segment_, key);
}

void KeyIndex::Advance(Map next, Offset base) {
  // The old history goes to dropped_ to be freed outside the lock; a map
  // still waiting there from an earlier purge (nobody took it) is freed now.
  Map& slot = dropped_[0].empty() ? dropped_[0] : dropped_[1];
  slot = std::move(history_);
  history_ = std::move(active_);
  history_base_ = active_base_;
  active_ = std::move(next);
  active_base_ = base;
}

void KeyIndex::StartSegment(Offset base) {
  if (empty()) return;  // nothing to purge; the first Add() starts one
  // The failed write's segment has no record yet; next_segment_ keeps its
  // reservations for whichever write starts a segment next.
  Advance(Map(), base);
}

void KeyIndex::FollowPurge(Offset log_earliest) {
  // The history's records lie before active_base_: purged once the log's
  // earliest retained offset reaches it.
  if (history_base_ != kInvalidOffset && log_earliest >= active_base_) {
    Map& slot = dropped_[0].empty() ? dropped_[0] : dropped_[1];
    slot = std::move(history_);
    history_.clear();
    history_base_ = kInvalidOffset;
  }
}

void KeyIndex::Add(std::string_view key, Offset offset, bool starts_segment) {
  if (starts_segment || empty()) {
    Map next = std::move(next_segment_);
    next_segment_.clear();
    // Reservations for keys that did not write here are dropped with the
    // old maps, outside the lock; entries stay empty until used.
    Advance(std::move(next), offset);
  }
  // Reserve() made the entry and the room for the offset.
  auto it = active_.find(key);
  KeyRecords& records = it->second;
  if (records.offsets.empty()) {
    // Continue the key's chain from the history, or start a new one.
    if (const KeyRecords* h = Find(key).history; h != nullptr) {
      records.chain = h->chain;
      records.first_seq =
          h->first_seq + static_cast<int64_t>(h->offsets.size());
    } else {
      records.chain = offset;
      records.first_seq = 0;
    }
  }
  records.offsets.push_back(offset);
}

KeyIndex::Entries KeyIndex::Find(std::string_view key) const {
  Entries entries{nullptr, nullptr};
  if (auto h = history_.find(key);
      h != history_.end() && !h->second.offsets.empty()) {
    entries.history = &h->second;
  }
  if (auto a = active_.find(key);
      a != active_.end() && !a->second.offsets.empty()) {
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
  size_t count = 0;
  for (const auto& [key, records] : active_) {
    if (!records.offsets.empty()) ++count;
  }
  for (const auto& [key, records] : history_) {
    if (!records.offsets.empty() && Find(key).active == nullptr) ++count;
  }
  return count;
}

}  // namespace memlog::sharded::internal
