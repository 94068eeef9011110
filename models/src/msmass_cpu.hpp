#pragma once
// The CPU fast path of the scorer: packing a LibTorch MSMASS network into the kernels' layout
// (cpu_kernels.hpp) and the small thread pool that spreads a batch's tiles over
// model.detect.threads threads. Not a public header.
#include <atomic>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "cpu_kernels.hpp"
#include "nets.hpp"

namespace logguard::models::detail {

/// Copies an MSMASS network's weights (eval mode: dropout is not applied) into the kernels'
/// padded, transposed layout. The network is only read.
MsmassPacked pack_msmass(MsmassNetImpl& net);

/// A fixed set of worker threads (named lg-score-N) that run the tasks of one call together
/// with the calling thread. Lifecycle: threads start in the constructor and are joined in the
/// destructor. Thread-safety: run() may be called from several threads; a call made while
/// another one is running runs its tasks on its own thread (no waiting, no deadlock).
class TaskPool {
 public:
  explicit TaskPool(int threads);  // threads - 1 workers; the caller of run() is the last one
  ~TaskPool();
  TaskPool(const TaskPool&) = delete;
  TaskPool& operator=(const TaskPool&) = delete;

  /// Runs f(0) ... f(n-1) on the pool and the caller; returns when all are done and rethrows
  /// the first exception a task threw.
  void run(int n, const std::function<void(int)>& f);
  int threads() const noexcept { return static_cast<int>(workers_.size()) + 1; }

 private:
  void worker();
  void drain();

  std::mutex busy_;  // held by the running call
  std::mutex mu_;
  std::condition_variable wake_, done_;
  const std::function<void(int)>* job_ = nullptr;
  int tasks_ = 0;
  std::atomic<int> next_{0};
  int active_ = 0;
  unsigned long long generation_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
  std::vector<std::thread> workers_;
};

}  // namespace logguard::models::detail
