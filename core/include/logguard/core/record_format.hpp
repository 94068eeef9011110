#pragma once
// Records as log shippers send them (issue #20): a raw line, a JSON object with the message and
// other fields at configurable paths (rsyslog, syslog-ng, Filebeat, Vector, Fluent Bit), or an
// OTLP JSON logs request (`resourceLogs/scopeLogs/logRecords`, the OpenTelemetry collector's
// file and Kafka exporters). RecordDecoder turns one input record (a file line, a Kafka message)
// into the log records it carries -- the message that goes to the parser plus the named fields
// (session key, timestamp, label, stream) -- the same way for `logguard train`/`detect --input`
// (core::read_raw_sessions) and for logguardd's sources, so both cut and judge alike.
// Format: docs/config.md "input:".
//
// Hostile input never throws and never grows memory beyond `max_record_bytes` (plus simdjson's
// tape for it): a record over the limit, malformed JSON (invalid UTF-8 included), nesting
// deeper than `max_depth`, a missing or non-string message, or a request that is not OTLP is
// rejected and counted per reason (DecodeStats).
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "logguard/core/parser_config.hpp"

namespace logguard::core {

enum class RecordKind : std::uint8_t { raw, json, otlp };
const char* to_string(RecordKind k) noexcept;
/// Throws ConfigError(key) for anything but raw, json, otlp.
RecordKind record_kind_from_name(const std::string& name, const std::string& key);

/// How input records are read (the `input:` section; recorded in a bundle's raw_input).
/// Paths name nested fields with dots ("log.message" = {"log":{"message":…}}); a key that
/// itself contains dots ("service.name") is found too (a literal key is tried before
/// descending). OTLP paths: `body`, `attributes.<key>` (the log record's attributes),
/// `resource.<key>` (resource attributes, e.g. resource.service.name), `scope.name`,
/// `scope.version`, `scope.attributes.<key>`, or a field of the log record (severityText,
/// traceId, timeUnixNano, …); AnyValue wrappers ({"stringValue": …}) are unwrapped.
struct RecordFormat {
  RecordKind kind = RecordKind::raw;
  std::string message;    // "" = the default: json `message`, otlp `body`
  std::string timestamp;  // "" = none for json (the source's timestamp stays); otlp: timeUnixNano,
                          // else observedTimeUnixNano
  std::string timestamp_format = "rfc3339";  // rfc3339 | epoch_s | epoch_ms | epoch_us | epoch_ns |
                                             // a core::TimeFormat pattern (UTC); otlp's own *UnixNano
                                             // fields are always epoch_ns
  std::string session;    // "" = none: sessions as the window settings say (key pattern, …)
  std::string label;      // "" = none (training labels from a header field, model.data.label)
  std::string stream;     // "" = none: the field whose value selects a daemon stream
  bool parse_header = false;  // the message is a whole log line: parsed by parser.log_format.
                              // false: the message is the content (log_format not applied)
  std::size_t max_record_bytes = std::size_t{1} << 20;  // larger records are rejected (too_large)
  std::size_t max_depth = 64;                           // deeper nesting is rejected (too_deep)

  bool raw() const noexcept { return kind == RecordKind::raw; }
  /// The effective message path ("message" / "body" when unset).
  std::string message_path() const;
  /// The effective timestamp path ("" = none).
  std::string timestamp_path() const;
  /// Throws ConfigError("<prefix>.<key>") naming the first problem.
  void validate(const std::string& prefix) const;
  friend bool operator==(const RecordFormat&, const RecordFormat&) = default;
};

/// The parser settings a message is parsed with: `parser` itself for raw records and for JSON /
/// OTLP records with parse_header; else the same settings without log_format (the message is
/// the content, no header is split off).
ParserConfig message_parser(const ParserConfig& parser, const RecordFormat& format);

/// Why an input record (or an OTLP log record) was rejected.
enum class RejectReason : std::uint8_t {
  malformed,           // not JSON (invalid UTF-8 included), or not a JSON object
  too_deep,            // nesting deeper than max_depth
  too_large,           // over max_record_bytes (or cut by the source)
  no_message,          // the message field is missing (or null)
  message_not_string,  // the message field is a number, object, array, bool …
  not_otlp,            // otlp: no resourceLogs array, or a malformed resourceLogs/scopeLogs entry
};
inline constexpr std::size_t kRejectReasons = 6;
const char* to_string(RejectReason r) noexcept;

/// One log record decoded from an input record. Views are valid until the next decode() on
/// the same decoder (they point into the input, the decoder's buffers or its JSON parser).
struct DecodedRecord {
  std::string_view message;
  std::string_view session;          // empty: no session field (or none configured)
  std::string_view label;            // empty: none
  std::string_view stream;           // empty: none
  std::optional<std::int64_t> timestamp_ms;  // the record's own time, when configured and readable
};

/// Counters of a decoder: written by its one thread, readable from any (relaxed atomics).
struct DecodeStats {
  std::atomic<std::uint64_t> inputs{0};    // input records (lines / messages) decoded
  std::atomic<std::uint64_t> records{0};   // log records produced (of the selected streams)
  std::array<std::atomic<std::uint64_t>, kRejectReasons> rejected{};  // per RejectReason
  std::atomic<std::uint64_t> other_stream{0};     // records of streams not selected (skipped)
  std::atomic<std::uint64_t> bad_timestamps{0};   // a configured timestamp missing or unreadable
                                                  // (the record is kept, without its own time)
  std::atomic<std::uint64_t> bad_fields{0};       // session/label/stream field not a scalar (kept,
                                                  // as if the field were missing)
  std::uint64_t rejected_total() const noexcept;
};

/// Decodes input records of one RecordFormat. Lifecycle: constructed from a valid format
/// (throws ConfigError via validate()), then decode() per input record; the stats live with
/// the decoder. Thread-safety: decode() from one thread at a time; stats() from any thread.
class RecordDecoder {
 public:
  explicit RecordDecoder(RecordFormat format);
  ~RecordDecoder();
  RecordDecoder(RecordDecoder&&) noexcept;
  RecordDecoder& operator=(RecordDecoder&&) noexcept;

  /// Keep only records whose stream field has one of `values` (others are counted in
  /// DecodeStats::other_stream and skipped; a record without the field is another stream's).
  /// Empty: every record. Needs a stream path in the format.
  void select_streams(std::vector<std::string> values);

  /// Appends the log records `bytes` carries to `out` (cleared first): one for raw and JSON, any
  /// number for an OTLP request. `cut`: the source cut the record at its size limit (it is
  /// rejected as too_large). Never throws (std::bad_alloc aside) and never crashes on any bytes.
  /// Returns out.size().
  std::size_t decode(std::string_view bytes, std::vector<DecodedRecord>& out, bool cut = false) noexcept;

  const RecordFormat& format() const noexcept;
  const DecodeStats& stats() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Parses a time value as the format names it (see RecordFormat::timestamp_format): ms since
/// 1970 UTC, or nullopt. `text` is a JSON string's contents or a number's decimal text.
std::optional<std::int64_t> parse_record_time(std::string_view text, std::string_view format) noexcept;

}  // namespace logguard::core
