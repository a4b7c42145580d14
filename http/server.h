// Copyright memlog authors.
//
// memlog::http::Server: serves memlog::Logs and sharded::Logs to remote
// consumers over HTTP/1.1: Server-Sent Events, chunked NDJSON, long polling,
// single records and ranges, and Prometheus metrics. Asynchronous (Boost.Asio
// and Boost.Beast): a few threads serve thousands of connections, and a
// connection waiting for records holds no thread (it waits with
// Log::NotifyWhenWritten()).
//
//   memlog::http::Server server({.port = 8080});
//   server.AddLog("events", events_log.get());
//   server.AddShardedLog("events-by-key", by_key_log.get());
//   absl::Status started = server.Start();  // binds 127.0.0.1:8080
//   ...
//   server.Shutdown(absl::Seconds(5));
//
// Endpoints (the README's "Serving over HTTP" has the wire formats):
//   GET /v1/logs                                  the logs served
//   GET /v1/logs/{log}/records?from=N             SSE (text/event-stream)
//       ... with Accept: application/x-ndjson     chunked NDJSON
//   GET /v1/logs/{log}/records?from=N&limit=K&wait=5s   long polling
//   GET /v1/logs/{log}/records/{offset}           one record
//   GET /v1/logs/{log}/range                      earliest and latest
//   GET /v1/logs/{log}/keys/{key}/...             a sharded log, one key
//   GET /v1/logs/{log}/shards/{n}/...             a sharded log, one shard
//   GET /metrics                                  Prometheus text format
//   GET /health                                   readiness
// Keys are arbitrary bytes, written in the path percent-encoded (RFC 3986:
// every byte outside A-Z a-z 0-9 - . _ ~ as %XX, '/' as %2F).
//
// Guarantees: a stream delivers records in offset order, each once; it
// resumes after the Last-Event-ID it is given (SSE) or from `from`. A client
// that reads slower than the log is written never slows the writers or other
// clients: its connection buffers at most `max_buffered_bytes`, and when the
// log purges what it has not read yet it gets an `event: lagged` with the
// count and continues from the earliest record.
//
// Fan-out: the streams of a plain log that are near its end share each
// record's event, formatted once, and wait on one notification of the log
// rather than one each (ServerOptions::shared_window_bytes), so that what a
// write costs the writer does not grow with their number.
//
// Thread-safety: AddLog(), AddShardedLog() and AddPage() must be called
// before Start(); Start(), Shutdown(), port() and the destructor may be
// called from any one thread at a time. Lifetime: every log served must
// outlive the server.

#ifndef MEMLOG_HTTP_SERVER_H_
#define MEMLOG_HTTP_SERVER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "memlog/log.h"
#include "sharded/log.h"

namespace memlog::http {

struct ServerOptions {
  // Where to listen. The default exposes nothing beyond this machine.
  std::string address = "127.0.0.1";
  // 0 picks a free port; port() tells which once Start() returned.
  uint16_t port = 8080;
  // Threads running the event loop.
  int threads = 2;

  // Connections beyond this are answered 503 and closed.
  size_t max_connections = 10'000;
  // A request's line and headers must arrive within this time of the
  // connection (slowloris)...
  absl::Duration header_timeout = absl::Seconds(10);
  // ... and, on a kept-alive connection, within this time of the previous
  // response.
  absl::Duration idle_timeout = absl::Seconds(60);
  // A write to a client that does not read for this long ends the
  // connection (its TCP window stayed full).
  absl::Duration write_timeout = absl::Seconds(30);
  // Request-target bytes; a longer one is answered 414.
  size_t max_target_bytes = 4096;
  // Bytes of the request line and headers together; more is answered 431.
  size_t max_header_bytes = 16 * 1024;

  // Per streaming connection: formatted events waiting to be sent. A stream
  // reads no further records while this is full.
  size_t max_buffered_bytes = 64 * 1024;
  // Per plain log and stream format (SSE, NDJSON): the latest events,
  // formatted once and shared by every stream that is this close to the
  // log's end, so that serving N clients costs one formatting per record and
  // one notification per write, not N. Streams further behind (and streams
  // of sharded logs) format their own. Held only while the log has streams;
  // 0 turns sharing off.
  size_t shared_window_bytes = 4 * 1024 * 1024;
  // A comment (SSE) or heartbeat line (NDJSON) after this long without an
  // event, so that proxies keep the connection.
  absl::Duration heartbeat_interval = absl::Seconds(15);
  // The `retry:` an SSE stream asks browsers to wait before reconnecting.
  absl::Duration sse_retry = absl::Seconds(1);
  // Ends each stream (without `event: closed`) after this long, so that
  // clients reconnect and resume; infinite by default.
  absl::Duration max_stream_duration = absl::InfiniteDuration();

  // Long polling: the longest `wait` honoured, and the most records per
  // response (also the default `limit`).
  absl::Duration max_wait = absl::Seconds(60);
  int64_t max_limit = 1000;
};

// Per-log options.
struct LogOptions {
  // When set, requests for this log must carry
  // `Authorization: Bearer <token>`; others are answered 401.
  std::string bearer_token;
};

class Server {
 public:
  explicit Server(ServerOptions options = {});
  // Shuts down with a zero deadline if still running.
  ~Server();

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Serves `log` as `name`. Fails with kInvalidArgument for an empty name or
  // one with '/', kAlreadyExists for a name taken, kFailedPrecondition once
  // started. REQUIRES: `log` outlives the server.
  absl::Status AddLog(std::string name, const memlog::Log* log,
                      LogOptions options = {});
  absl::Status AddShardedLog(std::string name, const sharded::Log* log,
                             LogOptions options = {});

  // Serves a fixed document at `path` (e.g. "/" for a page). Fails as
  // AddLog() does.
  absl::Status AddPage(std::string path, std::string content_type,
                       std::string body);

  // Binds, listens and starts the threads. Fails with the bind's error
  // (kUnavailable, e.g. a port in use), kInvalidArgument for a bad
  // address, or kFailedPrecondition if started.
  absl::Status Start();

  // The port listened on (after Start()), or 0.
  uint16_t port() const;

  // Stops accepting, ends every stream with `event: closed` (NDJSON: a
  // closed line), lets responses in flight finish, and closes every
  // connection, all within `deadline` from now; then stops the threads.
  // Idempotent.
  void Shutdown(absl::Duration deadline = absl::Seconds(5));

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace memlog::http

#endif  // MEMLOG_HTTP_SERVER_H_
