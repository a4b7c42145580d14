// Copyright memlog authors.
//
// memlog::LogStats: live counters of a log, for monitoring.
//
//   memlog::LogStats stats = log->stats();
//   Export("memlog_records_written_total", stats.records_written);
//
// Each field maps one-to-one onto a Prometheus metric, named in its comment
// (counters end in _total and never decrease; gauges may move either way).
// Units: records, bytes, segments, streams. A sharded log reports the sum
// over its shards and, per shard, the shard's own (sharded/log.h).
//
// Thread-safety: a value. Log::stats() reads each counter with a relaxed
// atomic load and takes no lock, so a snapshot may mix counts from either
// side of a concurrent write; each counter alone is exact and monotonic.

#ifndef MEMLOG_STATS_H_
#define MEMLOG_STATS_H_

#include <cstdint>

namespace memlog {

struct LogStats {
  // memlog_records_written_total: records written (acknowledged).
  int64_t records_written = 0;
  // memlog_bytes_written_total: their payload bytes.
  int64_t bytes_written = 0;
  // memlog_segments_rotated_total: active segments sealed.
  int64_t segments_rotated = 0;
  // memlog_records_purged_total{reason="count"|"bytes"|"age"}: records
  // purged, by what sealed the segment that purged them (segment_size,
  // max_segment_bytes) or by max_age.
  int64_t records_purged_by_count = 0;
  int64_t records_purged_by_bytes = 0;
  int64_t records_purged_by_age = 0;
  // memlog_write_failures_total{reason="invalid"|"closed"|"overflow"|
  // "out_of_memory"|"callback"}: writes refused, by kind (a WriteBatch counts
  // once).
  int64_t write_failures_invalid = 0;
  int64_t write_failures_closed = 0;
  int64_t write_failures_overflow = 0;
  int64_t write_failures_out_of_memory = 0;
  int64_t write_failures_callback = 0;
  // memlog_streams_waiting (gauge): streams and WaitFor() calls blocked now.
  int64_t streams_waiting = 0;
  // memlog_stream_lag_events_total: IsLagged reports returned by streams.
  int64_t lag_events = 0;
  // memlog_stream_records_missed_total: the sum of their LaggedCount().
  int64_t records_missed = 0;

  // Adds `other` to these counts (for totals over shards).
  LogStats& operator+=(const LogStats& other);
};

}  // namespace memlog

#endif  // MEMLOG_STATS_H_
