#pragma once
/// HostSlots: the free job slots of a run ({%}: the lowest free one is taken) and, with -S, the
/// host each slot belongs to. It decides where a job may run again: a job that failed goes to a
/// host where it has not failed yet (GNU parallel's rule for --retries), waiting for a slot there
/// while such a host is alive; a host whose ssh fails 3 times in a row is dropped, and its slots
/// are not taken again. Passive: the engine asks, it never waits or reports.

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace pexec::cli {

class HostSlots {
 public:
  /// Slots 1..`slots`, all on this machine.
  explicit HostSlots(std::size_t slots);
  /// Slots 1..host_of_slot.size(), slot k on host host_of_slot[k - 1].
  explicit HostSlots(std::vector<int> host_of_slot);

  /// The lowest free slot on a live host outside `avoid`; if every live host is in `avoid`,
  /// the lowest free slot; nothing if none is free, or if the job should wait for a slot on a
  /// host outside `avoid`.
  std::optional<int> take(const std::set<int>& avoid = {});
  /// Whether take(avoid) would give a slot now.
  bool has_for(const std::set<int>& avoid) const;
  /// The lowest free slot on `host` (a job pinned there: --onall, --nonall); nothing if none is.
  std::optional<int> take_on(int host);
  bool has_on(int host) const;
  /// How many hosts there are (dropped ones too): host numbers are 0 to hosts() - 1.
  int hosts() const { return static_cast<int>(dropped_.size()); }
  /// `slot` is free again (unless its host was dropped).
  void give_back(int slot);
  int host_of(int slot) const { return host_of_slot_[static_cast<std::size_t>(slot) - 1]; }

  /// ssh could not carry a job on `slot`'s host; true if that was the host's third failure in a
  /// row, and the host is dropped now.
  bool transport_failed(int slot);
  /// A job ran on `slot`'s host: its count of failures in a row starts again.
  void transport_worked(int slot);
  /// How many slots belong to hosts still alive.
  std::size_t usable() const;
  bool all_hosts_dropped() const { return usable() == 0; }

 private:
  static constexpr int kFailuresToDrop = 3;
  /// The slot take(avoid) gives, without taking it.
  std::optional<int> find(const std::set<int>& avoid) const;
  std::vector<int> host_of_slot_;
  std::set<int> free_;         // free slots, lowest first
  std::vector<int> failures_;  // per host, in a row
  std::vector<bool> dropped_;  // per host
};

}  // namespace pexec::cli
