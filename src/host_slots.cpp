#include "host_slots.hpp"

#include <algorithm>

namespace pexec::cli {

HostSlots::HostSlots(std::size_t slots) : HostSlots(std::vector<int>(slots, 0)) {}

HostSlots::HostSlots(std::vector<int> host_of_slot) : host_of_slot_(std::move(host_of_slot)) {
  int hosts = 0;
  for (std::size_t i = 0; i < host_of_slot_.size(); ++i) {
    free_.insert(static_cast<int>(i) + 1);
    hosts = std::max(hosts, host_of_slot_[i] + 1);
  }
  failures_.assign(static_cast<std::size_t>(hosts), 0);
  dropped_.assign(static_cast<std::size_t>(hosts), false);
}

std::optional<int> HostSlots::find(const std::set<int>& avoid) const {
  bool elsewhere = false;  // a live host outside `avoid` exists
  for (std::size_t host = 0; host < dropped_.size(); ++host) {
    if (!dropped_[host] && !avoid.contains(static_cast<int>(host))) elsewhere = true;
  }
  for (int slot : free_) {
    if (!elsewhere || !avoid.contains(host_of(slot))) return slot;
  }
  return std::nullopt;
}

std::optional<int> HostSlots::take(const std::set<int>& avoid) {
  std::optional<int> slot = find(avoid);
  if (slot) free_.erase(*slot);
  return slot;
}

bool HostSlots::has_for(const std::set<int>& avoid) const { return find(avoid).has_value(); }

bool HostSlots::has_on(int host) const {
  return std::any_of(free_.begin(), free_.end(), [&](int slot) { return host_of(slot) == host; });
}

std::optional<int> HostSlots::take_on(int host) {
  auto slot = std::find_if(free_.begin(), free_.end(), [&](int free_slot) { return host_of(free_slot) == host; });
  if (slot == free_.end()) return std::nullopt;
  int taken = *slot;
  free_.erase(slot);
  return taken;
}

void HostSlots::give_back(int slot) {
  if (!dropped_[static_cast<std::size_t>(host_of(slot))]) free_.insert(slot);
}

bool HostSlots::transport_failed(int slot) {
  auto host = static_cast<std::size_t>(host_of(slot));
  if (dropped_[host] || ++failures_[host] < kFailuresToDrop) return false;
  dropped_[host] = true;
  std::erase_if(free_, [&](int free_slot) { return host_of(free_slot) == static_cast<int>(host); });
  return true;
}

void HostSlots::transport_worked(int slot) { failures_[static_cast<std::size_t>(host_of(slot))] = 0; }

std::size_t HostSlots::usable() const {
  return static_cast<std::size_t>(std::count_if(host_of_slot_.begin(), host_of_slot_.end(),
                                                [&](int host) { return !dropped_[static_cast<std::size_t>(host)]; }));
}

}  // namespace pexec::cli
