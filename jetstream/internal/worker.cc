// Copyright memlog authors.

#include "jetstream/internal/worker.h"

#include <algorithm>
#include <utility>

#include "memlog/status.h"

namespace memlog::jetstream::internal {

void WorkerThread::Start(std::function<void(std::stop_token)> body) {
  thread_ = std::jthread(std::move(body));
}

void WorkerThread::Stop() {
  std::lock_guard lock(join_mu_);
  if (!thread_.joinable()) return;
  // Pause() waits on the stop token, so this wakes it as well.
  thread_.request_stop();
  thread_.join();
}

void WorkerThread::Pause(std::stop_token stop, absl::Duration wait) {
  std::unique_lock lock(pause_mu_);
  pause_.wait_for(lock, stop, absl::ToChronoMilliseconds(wait),
                  [] { return false; });
}

void Progress::Advance(Offset offset) {
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (offset <= latest_) return;
    latest_ = offset;
    if (latest_ >= wanted_) {
      wanted_ = kNobodyWaits;  // the woken waiters that want more say so again
      wake = true;
    }
  }
  if (wake) changed_.notify_all();
}

Offset Progress::latest() const {
  std::lock_guard lock(mu_);
  return latest_;
}

void Progress::Fail(absl::Status status) {
  {
    std::lock_guard lock(mu_);
    if (!failure_.ok()) return;
    failure_ = std::move(status);
  }
  changed_.notify_all();
}

absl::Status Progress::status() const {
  std::lock_guard lock(mu_);
  return failure_;
}

bool Progress::failed() const {
  std::lock_guard lock(mu_);
  return !failure_.ok();
}

absl::Status Progress::WaitFor(
    Offset offset, absl::Time deadline,
    absl::FunctionRef<std::string(Offset latest)> timed_out) const {
  std::unique_lock lock(mu_);
  for (;;) {
    if (latest_ >= offset) return absl::OkStatus();
    if (!failure_.ok()) return failure_;
    if (absl::Now() >= deadline) break;
    wanted_ = std::min(wanted_, offset);
    changed_.wait_until(lock, absl::ToChronoTime(deadline));
  }
  return memlog::MakeError(memlog::ErrorKind::kWaitTimedOut,
                           timed_out(latest_));
}

}  // namespace memlog::jetstream::internal
