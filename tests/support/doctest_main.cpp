// The main() of every test binary: a process-pool worker serves tasks (freeze_support), any
// other run is doctest's.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "pexec/process_worker.hpp"

int main(int argc, char** argv) {
  pexec::freeze_support();
  doctest::Context context(argc, argv);
  return context.run();
}
