#pragma once
// A one-shot event (Python's threading.Event) so tests order threads without sleeps.

#include <chrono>
#include <condition_variable>
#include <mutex>

class Event {
 public:
  void set() {
    std::lock_guard lock(mutex_);
    set_ = true;
    condition_.notify_all();
  }
  bool wait(double seconds = 30) {
    std::unique_lock lock(mutex_);
    return condition_.wait_for(lock, std::chrono::duration<double>(seconds), [this] { return set_; });
  }
  bool is_set() {
    std::lock_guard lock(mutex_);
    return set_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable condition_;
  bool set_ = false;
};
