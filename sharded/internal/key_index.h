// Copyright memlog authors.
//
// internal::KeyIndex: which offsets of one shard hold each key's records. Not
// part of the public API.
//
// Design: the index mirrors the two segments of the shard's memlog::Log, one
// map per segment from key to the key's offsets in that segment (ascending).
// The shard's segment boundaries are fixed (start_offset + k * segment_size).
// Add() of an offset in a new segment makes the active map the history and
// drops the old history, as the log's write there purged its history; and
// FollowPurge() drops a history that the log purged without the index being
// told (a write that rotated the log and then failed). So the index holds an
// entry for exactly the records the log retains, and its memory follows
// theirs: 8 bytes per record plus one map entry (the key and a vector) per key
// per segment. Finding a key's next record is a hash lookup and a binary
// search; other keys are never scanned.
//
// Failure: Reserve() allocates everything the following Add() needs, so that
// once the log has accepted a record, recording it cannot fail. Maps that are
// dropped are kept until TakeDropped(), so that the caller frees them after
// releasing its lock rather than on the write path under it.
//
// Numbering: each key's records also carry a sequence number, so that a
// stream that fell behind can tell how many of its key's records were purged.
// Numbers count up by one per record of the key within a "chain"; a chain is
// named by the offset of its first record and lasts while the key has a
// retained record. A key written when none of its records is retained starts a
// new chain at 0, because its old count was dropped with its last record (the
// index keeps nothing per key beyond the retained records).
//
// Thread-safety: none; the owning shard's mutex guards every call.

#ifndef MEMLOG_SHARDED_INTERNAL_KEY_INDEX_H_
#define MEMLOG_SHARDED_INTERNAL_KEY_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/types/span.h"
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

  // An index of a log whose offsets start at `start_offset`, in segments of
  // `segment_size` offsets.
  KeyIndex(Offset start_offset, int64_t segment_size)
      : start_offset_(start_offset), segment_size_(segment_size) {}

  // Makes room for Add(key, offset), so that it cannot fail. Throws
  // std::bad_alloc if memory runs out, leaving the index as it was.
  // REQUIRES: `offset` is larger than every offset added before.
  void Reserve(std::string_view key, Offset offset);

  // Forgets a Reserve(key, offset) that no Add() followed (the write
  // failed). Never throws.
  void CancelReserve(std::string_view key, Offset offset);

  // Records that `offset` holds a record of `key`. Never throws.
  // REQUIRES: Reserve(key, offset) was called since the last Add().
  void Add(std::string_view key, Offset offset);

  // Drops the history if the log's earliest retained offset is past it.
  void FollowPurge(Offset log_earliest);

  // Hands over the maps dropped since the last call, for the caller to free
  // outside its lock.
  struct Dropped;
  Dropped TakeDropped();

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
  size_t key_count() const;

 private:
  struct KeyRecords {
    Offset chain = kInvalidOffset;
    int64_t first_seq = 0;        // the number of offsets[0]
    std::vector<Offset> offsets;  // ascending, never empty
  };
  // Looks up std::string keys by std::string_view without a copy.
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view key) const {
      return std::hash<std::string_view>()(key);
    }
  };
  // std::unordered_map rather than absl::flat_hash_map: an insertion that
  // runs out of memory leaves it unchanged (flat_hash_map's rehash may be
  // left half done), which is what lets a failed write leave the index as
  // it was.
  using Map =
      std::unordered_map<std::string, KeyRecords, KeyHash, std::equal_to<>>;

  // The index's entries, history first, for `key`; null where absent.
  struct Entries {
    const KeyRecords* history;
    const KeyRecords* active;
  };
  Entries Find(std::string_view key) const;
  Offset SegmentBase(Offset offset) const {
    return offset - (offset - start_offset_) % segment_size_;
  }
  // Makes the active map (of the segment at active_base_) the history and
  // `next` the active map, of the segment at `base`.
  void Advance(Map next, Offset base);

  const Offset start_offset_;
  const int64_t segment_size_;
  // The first offset of the active map's segment; kInvalidOffset before the
  // first Add().
  Offset active_base_ = kInvalidOffset;
  Map active_;
  Map history_;
  // Reserve()d for the next segment: the key of the next Add(), which starts
  // that segment.
  Map next_segment_;
  // Maps dropped since the last TakeDropped().
  Map dropped_[2];

 public:
  struct Dropped {
    Map maps[2];
  };
};

inline KeyIndex::Dropped KeyIndex::TakeDropped() {
  return {{std::move(dropped_[0]), std::move(dropped_[1])}};
}

}  // namespace memlog::sharded::internal

#endif  // MEMLOG_SHARDED_INTERNAL_KEY_INDEX_H_
