// Copyright memlog authors.
//
// internal::Mutex and internal::MutexLock: std::mutex with the capability
// annotations of absl/base/thread_annotations.h, so that clang's
// -Wthread-safety checks every ABSL_GUARDED_BY member (libstdc++'s own
// std::mutex carries none, so the analysis cannot see it). Not part of the
// public API.
//
//   mutable internal::Mutex mu_;
//   int count_ ABSL_GUARDED_BY(mu_);
//   ...
//   internal::MutexLock lock(&mu_);
//   ++count_;  // a build error under -Wthread-safety without the lock
//
// MutexLock is also a Lockable, so std::condition_variable_any can wait on
// it (the wait unlocks and relocks it).
//
// Thread-safety: as std::mutex.

#ifndef MEMLOG_INTERNAL_MUTEX_H_
#define MEMLOG_INTERNAL_MUTEX_H_

#include <mutex>

#include "absl/base/thread_annotations.h"

namespace memlog::internal {

class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  bool try_lock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) {
    return mu_.try_lock();
  }
  void unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }

 private:
  std::mutex mu_;
};

// Holds a Mutex for its scope. `Adopt` takes over a mutex the caller has
// already locked (e.g. after a successful try_lock()).
class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_->lock();
  }
  struct Adopt {};
  MutexLock(Mutex* mu, Adopt) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) : mu_(mu) {}
  ~MutexLock() ABSL_UNLOCK_FUNCTION() {
    if (locked_) mu_->unlock();
  }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  // For std::condition_variable_any, which releases the lock while it
  // sleeps and takes it again before it returns.
  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    mu_->lock();
    locked_ = true;
  }
  void unlock() ABSL_UNLOCK_FUNCTION() {
    locked_ = false;
    mu_->unlock();
  }

 private:
  Mutex* const mu_;
  bool locked_ = true;
};

}  // namespace memlog::internal

#endif  // MEMLOG_INTERNAL_MUTEX_H_
