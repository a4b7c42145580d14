// Copyright memlog authors.
//
// internal::KeyIndex: which offsets of one shard hold each key's records. Not
// part of the public API.
//
// Design: the index mirrors the two segments of the shard's memlog::Log, one
// map per segment from key to the key's offsets in that segment (ascending).
// The shard's segment boundaries are fixed (start_offset + k * segment_size),
// and the write that lands on a boundary purges the log's history; the caller
// then calls StartSegment(), which drops the history map and makes the active
// map the history. So the index holds an entry for exactly the records the
// log retains and its memory follows theirs: 8 bytes per record plus one map
// entry (the key and a vector) per key per segment. Finding a key's next
// record is a hash lookup and a binary search; other keys are never scanned.
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
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
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

  // Begins a new segment: forgets the history segment's records and makes
  // the active segment's the history.
  void StartSegment();

  // Records that `offset` holds a record of `key`.
  // REQUIRES: `offset` is larger than every offset added before.
  void Add(std::string_view key, Offset offset);

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
  using Map = absl::flat_hash_map<std::string, KeyRecords>;

  // The index's entries, history first, for `key`; null where absent.
  struct Entries {
    const KeyRecords* history;
    const KeyRecords* active;
  };
  Entries Find(std::string_view key) const;

  Map active_;
  Map history_;
};

}  // namespace memlog::sharded::internal

#endif  // MEMLOG_SHARDED_INTERNAL_KEY_INDEX_H_
