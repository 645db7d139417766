// A mutex, a scoped lock and a one-shot notification on the standard
// library's primitives, with Abseil's thread-safety annotations.
//
// Why not absl::Mutex: Debian's Abseil is not built for ThreadSanitizer, so
// TSan cannot see absl::Mutex synchronise and reports every access it guards
// as a race. std::mutex is intercepted by TSan; the annotations keep clang's
// -Wthread-safety checking the locking story the comments tell.
#ifndef PLANTRAIL_COMMON_SYNC_H_
#define PLANTRAIL_COMMON_SYNC_H_

#include <condition_variable>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"

namespace plantrail {

class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  // Wakes every Await()er so it can recheck its condition. The notify comes
  // before the unlock: once unlocked, a waiter may find its condition true
  // and destroy this mutex (a Notification on its stack, say).
  void Unlock() ABSL_UNLOCK_FUNCTION() {
    changed_.notify_all();
    mu_.unlock();
  }

  // Blocks until `condition()` holds. Must be called with the lock held;
  // holds it again on return.
  template <typename Condition>
  void Await(Condition condition) ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    std::unique_lock<std::mutex> lock(mu_, std::adopt_lock);
    changed_.wait(lock, condition);
    lock.release();
  }

  // As Await(), but gives up at `deadline`; returns whether `condition()`
  // holds.
  template <typename Condition>
  bool AwaitWithDeadline(Condition condition, absl::Time deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    std::unique_lock<std::mutex> lock(mu_, std::adopt_lock);
    const bool holds =
        changed_.wait_until(lock, absl::ToChronoTime(deadline), condition);
    lock.release();
    return holds;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
};

class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_->Lock();
  }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

// Notify() once; any number of threads WaitForNotification().
class Notification {
 public:
  void Notify() {
    MutexLock lock(&mu_);
    notified_ = true;
  }
  void WaitForNotification() {
    MutexLock lock(&mu_);
    mu_.Await([this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return notified_; });
  }

 private:
  Mutex mu_;
  bool notified_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace plantrail

#endif  // PLANTRAIL_COMMON_SYNC_H_
