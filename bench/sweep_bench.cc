// Copyright memlog authors.
//
// Sweeps: how the cost of memlog's operations grows as their work grows. Each
// benchmark is swept over a range of one argument, and the hand-written
// baseline (bench/baseline/) and the floor run on the same arguments:
//
// - sharded Write and Read(key, offset) as the number of shards grows (16 to
//   100,000) and as the number of keys grows (100 to 1,000,000);
// - stream wake-up latency and the writer's throughput as the number of
//   streams following one log grows (1 to 10,000);
// - Write and Read as the record size grows (16 B to 1 MiB).
//
// bench/plot.py runs it and turns its JSON output into the charts of
// bench/plots/:
//
//   python3 bench/plot.py --run
//
// bench/README.md ("Sweeps") says what each sweep measures and where its
// curves bend.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <latch>
#include <memory>
#include <mutex>
#include <random>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "bench/baseline/log.h"
#include "bench/log_benchmarks.h"
#include "bench/ratio_reporter.h"
#include "bench/sharded_benchmarks.h"
#include "benchmark/benchmark.h"
#include "memlog/log.h"
#include "memlog/status.h"

namespace memlog_bench {
namespace {

// --- Record size: Write and Read from 16 B to 1 MiB. ---
//
// The loops of memlog_bench (one thread; Write in the steady state, Read and
// ReadView of every retained record in turn) on a log of two segments of
// min(1000, 128 MiB / size) records: 2000 records up to 64 KiB, and 256 MiB
// in all beyond, so that 1 MiB records still fit this machine. The floor's
// ring holds as many records. The retained bytes are what the loops sweep
// through: 32 KiB at 16 B, 2 MiB at 1 KiB (past L2), 32 MiB at 16 KiB (L3).

constexpr int64_t kLargeRecordSegmentBytes = int64_t{128} << 20;

int64_t SegmentSizeFor(int64_t record_bytes) {
  return std::min<int64_t>(1000, kLargeRecordSegmentBytes / record_bytes);
}

// Counter retained_bytes: what the loops sweep through at this record size
// (bench/plot.py marks where it passes the caches).
void SetRetainedBytes(benchmark::State& state) {
  state.counters["retained_bytes"] =
      static_cast<double>(2 * SegmentSizeFor(state.range(0)) * state.range(0));
}

void RecordSizes(benchmark::internal::Benchmark* benchmark) {
  benchmark->ArgName("bytes")
      ->RangeMultiplier(4)
      ->Range(16, 1 << 20)
      ->MinTime(0.1);
}

void BM_Log_Write(benchmark::State& state) {
  MeasureWrite<OurLog>(state, SegmentSizeFor(state.range(0)));
  SetRetainedBytes(state);
}
BENCHMARK(BM_Log_Write)->Apply(RecordSizes);

void BM_BaselineLog_Write(benchmark::State& state) {
  MeasureWrite<BaselineLog>(state, SegmentSizeFor(state.range(0)));
  SetRetainedBytes(state);
}
BENCHMARK(BM_BaselineLog_Write)->Apply(RecordSizes);

void BM_Floor_Write(benchmark::State& state) {
  MeasureFloorWrite(state, 2 * SegmentSizeFor(state.range(0)));
  SetRetainedBytes(state);
}
BENCHMARK(BM_Floor_Write)->Apply(RecordSizes);

void BM_Log_Read(benchmark::State& state) {
  MeasureRead<OurLog>(state, SegmentSizeFor(state.range(0)));
  SetRetainedBytes(state);
}
BENCHMARK(BM_Log_Read)->Apply(RecordSizes);

void BM_Log_ReadView(benchmark::State& state) {
  MeasureReadView(state, SegmentSizeFor(state.range(0)));
  SetRetainedBytes(state);
}
BENCHMARK(BM_Log_ReadView)->Apply(RecordSizes);

void BM_BaselineLog_Read(benchmark::State& state) {
  MeasureRead<BaselineLog>(state, SegmentSizeFor(state.range(0)));
  SetRetainedBytes(state);
}
BENCHMARK(BM_BaselineLog_Read)->Apply(RecordSizes);

void BM_Floor_Read(benchmark::State& state) {
  MeasureFloorRead(state, 2 * SegmentSizeFor(state.range(0)));
  SetRetainedBytes(state);
}
BENCHMARK(BM_Floor_Read)->Apply(RecordSizes);

// --- Streams: wake-up latency and the writer's throughput, 1 to 10,000. ---
//
// N streams follow one log of 100-byte records from offset 0, in one of two
// ways:
// - thread streams: one thread per stream, blocked in Stream::Next() (memlog
//   sleeps on a futex word that a write wakes; the baseline's stream polls
//   every 10 ms). Up to 1000 streams: 10,000 threads on 2 cores would
//   measure the scheduler rather than the log.
// - loop streams: one thread serves all N, as an event loop does. memlog: a
//   stream that has caught up asks Stream::NotifyWhenReady(); the handler,
//   which runs on the writer's thread inside Write(), only queues the stream
//   for the loop thread, which reads what is there with TryNextBatch() and
//   asks again. The baseline has no notifications: its loop reads each
//   stream's next offset in turn, and sleeps 10 ms (its streams' poll
//   interval) after a pass that found nothing.
//
// StreamsWakeup: the writer stamps the steady clock into each record and
// writes the next one 1 to 11 ms (at random) after the previous one has
// reached every stream, so that writes land at any phase of the baseline's
// 10 ms polls; each stream takes the time again on delivery. Counters p50_us,
// p99_us and max_us: write -> delivery over all streams and records. The first
// record is not timed (stamp 0): streams may still be on their way to their
// first wait.
//
// WriteWithStreams: the writer writes as fast as it can while the streams
// follow; items/s is its writes per second (real time), delivered_per_s the
// records all streams got together per second. A stream that falls more
// than a segment behind skips what was purged (memlog reports the lag; the
// baseline stream is reopened at the earliest record). streams:0 is the
// writer alone.

constexpr int64_t kStreamSegmentSize = 1000;
constexpr int64_t kStreamPayloadBytes = 100;
constexpr int kWakeupRecords = 200;
constexpr int64_t kMinWakeupGapMicros = 1000;
constexpr int64_t kMaxWakeupGapMicros = 11'000;
// The records a loop stream reads per visit before the loop serves the next
// stream, so that the loop stays fair when the writer outpaces it.
constexpr size_t kVisitRecords = 64;

// Counts the records delivered to all streams of a run together, so that the
// writer can wait until a record has reached every stream.
class DeliveryTally {
 public:
  explicit DeliveryTally(int64_t streams) : streams_(streams) {}

  // One record delivered to one stream.
  void Add() {
    const int64_t total = count_.fetch_add(1, std::memory_order_acq_rel) + 1;
    // In a paced run the last stream to get a record completes a multiple.
    if (total % streams_ == 0) count_.notify_all();
  }

  // Blocks until every stream got `records` records.
  void WaitForRecords(int64_t records) const {
    const int64_t target = records * streams_;
    for (int64_t seen = count_.load(std::memory_order_acquire); seen < target;
         seen = count_.load(std::memory_order_acquire)) {
      count_.wait(seen, std::memory_order_acquire);
    }
  }

  int64_t total() const { return count_.load(std::memory_order_relaxed); }

 private:
  const int64_t streams_;
  std::atomic<int64_t> count_{0};
};

int64_t StampOf(std::string_view data) {
  int64_t stamp;
  std::memcpy(&stamp, data.data(), sizeof(stamp));
  return stamp;
}

// A stream got a record stamped `stamp`: keeps its latency if it is timed,
// then counts it.
void Deliver(int64_t stamp, std::vector<int64_t>& latencies,
             DeliveryTally& tally) {
  if (stamp != 0) latencies.push_back(SteadyNanos() - stamp);
  tally.Add();
}

enum class Step { kRecord, kSkipped, kEnded };

// Waits for the next record of `stream` and reads its stamp; kSkipped when
// records were purged before the stream got to them (it has moved on to the
// earliest), kEnded once the stream's stop token is triggered.
Step NextRecord(const memlog::Log& /*log*/, memlog::Stream& stream,
                const std::stop_token& /*stop*/, int64_t& stamp) {
  absl::StatusOr<memlog::RecordView> record = stream.Next();
  if (record.ok()) {
    stamp = StampOf(record->data());
    return Step::kRecord;
  }
  return memlog::IsLagged(record.status()) ? Step::kSkipped : Step::kEnded;
}

Step NextRecord(const baseline::Log& log, baseline::Log::Stream& stream,
                const std::stop_token& stop, int64_t& stamp) {
  baseline::ReadResult result = stream.Next();
  switch (result.status) {
    case baseline::Status::kOk:
      stamp = StampOf(result.record.data);
      return Step::kRecord;
    case baseline::Status::kOutOfRange:  // stays there: start again
      stream = log.StreamFrom(log.Range().earliest, stop);
      return Step::kSkipped;
    default:
      return Step::kEnded;
  }
}

// `n` threads, each following the log with a stream of its own, blocked in
// Next() while it has caught up.
template <typename Impl>
class ThreadStreams {
 public:
  // Returns once every thread has its stream.
  ThreadStreams(const typename Impl::LogType& log, int n, DeliveryTally& tally)
      : latencies_(static_cast<size_t>(n)), started_(n) {
    threads_.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      threads_.emplace_back([this, &log, &tally, i] {
        const std::stop_token stop = stop_.get_token();
        auto stream = Impl::StreamFrom(log, 0, stop);
        started_.count_down();
        int64_t stamp = 0;
        for (;;) {
          const Step step = NextRecord(log, stream, stop, stamp);
          if (step == Step::kEnded) return;
          if (step == Step::kRecord) Deliver(stamp, latencies_[i], tally);
        }
      });
    }
    started_.wait();
  }

  ThreadStreams(const ThreadStreams&) = delete;
  ThreadStreams& operator=(const ThreadStreams&) = delete;

  ~ThreadStreams() { Stop(); }

  // Stops and joins the threads (their streams read what is written first);
  // returns the latencies they kept.
  // REQUIRES: no write is in progress.
  std::vector<int64_t> Stop() {
    stop_.request_stop();
    for (std::thread& thread : threads_) thread.join();
    threads_.clear();
    std::vector<int64_t> all;
    for (std::vector<int64_t>& mine : latencies_) {
      all.insert(all.end(), mine.begin(), mine.end());
      mine.clear();
    }
    return all;
  }

 private:
  std::stop_source stop_;
  // latencies_[i] belongs to thread i until it is joined.
  std::vector<std::vector<int64_t>> latencies_;
  std::latch started_;
  std::vector<std::thread> threads_;
};

// memlog: `n` streams served by one event-loop thread (see above).
class OurLoopStreams {
 public:
  // Returns once every stream has asked to be notified.
  OurLoopStreams(const memlog::Log& log, int n, DeliveryTally& tally)
      : tally_(tally), views_(kVisitRecords) {
    followers_.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      followers_.push_back({OurLog::StreamFrom(log, 0), {}});
      ready_.push_back(i);
    }
    loop_ = std::thread([this] { Run(); });
    armed_.wait();
  }

  OurLoopStreams(const OurLoopStreams&) = delete;
  OurLoopStreams& operator=(const OurLoopStreams&) = delete;

  ~OurLoopStreams() { Stop(); }

  // Stops the loop and withdraws the pending notifications; returns the
  // latencies kept. REQUIRES: no write is in progress (handlers run inside
  // writes).
  std::vector<int64_t> Stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    wake_.notify_one();
    if (loop_.joinable()) loop_.join();
    for (Follower& follower : followers_) follower.pending.Cancel();
    return std::move(latencies_);
  }

 private:
  struct Follower {
    memlog::Stream stream;
    memlog::WriteNotification pending;
  };

  void Run() {
    std::vector<int> serving;
    bool first_pass = true;
    for (;;) {
      {
        std::unique_lock lock(mu_);
        wake_.wait(lock, [&] { return stopping_ || !ready_.empty(); });
        if (stopping_) return;
        serving.swap(ready_);
      }
      for (int index : serving) Serve(index);
      serving.clear();
      if (first_pass) {
        armed_.count_down();
        first_pass = false;
      }
    }
  }

  // Reads up to kVisitRecords records of stream `index`; queues it again if
  // there may be more, or asks to be notified when it has caught up.
  void Serve(int index) {
    Follower& follower = followers_[static_cast<size_t>(index)];
    memlog::ReadResult read =
        follower.stream.TryNextBatch(absl::MakeSpan(views_));
    if (memlog::IsLagged(read.status)) {
      // The stream has moved on to the earliest record: read from there.
      read = follower.stream.TryNextBatch(absl::MakeSpan(views_));
    }
    for (int64_t i = 0; i < read.count; ++i) {
      Deliver(StampOf(views_[static_cast<size_t>(i)].data()), latencies_,
              tally_);
      // Sent: a view kept would pin its segment past its purge.
      views_[static_cast<size_t>(i)] = memlog::RecordView();
    }
    if (read.count > 0 || memlog::IsLagged(read.status)) {
      Queue(index);
    } else if (memlog::IsFutureOffset(read.status)) {
      absl::StatusOr<memlog::WriteNotification> pending =
          follower.stream.NotifyWhenReady(
              [this, index](absl::Status) { Queue(index); });
      if (!pending.ok()) std::abort();
      follower.pending = *std::move(pending);
    }
  }

  // Called by the handlers, on the writer's thread, and by the loop.
  void Queue(int index) {
    bool was_empty;
    {
      std::lock_guard lock(mu_);
      was_empty = ready_.empty();
      ready_.push_back(index);
    }
    if (was_empty) wake_.notify_one();
  }

  DeliveryTally& tally_;
  // Used by the loop thread only, once the constructor has started it.
  std::vector<Follower> followers_;
  std::vector<memlog::RecordView> views_;
  std::vector<int64_t> latencies_;
  std::latch armed_{1};
  std::mutex mu_;
  std::condition_variable wake_;
  std::vector<int> ready_;  // guarded by mu_: streams to serve
  bool stopping_ = false;   // guarded by mu_
  std::thread loop_;
};

// The baseline: `n` streams' positions, polled in turn by one thread.
class BaselineLoopStreams {
 public:
  BaselineLoopStreams(const baseline::Log& log, int n, DeliveryTally& tally)
      : positions_(static_cast<size_t>(n), 0),
        loop_([this, &log, &tally](std::stop_token stop) {
          Run(log, tally, stop);
        }) {}

  BaselineLoopStreams(const BaselineLoopStreams&) = delete;
  BaselineLoopStreams& operator=(const BaselineLoopStreams&) = delete;

  // Stops the loop; returns the latencies kept.
  std::vector<int64_t> Stop() {
    loop_.request_stop();
    if (loop_.joinable()) loop_.join();
    return std::move(latencies_);
  }

 private:
  void Run(const baseline::Log& log, DeliveryTally& tally,
           const std::stop_token& stop) {
    while (!stop.stop_requested()) {
      bool delivered = false;
      for (int64_t& position : positions_) {
        for (size_t i = 0; i < kVisitRecords; ++i) {
          const baseline::ReadResult read = log.Read(position);
          if (read.status == baseline::Status::kOk) {
            Deliver(StampOf(read.record.data), latencies_, tally);
            ++position;
            delivered = true;
          } else if (read.status == baseline::Status::kOutOfRange) {
            position = log.Range().earliest;
          } else {
            break;  // caught up
          }
        }
      }
      if (!delivered) std::this_thread::sleep_for(baseline::kPollInterval);
    }
  }

  // Used by the loop thread only.
  std::vector<int64_t> positions_;
  std::vector<int64_t> latencies_;
  std::jthread loop_;
};

template <typename Impl, typename Streams>
void StreamsWakeup(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  std::vector<int64_t> latencies;
  for (auto _ : state) {
    auto log = Impl::New(kStreamSegmentSize);
    DeliveryTally tally(n);
    Streams streams(*log, n, tally);
    std::string payload = Payload(kStreamPayloadBytes);
    // The same gaps for every run.
    std::minstd_rand random;
    std::uniform_int_distribution<int64_t> gap_micros(kMinWakeupGapMicros,
                                                      kMaxWakeupGapMicros);
    for (int64_t record = 0; record < kWakeupRecords; ++record) {
      const int64_t stamp = record == 0 ? 0 : SteadyNanos();
      std::memcpy(payload.data(), &stamp, sizeof(stamp));
      if (!Impl::Write(*log, payload)) std::abort();
      tally.WaitForRecords(record + 1);
      std::this_thread::sleep_for(
          std::chrono::microseconds(gap_micros(random)));
    }
    latencies = streams.Stop();
  }
  SetLatencyCounters(state, latencies);
  state.SetItemsProcessed(int64_t{kWakeupRecords} * n);
}

void ThreadStreamCounts(benchmark::internal::Benchmark* benchmark) {
  benchmark->ArgName("streams")->RangeMultiplier(10)->Range(1, 1000);
}

void LoopStreamCounts(benchmark::internal::Benchmark* benchmark) {
  benchmark->ArgName("streams")->RangeMultiplier(10)->Range(1, 10'000);
}

void Once(benchmark::internal::Benchmark* benchmark) {
  benchmark->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);
}

void BM_Log_ThreadStreamsWakeup(benchmark::State& state) {
  StreamsWakeup<OurLog, ThreadStreams<OurLog>>(state);
}
BENCHMARK(BM_Log_ThreadStreamsWakeup)->Apply(ThreadStreamCounts)->Apply(Once);

void BM_BaselineLog_ThreadStreamsWakeup(benchmark::State& state) {
  StreamsWakeup<BaselineLog, ThreadStreams<BaselineLog>>(state);
}
BENCHMARK(BM_BaselineLog_ThreadStreamsWakeup)
    ->Apply(ThreadStreamCounts)
    ->Apply(Once);

void BM_Log_LoopStreamsWakeup(benchmark::State& state) {
  StreamsWakeup<OurLog, OurLoopStreams>(state);
}
BENCHMARK(BM_Log_LoopStreamsWakeup)->Apply(LoopStreamCounts)->Apply(Once);

void BM_BaselineLog_LoopStreamsWakeup(benchmark::State& state) {
  StreamsWakeup<BaselineLog, BaselineLoopStreams>(state);
}
BENCHMARK(BM_BaselineLog_LoopStreamsWakeup)
    ->Apply(LoopStreamCounts)
    ->Apply(Once);

template <typename Impl, typename Streams>
void WriteWithStreams(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  // Zeros: stamp 0, so that the streams time nothing.
  const std::string payload(kStreamPayloadBytes, '\0');
  auto log = Impl::New(kStreamSegmentSize);
  DeliveryTally tally(n);
  Streams streams(*log, n, tally);
  for (auto _ : state) {
    if (!Impl::Write(*log, payload)) {
      state.SkipWithError("write failed");
      break;
    }
  }
  state.counters["delivered_per_s"] = benchmark::Counter(
      static_cast<double>(tally.total()), benchmark::Counter::kIsRate);
  streams.Stop();
  SetThroughput(state, state.iterations(),
                state.iterations() * kStreamPayloadBytes);
}

void Timed(benchmark::internal::Benchmark* benchmark) {
  benchmark->UseRealTime()->MinTime(0.3);
}

void BM_Log_WriteWithThreadStreams(benchmark::State& state) {
  WriteWithStreams<OurLog, ThreadStreams<OurLog>>(state);
}
BENCHMARK(BM_Log_WriteWithThreadStreams)
    ->Arg(0)
    ->Apply(ThreadStreamCounts)
    ->Apply(Timed);

void BM_BaselineLog_WriteWithThreadStreams(benchmark::State& state) {
  WriteWithStreams<BaselineLog, ThreadStreams<BaselineLog>>(state);
}
BENCHMARK(BM_BaselineLog_WriteWithThreadStreams)
    ->Arg(0)
    ->Apply(ThreadStreamCounts)
    ->Apply(Timed);

void BM_Log_WriteWithLoopStreams(benchmark::State& state) {
  WriteWithStreams<OurLog, OurLoopStreams>(state);
}
BENCHMARK(BM_Log_WriteWithLoopStreams)->Apply(LoopStreamCounts)->Apply(Timed);

void BM_BaselineLog_WriteWithLoopStreams(benchmark::State& state) {
  WriteWithStreams<BaselineLog, BaselineLoopStreams>(state);
}
BENCHMARK(BM_BaselineLog_WriteWithLoopStreams)
    ->Apply(LoopStreamCounts)
    ->Apply(Timed);

// --- Sharded logs: Write and Read by key as shards and keys grow. ---
//
// Every setting retains the same 1,000,000 records of 100 bytes in all (some
// 170 MB with keys and index, five times the L3 cache): two segments of
// 500,000 / shards records per shard. So a sweep changes how the records are
// spread, not how many there are. Keys are written
// round-robin (sharded_bench's Write and Read loops, MeasureKeyedWrite and
// MeasureKeyedRead), so consecutive operations go to different shards.
// - shards 16 to 100,000, with 100,000 keys: with sharded_bench's 10,000,
//   nine in ten of 100,000 shards would never be written; with 100,000 keys
//   about 63% of them are;
// - keys 100 to 1,000,000, on 1000 shards (sharded_bench's setting).

// The records of one segment of every shard together.
constexpr int64_t kShardedSegmentRecords = 500'000;
constexpr int64_t kShardedPayloadBytes = 100;
constexpr int64_t kShardSweepKeys = 100'000;
constexpr int64_t kKeySweepShards = 1000;
constexpr int64_t kShardCounts[] = {16, 100, 1000, 10'000, 100'000};
constexpr int64_t kKeyCounts[] = {100, 1000, 10'000, 100'000, 1'000'000};
constexpr int64_t kShardedReadSet = 100'000;

struct ShardedSetting {
  int64_t shards = 0;
  int64_t keys = 0;

  friend bool operator==(const ShardedSetting&,
                         const ShardedSetting&) = default;

  int64_t segment_size() const { return kShardedSegmentRecords / shards; }
  // Enough writes for each shard that has keys to have been written about
  // two segments' worth, so that the loops run in the steady state where
  // purged storage is reused.
  int64_t warm_up_writes() const {
    return 2 * segment_size() * std::min(shards, keys) + keys;
  }
};

const std::string& ShardedPayload() {
  static const auto* payload = new std::string(Payload(kShardedPayloadBytes));
  return *payload;
}

// MakeKeys(n), kept while the settings measured have n keys.
const std::vector<std::string>& SweepKeys(int64_t n) {
  static auto* keys = new std::vector<std::string>;
  if (static_cast<int64_t>(keys->size()) != n) *keys = MakeKeys(n);
  return *keys;
}

// Returns the log of Impl for `setting`, written setting.warm_up_writes()
// records round-robin over its keys. It is made by the first benchmark of
// the setting and kept for the next, then freed when another setting is
// asked for: RegisterShardedSweeps() registers the benchmarks setting by
// setting, so that Write and Read share each warm-up and at most one log
// (about 0.2 GB) per implementation is held.
template <typename Impl>
typename Impl::LogType& WarmShardedLog(const ShardedSetting& setting) {
  static auto* log = new std::unique_ptr<typename Impl::LogType>;
  static ShardedSetting made_for;
  if (*log == nullptr || made_for != setting) {
    log->reset();
    *log =
        Impl::New(static_cast<size_t>(setting.shards), setting.segment_size());
    WriteRoundRobin<Impl>(**log, SweepKeys(setting.keys), ShardedPayload(),
                          setting.warm_up_writes());
    made_for = setting;
  }
  return **log;
}

ShardedSetting SettingOf(const benchmark::State& state) {
  return {.shards = state.range(0), .keys = state.range(1)};
}

template <typename Impl>
void ShardedWrite(benchmark::State& state) {
  const ShardedSetting setting = SettingOf(state);
  MeasureKeyedWrite<Impl>(state, WarmShardedLog<Impl>(setting),
                          SweepKeys(setting.keys), ShardedPayload());
}

template <typename Impl>
void ShardedRead(benchmark::State& state) {
  const ShardedSetting setting = SettingOf(state);
  MeasureKeyedRead<Impl>(state, WarmShardedLog<Impl>(setting),
                         SweepKeys(setting.keys), ShardedPayload(),
                         kShardedReadSet, Impl::Read);
}

// Registers BM_ShardedLog_Write/shards:S/keys:K and the others for the shard
// sweep's settings, then the key sweep's, each setting once and all four
// benchmarks of a setting together (see WarmShardedLog).
void RegisterShardedSweeps() {
  std::vector<ShardedSetting> settings;
  for (int64_t shards : kShardCounts) {
    settings.push_back({.shards = shards, .keys = kShardSweepKeys});
  }
  for (int64_t keys : kKeyCounts) {
    const ShardedSetting setting = {.shards = kKeySweepShards, .keys = keys};
    if (std::find(settings.begin(), settings.end(), setting) ==
        settings.end()) {
      settings.push_back(setting);
    }
  }
  const std::pair<const char*, void (*)(benchmark::State&)> benchmarks[] = {
      {"BM_ShardedLog_Write", ShardedWrite<OurShardedLog>},
      {"BM_ShardedLog_Read", ShardedRead<OurShardedLog>},
      {"BM_BaselineShardedLog_Write", ShardedWrite<BaselineShardedLog>},
      {"BM_BaselineShardedLog_Read", ShardedRead<BaselineShardedLog>},
  };
  for (const ShardedSetting& setting : settings) {
    for (const auto& [name, run] : benchmarks) {
      benchmark::RegisterBenchmark(name, run)
          ->ArgNames({"shards", "keys"})
          ->Args({setting.shards, setting.keys})
          ->MinTime(0.2);
    }
  }
}

// --- The ratio table: the ends of each sweep. ---

std::vector<Row> Rows() {
  std::vector<Row> rows;
  const auto speedup = [&](std::string title, std::string ours,
                           std::string reference,
                           std::string metric = "items_per_second") {
    rows.push_back({.title = std::move(title),
                    .ours = std::move(ours),
                    .reference = std::move(reference),
                    .metric = std::move(metric)});
  };
  for (const char* setting :
       {"/shards:16/keys:100000", "/shards:100000/keys:100000",
        "/shards:1000/keys:100", "/shards:1000/keys:1000000"}) {
    const std::string suffix = std::string(setting) + "/min_time:0.200";
    speedup(std::string("Sharded Write") + setting,
            "BM_ShardedLog_Write" + suffix,
            "BM_BaselineShardedLog_Write" + suffix);
    speedup(std::string("Sharded Read") + setting,
            "BM_ShardedLog_Read" + suffix,
            "BM_BaselineShardedLog_Read" + suffix);
  }
  for (const char* bytes : {"16", "1048576"}) {
    const std::string suffix =
        std::string("/bytes:") + bytes + "/min_time:0.100";
    speedup(std::string("Write ") + bytes + " B", "BM_Log_Write" + suffix,
            "BM_BaselineLog_Write" + suffix);
    rows.push_back({.title = std::string("Write ") + bytes + " B vs floor",
                    .ours = "BM_Log_Write" + suffix,
                    .reference = "BM_Floor_Write" + suffix,
                    .kind = RowKind::kFloorGap,
                    .reference_label = "floor"});
    rows.push_back({.title = std::string("Read ") + bytes + " B vs floor",
                    .ours = "BM_Log_Read" + suffix,
                    .reference = "BM_Floor_Read" + suffix,
                    .kind = RowKind::kFloorGap,
                    .reference_label = "floor"});
  }
  const std::string once = "/iterations:1/real_time";
  for (const char* streams : {"1", "1000"}) {
    const std::string suffix = std::string("/streams:") + streams + once;
    rows.push_back(
        {.title = std::string("Wake-up p99, ") + streams + " thread streams",
         .ours = "BM_Log_ThreadStreamsWakeup" + suffix,
         .reference = "BM_BaselineLog_ThreadStreamsWakeup" + suffix,
         .metric = "p99_us",
         .unit = Unit::kMicros,
         .lower_is_better = true});
  }
  rows.push_back(
      {.title = "Wake-up p99, 10,000 loop streams",
       .ours = "BM_Log_LoopStreamsWakeup/streams:10000" + once,
       .reference = "BM_BaselineLog_LoopStreamsWakeup/streams:10000" + once,
       .metric = "p99_us",
       .unit = Unit::kMicros,
       .lower_is_better = true});
  const std::string timed = "/min_time:0.300/real_time";
  speedup("Writer with 1000 thread streams",
          "BM_Log_WriteWithThreadStreams/streams:1000" + timed,
          "BM_BaselineLog_WriteWithThreadStreams/streams:1000" + timed);
  speedup("Writer with 10,000 loop streams",
          "BM_Log_WriteWithLoopStreams/streams:10000" + timed,
          "BM_BaselineLog_WriteWithLoopStreams/streams:10000" + timed);
  return rows;
}

}  // namespace
}  // namespace memlog_bench

int main(int argc, char** argv) {
  memlog_bench::RegisterShardedSweeps();
  return memlog_bench::RunWithRatios(argc, argv, memlog_bench::Rows());
}
