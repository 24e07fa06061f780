// Python's ProcessPoolExecutor example: is_prime over six big numbers with map.
#include <pexec/futures.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

bool is_prime(long long n) {
  if (n < 2) return false;
  if (n == 2) return true;
  if (n % 2 == 0) return false;
  for (long long i = 3; i <= static_cast<long long>(std::sqrt(static_cast<double>(n))); i += 2)
    if (n % i == 0) return false;
  return true;
}
PEXEC_REGISTER(is_prime);

int main() {
  pexec::freeze_support();
  std::vector<long long> primes{112272535095293, 112582705942171, 112272535095293,
                                115280095190773, 115797848077099, 1099726899285419};
  pexec::ProcessPoolExecutor executor;
  std::size_t i = 0;
  for (bool prime : executor.map(is_prime, primes))
    std::printf("%lld is prime: %s\n", primes[i++], prime ? "True" : "False");
}
