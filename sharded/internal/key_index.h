// Copyright memlog authors.
//
// internal::KeyIndex: which offsets of one shard hold each key's records. Not
// part of the public API.
//
// Design: one open-addressing hash table (linear probing, at most half full)
// of the keys' entries, each entry a 64-byte slot of the table holding the
// key's XXH3 hash, its bytes (inline up to 16 of them) and its retained
// offsets, ascending, in one buffer. A write finds or makes its key's entry
// with one probe (the sharded log hands over the hash it already computed to
// pick the shard) and appends its offset. The line the probe loads is the
// line the write needs: an entry reached through a pointer from its bucket
// would cost a second cache miss, after the first, on every write that finds
// its key cold.
//
// The index does not mirror the log's segments: after each write or trim
// the caller passes the log's earliest retained offset to FollowPurge(),
// which drops every offset below it, and the keys left with none, in one
// sweep of the table when (and only when) the log purged something. So the index holds an entry
// for exactly the records the log retains, whatever made the log rotate
// (count, bytes, age) and wherever its first segment started, and its memory
// follows theirs: 8 bytes per record (up to twice that while a key's buffer
// has room to grow) plus two to four slots (128 to 256 bytes) per key, as
// the table doubles, and the bytes of a
// key longer than 16 in a block of the next multiple of 64. Finding a key's
// records is one probe and a binary search; other keys are never scanned.
//
// Storage: the table and the long keys' bytes come from the shard's arena
// (memlog/internal/huge_page_arena.h), with the shard's segments, so that
// few TLB entries cover a write's lines. The offset buffers come from
// operator new: they grow by doubling, and malloc reuses the buffers they
// leave for blocks of other sizes, which the arena's free lists would keep
// unused.
//
// Failure: Reserve() allocates everything the following Add() needs, so that
// once the log has accepted a record, recording it cannot fail; a Reserve()
// that throws leaves the index as it was.
//
// Numbering: each key's records also carry a sequence number, so that a
// stream that fell behind can tell how many of its key's records were purged.
// Numbers count up by one per record of the key within a "chain"; a chain is
// named by the offset of its first record and lasts while the key has a
// retained record. A key written when none of its records is retained starts a
// new chain at 0, because its old count was dropped with its last record (the
// index keeps nothing per key beyond the retained records).
//
// Thread-safety: none; the owning shard's lock guards every call.

#ifndef MEMLOG_SHARDED_INTERNAL_KEY_INDEX_H_
#define MEMLOG_SHARDED_INTERNAL_KEY_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/types/span.h"
#include "memlog/internal/huge_page_arena.h"
#include "memlog/log.h"

namespace memlog::sharded::internal {

class KeyIndex {
 public:
  // Where a key's records stand from some offset on.
  struct Cursor {
    // The key's first retained record at or after the offset asked about, or
    // kInvalidOffset if there is none.
    Offset next = kInvalidOffset;
    // The chain of the key's retained records; kInvalidOffset if none of the
    // key's records is retained.
    Offset chain = kInvalidOffset;
    // The number of `next` in the chain; when `next` is kInvalidOffset, the
    // count of the chain's records (the number its next record will get).
    int64_t seq = 0;
  };

  // One key's records: a slot of the index's table, valid until the next
  // call that is not const.
  class Entry;

  // Takes its storage from `arena`, which must outlive the index.
  explicit KeyIndex(memlog::internal::HugePageArena& arena) : arena_(arena) {}
  ~KeyIndex();
  KeyIndex(const KeyIndex&) = delete;
  KeyIndex& operator=(const KeyIndex&) = delete;

  // The hash the index files `key` under (XXH3-64, as HashSharder's).
  static uint64_t Hash(std::string_view key);

  // Returns the entry of `key`, whose Hash() is `hash`, made if the key has
  // none, with room for one more offset, so that Add() cannot fail. Throws
  // std::bad_alloc if memory runs out, leaving the index as it was.
  Entry* Reserve(std::string_view key, uint64_t hash);

  // Prefetch hint: starts loading the slot that Reserve(_, hash) probes
  // first, so that its miss overlaps the caller's others. Changes nothing.
  void PrefetchEntry(uint64_t hash) const;
  // Forgets a Reserve() that no Add() followed (the write failed): an entry
  // it made goes again. Never throws.
  void CancelReserve(Entry* entry);

  // Records that `offset` holds a record of the entry's key. Never throws.
  // REQUIRES: `offset` is larger than every offset added before, and
  // Reserve() returned `entry` since the last Add().
  void Add(Entry* entry, Offset offset);

  // Drops the offsets below `log_earliest`, the log's earliest retained
  // offset (or its next offset, when it retains none), and the keys left
  // without any. Costs a comparison unless the log purged since the last
  // call. Never throws.
  void FollowPurge(Offset log_earliest);

  // Returns where `key`'s records stand from `from` on.
  Cursor Seek(std::string_view key, Offset from) const;

  // Copies the offsets of `key`'s retained records at or after `from`, in
  // increasing order, into `out`, up to out.size() of them. Returns how many.
  size_t Collect(std::string_view key, Offset from,
                 absl::Span<Offset> out) const;

  // Returns the first and last offsets of `key`'s retained records, or
  // {kInvalidOffset, kInvalidOffset} if it has none.
  OffsetRange Range(std::string_view key) const;

  // The number of distinct keys with a retained record.
  size_t key_count() const { return size_; }

 private:
  // The entry of `key`, or null.
  const Entry* Find(std::string_view key) const;
  // The slot holding `key`'s entry, or the empty one where it would go.
  size_t Probe(std::string_view key, uint64_t hash) const;
  // Doubles the table (or makes its first), rehashing into a new one before
  // the old is let go. Throws std::bad_alloc, changing nothing.
  void Grow();
  // Removes the entry in `slot` and frees its storage, moving later entries
  // of its probe run back so that no lookup stops short.
  void Erase(size_t slot);
  // Frees an entry's offsets and key bytes, leaving its slot empty.
  void FreeEntry(Entry& entry);
  // A table of `capacity` empty slots; throws std::bad_alloc.
  Entry* MakeTable(size_t capacity);
  void FreeTable(Entry* table, size_t capacity);

  memlog::internal::HugePageArena& arena_;
  Entry* table_ = nullptr;
  size_t mask_ = 0;  // capacity - 1; 0 with no table
  size_t size_ = 0;  // entries
  // Offsets below this were dropped by FollowPurge().
  Offset purged_below_ = 0;
};

class KeyIndex::Entry {
 public:
  std::string_view key() const {
    return {key_size() <= kInlineKeyBytes ? key_.bytes : key_.pointer,
            key_size()};
  }
  // The retained offsets, ascending.
  absl::Span<const Offset> offsets() const {
    return {offsets_ + head_, static_cast<size_t>(size_ - head_)};
  }

 private:
  friend class KeyIndex;

  // Keys up to this long are held in the entry, longer ones in a block of
  // the arena.
  static constexpr size_t kInlineKeyBytes = 16;

  bool occupied() const { return offsets_ != nullptr; }
  size_t key_size() const { return size_t{key_size_minus_one_} + 1; }
  size_t capacity() const { return size_t{1} << capacity_log2_; }
  // Drops the offsets below `earliest`; returns whether any is left.
  bool DropBelow(Offset earliest);
  // Moves the offsets from `head` on to the front of the buffer.
  void Compact(uint64_t head);

  uint64_t hash_ = 0;
  Offset chain_ = kInvalidOffset;
  int64_t first_seq_ = 0;  // the number of offsets()[0]
  // A buffer of capacity() offsets, or null in an empty slot.
  // offsets_[head_, size_) are retained; the ones before head_ were purged
  // and are overwritten when the buffer is compacted.
  Offset* offsets_ = nullptr;
  uint64_t size_ = 0;
  uint32_t head_ = 0;  // compacted before it would overflow
  // Keys are 1 to kMaxKeyBytes (65,536) bytes long.
  uint16_t key_size_minus_one_ = 0;
  uint8_t capacity_log2_ = 0;
  union KeyBytes {
    char bytes[kInlineKeyBytes];
    char* pointer;
  } key_{};
};
static_assert(sizeof(KeyIndex::Entry) == 64, "an entry is one cache line");

inline void KeyIndex::PrefetchEntry(uint64_t hash) const {
  if (table_ != nullptr) __builtin_prefetch(&table_[hash & mask_]);
}

}  // namespace memlog::sharded::internal

#endif  // MEMLOG_SHARDED_INTERNAL_KEY_INDEX_H_
