// Copyright memlog authors.
//
// What the Publisher's and the Mirror's per-stream workers share: the
// thread that runs one stream's loop, and the progress callers wait on (the
// latest offset done, or the status that stopped the worker). Internal.
//
// Thread-safety: every method may be called from any thread.

#ifndef MEMLOG_JETSTREAM_INTERNAL_WORKER_H_
#define MEMLOG_JETSTREAM_INTERNAL_WORKER_H_

#include <condition_variable>
#include <functional>
#include <limits>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "memlog/options.h"

namespace memlog::jetstream::internal {

// One worker's thread. Start() runs `body` on it; Stop() asks the body to
// end (its stop_token), wakes it from Pause(), and joins it.
class WorkerThread {
 public:
  WorkerThread() = default;
  ~WorkerThread() { Stop(); }
  WorkerThread(const WorkerThread&) = delete;
  WorkerThread& operator=(const WorkerThread&) = delete;

  // REQUIRES: called once, before Stop().
  void Start(std::function<void(std::stop_token)> body);

  // Returns once the body has returned. Idempotent; concurrent calls all
  // return after the join.
  void Stop();

  // On the worker's thread: sleeps for `wait`, or until Stop().
  void Pause(std::stop_token stop, absl::Duration wait);

 private:
  std::mutex join_mu_;  // serialises Stop()
  std::mutex pause_mu_;
  std::condition_variable_any pause_;
  std::jthread thread_;
};

// The latest offset a worker has done (acknowledged by the stream, or
// appended to the mirror's log) and the first status that stopped it.
class Progress {
 public:
  // Raises the latest offset to `offset`; a lower one changes nothing.
  void Advance(Offset offset);
  // kInvalidOffset until the first Advance().
  Offset latest() const;

  // Records the worker's failure and wakes every waiter. The first failure
  // stays; later ones are dropped.
  void Fail(absl::Status status);
  // OK, or the first failure.
  absl::Status status() const;
  bool failed() const;

  // Blocks until latest() >= `offset` (OK), the worker fails (its status),
  // or `deadline` (memlog's kWaitTimedOut, with the message
  // `timed_out(latest)`).
  absl::Status WaitFor(
      Offset offset, absl::Time deadline,
      absl::FunctionRef<std::string(Offset latest)> timed_out) const;

 private:
  static constexpr Offset kNobodyWaits = std::numeric_limits<Offset>::max();

  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  Offset latest_ = kInvalidOffset;  // guarded by mu_
  absl::Status failure_;            // guarded by mu_
  // The lowest offset a waiter waits for: Advance() wakes the waiters when
  // it gets there, not at every record (a wake-up per acknowledgement costs
  // more than the acknowledgement). Guarded by mu_.
  mutable Offset wanted_ = kNobodyWaits;
};

}  // namespace memlog::jetstream::internal

#endif  // MEMLOG_JETSTREAM_INTERNAL_WORKER_H_
