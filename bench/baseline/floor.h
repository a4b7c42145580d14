// Copyright memlog authors.
//
// baseline::Floor: the least work any log must do per record, which no log can
// beat. A write copies the payload into memory allocated beforehand and
// publishes it with one release store; a read is one acquire load and a copy
// out. No timestamps, no offsets, no errors, no purging, no readers'
// lifetimes: the benchmarks report how far memlog is from this.
//
// The memory is a ring as large as the log's retention (two segments), so
// that the floor works on as much memory as the log it is compared with.
//
// Thread-safety: one writer; readers may read published records concurrently
// until the ring wraps over them (the floor does not guard against that).

#ifndef MEMLOG_BENCH_BASELINE_FLOOR_H_
#define MEMLOG_BENCH_BASELINE_FLOOR_H_

#include <atomic>
#include <cassert>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

namespace memlog_bench::baseline {

class Floor {
 public:
  // Room for `records` records of up to `record_bytes` bytes each, allocated
  // and touched now so that writes never fault.
  Floor(size_t record_bytes, int64_t records)
      : stride_(record_bytes),
        size_(record_bytes * static_cast<size_t>(records)),
        memory_(new char[size_]),
        next_(memory_.get()) {
    std::memset(memory_.get(), 0, size_);
  }

  Floor(const Floor&) = delete;
  Floor& operator=(const Floor&) = delete;

  void Write(std::string_view data) {
    assert(data.size() <= stride_);
    if (next_ == memory_.get() + size_) next_ = memory_.get();
    std::memcpy(next_, data.data(), data.size());
    next_ += stride_;
    ++written_;
    published_.store(written_, std::memory_order_release);
  }

  // Copies `out_size` bytes of the record at `index` into `out`.
  // REQUIRES: index < the number of records the ring holds and published.
  void Read(int64_t index, char* out, size_t out_size) const {
    [[maybe_unused]] const int64_t published =
        published_.load(std::memory_order_acquire);
    assert(index < published);
    std::memcpy(out, memory_.get() + static_cast<size_t>(index) * stride_,
                out_size);
  }

 private:
  const size_t stride_;
  const size_t size_;
  const std::unique_ptr<char[]> memory_;
  char* next_;
  int64_t written_ = 0;
  std::atomic<int64_t> published_{0};
};

}  // namespace memlog_bench::baseline

#endif  // MEMLOG_BENCH_BASELINE_FLOOR_H_
