// Copyright memlog authors.
//
// internal::Segment: fixed-capacity, append-only record storage shared by a log
// and the views that read it. Not part of the public API.
//
// Design: a segment holds up to `capacity` records. Its slots live in
// geometrically growing blocks and its payload bytes in growing chunks, so
// storage follows the records actually written and nothing is ever moved once
// written: a reader that sees a slot may use it without a lock. Appending is
// done by one writer at a time (the log's writer lock); readers learn of new
// records through `published()`, an acquire load that pairs with the
// writer's release store.
//
// Lifetime is a reference count. The log holds one reference on its active and
// its history segment; every RecordView holds one on the segment it points
// into. A reader finds a segment through the log's atomic pointers and takes a
// reference with `TryRef()`, which fails once the segment is no longer live.
// Segment objects are never freed while their log exists (a reader may still
// hold a stale pointer between loading it and `TryRef()`); a free segment is
// instead claimed exclusively by the writer and reused, which is what keeps
// the write path free of allocation in the steady state. Once the log is gone,
// the last reference frees the segment.

#ifndef MEMLOG_INTERNAL_SEGMENT_H_
#define MEMLOG_INTERNAL_SEGMENT_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "memlog/internal/assert.h"

namespace memlog::internal {

// Where a record's bytes are, when it was written, and how long it is.
// 24 bytes: the per-record cost beyond the payload.
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
  // append.
  explicit Segment(int64_t capacity, int64_t max_payload_storage = 0);
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

  // Copies `data` into the segment as its next record and publishes it.
  // Returns false, changing nothing, if memory could not be allocated.
  // REQUIRES: live, !full(), !data.empty().
  bool Append(std::string_view data, int64_t created_unix_nanos) {
    MEMLOG_DCHECK(!full(), "Append() to a full segment");
    MEMLOG_DCHECK(!data.empty(), "Append() of an empty record");
    MEMLOG_DCHECK((refs_.load(std::memory_order_relaxed) & ~kOrphaned) > 0,
                  "Append() to a segment that is not live");
    // The common case, inline: the slot's block exists and the current chunk
    // has room. Everything else is AppendSlow().
    const SlotAddress address = AddressOf(count_);
    Slot* const block = blocks_[address.block];
    if (block == nullptr || chunk_index_ >= chunks_.size() ||
        chunks_[chunk_index_].size - chunk_used_ < data.size()) {
      return AppendSlow(data, created_unix_nanos);
    }
    char* const bytes = chunks_[chunk_index_].bytes.get() + chunk_used_;
    chunk_used_ += data.size();
    Publish(&block[address.index], bytes, data, created_unix_nanos);
    return true;
  }

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
  int64_t first_created() const { return slot(0).created_unix_nanos; }
  int64_t last_created() const {
    return slot(count_ - 1).created_unix_nanos;
  }
  int64_t capacity() const { return capacity_; }
  // Bytes allocated for slots and payloads, and payload bytes held.
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
  // The number of records whose slots and bytes are visible to the caller.
  int64_t published() const {
    return published_.load(std::memory_order_acquire);
  }
  // REQUIRES: index < published().
  const Slot& slot(int64_t index) const {
    MEMLOG_DCHECK(index >= 0 && index < count_or_published(),
                  "slot() of a record that is not published");
    const SlotAddress address = AddressOf(index);
    return blocks_[address.block][address.index];
  }

 private:
  // Slots live in blocks of kFirstBlockSlots << b slots for block b, so a
  // segment of any capacity needs at most kMaxBlocks block pointers.
  static constexpr int kFirstBlockShift = 4;
  static constexpr int64_t kFirstBlockSlots = int64_t{1} << kFirstBlockShift;
  static constexpr int kMaxBlocks = 40;
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
  static SlotAddress AddressOf(int64_t index) {
    const uint64_t shifted = static_cast<uint64_t>(index + kFirstBlockSlots);
    const int top_bit = 63 - __builtin_clzll(shifted);
    return {top_bit - kFirstBlockShift,
            static_cast<int64_t>(shifted - (uint64_t{1} << top_bit))};
  }

  struct Chunk {
    std::unique_ptr<char[]> bytes;
    size_t size;
  };

  bool AppendSlow(std::string_view data, int64_t created_unix_nanos);
  bool FitsInStorage(size_t size) const;
  // Frees the slot blocks and chunks.
  void FreeStorage();
  // Frees the payload chunks. REQUIRES: no record in them (count_ == 0).
  void FreeChunks();
  // What a slot index is checked against: published() (a reader's view of
  // it suffices: slots are only ever added).
  int64_t count_or_published() const {
    return published_.load(std::memory_order_relaxed);
  }
  // Returns room for `size` payload bytes, or nullptr if allocation failed.
  char* ReserveBytes(size_t size);
  // The size of the next chunk: enough for the rest of the segment if its
  // records keep their average size so far, so that a segment of
  // equal-sized records wastes little (bounded by kLargestChunkBytes).
  size_t NextChunkSize(size_t record_size) const;
  // Returns the slot for the next record, or nullptr if allocation failed.
  Slot* NextSlot();
  void Publish(Slot* slot, char* bytes, std::string_view data,
               int64_t created_unix_nanos) {
    std::memcpy(bytes, data.data(), data.size());
    *slot = Slot{bytes, created_unix_nanos, static_cast<uint32_t>(data.size())};
    payload_bytes_ += static_cast<int64_t>(data.size());
    ++count_;
    // Publishes the slot and its bytes to readers that load `published_`.
    published_.store(count_, std::memory_order_release);
  }

  // The reference count, or kClaimed. Written by anyone holding a reference
  // and by the writer (claim, activate). On a cache line of its own: every
  // read changes it, and it must not slow down the writer's lines.
  alignas(64) std::atomic<int64_t> refs_{kClaimed};

  // Read by every reader, written by the writer once per record (published_)
  // or per reuse (base_).
  //
  // Records visible to readers; written by the writer with release.
  alignas(64) std::atomic<int64_t> published_{0};
  // The first offset. Changed only while claimed, so stable (and published by
  // TryRef()'s acquire) for any holder of a reference; atomic only so that
  // readers may peek at it without one.
  std::atomic<int64_t> base_{0};

  // Writer-owned state, changed only while claimed or under the writer lock;
  // readers see what they need of it through `published_` or `TryRef()`.
  const int64_t capacity_;
  const int64_t max_payload_storage_;
  int64_t count_ = 0;
  std::array<Slot*, kMaxBlocks> blocks_{};
  std::vector<Chunk> chunks_;
  size_t chunk_index_ = 0;  // the chunk being filled
  size_t chunk_used_ = 0;   // bytes used in it
  int64_t allocated_bytes_ = 0;
  int64_t payload_storage_bytes_ = 0;
  int64_t payload_bytes_ = 0;
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
