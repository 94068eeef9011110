#pragma once
// BoundedQueue<T>: the only way stages on different threads hand work to each other.
// Capacity is fixed; what happens when it is full is the queue's explicit overflow policy:
//  * block: push() waits (up to its timeout) for space. The Kafka consumer pushes with a
//    short timeout and pauses its partitions while the queue stays full, so memory does
//    not grow when the scorer or the sink falls behind.
//  * drop_oldest: push() never waits; the oldest element is evicted, handed back to the
//    caller (so it can release the offsets it held) and counted.
// Lifecycle: construct, push/pop from any threads, close() to stop: pushes then fail and
// pops drain what is left, then report closed. Thread-safety: all members are thread-safe.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

namespace logguard::daemon {

enum class Overflow { block, drop_oldest };
const char* to_string(Overflow o) noexcept;

template <class T>
class BoundedQueue {
 public:
  enum class PushResult { ok, dropped_oldest, timeout, closed };

  BoundedQueue(std::size_t capacity, Overflow policy)
      : capacity_(capacity == 0 ? 1 : capacity), policy_(policy) {}
  BoundedQueue(const BoundedQueue&) = delete;
  BoundedQueue& operator=(const BoundedQueue&) = delete;

  /// Adds `value`. block: waits up to `timeout` for space (timeout: `value` is left
  /// untouched so the caller can retry). drop_oldest: evicts the oldest element into
  /// `*evicted` (when given) and returns dropped_oldest. closed: the queue was closed.
  PushResult push(T& value, std::chrono::milliseconds timeout, std::optional<T>* evicted = nullptr) {
    std::unique_lock lock(mu_);
    if (closed_) return PushResult::closed;
    PushResult result = PushResult::ok;
    if (items_.size() >= capacity_) {
      if (policy_ == Overflow::drop_oldest) {
        if (evicted) *evicted = std::move(items_.front());
        items_.pop_front();
        ++dropped_;
        result = PushResult::dropped_oldest;
      } else {
        ++full_waits_;
        if (!not_full_.wait_for(lock, timeout, [&] { return closed_ || items_.size() < capacity_; }))
          return PushResult::timeout;
        if (closed_) return PushResult::closed;
      }
    }
    items_.push_back(std::move(value));
    lock.unlock();
    not_empty_.notify_one();
    return result;
  }
  PushResult push(T&& value, std::chrono::milliseconds timeout, std::optional<T>* evicted = nullptr) {
    return push(value, timeout, evicted);
  }

  /// Removes the oldest element, waiting up to `timeout`. nullopt: timed out, or closed and empty.
  std::optional<T> pop(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    if (!not_empty_.wait_for(lock, timeout, [&] { return closed_ || !items_.empty(); })) return std::nullopt;
    if (items_.empty()) return std::nullopt;
    std::optional<T> v(std::move(items_.front()));
    items_.pop_front();
    lock.unlock();
    not_full_.notify_one();
    return v;
  }

  /// Moves up to `max` elements into `out`, waiting up to `timeout` for the first.
  /// Returns how many were moved.
  std::size_t pop_many(std::vector<T>& out, std::size_t max, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    if (!not_empty_.wait_for(lock, timeout, [&] { return closed_ || !items_.empty(); })) return 0;
    std::size_t n = 0;
    while (n < max && !items_.empty()) {
      out.push_back(std::move(items_.front()));
      items_.pop_front();
      ++n;
    }
    lock.unlock();
    if (n > 0) not_full_.notify_all();
    return n;
  }

  /// Wakes every waiter; later pushes fail, pops drain what is left.
  void close() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    not_empty_.notify_all();
    not_full_.notify_all();
  }

  bool closed() const { std::lock_guard lock(mu_); return closed_; }
  bool closed_and_empty() const { std::lock_guard lock(mu_); return closed_ && items_.empty(); }
  std::size_t size() const { std::lock_guard lock(mu_); return items_.size(); }
  bool full() const { std::lock_guard lock(mu_); return items_.size() >= capacity_; }
  std::size_t capacity() const noexcept { return capacity_; }
  Overflow policy() const noexcept { return policy_; }
  /// Elements evicted by drop_oldest.
  std::uint64_t dropped() const { std::lock_guard lock(mu_); return dropped_; }
  /// Pushes that found the queue full under `block` (a measure of backpressure).
  std::uint64_t full_waits() const { std::lock_guard lock(mu_); return full_waits_; }

 private:
  const std::size_t capacity_;
  const Overflow policy_;
  mutable std::mutex mu_;
  std::condition_variable not_empty_, not_full_;
  std::deque<T> items_;
  bool closed_ = false;
  std::uint64_t dropped_ = 0;
  std::uint64_t full_waits_ = 0;
};

inline const char* to_string(Overflow o) noexcept {
  return o == Overflow::block ? "block" : "drop_oldest";
}

}  // namespace logguard::daemon
