#pragma once
// Operator feedback on anomaly records (issue #20; docs/feedback.md). An operator marks a record
// as a false alarm or confirms it (`logguard feedback`); the mark names the record's stream and
// *pattern* (anomaly_pattern(): the failing transitions of the window, by template text), so it
// applies to every later window of that stream with the same pattern, whatever bundle judged it.
// A false alarm suppresses such windows (counted, not published); a confirmation keeps them
// firing; a withdrawal removes the mark.
//
// Storage: a record per (stream, pattern) -- key "<stream>/<pattern>" -- in a compacted Kafka
// topic that every instance of the consumer group follows (logguard/kafka/feedback.hpp), or in
// a JSON-lines file (FeedbackFile) for daemons without Kafka. The last record of a key wins
// (as compaction keeps it); a withdrawal is a record with verdict "withdrawn" (a Kafka tombstone
// is read as one too). Record value, schema "logguard.feedback/v1":
//   {"schema":"logguard.feedback/v1","verdict":"false_alarm"|"confirmed"|"withdrawn",
//    "stream":…,"pattern":"<16 hex>","record_id":…,"session":…,"model_version":…,
//    "at_ms":…,"by":…,"note":…,"transitions":[["<context>","<observed>"],…],
//    "window":["<template text>",…]}
// `window` holds the marked window's templates as texts (pseudo templates by name): what
// `logguard train --feedback` takes as a confirmed-normal session.
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace logguard::daemon {

/// The `feedback:` section.
struct FeedbackConfig {
  bool enabled = false;
  std::string topic;                   // Kafka: "" = <kafka.group_id>-feedback (compacted, 1 partition)
  std::string path;                    // a JSON-lines file instead of a topic
  std::int64_t poll_interval_ms = 1000;  // how often new feedback is looked for
  /// Throws core::ConfigError naming the key below `feedback.`.
  void validate() const;
  /// `topic`, or "<group_id>-feedback" when empty.
  std::string effective_topic(const std::string& group_id) const;
};

enum class FeedbackVerdict : std::uint8_t { false_alarm, confirmed, withdrawn };
const char* to_string(FeedbackVerdict v) noexcept;
/// false_alarm | confirmed | withdrawn; nullopt otherwise.
std::optional<FeedbackVerdict> feedback_verdict_from_name(std::string_view name) noexcept;

/// One feedback record (see the top of this file).
struct FeedbackRecord {
  FeedbackVerdict verdict = FeedbackVerdict::false_alarm;
  std::string stream;
  std::string pattern;
  std::string record_id;
  std::string session;
  std::string model_version;
  std::int64_t at_ms = 0;
  std::string by;
  std::string note;
  std::vector<std::pair<std::string, std::string>> transitions;
  std::vector<std::string> window;
};

/// "<stream>/<pattern>": the record key (the compacted topic keeps the last record per key).
std::string feedback_key(std::string_view stream, std::string_view pattern);
/// One JSON object (no newline).
std::string encode_feedback(const FeedbackRecord& r);
/// A well-formed v1 record, or nullopt (never throws).
std::optional<FeedbackRecord> parse_feedback(std::string_view value) noexcept;

/// Counters of a FeedbackBook (any thread).
struct FeedbackStats {
  std::atomic<std::uint64_t> false_alarms{0};  // patterns currently marked false alarm
  std::atomic<std::uint64_t> confirmed{0};     // patterns currently confirmed
  std::atomic<std::uint64_t> records{0};       // feedback records applied
  std::atomic<std::uint64_t> malformed{0};     // feedback records skipped as malformed
};

/// The current marks, by (stream, pattern). Lifecycle: filled from the store at start-up and
/// as records arrive (FeedbackFollower / FeedbackFile); read by every stream's sink thread.
/// Thread-safety: all members thread-safe (one mutex; lookups happen once per anomalous window).
class FeedbackBook {
 public:
  /// Applies a record value read under `key` (empty value: a tombstone, the key's mark goes).
  /// Malformed values are counted and ignored; returns whether the value was applied.
  bool apply(std::string_view key, std::string_view value) noexcept;
  void apply(const FeedbackRecord& r);
  /// Forgets every mark (a file store being read again).
  void clear();
  /// The mark of a pattern of a stream, if any (withdrawn marks are gone).
  std::optional<FeedbackVerdict> verdict(std::string_view stream, std::string_view pattern) const;
  /// True when the pattern is marked a false alarm for the stream.
  bool suppresses(std::string_view stream, std::string_view pattern) const;
  /// Every current mark, ordered by key.
  std::vector<FeedbackRecord> marks() const;
  const FeedbackStats& stats() const noexcept { return stats_; }

 private:
  void recount();  // with mu_ held
  mutable std::mutex mu_;
  std::map<std::string, FeedbackRecord, std::less<>> marks_;
  FeedbackStats stats_;
};

/// The file store: a JSON-lines file of feedback records (one value per line, later lines
/// win). `logguard feedback --file` appends to it; the daemon reads it at start-up and again
/// whenever its size or modification time changed (poll()).
/// Thread-safety: one thread calls poll(); the book is thread-safe.
class FeedbackFile {
 public:
  FeedbackFile(std::string path, FeedbackBook& book);
  /// Reads the file again if it changed (a missing file is empty). Returns true when it did.
  bool poll();
  /// Appends one record (creating the file); throws core::LoadError naming the file.
  static void append(const std::string& path, const FeedbackRecord& r);
  /// Every record of the file, in order (for `logguard feedback list`); a missing file is empty.
  static std::vector<std::string> read_values(const std::string& path);

 private:
  std::string path_;
  FeedbackBook& book_;
  std::int64_t size_ = -1, mtime_ns_ = -1;
};

}  // namespace logguard::daemon
