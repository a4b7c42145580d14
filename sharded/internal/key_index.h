// Copyright memlog authors.
//
// internal::KeyIndex: which offsets of one shard hold each key's records. Not
// part of the public API.
//
// Design: the index mirrors the two segments of the shard's memlog::Log, one
// map per segment from key to the key's offsets in that segment (ascending).
// The caller tells the index where the log started a segment (by count every
// segment_size offsets; by bytes or age anywhere): Add() of the record that
// started one, or StartSegment() for a write that rotated the log and then
// failed, makes the active map the history and drops the old history, as the
// log purged its history; FollowPurge() drops a history that the log purged
// without rotating (by age). So the index holds an
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

  KeyIndex() = default;

  // Makes room for Add(key, offset, starts_segment) with `starts_segment`
  // false, and also true if `may_start_segment`, so that it cannot fail.
  // Throws std::bad_alloc if memory runs out, leaving the index as it was.
  void Reserve(std::string_view key, bool may_start_segment);

  // Forgets a Reserve(key, ...) that no Add() followed (the write failed).
  // Never throws.
  void CancelReserve(std::string_view key);

  // Records that `offset` holds a record of `key`, the first of a new
  // segment of the log if `starts_segment`. Never throws.
  // REQUIRES: `offset` is larger than every offset added before, and
  // Reserve(key, may_start_segment >= starts_segment) was called since the
  // last Add().
  void Add(std::string_view key, Offset offset, bool starts_segment);

  // Follows a rotation of the log whose write then failed: the active map
  // becomes the history, as the log's did, and the new (empty) active
  // segment starts at `base`. Never throws.
  void StartSegment(Offset base);

  // Drops the history if the log's earliest retained offset is past it.
  void FollowPurge(Offset log_earliest);

  // Whether no segment was started yet (the log was never written).
  bool empty() const { return active_base_ == kInvalidOffset; }

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

  // A key's records in one segment.
  struct KeyRecords {
    Offset chain = kInvalidOffset;
    int64_t first_seq = 0;        // the number of offsets[0]
    std::vector<Offset> offsets;  // ascending; empty only while reserved
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

 private:

  // The index's entries, history first, for `key`; null where absent.
  struct Entries {
    const KeyRecords* history;
    const KeyRecords* active;
  };
  // Null for a key without a map entry or with an empty one (a reservation
  // that has not been used).
  Entries Find(std::string_view key) const;
  // Makes the active map (of the segment at active_base_) the history and
  // `next` the active map, of the segment at `base`.
  void Advance(Map next, Offset base);

  // The first offset of the active map's segment (as far as the index knows
  // it: after StartSegment(), the base of the failed write's segment is not
  // known and the previous one stays); kInvalidOffset before the first
  // segment.
  Offset active_base_ = kInvalidOffset;
  // The first offset of the history's segment, or kInvalidOffset.
  Offset history_base_ = kInvalidOffset;
  Map active_;
  Map history_;
  // Reserve()d for the next segment: the keys of writes that might have
  // started it. Entries stay empty until an Add() starts the segment.
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
