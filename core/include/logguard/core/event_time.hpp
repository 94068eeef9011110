#pragma once
// Event time and labels read from a log line's header fields (log_format), for sessions cut
// by entity and time (BGL: one session per node and hour) and for training-period labels
// (BGL's first field, a syslog level).
//
// Time formats: "epoch_s" / "epoch_ms" (a decimal number, fraction allowed), or a pattern in
// which %Y (4-digit year), %y (2-digit, 19xx for >= 69), %m, %d, %H, %M, %S (digits, at most
// 2 or the field's own width when fields abut, e.g. "%H%M%S"), %f (fraction digits), %b (Jan..Dec)
// and %% stand for values and every other character must appear as is; a space matches any
// run of spaces. Times are UTC milliseconds since 1970.
// Thread-safety: plain values; parse functions are pure.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace logguard::core {

/// A validated time format.
class TimeFormat {
 public:
  TimeFormat() = default;
  /// Throws ConfigError(key) on an unknown conversion or an empty format.
  TimeFormat(std::string format, const std::string& key);
  /// Milliseconds since 1970 (UTC), or nullopt when `text` does not fit the format.
  std::optional<std::int64_t> parse(std::string_view text) const noexcept;
  const std::string& format() const noexcept { return format_; }
  bool empty() const noexcept { return format_.empty(); }

 private:
  std::string format_;
};

/// Sessions of session-less logs (BGL): the events of one entity (a header field's value:
/// node, host, pid) in one tumbling window of event time (window_ms) form a session, named
/// "<entity>@<window start, ms since 1970>".
struct EntityWindows {
  std::string field;                     // empty: off
  std::vector<std::string> time_fields;  // header fields holding the event time, joined by a space
  std::string time_format;               // TimeFormat
  std::int64_t window_ms = 3600000;
  bool enabled() const noexcept { return !field.empty(); }
  /// Throws ConfigError("<prefix>.…") naming the key.
  void validate(const std::string& prefix) const;
};

/// The entity session key of raw lines ("<entity>@<window start ms>"), read with the log format
/// of the parser: the same cut for `logguard train`/`detect` and logguardd.
/// Lifecycle: built once (ConfigError naming `prefix` keys on bad settings); key() is const and
/// thread-safe.
class EntityKeyer {
 public:
  EntityKeyer(const EntityWindows& settings, const std::string& log_format, const std::string& prefix);
  ~EntityKeyer();
  EntityKeyer(EntityKeyer&&) noexcept;
  EntityKeyer& operator=(EntityKeyer&&) noexcept;
  /// Writes the key of `line` into `out`; false when the line does not fit the log format, has
  /// no entity value or no readable time (such a line belongs to no session).
  bool key(std::string_view line, std::string& out) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Line labels from a header field. Lines whose value is in `normal_values` are normal, in
/// `abnormal_values` abnormal; when one list is empty, every value outside the other list
/// belongs to it (BGL: normal_values ["-"], every alert category abnormal).
struct LabelSettings {
  std::string field;                          // empty: the log carries no labels
  std::vector<std::string> normal_values;
  std::vector<std::string> abnormal_values;
  bool normal_only = false;  // training uses labels only to leave anomalous sessions out (no abnormal
                             // templates, no labelled calibration): the normal-data-only setting
  bool enabled() const noexcept { return !field.empty(); }
  /// 0 normal, 1 abnormal, -1 neither list names it (both lists given) or no value.
  int classify(std::string_view value) const noexcept;
  /// Throws ConfigError("<prefix>.…") naming the key.
  void validate(const std::string& prefix) const;
};

}  // namespace logguard::core
