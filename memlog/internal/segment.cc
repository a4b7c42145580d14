// Copyright memlog authors.

#include "memlog/internal/segment.h"

#include <algorithm>
#include <new>

namespace memlog::internal {

Segment::Segment(int64_t capacity, int64_t max_payload_storage,
                 std::shared_ptr<HugePageArena> arena)
    : capacity_(capacity),
      max_payload_storage_(max_payload_storage),
      arena_(std::move(arena)) {
  MEMLOG_DCHECK(capacity >= 1 && capacity <= (int64_t{1} << 32),
                "a segment's capacity is 1 to 2^32 records");
}

Segment::~Segment() { FreeStorage(); }

Slot Segment::FarChunkSlot(const Entry* entries,
                           int64_t index_in_block) const {
  const Group& group = GroupOf(entries, index_in_block);
  const Entry& entry = entries[index_in_block];
  const auto j = static_cast<uint32_t>(index_in_block & kGroupMask);
  const uint32_t starts = group.starts.load(std::memory_order_relaxed);
  const char* const origin =
      ChunkBytes(group.first_chunk + CountBits(starts & ChunkSwitchesUpTo(j)));
  // j >= 3: the group's first three chunks hold its first records. The
  // record starts its chunk, or follows the previous record in it.
  const uint32_t start = (starts >> j & 1) != 0
                             ? 0
                             : EndOf(entries[index_in_block - 1].where);
  return Slot{origin + start, entry.created, EndOf(entry.where) - start};
}

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
  next_entry_ = nullptr;
  group_ = nullptr;
  fill_ = nullptr;
  fill_end_ = nullptr;
  origin_ = nullptr;
  next_chunk_ = 0;
  payload_bytes_ = 0;
}

void Segment::ReleaseStorage() {
  MEMLOG_DCHECK(claimed(), "ReleaseStorage() of a segment that is not claimed");
  FreeStorage();
  Reset(base());
}

namespace {

int64_t GroupsFor(int64_t records, int64_t group_records) {
  return (records + group_records - 1) / group_records;
}

}  // namespace

void* Segment::AllocateBytes(size_t bytes) {
  if (arena_ != nullptr) return arena_->Allocate(bytes);
  return ::operator new(bytes, std::nothrow);
}

void Segment::FreeBytes(void* memory, size_t bytes) {
  if (arena_ != nullptr) {
    arena_->Free(memory, bytes);
  } else {
    ::operator delete(memory);
  }
}

size_t Segment::BlockBytes(int block) const {
  const int64_t records = BlockRecords(block);
  return static_cast<size_t>(
      GroupsFor(records, kGroupRecords) * static_cast<int64_t>(sizeof(Group)) +
      records * static_cast<int64_t>(sizeof(Entry)));
}

bool Segment::AllocateBlock(int block) {
  MEMLOG_DCHECK(block < kMaxBlocks && blocks_[block] == nullptr,
                "AllocateBlock() of a block that exists");
  const int64_t groups = GroupsFor(BlockRecords(block), kGroupRecords);
  const size_t bytes = BlockBytes(block);
  auto* const memory = static_cast<char*>(AllocateBytes(bytes));
  if (memory == nullptr) return false;
  for (int64_t g = 0; g < groups; ++g) {
    new (memory + g * static_cast<int64_t>(sizeof(Group))) Group{};
  }
  // The entries follow the group headers (GroupOf() counts back from them).
  blocks_[block] = reinterpret_cast<Entry*>(
      memory + groups * static_cast<int64_t>(sizeof(Group)));
  allocated_bytes_ += static_cast<int64_t>(bytes);
  return true;
}

void Segment::FreeStorage() {
  for (int block = 0; block < kMaxBlocks; ++block) {
    if (blocks_[block] == nullptr) continue;
    const int64_t groups = GroupsFor(BlockRecords(block), kGroupRecords);
    FreeBytes(reinterpret_cast<char*>(blocks_[block]) -
                    groups * static_cast<int64_t>(sizeof(Group)),
                BlockBytes(block));
    blocks_[block] = nullptr;
  }
  for (size_t i = 0; i < chunks_; ++i) {
    FreeBytes(ChunkAt(i).bytes, ChunkAt(i).size);
  }
  chunks_ = 0;
  for (Chunk*& directory : chunk_blocks_) {
    delete[] directory;
    directory = nullptr;
  }
  allocated_bytes_ = 0;
  payload_storage_bytes_ = 0;
}

bool Segment::FitsInStorage(size_t size) const {
  // Room in the chunk being filled or in a later one kept from a reuse, as
  // NextChunk() would find it.
  if (static_cast<size_t>(fill_end_ - fill_) >= size) return true;
  for (size_t i = next_chunk_; i < chunks_; ++i) {
    if (ChunkAt(i).size >= size) return true;
  }
  return payload_storage_bytes_ + static_cast<int64_t>(size) <=
         max_payload_storage_;
}

size_t Segment::NextChunkSize(size_t record_size) const {
  size_t estimate = kFirstChunkBytes;
  if (count_ > 0) {
    // Room for the remaining records at the average size so far (rounded
    // up), plus 1/128 for variation, so that the last chunk of a segment of
    // equal records leaves less than 1% of it unused; but no more than the
    // segment holds already, so that a segment that is never filled wastes
    // at most about what it holds.
    const auto average =
        static_cast<uint64_t>((payload_bytes_ + count_ - 1) / count_);
    const auto remaining = static_cast<uint64_t>(capacity_ - count_);
    // At most 2^30 * 2^32: no overflow.
    const uint64_t wanted = average * remaining;
    estimate = static_cast<size_t>(std::min<uint64_t>(
        {wanted + wanted / 128,
         std::max<uint64_t>(static_cast<uint64_t>(payload_bytes_),
                            kFirstChunkBytes),
         kLargestChunkBytes}));
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

bool Segment::NextChunk(size_t size) {
  // A chunk kept from an earlier use of the segment, if one has room, else a
  // new one; either way it takes the next index, so that a group's chunks
  // are consecutive. Entries from next_chunk_ on hold no published record:
  // no reader looks at them, and they may be swapped.
  size_t found = next_chunk_;
  while (found < chunks_ && ChunkAt(found).size < size) ++found;
  if (found == chunks_ && count_ == 0 && max_payload_storage_ > 0 &&
      payload_storage_bytes_ + static_cast<int64_t>(size) >
          max_payload_storage_) {
    // A reused segment whose kept chunks are all too small for its first
    // record: a new chunk on top of them would take it past its bound
    // (Fits() lets an empty segment take any record), so drop them. They
    // hold no record, and a claimed segment has no readers.
    for (size_t i = 0; i < chunks_; ++i) {
      const Chunk& kept = ChunkAt(i);
      allocated_bytes_ -= static_cast<int64_t>(kept.size);
      payload_storage_bytes_ -= static_cast<int64_t>(kept.size);
      FreeBytes(kept.bytes, kept.size);
    }
    chunks_ = 0;
    next_chunk_ = 0;
    found = 0;
  }
  if (found == chunks_) {
    const SlotAddress address =
        Locate<kFirstChunkShift>(static_cast<int64_t>(chunks_));
    if (address.block >= kMaxChunkBlocks) return false;
    Chunk*& directory = chunk_blocks_[address.block];
    if (directory == nullptr) {
      const int64_t entries = kFirstChunkEntries << address.block;
      directory = new (std::nothrow) Chunk[static_cast<size_t>(entries)];
      if (directory == nullptr) return false;
      allocated_bytes_ += entries * static_cast<int64_t>(sizeof(Chunk));
    }
    const size_t chunk_size = NextChunkSize(size);
    auto* const bytes = static_cast<char*>(AllocateBytes(chunk_size));
    if (bytes == nullptr) return false;
    directory[address.index] = Chunk{bytes, chunk_size};
    ++chunks_;
    allocated_bytes_ += static_cast<int64_t>(chunk_size);
    payload_storage_bytes_ += static_cast<int64_t>(chunk_size);
  }
  if (found != next_chunk_) std::swap(ChunkAt(found), ChunkAt(next_chunk_));
  const Chunk& chunk = ChunkAt(next_chunk_);
  ++next_chunk_;
  fill_ = chunk.bytes;
  fill_end_ = chunk.bytes + chunk.size;
  origin_ = chunk.bytes;
  return true;
}

char* Segment::StoreSlow(size_t size, int64_t created_unix_nanos) {
  const auto j = static_cast<uint32_t>(count_ & kGroupMask);
  Entry* entry = next_entry_;
  Group* group = group_;
  if (j == 0) {
    const SlotAddress address = AddressOf(count_);
    MEMLOG_DCHECK(address.block < kMaxBlocks, "a record past 2^32");
    if (blocks_[address.block] == nullptr && !AllocateBlock(address.block)) {
      return nullptr;
    }
    entry = &blocks_[address.block][address.index];
    group = &GroupOf(blocks_[address.block], address.index);
  }
  const bool new_chunk = static_cast<size_t>(fill_end_ - fill_) < size;
  if (new_chunk && !NextChunk(size)) return nullptr;
  // Nothing fails from here on.
  if (j == 0) {
    group->base[0] = fill_;
    group->first_chunk = static_cast<uint32_t>(next_chunk_ - 1);
    group->starts.store(0, std::memory_order_relaxed);
    group_switches_ = 0;
    chunk_bits_ = 0;
    origin_ = fill_;
  } else if (new_chunk) {
    // NextChunk() made the chunk's start the origin.
    ++group_switches_;
    if (group_switches_ < kFarChunk) {
      group->base[group_switches_] = fill_;
      chunk_bits_ = group_switches_ << kChunkShift;
    } else {
      chunk_bits_ = kFarChunk << kChunkShift;
    }
    group->starts.store(
        group->starts.load(std::memory_order_relaxed) | (uint32_t{1} << j),
        std::memory_order_relaxed);
  }
  char* const place = fill_;
  fill_ += size;
  entry->created = created_unix_nanos;
  MEMLOG_DCHECK(fill_ - origin_ - 1 <= kEndMask, "a chunk over 1 GiB");
  entry->where = (static_cast<uint32_t>(fill_ - origin_) - 1) | chunk_bits_;
  next_entry_ = entry + 1;
  group_ = group;
  payload_bytes_ += static_cast<int64_t>(size);
  ++count_;
  return place;
}

size_t Segment::AppendBatch(const std::string_view* records, size_t n,
                            int64_t created_unix_nanos) {
  const size_t limit = std::min(n, static_cast<size_t>(capacity_ - count_));
  size_t i = 0;
  if (max_payload_storage_ == 0) {
    while (i < limit && Store(records[i], created_unix_nanos)) ++i;
  } else {
    while (i < limit && Fits(records[i].size()) &&
           Store(records[i], created_unix_nanos)) {
      ++i;
    }
  }
  if (i > 0) Publish();
  return i;
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
