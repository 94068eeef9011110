#pragma once
// SessionKeyExtractor: the session key(s) of a line for session windows: every match of a
// pattern in the line (HDFS: `blk_-?\d+`; a line naming two blocks belongs to both
// sessions), the Kafka message key, a decoded record's session field (Record::session), or an entity session "<entity>@<window start ms>" read
// from the line's header (core::EntityKeyer; such a key is valid until the next extract()
// on the same thread).
// Lifecycle: constructed from a validated WindowConfig (throws ConfigError("key_pattern")
// on a bad regex); extract() per record. Thread-safety: extract() is const and may run
// concurrently.
#include <memory>
#include <string_view>
#include <vector>

#include "logguard/pipeline/stages.hpp"
#include "logguard/pipeline/windower.hpp"

namespace logguard::daemon {

class SessionKeyExtractor {
 public:
  explicit SessionKeyExtractor(const WindowConfig& config);
  ~SessionKeyExtractor();
  SessionKeyExtractor(SessionKeyExtractor&&) noexcept;
  SessionKeyExtractor& operator=(SessionKeyExtractor&&) noexcept;

  /// Replaces `keys` with the keys of `r` (views into r.line / r.key). Count and time
  /// windows have no keys: `keys` is left empty.
  void extract(const Record& r, std::vector<std::string_view>& keys) const;
  /// The same for a line and message key held elsewhere (e.g. after the record's line was
  /// moved into an Event): `keys` are views into `line` / `message_key`. Key from `field`: pass
  /// the record's session field as `message_key`.
  void extract(std::string_view line, std::string_view message_key, std::vector<std::string_view>& keys) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace logguard::daemon
