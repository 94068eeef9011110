#pragma once
// Topic administration for the daemon's own topics (handover, registry): make sure a topic
// exists with the settings it needs.
#include <chrono>
#include <map>
#include <string>

#include "logguard/core/error.hpp"

namespace logguard::daemon {

/// Makes sure `topic` exists: returns its partition count, creating it (with `partitions` and
/// the topic-level settings `topic_config`, e.g. cleanup.policy=compact) when it is missing.
/// `properties` are client properties (security settings). An error names what failed.
core::Expected<int> ensure_topic(const std::string& bootstrap, const std::map<std::string, std::string>& properties,
                                 const std::string& topic, int partitions,
                                 const std::map<std::string, std::string>& topic_config,
                                 std::chrono::milliseconds timeout);

}  // namespace logguard::daemon
