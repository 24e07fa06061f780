// Python's Executor.map with a timeout, where one task is slow: the fast results, then TimeoutError.
#include <pexec/futures.hpp>

#include <chrono>
#include <iostream>
#include <thread>
#include <vector>

int main() {
  pexec::ThreadPoolExecutor executor(3);
  auto nap = [](double s) {
    std::this_thread::sleep_for(std::chrono::duration<double>(s));
    return s;
  };
  try {
    for (double s : executor.map(nap, std::vector<double>{0, 0, 3}, 1.0)) std::cout << "slept " << s << "\n";
  } catch (const pexec::TimeoutError&) {
    std::cout << "TimeoutError\n";
  }
}
