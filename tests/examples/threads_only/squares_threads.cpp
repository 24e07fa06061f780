// The squares example with the thread pool's own headers only (no JSON library behind them).
#include <pexec/thread_pool.hpp>
#include <pexec/wait.hpp>

#include <iostream>
#include <unordered_map>

int main() {
  pexec::ThreadPoolExecutor executor(4);
  std::unordered_map<pexec::Future<int>, int> future_to_n;
  for (int n = 0; n < 5; ++n) future_to_n[executor.submit([](int x) { return x * x; }, n)] = n;
  for (const auto& future : pexec::as_completed(std::views::keys(future_to_n)))
    std::cout << future_to_n[future] << " squared is " << future.result() << "\n";
}
