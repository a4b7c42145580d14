// Copyright memlog authors.
//
// RawStreamServer: the floor under //bench:http_load. It sends the bytes
// that memlog::http::Server sends for a stream at the end of a log (an HTTP
// response header, then SSE or NDJSON events in chunked encoding, each
// record formatted once for every client) and does nothing else: no log to
// read, no HTTP parsing beyond finding `from=`, no timeouts, no limits. What
// it costs to deliver the events is what the kernel's sockets and the
// clients cost, which memlog's server cannot go below on the same machine.
//
// Design: the writer formats each record once into one shared, append-only
// buffer of chunks; Flush() publishes what was appended and wakes the
// sender threads. Each sender owns every threads-th connection and, when
// woken, writes to each of them the published bytes it has not sent yet:
// all that arrived since its last write, in one send(). A connection whose
// socket is full waits for EPOLLOUT.
//
// Thread-safety: Append() and Flush() from one writer thread; port() from
// any. Clients connect only when the writer is idle, and must ask for the
// next record: from=<records appended so far>.

#ifndef MEMLOG_BENCH_RAW_STREAM_SERVER_H_
#define MEMLOG_BENCH_RAW_STREAM_SERVER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "http/internal/format.h"

namespace memlog::bench {

class RawStreamServer {
 public:
  // Listens on 127.0.0.1 (a free port) and starts `threads` senders and an
  // acceptor. `capacity`: the bytes of events it can hold in all (virtual
  // memory, touched as it fills).
  static absl::StatusOr<std::unique_ptr<RawStreamServer>> Start(
      http::internal::EventFormat format, int threads, size_t capacity);
  ~RawStreamServer();

  RawStreamServer(const RawStreamServer&) = delete;
  RawStreamServer& operator=(const RawStreamServer&) = delete;

  uint16_t port() const { return port_; }

  // Formats the next record's event (offset = records appended so far).
  // False if the buffer is full.
  bool Append(absl::Time created, std::string_view payload);
  // Publishes the events appended since the last Flush() as one chunk and
  // wakes the senders.
  void Flush();

 private:
  struct Sender;

  RawStreamServer(http::internal::EventFormat format, int listener,
                  uint16_t port, char* buffer, size_t capacity);
  void Accept();
  void Serve(Sender& sender);

  const http::internal::EventFormat format_;
  const int listener_;
  const uint16_t port_;
  char* const buffer_;
  const size_t capacity_;
  // Bytes of the buffer published to the senders.
  std::atomic<size_t> published_{0};
  // The records appended, and those published.
  int64_t appended_ = 0;
  std::atomic<int64_t> published_records_{0};
  // The writer's events since the last Flush().
  std::string pending_;
  std::atomic<bool> stopping_{false};
  std::vector<std::unique_ptr<Sender>> senders_;
  std::thread acceptor_;
};

}  // namespace memlog::bench

#endif  // MEMLOG_BENCH_RAW_STREAM_SERVER_H_
