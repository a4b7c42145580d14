// Copyright memlog authors.

#include "sharded/internal/key_index.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <utility>

#include "xxhash.h"

namespace memlog::sharded::internal {
namespace {

constexpr size_t kFirstCapacity = 16;
constexpr uint8_t kFirstOffsetsLog2 = 2;  // 4 offsets
// A buffer whose purged front is at least this long, and at least half of
// it, is compacted: each offset is moved at most once, amortised O(1).
constexpr size_t kCompactAfter = 32;

Offset* AllocateOffsets(size_t capacity) {
  return static_cast<Offset*>(::operator new(capacity * sizeof(Offset)));
}

}  // namespace

uint64_t KeyIndex::Hash(std::string_view key) {
  return XXH3_64bits(key.data(), key.size());
}

KeyIndex::Entry* KeyIndex::MakeTable(size_t capacity) {
  void* raw = arena_.Allocate(capacity * sizeof(Entry));
  if (raw == nullptr) throw std::bad_alloc();
  Entry* table = static_cast<Entry*>(raw);
  std::uninitialized_value_construct_n(table, capacity);
  return table;
}

void KeyIndex::FreeTable(Entry* table, size_t capacity) {
  if (table == nullptr) return;
  arena_.Free(table, capacity * sizeof(Entry));
}

void KeyIndex::FreeEntry(Entry& entry) {
  ::operator delete(entry.offsets_);
  if (entry.key_size() > Entry::kInlineKeyBytes) {
    arena_.Free(entry.key_.pointer, entry.key_size());
  }
  entry = Entry();
}

bool KeyIndex::Entry::DropBelow(Offset earliest) {
  Offset* const begin = offsets_ + head_;
  Offset* const end = offsets_ + size_;
  Offset* const kept = std::lower_bound(begin, end, earliest);
  const auto dropped = static_cast<uint64_t>(kept - begin);
  first_seq_ += static_cast<int64_t>(dropped);
  const uint64_t head = head_ + dropped;
  if (head == size_) return false;
  if ((head >= kCompactAfter && 2 * head >= size_) || head > UINT32_MAX) {
    Compact(head);
  } else {
    head_ = static_cast<uint32_t>(head);
  }
  return true;
}

void KeyIndex::Entry::Compact(uint64_t head) {
  size_ -= head;
  std::memmove(offsets_, offsets_ + head, size_ * sizeof(Offset));
  head_ = 0;
}

KeyIndex::~KeyIndex() {
  for (size_t i = 0; table_ != nullptr && i <= mask_; ++i) {
    if (table_[i].occupied()) FreeEntry(table_[i]);
  }
  FreeTable(table_, mask_ + 1);
}

size_t KeyIndex::Probe(std::string_view key, uint64_t hash) const {
  for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
    const Entry& entry = table_[i];
    if (!entry.occupied() || (entry.hash_ == hash && entry.key() == key)) {
      return i;
    }
  }
}

const KeyIndex::Entry* KeyIndex::Find(std::string_view key) const {
  if (size_ == 0) return nullptr;
  const Entry& entry = table_[Probe(key, Hash(key))];
  return entry.occupied() ? &entry : nullptr;
}

void KeyIndex::Grow() {
  const size_t capacity = table_ == nullptr ? kFirstCapacity : 2 * (mask_ + 1);
  Entry* const grown = MakeTable(capacity);  // may throw: no change
  const size_t mask = capacity - 1;
  for (size_t i = 0; table_ != nullptr && i <= mask_; ++i) {
    if (!table_[i].occupied()) continue;
    size_t j = table_[i].hash_ & mask;
    while (grown[j].occupied()) j = (j + 1) & mask;
    grown[j] = table_[i];  // moves the entry's storage with it
  }
  FreeTable(table_, mask_ + 1);
  table_ = grown;
  mask_ = mask;
}

void KeyIndex::Erase(size_t slot) {
  FreeEntry(table_[slot]);
  --size_;
  // Backward-shift deletion: an entry later in the run moves into the hole
  // unless its home slot lies cyclically after the hole.
  size_t hole = slot;
  for (size_t i = (hole + 1) & mask_; table_[i].occupied();
       i = (i + 1) & mask_) {
    const size_t home = table_[i].hash_ & mask_;
    const bool home_after_hole =
        hole <= i ? (hole < home && home <= i) : (hole < home || home <= i);
    if (!home_after_hole) {
      table_[hole] = table_[i];
      hole = i;
    }
  }
  table_[hole] = Entry();
}

KeyIndex::Entry* KeyIndex::Reserve(std::string_view key, uint64_t hash) {
  if (table_ == nullptr || 2 * (size_ + 1) > mask_ + 1) Grow();
  Entry& entry = table_[Probe(key, hash)];
  if (entry.occupied()) {
    if (entry.size_ == entry.capacity()) {
      if (entry.head_ > 0) {
        entry.Compact(entry.head_);  // room without allocating
      } else {
        // Geometric growth; may throw, changing nothing.
        Offset* const grown = AllocateOffsets(2 * entry.capacity());
        std::memcpy(grown, entry.offsets_, entry.size_ * sizeof(Offset));
        ::operator delete(entry.offsets_);
        entry.offsets_ = grown;
        ++entry.capacity_log2_;
      }
    }
    // Add() writes there once the log has taken the record.
    __builtin_prefetch(entry.offsets_ + entry.size_, 1);
    return &entry;
  }
  // Both allocations before the slot changes: a throw leaves it empty.
  Offset* const offsets = AllocateOffsets(size_t{1} << kFirstOffsetsLog2);
  char* key_bytes = entry.key_.bytes;
  if (key.size() > Entry::kInlineKeyBytes) {
    key_bytes = static_cast<char*>(arena_.Allocate(key.size()));
    if (key_bytes == nullptr) {
      ::operator delete(offsets);
      throw std::bad_alloc();
    }
    entry.key_.pointer = key_bytes;
  }
  std::memcpy(key_bytes, key.data(), key.size());
  entry.hash_ = hash;
  entry.offsets_ = offsets;
  entry.capacity_log2_ = kFirstOffsetsLog2;
  entry.key_size_minus_one_ = static_cast<uint16_t>(key.size() - 1);
  ++size_;
  return &entry;
}

void KeyIndex::CancelReserve(Entry* entry) {
  if (!entry->offsets().empty()) return;  // keeps the spare room
  Erase(static_cast<size_t>(entry - table_));
}

void KeyIndex::Add(Entry* entry, Offset offset) {
  if (entry->offsets().empty()) {
    entry->chain_ = offset;
    entry->first_seq_ = 0;
  }
  entry->offsets_[entry->size_++] = offset;  // Reserve() made the room
}

void KeyIndex::FollowPurge(Offset log_earliest) {
  if (log_earliest <= purged_below_) return;
  purged_below_ = log_earliest;
  // Erase() moves entries only backwards (or from the table's start to its
  // end), so re-examining the slot it refilled visits every entry.
  for (size_t i = 0; size_ > 0 && i <= mask_;) {
    Entry& entry = table_[i];
    if (entry.occupied() && !entry.DropBelow(log_earliest)) {
      Erase(i);
    } else {
      ++i;
    }
  }
}

KeyIndex::Cursor KeyIndex::Seek(std::string_view key, Offset from) const {
  Cursor cursor;
  const Entry* entry = Find(key);
  if (entry == nullptr) return cursor;
  const absl::Span<const Offset> offsets = entry->offsets();
  const auto it = std::lower_bound(offsets.begin(), offsets.end(), from);
  cursor.chain = entry->chain_;
  cursor.seq = entry->first_seq_ + (it - offsets.begin());
  if (it != offsets.end()) cursor.next = *it;
  return cursor;
}

size_t KeyIndex::Collect(std::string_view key, Offset from,
                         absl::Span<Offset> out) const {
  const Entry* entry = Find(key);
  if (entry == nullptr) return 0;
  const absl::Span<const Offset> offsets = entry->offsets();
  const auto it = std::lower_bound(offsets.begin(), offsets.end(), from);
  const size_t count =
      std::min(out.size(), static_cast<size_t>(offsets.end() - it));
  std::copy_n(it, count, out.begin());
  return count;
}

OffsetRange KeyIndex::Range(std::string_view key) const {
  const Entry* entry = Find(key);
  if (entry == nullptr) return {};
  return {entry->offsets().front(), entry->offsets().back()};
}

}  // namespace memlog::sharded::internal
