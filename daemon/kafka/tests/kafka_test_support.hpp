#pragma once
// Helpers of the tests that run Kafka clients against the embedded mock cluster (kafka and
// service tests): polling until a condition holds, and small configs.
#include <chrono>
#include <cstdint>
#include <functional>
#include <thread>

#include "logguard/kafka/config.hpp"
#include "logguard/kafka/registry.hpp"

namespace logguard::daemon::testing {

inline constexpr auto kTimeout = std::chrono::seconds(20);

// Polls `step` until `done` holds or the deadline passes; returns whether it holds.
inline bool eventually(const std::function<void()>& step, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + kTimeout;
  for (;;) {
    step();
    if (done()) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // pacing only; the condition decides
  }
}

inline RegistryConfig registry_config(std::int64_t poll_interval_ms = 200) {
  RegistryConfig c;
  c.enabled = true;
  c.poll_interval_ms = poll_interval_ms;
  return c;
}

inline KafkaConfig kafka_config() {
  KafkaConfig k;
  k.group_id = "reg-test";
  return k;
}

}  // namespace logguard::daemon::testing
