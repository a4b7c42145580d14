// Copyright memlog authors.

#include "memlog/internal/segment.h"

#include <algorithm>
#include <new>

namespace memlog::internal {

Segment::Segment(int64_t capacity, int64_t max_payload_storage)
    : capacity_(capacity), max_payload_storage_(max_payload_storage) {}

bool Segment::FitsInStorage(size_t size) const {
  // Room in the chunk being filled or in a later one kept from a reuse, as
  // ReserveBytes() would find it.
  for (size_t i = chunk_index_; i < chunks_.size(); ++i) {
    const size_t used = i == chunk_index_ ? chunk_used_ : 0;
    if (chunks_[i].size - used >= size) return true;
  }
  return payload_storage_bytes_ + static_cast<int64_t>(size) <=
         max_payload_storage_;
}

Segment::~Segment() { FreeStorage(); }

bool Segment::TryClaim() {
  int64_t free = 0;
  return refs_.compare_exchange_strong(free, kClaimed,
                                       std::memory_order_acq_rel,
                                       std::memory_order_relaxed);
}

void Segment::Reset(int64_t base) {
  MEMLOG_DCHECK(claimed(), "Reset() of a segment that is not claimed");
  base_.store(base, std::memory_order_relaxed);
  count_ = 0;
  published_.store(0, std::memory_order_relaxed);
  chunk_index_ = 0;
  chunk_used_ = 0;
  payload_bytes_ = 0;
}

void Segment::ReleaseStorage() {
  MEMLOG_DCHECK(claimed(), "ReleaseStorage() of a segment that is not claimed");
  FreeStorage();
  Reset(base());
}

void Segment::FreeStorage() {
  for (int block = 0; block < kMaxBlocks; ++block) {
    delete[] blocks_[block];
    blocks_[block] = nullptr;
  }
  FreeChunks();
  allocated_bytes_ = 0;
}

void Segment::FreeChunks() {
  allocated_bytes_ -= payload_storage_bytes_;
  chunks_.clear();
  chunks_.shrink_to_fit();
  chunk_index_ = 0;
  chunk_used_ = 0;
  payload_storage_bytes_ = 0;
}

Slot* Segment::NextSlot() {
  const SlotAddress address = AddressOf(count_);
  Slot*& block = blocks_[address.block];
  if (block == nullptr) {
    // Block b covers indices [16 * (2^b - 1), 16 * (2^(b+1) - 1)); the last
    // block is cut to the capacity so that no slot is allocated in vain.
    const int64_t first = (kFirstBlockSlots << address.block) - kFirstBlockSlots;
    const int64_t slots =
        std::min(kFirstBlockSlots << address.block, capacity_ - first);
    block = new (std::nothrow) Slot[slots];
    if (block == nullptr) return nullptr;
    allocated_bytes_ += slots * static_cast<int64_t>(sizeof(Slot));
  }
  return &block[address.index];
}

char* Segment::ReserveBytes(size_t size) {
  // Fill the chunks in order; a chunk too small for this record is skipped
  // (its tail stays unused until the segment is reset).
  while (chunk_index_ < chunks_.size()) {
    Chunk& chunk = chunks_[chunk_index_];
    if (chunk.size - chunk_used_ >= size) {
      char* bytes = chunk.bytes.get() + chunk_used_;
      chunk_used_ += size;
      return bytes;
    }
    ++chunk_index_;
    chunk_used_ = 0;
  }
  if (count_ == 0 && max_payload_storage_ > 0 &&
      payload_storage_bytes_ + static_cast<int64_t>(size) >
          max_payload_storage_) {
    // A reused segment whose kept chunks are all too small for its first
    // record: a new chunk on top of them would take it past its bound
    // (Fits() lets an empty segment take any record), so drop them. They
    // hold no record, and a claimed segment has no readers.
    FreeChunks();
  }
  const size_t chunk_size = NextChunkSize(size);
  std::unique_ptr<char[]> bytes(new (std::nothrow) char[chunk_size]);
  if (bytes == nullptr) return nullptr;
  try {
    chunks_.push_back(Chunk{std::move(bytes), chunk_size});
  } catch (const std::bad_alloc&) {
    return nullptr;  // `bytes` is freed; the segment is as it was
  }
  allocated_bytes_ += static_cast<int64_t>(chunk_size);
  payload_storage_bytes_ += static_cast<int64_t>(chunk_size);
  chunk_index_ = chunks_.size() - 1;
  chunk_used_ = size;
  return chunks_.back().bytes.get();
}

size_t Segment::NextChunkSize(size_t record_size) const {
  size_t estimate = kFirstChunkBytes;
  if (count_ > 0) {
    // Room for the remaining records at the average size so far, plus 1/32
    // for variation; a segment of equal records then needs one more chunk.
    const auto average = static_cast<size_t>(payload_bytes_ / count_) + 1;
    const auto remaining = static_cast<size_t>(capacity_ - count_);
    const size_t wanted = average * remaining;
    estimate = std::min(wanted + wanted / 32, kLargestChunkBytes);
  }
  if (max_payload_storage_ > 0) {
    // Within the bound (the caller checked Fits()); a lone record larger
    // than the bound gets a chunk of its own size below.
    const int64_t left = max_payload_storage_ - payload_storage_bytes_;
    estimate = std::min(estimate, static_cast<size_t>(std::max<int64_t>(
                                      left, 0)));
  }
  return std::max(estimate, record_size);
}

bool Segment::AppendSlow(std::string_view data, int64_t created_unix_nanos) {
  Slot* slot = NextSlot();
  if (slot == nullptr) return false;
  char* bytes = ReserveBytes(data.size());
  if (bytes == nullptr) return false;
  Publish(slot, bytes, data, created_unix_nanos);
  return true;
}

void Segment::Orphan() {
  int64_t refs = refs_.load(std::memory_order_relaxed);
  for (;;) {
    if (refs == 0) {
      // Free: no view holds it and no reader can take a reference.
      if (refs_.compare_exchange_weak(refs, kClaimed,
                                      std::memory_order_acquire,
                                      std::memory_order_relaxed)) {
        delete this;
        return;
      }
    } else if (refs_.compare_exchange_weak(refs, refs | kOrphaned,
                                           std::memory_order_acq_rel,
                                           std::memory_order_relaxed)) {
      return;  // the last view's Unref() frees it
    }
  }
}

}  // namespace memlog::internal
