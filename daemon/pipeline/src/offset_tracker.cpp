#include "logguard/pipeline/offset_tracker.hpp"

#include <algorithm>

namespace logguard::daemon {

void OffsetTracker::begin(const SourcePosition& pos, std::uint32_t holders) {
  std::lock_guard lock(mu_);
  Partition& p = partitions_[pos.tp];
  if (p.next >= 0 && pos.offset < p.next) {
    ++rewinds_;
    for (const auto& e : p.held)
      if (e.second > 0) --held_;
    p.held.clear();
  }
  p.next = pos.offset + 1;
  if (holders > 0) {
    p.held.emplace_back(pos.offset, holders);
    ++held_;
  }
}

bool OffsetTracker::release(const SourcePosition& pos) {
  std::lock_guard lock(mu_);
  auto pit = partitions_.find(pos.tp);
  if (pit == partitions_.end()) {
    ++unknown_releases_;
    return false;
  }
  auto& held = pit->second.held;
  auto it = std::lower_bound(held.begin(), held.end(), pos.offset,
                             [](const auto& e, std::int64_t off) { return e.first < off; });
  if (it == held.end() || it->first != pos.offset || it->second == 0) {
    ++unknown_releases_;
    return false;
  }
  if (--it->second == 0) --held_;
  while (!held.empty() && held.front().second == 0) held.pop_front();
  return true;
}

std::vector<SourcePosition> OffsetTracker::take_committable() {
  std::lock_guard lock(mu_);
  std::vector<SourcePosition> out;
  for (auto& [tp, p] : partitions_) {
    const std::int64_t c = p.committable();
    if (c >= 0 && c != p.last_taken) {
      out.push_back(SourcePosition{tp, c});
      p.last_taken = c;
    }
  }
  return out;
}

std::int64_t OffsetTracker::committable(const TopicPartition& tp) const {
  std::lock_guard lock(mu_);
  auto it = partitions_.find(tp);
  return it == partitions_.end() ? -1 : it->second.committable();
}

void OffsetTracker::forget(const TopicPartition& tp) {
  std::lock_guard lock(mu_);
  auto it = partitions_.find(tp);
  if (it == partitions_.end()) return;
  for (const auto& e : it->second.held)
    if (e.second > 0) --held_;
  partitions_.erase(it);
}

std::size_t OffsetTracker::held() const {
  std::lock_guard lock(mu_);
  return held_;
}

std::uint64_t OffsetTracker::unknown_releases() const {
  std::lock_guard lock(mu_);
  return unknown_releases_;
}

std::uint64_t OffsetTracker::rewinds() const {
  std::lock_guard lock(mu_);
  return rewinds_;
}

InOrderReleaser::Ticket InOrderReleaser::add(std::vector<SourcePosition> released, bool wait_for_delivery) {
  const Ticket t = first_ticket_ + entries_.size();
  entries_.push_back(Entry{std::move(released), !wait_for_delivery});
  drain();
  return t;
}

void InOrderReleaser::complete(Ticket ticket) {
  if (ticket < first_ticket_ || ticket - first_ticket_ >= entries_.size()) return;
  entries_[ticket - first_ticket_].done = true;
  drain();
}

void InOrderReleaser::drain() {
  while (!entries_.empty() && entries_.front().done) {
    for (const auto& pos : entries_.front().released) tracker_.release(pos);
    entries_.pop_front();
    ++first_ticket_;
  }
}

}  // namespace logguard::daemon
