// Copyright memlog authors.

#include "memlog/internal/write_notifier.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "memlog/status.h"

namespace memlog {

bool WriteNotification::Cancel() noexcept {
  if (notifier_ == nullptr) return false;
  const std::shared_ptr<internal::WriteNotifier> notifier =
      std::move(notifier_);
  notifier_ = nullptr;
  return notifier->Remove(offset_, id_);
}

namespace internal {

WriteNotification WriteNotifier::Add(Offset offset, WriteHandler& handler) {
  std::shared_ptr<WriteNotifier> self = shared_from_this();
  MutexLock lock(&mu_);
  const uint64_t id = next_id_;
  // The node is allocated before `handler` is moved into it: if allocation
  // throws, the caller still holds the handler.
  waiters_.emplace(Key{offset, id}, std::move(handler));
  ++next_id_;
  pending_.store(static_cast<int64_t>(waiters_.size()),
                 std::memory_order_relaxed);
  return WriteNotification(std::move(self), offset, id);
}

bool WriteNotifier::Take(WriteNotification& notification,
                         WriteHandler* handler) {
  std::shared_ptr<WriteNotifier> notifier = std::move(notification.notifier_);
  notification.notifier_ = nullptr;
  if (notifier == nullptr) return false;
  Map::node_type node;
  {
    MutexLock lock(&notifier->mu_);
    node = notifier->waiters_.extract(Key{notification.offset_,
                                          notification.id_});
    notifier->pending_.store(static_cast<int64_t>(notifier->waiters_.size()),
                             std::memory_order_relaxed);
  }
  if (node.empty()) return false;
  *handler = std::move(node.mapped());
  return true;
}

bool WriteNotifier::Remove(Offset offset, uint64_t id) {
  Map::node_type node;  // destroyed after the lock: it is user code
  {
    MutexLock lock(&mu_);
    node = waiters_.extract(Key{offset, id});
    pending_.store(static_cast<int64_t>(waiters_.size()),
                   std::memory_order_relaxed);
  }
  return !node.empty();
}

void WriteNotifier::Run(WriteHandler& handler,
                        const absl::Status& status) noexcept {
  try {
    handler(status);
  } catch (...) {
    // Documented: dropped, so that the write that ran it still succeeds.
  }
}

void WriteNotifier::RunTaken(Map& taken, Offset next,
                             const absl::Status& closed) {
  for (auto& [key, handler] : taken) {
    Run(handler, key.first < next ? absl::OkStatus() : closed);
  }
}

void WriteNotifier::RunWritten(Offset next) {
  Map taken;
  {
    MutexLock lock(&mu_);
    const auto end = waiters_.lower_bound(Key{next, 0});
    // Moving nodes between maps allocates nothing.
    while (waiters_.begin() != end) {
      taken.insert(waiters_.extract(waiters_.begin()));
    }
    pending_.store(static_cast<int64_t>(waiters_.size()),
                   std::memory_order_relaxed);
  }
  RunTaken(taken, next, absl::OkStatus());
}

void WriteNotifier::RunAll(Offset next, const char* why) {
  Map taken;
  {
    MutexLock lock(&mu_);
    taken.swap(waiters_);
    pending_.store(0, std::memory_order_relaxed);
  }
  if (taken.empty()) return;
  absl::Status closed;
  try {
    closed = MakeError(ErrorKind::kClosed, why);
  } catch (...) {
    // Out of memory for the message: still a kFailedPrecondition.
    closed = absl::Status(absl::StatusCode::kFailedPrecondition, "");
  }
  RunTaken(taken, next, closed);
}

}  // namespace internal
}  // namespace memlog
