// HostSlots: which job slot a job takes, on which host, and when a host is dropped.
#include "host_slots.hpp"

#include <doctest/doctest.h>

using pexec::cli::HostSlots;

TEST_CASE("the lowest free slot is taken, and a slot given back is free again") {
  HostSlots slots(3);
  CHECK(slots.take() == 1);
  CHECK(slots.take() == 2);
  slots.give_back(1);
  CHECK(slots.take() == 1);
  CHECK(slots.take() == 3);
  CHECK_FALSE(slots.take().has_value());
  CHECK(slots.usable() == 3);
}

TEST_CASE("a job that failed on a host waits for a slot on another live host, or takes any once it failed on all") {
  HostSlots slots({0, 1, 0, 1});  // slots 1 and 3 on host 0, 2 and 4 on host 1
  CHECK(slots.take({0}) == 2);
  CHECK(slots.take({0}) == 4);
  CHECK_FALSE(slots.take({0}).has_value());  // host 1 is busy but alive: wait for it
  CHECK_FALSE(slots.has_for({0}));
  CHECK(slots.has_for({0, 1}));  // failed everywhere: any slot
  CHECK(slots.take({0, 1}) == 1);
  slots.give_back(4);
  CHECK(slots.take({0}) == 4);
}

TEST_CASE("three ssh failures in a row drop a host: its slots are not taken again") {
  HostSlots slots({0, 1, 0, 1});
  CHECK_FALSE(slots.transport_failed(2));
  CHECK_FALSE(slots.transport_failed(4));
  slots.transport_worked(2);  // the count starts again
  CHECK_FALSE(slots.transport_failed(2));
  CHECK_FALSE(slots.transport_failed(2));
  CHECK(slots.transport_failed(4));  // the third in a row
  CHECK(slots.usable() == 2);
  CHECK(slots.take() == 1);
  CHECK(slots.take() == 3);
  CHECK_FALSE(slots.take().has_value());
  slots.give_back(2);  // a job of the dropped host ends: its slot stays out
  CHECK_FALSE(slots.take().has_value());
  CHECK(slots.take({0}) == std::nullopt);  // host 1 is gone: host 0's slots are busy
  slots.give_back(3);
  CHECK(slots.take({0}) == 3);  // no live host but 0: it runs there again
  CHECK_FALSE(slots.all_hosts_dropped());
  for (int i = 0; i < 3; ++i) slots.transport_failed(1);
  CHECK(slots.all_hosts_dropped());
}

TEST_CASE("a job pinned to a host (--onall) takes a slot there only, and waits while none is free") {
  HostSlots slots({0, 1, 1});
  CHECK(slots.hosts() == 2);
  CHECK(slots.take_on(1) == 2);
  CHECK(slots.take_on(1) == 3);
  CHECK_FALSE(slots.has_on(1));
  CHECK_FALSE(slots.take_on(1).has_value());  // host 0's free slot is not for it
  CHECK(slots.has_on(0));
  slots.give_back(3);
  CHECK(slots.take_on(1) == 3);
  CHECK(slots.take_on(0) == 1);
}
