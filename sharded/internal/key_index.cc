// Copyright memlog authors.

#include "sharded/internal/key_index.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <new>
#include <utility>

#include "xxhash.h"

namespace memlog::sharded::internal {
namespace {

constexpr size_t kFirstCapacity = 16;
constexpr size_t kFirstOffsets = 4;
// A vector whose purged front is at least this long, and at least half of
// it, is compacted: each offset is moved at most once, amortised O(1).
constexpr size_t kCompactAfter = 32;

}  // namespace

uint64_t KeyIndex::Hash(std::string_view key) {
  return XXH3_64bits(key.data(), key.size());
}

KeyIndex::Entry* KeyIndex::Entry::Make(memlog::internal::HugePageArena& arena,
                                       std::string_view key, uint64_t hash) {
  void* raw = arena.Allocate(sizeof(Entry) + key.size());
  if (raw == nullptr) throw std::bad_alloc();
  Entry* entry = new (raw) Entry(hash, static_cast<uint32_t>(key.size()));
  std::memcpy(static_cast<char*>(raw) + sizeof(Entry), key.data(), key.size());
  return entry;
}

void KeyIndex::Entry::Free(memlog::internal::HugePageArena& arena,
                           Entry* entry) {
  const size_t bytes = sizeof(Entry) + entry->key_size_;
  entry->~Entry();
  arena.Free(entry, bytes);
}

KeyIndex::Bucket* KeyIndex::MakeTable(size_t capacity) {
  void* raw = arena_.Allocate(capacity * sizeof(Bucket));
  if (raw == nullptr) throw std::bad_alloc();
  Bucket* table = static_cast<Bucket*>(raw);
  std::uninitialized_default_construct_n(table, capacity);
  return table;
}

void KeyIndex::FreeTable(Bucket* table, size_t capacity) {
  if (table == nullptr) return;
  arena_.Free(table, capacity * sizeof(Bucket));
}

bool KeyIndex::Entry::DropBelow(Offset earliest) {
  const auto begin = offsets_.begin() + static_cast<ptrdiff_t>(head_);
  const auto kept = std::lower_bound(begin, offsets_.end(), earliest);
  const auto dropped = static_cast<size_t>(kept - begin);
  first_seq_ += static_cast<int64_t>(dropped);
  head_ += dropped;
  if (head_ == offsets_.size()) return false;
  if (head_ >= kCompactAfter && 2 * head_ >= offsets_.size()) {
    offsets_.erase(offsets_.begin(),
                   offsets_.begin() + static_cast<ptrdiff_t>(head_));
    head_ = 0;
  }
  return true;
}

KeyIndex::~KeyIndex() {
  for (size_t i = 0; buckets_ != nullptr && i <= mask_; ++i) {
    if (buckets_[i].entry != nullptr) Entry::Free(arena_, buckets_[i].entry);
  }
  FreeTable(buckets_, mask_ + 1);
}

size_t KeyIndex::Probe(std::string_view key, uint64_t hash) const {
  for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
    const Bucket& bucket = buckets_[i];
    if (bucket.entry == nullptr ||
        (bucket.hash == hash && bucket.entry->key() == key)) {
      return i;
    }
  }
}

const KeyIndex::Entry* KeyIndex::Find(std::string_view key) const {
  if (size_ == 0) return nullptr;
  return buckets_[Probe(key, Hash(key))].entry;
}

void KeyIndex::Grow() {
  const size_t capacity = buckets_ == nullptr ? kFirstCapacity : 2 * (mask_ + 1);
  Bucket* const grown = MakeTable(capacity);  // may throw: no change
  const size_t mask = capacity - 1;
  for (size_t i = 0; buckets_ != nullptr && i <= mask_; ++i) {
    if (buckets_[i].entry == nullptr) continue;
    size_t j = buckets_[i].hash & mask;
    while (grown[j].entry != nullptr) j = (j + 1) & mask;
    grown[j] = buckets_[i];
  }
  FreeTable(buckets_, mask_ + 1);
  buckets_ = grown;
  mask_ = mask;
}

void KeyIndex::Erase(size_t bucket) {
  Entry::Free(arena_, buckets_[bucket].entry);
  --size_;
  // Backward-shift deletion: an entry later in the run moves into the hole
  // unless its home bucket lies cyclically after the hole.
  size_t hole = bucket;
  for (size_t i = (hole + 1) & mask_; buckets_[i].entry != nullptr;
       i = (i + 1) & mask_) {
    const size_t home = buckets_[i].hash & mask_;
    const bool home_after_hole =
        hole <= i ? (hole < home && home <= i) : (hole < home || home <= i);
    if (!home_after_hole) {
      buckets_[hole] = buckets_[i];
      hole = i;
    }
  }
  buckets_[hole] = Bucket();
}

KeyIndex::Entry* KeyIndex::Reserve(std::string_view key, uint64_t hash) {
  if (buckets_ == nullptr || 2 * (size_ + 1) > mask_ + 1) Grow();
  Bucket& bucket = buckets_[Probe(key, hash)];
  if (Entry* found = bucket.entry; found != nullptr) {
    std::vector<Offset>& offsets = found->offsets_;
    if (offsets.size() == offsets.capacity()) {
      if (found->head_ > 0) {
        // Room from the purged front, without allocating.
        offsets.erase(offsets.begin(),
                      offsets.begin() + static_cast<ptrdiff_t>(found->head_));
        found->head_ = 0;
      } else {
        // Geometric growth, as push_back's; may throw, changing nothing.
        offsets.reserve(2 * offsets.capacity());
      }
    }
    // Add() writes there once the log has taken the record.
    __builtin_prefetch(offsets.data() + offsets.size(), 1);
    return found;
  }
  Entry* made = Entry::Make(arena_, key, hash);
  try {
    made->offsets_.reserve(kFirstOffsets);
  } catch (...) {
    Entry::Free(arena_, made);
    throw;
  }
  bucket = Bucket{hash, made};
  ++size_;
  return made;
}

void KeyIndex::CancelReserve(Entry* entry) {
  if (!entry->offsets().empty()) return;  // keeps the spare room
  Erase(Probe(entry->key(), entry->hash_));
}

void KeyIndex::Add(Entry* entry, Offset offset) {
  if (entry->offsets().empty()) {
    entry->chain_ = offset;
    entry->first_seq_ = 0;
  }
  entry->offsets_.push_back(offset);  // Reserve() made the room
}

void KeyIndex::FollowPurge(Offset log_earliest) {
  if (log_earliest <= purged_below_) return;
  purged_below_ = log_earliest;
  // Erase() moves entries only backwards (or from the table's start to its
  // end), so re-examining the bucket it refilled visits every entry.
  for (size_t i = 0; size_ > 0 && i <= mask_;) {
    Entry* entry = buckets_[i].entry;
    if (entry != nullptr && !entry->DropBelow(log_earliest)) {
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
