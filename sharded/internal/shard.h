// Copyright memlog authors.
//
// internal::Shard: one shard of a sharded log. Not part of the public API.
//
// Design: a shard is a memlog::Log plus the KeyIndex of its records, both
// under one lock: the log's own writer lock, so that a write takes a single
// lock and touches one lock's cache line. A sharded log makes a shard on its
// first use, so an unused shard costs one pointer. `mu` is held across each
// write to the log (ShardWrites::AppendLocked()) and the index update around
// it, so the index learns of records in offset order, and a reader that takes
// `mu` after seeing offset N in the log finds N in the index too. Reads of
// records take no lock (memlog::Log reads are lock-free); reads of the index
// take `mu` briefly. Nothing waits while holding `mu`, and no log call that
// takes the writer lock itself (Write(), Trim(), Close(),
// NotifyWhenWritten(), WaitFor()) is made under it.
//
// Storage: a sharded log's shards, their segments' slot blocks and payload
// chunks, and their key indexes' tables and entries come from one
// HugePageArena (see memlog/internal/huge_page_arena.h for why).

#ifndef MEMLOG_SHARDED_INTERNAL_SHARD_H_
#define MEMLOG_SHARDED_INTERNAL_SHARD_H_


#include <memory>
#include <new>

#include "absl/base/thread_annotations.h"
#include "memlog/internal/huge_page_arena.h"
#include "memlog/internal/mutex.h"
#include "memlog/internal/shard_writes.h"
#include "memlog/log.h"
#include "sharded/internal/key_index.h"

namespace memlog::sharded::internal {

// Aligned to a cache line so that writers of neighbouring shards do not
// contend on one line.
struct alignas(64) Shard {
  // Makes a shard in a block of `arena`, which its storage comes from too;
  // nullptr if memory ran out. REQUIRES: memlog::ValidateOptions(options)
  // is OK.
  static Shard* Make(
      const memlog::Options& options,
      const std::shared_ptr<memlog::internal::HugePageArena>& arena) {
    void* block = arena->Allocate(sizeof(Shard));
    if (block == nullptr) return nullptr;
    try {
      return new (block) Shard(options, arena);
    } catch (const std::bad_alloc&) {
      arena->Free(block, sizeof(Shard));
      return nullptr;
    }
  }
  // Destroys a shard that Make() made with `arena`.
  static void Destroy(Shard* shard, memlog::internal::HugePageArena& arena) {
    if (shard == nullptr) return;
    shard->~Shard();
    arena.Free(shard, sizeof(Shard));
  }

  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  // Written only by the sharded log, under `mu`. Held by value: a write
  // reaches the log's lines without a pointer to load first.
  memlog::Log log;
  // The log's writer lock.
  memlog::internal::Mutex& mu;
  KeyIndex index ABSL_GUARDED_BY(mu);

 private:
  Shard(const memlog::Options& options,
        std::shared_ptr<memlog::internal::HugePageArena> arena)
      : log(options, arena),
        mu(memlog::internal::ShardWrites::WriterLock(log)),
        index(*arena) {}
};

}  // namespace memlog::sharded::internal

#endif  // MEMLOG_SHARDED_INTERNAL_SHARD_H_
