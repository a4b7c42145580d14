// Copyright memlog authors.
//
// internal::Segment: fixed-capacity, append-only record storage shared by a log
// and the views that read it. Not part of the public API.
//
// Design: a segment holds up to `capacity` records. Nothing is ever moved once
// written: a reader that sees a record may use it without a lock. Appending is
// done by one writer at a time (the log's writer lock); readers learn of new
// records through `published()`, an acquire load that pairs with the
// writer's release store.
//
// Storage. Payload bytes go into chunks, back to back in the order written; a
// record never spans two chunks, and chunks grow with the records written
// (see NextChunkSize()). Records come in groups of 32, each group a 32-byte
// header (where its records start in each of its first three chunks) and 32
// 12-byte entries. An entry holds the record's creation time, which of the
// group's chunks holds it, and where in that chunk it ends; it starts where
// the previous record of the group ends if that is in the same chunk, else
// at the chunk's start for the group. So a record costs 13 bytes beyond its
// payload, plus its share of the chunks' unused tails. A group that spans
// more than three chunks (records of a good part of a chunk each) finds the
// later ones through the chunk directory, which lists every chunk; a reused
// segment's chunks are reordered so that a group's chunks have consecutive
// indices there. Groups and entries live in geometrically growing blocks of
// records, the last one cut to the capacity, so storage follows the records
// actually written; the directory grows in blocks too, so that nothing a
// reader may look at ever moves.
//
// Lifetime is a reference count. The log holds one reference on its active and
// its history segment; every RecordView holds one on the segment it points
// into. A reader finds a segment through the log's atomic pointers and takes a
// reference with `TryRef()`, which fails once the segment is no longer live.
// Segment objects are never freed while their log exists (a reader may still
// hold a stale pointer between loading it and `TryRef()`); a free segment is
// instead claimed exclusively by the writer and reused with the storage it
// has, which is what keeps the write path free of allocation in the steady
// state. Once the log is gone, the last reference frees the segment.
//
// Storage comes from operator new, or, for the shards of a sharded log, from
// their shared HugePageArena (huge_page_arena.h), which the segment holds a
// reference to so that it can free into it after its log is gone.

#ifndef MEMLOG_INTERNAL_SEGMENT_H_
#define MEMLOG_INTERNAL_SEGMENT_H_

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>

#include "memlog/internal/assert.h"
#include "memlog/internal/huge_page_arena.h"
#include "memlog/internal/record_pieces.h"

namespace memlog::internal {

// A record as a reader sees it: where its bytes are, when it was written, and
// how long it is. Made from the segment's entries on each read (a value, not
// a reference into the segment).
struct Slot {
  const char* data;
  int64_t created_unix_nanos;
  uint32_t size;
};

class Segment {
 public:
  // Creates a segment claimed by the caller (see `TryClaim()`), empty, with
  // room for `capacity` records whose payloads share at most
  // `max_payload_storage` bytes of chunks (0: no bound; a record larger than
  // the bound may still be stored alone). Allocates nothing until the first
  // append. Its slot blocks and payload chunks come from `arena` if given
  // (a sharded log's shards share one), else from operator new.
  // REQUIRES: 1 <= capacity <= 2^32.
  explicit Segment(int64_t capacity, int64_t max_payload_storage = 0,
                   std::shared_ptr<HugePageArena> arena = nullptr);
  ~Segment();

  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  // --- Reference counting; safe from any thread. ---

  // Takes a reference if the segment is live (holds a reference already) and
  // returns true; returns false for a free or claimed segment.
  bool TryRef() {
    // Acquire also on failure: a reader that finds the segment free or
    // claimed must then see what the writer published before letting go of
    // it (the log's new earliest offset).
    int64_t refs = refs_.load(std::memory_order_acquire);
    while (refs > 0) {
      if (refs_.compare_exchange_weak(refs, refs + 1,
                                      std::memory_order_acquire,
                                      std::memory_order_acquire)) {
        return true;
      }
    }
    return false;
  }

  // Takes `n` more references. REQUIRES: the caller holds one.
  void Ref(int64_t n = 1) {
    const int64_t before = refs_.fetch_add(n, std::memory_order_relaxed);
    MEMLOG_DCHECK((before & ~kOrphaned) > 0 && n >= 0,
                  "Ref() of a segment the caller holds no reference on");
  }

  // Drops `n` references. The segment becomes free when the last one goes,
  // and is freed then if its log no longer exists.
  void Unref(int64_t n = 1) {
    // The release that takes an orphaned segment's count to zero frees it;
    // the orphan bit is read in the same atomic step, so exactly one thread
    // decides, and after every other holder's release.
    const int64_t before = refs_.fetch_sub(n, std::memory_order_acq_rel);
    MEMLOG_DCHECK((before & ~kOrphaned) >= n && n > 0,
                  "Unref() of more references than are held: a double "
                  "release");
    if (before == (kOrphaned | n)) delete this;
  }

  // --- Writer side. REQUIRES: the log's writer lock. ---

  // Claims a free segment for reuse: no reader can take a reference until
  // `Activate()`. Returns false if the segment is referenced.
  bool TryClaim();

  // Empties a claimed segment and makes its first offset `base`. Keeps the
  // storage allocated for reuse.
  void Reset(int64_t base);

  // Releases the storage of a claimed segment (it stays claimed).
  void ReleaseStorage();

  // Returns a claimed segment to the free state, for a later claim.
  void Unclaim() {
    MEMLOG_DCHECK(claimed(), "Unclaim() of a segment that is not claimed");
    refs_.store(0, std::memory_order_release);
  }

  // Makes a claimed segment live, holding one reference for the caller.
  void Activate() {
    MEMLOG_DCHECK(claimed(), "Activate() of a segment that is not claimed");
    refs_.store(1, std::memory_order_release);
  }

  // Whether the writer holds the segment exclusively (see TryClaim()).
  bool claimed() const {
    return refs_.load(std::memory_order_relaxed) == kClaimed;
  }

  // Copies `data` (a std::string_view or a RecordPieces) into the segment as
  // its next record and publishes it. Returns false, changing nothing, if
  // memory could not be allocated.
  // REQUIRES: live, !full(), RecordSize(data) > 0.
  template <typename Bytes>
  bool Append(const Bytes& data, int64_t created_unix_nanos) {
    if (!Store(data, created_unix_nanos)) return false;
    Publish();
    return true;
  }

  // Prefetch hints for a writer about to append, so that the misses of
  // the lines an append touches overlap instead of following one another.
  // They change nothing and may be given for a segment that then takes no
  // record.
  //
  // The writer's own lines; computes addresses only, so it may be called
  // before the writer lock is taken.
  void PrefetchWriterLines() const {
    __builtin_prefetch(&published_, 1);
    __builtin_prefetch(&count_, 1);
    __builtin_prefetch(&payload_bytes_, 1);
  }
  // Where the next record of `size` bytes is stored: its entry and its
  // payload bytes, if it goes in the chunk being filled. REQUIRES: the
  // writer lock.
  void PrefetchNextRecord(size_t size) const {
    __builtin_prefetch(next_entry_, 1);
    if (size == 0 || static_cast<size_t>(fill_end_ - fill_) < size) return;
    // The first lines only: a long copy streams anyway.
    const size_t reach = std::min<size_t>(size, 256);
    for (size_t line = 0; line < reach; line += 64) {
      __builtin_prefetch(fill_ + line, 1);
    }
    __builtin_prefetch(fill_ + reach - 1, 1);
  }

  // Appends records[0, n) in order, all created at `created_unix_nanos`, and
  // publishes them together. Stops before the first record that does not go
  // in: the segment is full, the record does not fit its payload bound
  // (Fits()), or memory for it could not be allocated (neither of the
  // others). Returns how many it appended; the records before the stop are
  // appended and published whatever stopped it.
  // REQUIRES: live, no record empty.
  size_t AppendBatch(const std::string_view* records, size_t n,
                     int64_t created_unix_nanos);

  bool full() const { return count_ == capacity_; }
  // Whether a record of `size` bytes can be appended within the payload
  // storage bound: in room already allocated, or in a new chunk that keeps
  // the bound. Always true for an empty segment or without a bound.
  bool Fits(size_t size) const {
    return max_payload_storage_ == 0 || count_ == 0 || FitsInStorage(size);
  }
  // Whether the segment keeps more payload storage than its bound allows
  // (after holding one record larger than the bound): release it on reuse.
  bool over_budget() const {
    return max_payload_storage_ > 0 &&
           payload_storage_bytes_ > max_payload_storage_;
  }
  // Payload chunk bytes allocated (in use or kept for reuse).
  int64_t payload_storage_bytes() const { return payload_storage_bytes_; }
  // The number of records appended; for the writer (readers use
  // published()).
  int64_t count() const { return count_; }
  // When the first and the last appended record were created.
  // REQUIRES: count() > 0.
  int64_t first_created() const { return EntryAt(0).created; }
  int64_t last_created() const { return EntryAt(count_ - 1).created; }
  int64_t capacity() const { return capacity_; }
  // Bytes allocated for entries, the chunk directory and payloads, and
  // payload bytes held.
  int64_t allocated_bytes() const { return allocated_bytes_; }
  int64_t payload_bytes() const { return payload_bytes_; }

  // Called when the log is destroyed: frees the segment now if no view holds
  // it, or when the last view lets go.
  void Orphan();

  // The offset of the first record, as last set; may be read without a
  // reference to guess which segment holds an offset (the guess must be
  // checked after TryRef()).
  int64_t peek_base() const { return base_.load(std::memory_order_relaxed); }

  // --- Reader side. REQUIRES: a reference. ---

  // The offset of the first record. Stable while a reference is held.
  int64_t base() const { return base_.load(std::memory_order_relaxed); }
  // The number of records whose entries and bytes are visible to the caller.
  int64_t published() const {
    return published_.load(std::memory_order_acquire);
  }
  // The record at `index`. REQUIRES: index < published().
  Slot slot(int64_t index) const {
    MEMLOG_DCHECK(index >= 0 && index < count_or_published(),
                  "slot() of a record that is not published");
    const SlotAddress address = AddressOf(index);
    return SlotIn(blocks_[address.block], address.index);
  }
  // For readers that read many records of one segment (memlog::Reader): the
  // block of entries that holds record `index`, whose records [first, end)
  // slot_in() finds without locating the block again. Valid while the
  // caller holds its reference. REQUIRES: index < published().
  struct Block {
    const void* entries = nullptr;
    int64_t first = 0;
    int64_t end = 0;
  };
  Block block_of(int64_t index) const {
    MEMLOG_DCHECK(index >= 0 && index < count_or_published(),
                  "block_of() of a record that is not published");
    const SlotAddress address = AddressOf(index);
    const int64_t first = index - address.index;
    return Block{blocks_[address.block], first,
                 first + BlockRecords(address.block)};
  }
  // slot(index). REQUIRES: block.first <= index < block.end, and
  // index < published().
  Slot slot_in(const Block& block, int64_t index) const {
    MEMLOG_DCHECK(index >= block.first && index < block.end &&
                      index < count_or_published(),
                  "slot_in() of a record that is not published or elsewhere");
    return SlotIn(static_cast<const Entry*>(block.entries),
                  index - block.first);
  }
  // When the record at `index` was created. REQUIRES: index < published().
  int64_t created(int64_t index) const {
    MEMLOG_DCHECK(index >= 0 && index < count_or_published(),
                  "created() of a record that is not published");
    return EntryAt(index).created;
  }
  // Calls `visit(slot)` for the records [first, first + n) in order; cheaper
  // per record than slot(). An exception from `visit` leaves the loop.
  // REQUIRES: first + n <= published().
  template <typename Visit>
  void ForEachSlot(int64_t first, int64_t n, Visit&& visit) const {
    MEMLOG_DCHECK(first >= 0 && n >= 0 && first + n <= count_or_published(),
                  "ForEachSlot() of records that are not published");
    int64_t index = first;
    const int64_t end = first + n;
    while (index < end) {
      // A group at a time, following its chunks: each record starts where
      // the previous one ends, unless its chunk bits change. One call of
      // `visit`, so that it is inlined once.
      const SlotAddress address = AddressOf(index);
      const Entry* const entries = blocks_[address.block];
      const Group& group = GroupOf(entries, address.index);
      const int64_t in_group =
          std::min(end - index, kGroupRecords - (address.index & kGroupMask));
      uint32_t chunk = 0;
      uint32_t start = 0;
      if ((address.index & kGroupMask) != 0) {
        const uint32_t before = entries[address.index - 1].where;
        chunk = before >> kChunkShift;
        start = EndOf(before);
      }
      const char* origin = group.base[chunk == kFarChunk ? 0 : chunk];
      for (int64_t i = address.index; i < address.index + in_group; ++i) {
        const Entry& entry = entries[i];
        const uint32_t where = entry.where;
        if (where >> kChunkShift != chunk) [[unlikely]] {
          // The record starts the group's next chunk.
          chunk = where >> kChunkShift;
          origin = group.base[chunk == kFarChunk ? 0 : chunk];
          start = 0;
        }
        const uint32_t record_end = EndOf(where);
        visit(chunk != kFarChunk
                  ? Slot{origin + start, entry.created, record_end - start}
                  : FarChunkSlot(entries, i));
        start = record_end;
      }
      index += in_group;
    }
  }

 private:
  // A record's entry: 12 bytes, so packed (4-byte aligned).
  struct [[gnu::packed, gnu::aligned(4)]] Entry {
    int64_t created;
    // Which of its group's chunks holds the record (the top 2 bits: the
    // group's first, second or third, or kFarChunk for any later one), and
    // where in it the record ends, minus 1 (the low 30 bits; a chunk holds
    // at most 2^30 bytes). Counted from where the group's records start in
    // that chunk (Group::base).
    uint32_t where;
  };
  static_assert(sizeof(Entry) == 12);
  static constexpr int kChunkShift = 30;
  static constexpr uint32_t kEndMask = (uint32_t{1} << kChunkShift) - 1;
  static constexpr uint32_t kFarChunk = 3;
  static uint32_t EndOf(uint32_t where) { return (where & kEndMask) + 1; }

  // The header of 32 consecutive records.
  struct Group {
    // Where the group's records start in its first three chunks: where its
    // first record starts, then the first byte of each chunk it moved on to.
    const char* base[3];
    // For records in later chunks (kFarChunk), found through the chunk
    // directory: the index of the chunk that holds the group's first record,
    // and a bit j (j >= 1) for each record j of the group that is the first
    // of the next chunk. `starts` is written while readers read the group's
    // earlier records, hence atomic; a reader of record j sees every bit up
    // to j (published before it).
    uint32_t first_chunk;
    std::atomic<uint32_t> starts;
  };
  static_assert(sizeof(Group) == 32);

  // Records come in groups of 32; blocks hold kFirstBlockRecords << b records
  // (2^b groups) for block b, so a segment of up to 2^32 records needs at
  // most kMaxBlocks block pointers.
  static constexpr int kGroupShift = 5;
  static constexpr int64_t kGroupRecords = int64_t{1} << kGroupShift;
  static constexpr int64_t kGroupMask = kGroupRecords - 1;
  static constexpr int kFirstBlockShift = kGroupShift;
  static constexpr int64_t kFirstBlockRecords = int64_t{1} << kFirstBlockShift;
  static constexpr int kMaxBlocks = 28;
  static_assert((kFirstBlockRecords << kMaxBlocks) - kFirstBlockRecords >=
                int64_t{1} << 32);
  // The chunk directory: kFirstChunkEntries << b entries in block b.
  static constexpr int kFirstChunkShift = 2;
  static constexpr int64_t kFirstChunkEntries = int64_t{1} << kFirstChunkShift;
  static constexpr int kMaxChunkBlocks = 30;
  static constexpr size_t kFirstChunkBytes = 4 << 10;
  static constexpr size_t kLargestChunkBytes = 1 << 20;

  // A refcount value that no TryRef() can increment: the writer owns the
  // segment, or it is being freed.
  static constexpr int64_t kClaimed = INT64_MIN / 2;
  // Set in the count by Orphan() on a segment that views still hold.
  static constexpr int64_t kOrphaned = int64_t{1} << 61;

  struct SlotAddress {
    int block;
    int64_t index;
  };
  // Where the `index`-th item is when block b holds (1 << shift) << b items.
  template <int kShift>
  static SlotAddress Locate(int64_t index) {
    const uint64_t shifted =
        static_cast<uint64_t>(index + (int64_t{1} << kShift));
    const int top_bit = 63 - __builtin_clzll(shifted);
    return {top_bit - kShift,
            static_cast<int64_t>(shifted - (uint64_t{1} << top_bit))};
  }
  static SlotAddress AddressOf(int64_t index) {
    return Locate<kFirstBlockShift>(index);
  }
  // Group headers precede a block's entries, the first group's nearest.
  static const Group& GroupOf(const Entry* entries, int64_t index_in_block) {
    return reinterpret_cast<const Group*>(entries)[-1 - (index_in_block >>
                                                         kGroupShift)];
  }
  static Group& GroupOf(Entry* entries, int64_t index_in_block) {
    return reinterpret_cast<Group*>(entries)[-1 - (index_in_block >>
                                                   kGroupShift)];
  }
  // The starts bits 1 to j.
  static uint32_t ChunkSwitchesUpTo(uint32_t j) {
    return static_cast<uint32_t>((uint64_t{2} << j) - 2);
  }
  static uint32_t CountBits(uint32_t bits) {
#if defined(__x86_64__) && !defined(__POPCNT__)
    // Without the instruction GCC calls a library function.
    bits = bits - ((bits >> 1) & 0x55555555u);
    bits = (bits & 0x33333333u) + ((bits >> 2) & 0x33333333u);
    bits = (bits + (bits >> 4)) & 0x0f0f0f0fu;
    return (bits * 0x01010101u) >> 24;
#else
    return static_cast<uint32_t>(__builtin_popcount(bits));
#endif
  }
  // The record at `index_in_block` of the block whose entries start at
  // `entries`.
  [[gnu::always_inline]] Slot SlotIn(const Entry* entries,
                                     int64_t index_in_block) const {
    const Entry& entry = entries[index_in_block];
    const Group& group = GroupOf(entries, index_in_block);
    const uint32_t where = entry.where;
    const uint32_t chunk = where >> kChunkShift;
    if (chunk == 0) [[likely]] {
      // In the chunk of the group's first record, as all before it in the
      // group: it starts where the previous one ends, or at the group's base.
      // No load here depends on another but the entries' block, so that
      // they overlap.
      const uint32_t start = (index_in_block & kGroupMask) == 0
                                 ? 0
                                 : EndOf(entries[index_in_block - 1].where);
      return Slot{group.base[0] + start, entry.created, EndOf(where) - start};
    }
    if (chunk != kFarChunk) {
      // The group's second or third chunk: the record starts it, or follows
      // the previous record in it (not the group's first: that is in the
      // first chunk).
      const uint32_t before = entries[index_in_block - 1].where;
      const uint32_t start = before >> kChunkShift == chunk ? EndOf(before) : 0;
      return Slot{group.base[chunk] + start, entry.created,
                  EndOf(where) - start};
    }
    return FarChunkSlot(entries, index_in_block);
  }
  // slot() of a record in a kFarChunk: out of line, for slot() to stay
  // small.
  [[gnu::noinline]] Slot FarChunkSlot(const Entry* entries,
                                      int64_t index_in_block) const;
  // The number of records in block `block` (the last one is cut to the
  // capacity).
  int64_t BlockRecords(int block) const {
    const int64_t first = (kFirstBlockRecords << block) - kFirstBlockRecords;
    return std::min(kFirstBlockRecords << block, capacity_ - first);
  }

  const Entry& EntryAt(int64_t index) const {
    const SlotAddress address = AddressOf(index);
    return blocks_[address.block][address.index];
  }

  // A payload chunk. Its directory entry never moves; entries of chunks that
  // hold no published record may be swapped by the writer.
  struct Chunk {
    char* bytes;
    size_t size;
  };
  Chunk& ChunkAt(size_t index) {
    const SlotAddress address =
        Locate<kFirstChunkShift>(static_cast<int64_t>(index));
    return chunk_blocks_[address.block][address.index];
  }
  const Chunk& ChunkAt(size_t index) const {
    const SlotAddress address =
        Locate<kFirstChunkShift>(static_cast<int64_t>(index));
    return chunk_blocks_[address.block][address.index];
  }
  const char* ChunkBytes(size_t index) const { return ChunkAt(index).bytes; }

  // Copies the next record in without publishing it: the common case inline
  // (the group is started and the chunk being filled has room), the rest in
  // StoreSlow(). Returns false, changing nothing, if memory could not be
  // allocated.
  template <typename Bytes>
  bool Store(const Bytes& data, int64_t created_unix_nanos) {
    const size_t size = RecordSize(data);
    MEMLOG_DCHECK(!full(), "Append() to a full segment");
    MEMLOG_DCHECK(size > 0, "Append() of an empty record");
    MEMLOG_DCHECK((refs_.load(std::memory_order_relaxed) & ~kOrphaned) > 0,
                  "Append() to a segment that is not live");
    if ((count_ & kGroupMask) == 0 ||
        static_cast<size_t>(fill_end_ - fill_) < size) [[unlikely]] {
      char* const place = StoreSlow(size, created_unix_nanos);
      if (place == nullptr) return false;
      CopyRecord(data, place);
      return true;
    }
    CopyRecord(data, fill_);
    fill_ += size;
    next_entry_->created = created_unix_nanos;
    next_entry_->where =
        (static_cast<uint32_t>(fill_ - origin_) - 1) | chunk_bits_;
    ++next_entry_;
    payload_bytes_ += static_cast<int64_t>(size);
    ++count_;
    return true;
  }
  // Publishes the records stored so far, with their bytes, to readers that
  // load `published_`.
  void Publish() { published_.store(count_, std::memory_order_release); }

  // Store() of a record of `size` bytes that starts a group or a chunk:
  // stores all but its bytes, and returns where they go (nullptr, changing
  // nothing, if memory could not be allocated).
  char* StoreSlow(size_t size, int64_t created_unix_nanos);
  // Makes the next chunk in the directory, one with room for `size` bytes,
  // the one being filled. Returns false, changing nothing that readers see,
  // if memory could not be allocated.
  bool NextChunk(size_t size);
  // Allocates the entries of block `block`; false if out of memory.
  bool AllocateBlock(int block);
  // The bytes of block `block`: its group headers, then its entries.
  size_t BlockBytes(int block) const;
  // Storage from the arena, or from operator new without one. Allocate()
  // returns nullptr if memory ran out.
  void* AllocateBytes(size_t bytes);
  void FreeBytes(void* memory, size_t bytes);
  bool FitsInStorage(size_t size) const;
  // Frees the blocks, the chunks and the directory.
  void FreeStorage();
  // What an index is checked against: published() (a reader's view of
  // it suffices: records are only ever added).
  int64_t count_or_published() const {
    return published_.load(std::memory_order_relaxed);
  }
  // The size of the next chunk: enough for the rest of the segment if its
  // records keep their average size so far, so that a segment of
  // equal-sized records wastes little, but at most the payload the segment
  // holds (so chunks double until the rest fits) and kLargestChunkBytes.
  size_t NextChunkSize(size_t record_size) const;

  // The reference count, or kClaimed. Written by anyone holding a reference
  // and by the writer (claim, activate). On a cache line of its own: every
  // read changes it, and it must not slow down the writer's lines.
  alignas(64) std::atomic<int64_t> refs_{kClaimed};

  // Read by every reader, written by the writer once per append (published_)
  // or per reuse (base_).
  //
  // Records visible to readers; written by the writer with release.
  alignas(64) std::atomic<int64_t> published_{0};
  // The first offset. Changed only while claimed, so stable (and published by
  // TryRef()'s acquire) for any holder of a reference; atomic only so that
  // readers may peek at it without one.
  std::atomic<int64_t> base_{0};
  const int64_t capacity_;
  // Read by readers: a block's or a directory block's pointer is set before
  // any record in it is published, and stays until the storage is released
  // (claimed).
  std::array<Entry*, kMaxBlocks> blocks_{};
  std::array<Chunk*, kMaxChunkBlocks> chunk_blocks_{};

  // Writer-owned state, changed only while claimed or under the writer lock;
  // readers see what they need of it through `published_` or `TryRef()`.
  const int64_t max_payload_storage_;
  int64_t count_ = 0;
  // The fast path's state: the entry of record count_ (within the group
  // being filled), the free bytes of the chunk being filled, and where the
  // ends of its records in that chunk are counted from.
  Entry* next_entry_ = nullptr;
  char* fill_ = nullptr;
  char* fill_end_ = nullptr;
  const char* origin_ = nullptr;
  // The group being filled, how many times it moved to another chunk, and
  // the chunk bits of its entries (Entry::where).
  Group* group_ = nullptr;
  uint32_t group_switches_ = 0;
  uint32_t chunk_bits_ = 0;
  // The directory index of the chunk that follows the one being filled (0
  // before the first record), and the number of chunks.
  size_t next_chunk_ = 0;
  size_t chunks_ = 0;
  int64_t allocated_bytes_ = 0;
  int64_t payload_storage_bytes_ = 0;
  int64_t payload_bytes_ = 0;
  // Where blocks and chunks come from; null: operator new. Held so that a
  // segment a view keeps after its log is gone can still free into it.
  const std::shared_ptr<HugePageArena> arena_;
};

// Holds one reference on a segment; movable and copyable.
class SegmentRef {
 public:
  SegmentRef() = default;
  // Adopts a reference the caller already took.
  static SegmentRef Adopt(Segment* segment) { return SegmentRef(segment); }

  SegmentRef(const SegmentRef& other) : segment_(other.segment_) {
    if (segment_ != nullptr) segment_->Ref();
  }
  SegmentRef(SegmentRef&& other) noexcept : segment_(other.segment_) {
    other.segment_ = nullptr;
  }
  SegmentRef& operator=(SegmentRef other) noexcept {
    std::swap(segment_, other.segment_);
    return *this;
  }
  ~SegmentRef() {
    if (segment_ != nullptr) segment_->Unref();
  }

  Segment* get() const { return segment_; }
  // Gives up ownership of the reference without dropping it.
  Segment* Release() { return std::exchange(segment_, nullptr); }
  Segment* operator->() const { return segment_; }
  explicit operator bool() const { return segment_ != nullptr; }

 private:
  explicit SegmentRef(Segment* segment) : segment_(segment) {}
  Segment* segment_ = nullptr;
};

}  // namespace memlog::internal

#endif  // MEMLOG_INTERNAL_SEGMENT_H_
