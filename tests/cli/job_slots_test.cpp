// -j in GNU parallel's forms: N, 0, +N, -N, N% and a FILE read again as jobs finish.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "job_slots.hpp"
#include "pexec/cpu_count.hpp"

using namespace pexec::cli;

TEST_CASE("a count, 0, and counts relative to the CPU threads") {
  int cpus = pexec::process_cpu_count();
  CHECK_FALSE(JobSlots().given());
  CHECK(JobSlots().workers(7) == 7);
  CHECK(JobSlots::parse("5").workers(7) == 5);
  CHECK(JobSlots::parse("0").workers(7) == JobSlots::kMost);
  CHECK(JobSlots::parse("+2").workers(7) == cpus + 2);
  CHECK(JobSlots::parse("-1").workers(7) == std::max(1, cpus - 1));
  CHECK(JobSlots::parse("-1000").workers(7) == 1);
  CHECK(JobSlots::parse("200%").workers(7) == std::max(1, cpus * 2));
  CHECK(JobSlots::parse("1%").workers(7) == 1);
  for (const char* bad : {"many", "", "1.5", "+", "%", "/nonexistent/jobs", "100001"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(JobSlots::parse(bad), std::invalid_argument);
  }
}

TEST_CASE("-j FILE is read each time, and a bad file keeps the count it had") {
  char path[] = "/tmp/pexec-jobs-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  auto write_file = [&](const char* text) { std::ofstream(path) << text; };
  write_file("3\n");
  JobSlots slots = JobSlots::parse(path);
  CHECK(slots.from_file());
  CHECK(slots.workers(7) == JobSlots::kMost);
  CHECK(slots.current(1) == 3);
  write_file("+1");
  CHECK(slots.current(3) == pexec::process_cpu_count() + 1);
  write_file("nonsense");
  CHECK(slots.current(4) == 4);
  std::remove(path);
  CHECK(slots.current(4) == 4);
}
