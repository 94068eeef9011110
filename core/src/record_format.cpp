// Shippers' records -> log records (see record_format.hpp). JSON through simdjson's DOM parser
// (one parser per decoder, its buffers reused; input copied once into its padded buffer).
#include "logguard/core/record_format.hpp"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <deque>
#include <limits>

#include "logguard/core/error.hpp"
#include "logguard/core/event_time.hpp"
#include "civil_time.hpp"

namespace logguard::core {

namespace dom = simdjson::dom;

const char* to_string(RecordKind k) noexcept {
  switch (k) {
    case RecordKind::raw: return "raw";
    case RecordKind::json: return "json";
    case RecordKind::otlp: return "otlp";
  }
  return "?";
}

RecordKind record_kind_from_name(const std::string& name, const std::string& key) {
  if (name == "raw") return RecordKind::raw;
  if (name == "json") return RecordKind::json;
  if (name == "otlp") return RecordKind::otlp;
  throw ConfigError(key, "must be one of raw, json, otlp (got '" + name + "')");
}

const char* to_string(RejectReason r) noexcept {
  switch (r) {
    case RejectReason::malformed: return "malformed";
    case RejectReason::too_deep: return "too_deep";
    case RejectReason::too_large: return "too_large";
    case RejectReason::no_message: return "no_message";
    case RejectReason::message_not_string: return "message_not_string";
    case RejectReason::not_otlp: return "not_otlp";
  }
  return "?";
}

std::uint64_t DecodeStats::rejected_total() const noexcept {
  std::uint64_t n = 0;
  for (const auto& r : rejected) n += r.load(std::memory_order_relaxed);
  return n;
}

std::string RecordFormat::message_path() const {
  if (!message.empty()) return message;
  return kind == RecordKind::otlp ? "body" : "message";
}

std::string RecordFormat::timestamp_path() const {
  if (!timestamp.empty()) return timestamp;
  return kind == RecordKind::otlp ? "timeUnixNano" : "";
}

namespace {

bool named_time_format(std::string_view f) {
  return f == "rfc3339" || f == "epoch_s" || f == "epoch_ms" || f == "epoch_us" || f == "epoch_ns";
}

bool bad_path(const std::string& p) {
  return p.empty() || p.front() == '.' || p.back() == '.' || p.find("..") != std::string::npos;
}

}  // namespace

void RecordFormat::validate(const std::string& prefix) const {
  const auto key = [&](const char* k) { return prefix.empty() ? std::string(k) : prefix + "." + k; };
  if (kind == RecordKind::raw) {
    for (const auto& [name, value] : {std::pair{"message", &message}, {"timestamp", &timestamp},
                                      {"session", &session}, {"label", &label}, {"stream", &stream}})
      if (!value->empty()) throw ConfigError(key(name), "a field path needs format json or otlp (raw lines have no fields)");
    if (parse_header) throw ConfigError(key("parse_header"), "needs format json or otlp (raw lines are always parsed whole)");
  }
  for (const auto& [name, value] : {std::pair{"message", &message}, {"timestamp", &timestamp},
                                    {"session", &session}, {"label", &label}, {"stream", &stream}})
    if (!value->empty() && bad_path(*value))
      throw ConfigError(key(name), "not a field path (names joined by single dots): '" + *value + "'");
  if (!named_time_format(timestamp_format)) TimeFormat(timestamp_format, key("timestamp_format"));
  if (max_record_bytes < 64 || max_record_bytes > (std::size_t{1} << 30))
    throw ConfigError(key("max_record_bytes"), "must be in [64, 1 GiB]");
  if (max_depth < 2 || max_depth > 1024) throw ConfigError(key("max_depth"), "must be in [2, 1024]");
}

ParserConfig message_parser(const ParserConfig& parser, const RecordFormat& format) {
  ParserConfig p = parser;
  if (!format.raw() && !format.parse_header) p.log_format.clear();
  return p;
}

namespace {

constexpr std::int64_t kMaxMs = 253402300800000;  // 10000-01-01: anything later is nonsense

using detail::days_from_civil;

bool digit(char c) { return c >= '0' && c <= '9'; }

// `n` digits at text[p] as a number.
bool fixed(std::string_view t, std::size_t& p, int n, int& out) {
  out = 0;
  for (int i = 0; i < n; ++i, ++p) {
    if (p >= t.size() || !digit(t[p])) return false;
    out = out * 10 + (t[p] - '0');
  }
  return true;
}

std::optional<std::int64_t> rfc3339(std::string_view t) {
  std::size_t p = 0;
  int Y, M, D, h, m, s;
  if (!fixed(t, p, 4, Y) || p >= t.size() || t[p++] != '-' || !fixed(t, p, 2, M) || p >= t.size() || t[p++] != '-' ||
      !fixed(t, p, 2, D))
    return std::nullopt;
  if (p >= t.size() || (t[p] != 'T' && t[p] != 't' && t[p] != ' ')) return std::nullopt;
  ++p;
  if (!fixed(t, p, 2, h) || p >= t.size() || t[p++] != ':' || !fixed(t, p, 2, m) || p >= t.size() || t[p++] != ':' ||
      !fixed(t, p, 2, s))
    return std::nullopt;
  if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || s > 60) return std::nullopt;
  std::int64_t ms = 0;
  if (p < t.size() && (t[p] == '.' || t[p] == ',')) {
    ++p;
    int k = 0;
    while (p < t.size() && digit(t[p])) {
      if (k < 3) ms = ms * 10 + (t[p] - '0');
      ++k;
      ++p;
    }
    if (k == 0) return std::nullopt;
    for (; k < 3; ++k) ms *= 10;
  }
  std::int64_t offset_min = 0;
  if (p < t.size()) {
    if (t[p] == 'Z' || t[p] == 'z') {
      ++p;
    } else if (t[p] == '+' || t[p] == '-') {
      const int sign = t[p] == '-' ? -1 : 1;
      ++p;
      int oh, om;
      if (!fixed(t, p, 2, oh)) return std::nullopt;
      if (p < t.size() && t[p] == ':') ++p;
      if (!fixed(t, p, 2, om) || oh > 23 || om > 59) return std::nullopt;
      offset_min = sign * (oh * 60 + om);
    } else {
      return std::nullopt;
    }
  }
  if (p != t.size()) return std::nullopt;
  const std::int64_t days = days_from_civil(Y, static_cast<unsigned>(M), static_cast<unsigned>(D));
  return ((days * 24 + h) * 60 + m - offset_min) * 60000 + s * 1000 + ms;
}

// A decimal number ("-12.5", "1700000000123456789") in `unit` (1 = s, 1e3 = ms, 1e6 = us,
// 1e9 = ns per second) as ms, without going through a double for the integer part.
std::optional<std::int64_t> epoch(std::string_view t, std::int64_t per_second) {
  std::size_t p = 0;
  bool neg = false;
  if (p < t.size() && (t[p] == '-' || t[p] == '+')) neg = t[p++] == '-';
  std::int64_t whole = 0;
  std::size_t nd = 0;
  while (p < t.size() && digit(t[p])) {
    const int d = t[p] - '0';
    if (whole > (std::numeric_limits<std::int64_t>::max() - d) / 10) return std::nullopt;  // would overflow
    whole = whole * 10 + d;
    ++nd;
    ++p;
  }
  // fraction of the unit, in units of 1e-9
  std::int64_t frac_nano = 0;
  std::size_t nf = 0;
  if (p < t.size() && t[p] == '.') {
    ++p;
    std::int64_t scale = 100000000;
    while (p < t.size() && digit(t[p])) {
      frac_nano += (t[p] - '0') * scale;
      scale /= 10;
      ++nf;
      ++p;
    }
    if (nf == 0) return std::nullopt;
  }
  if (nd == 0 || p != t.size()) return std::nullopt;
  std::int64_t ms;
  if (per_second == 1) {
    if (whole > kMaxMs / 1000) return std::nullopt;
    ms = whole * 1000 + frac_nano / 1000000;
  } else if (per_second == 1000) {
    ms = whole;
  } else {
    ms = whole / (per_second / 1000);
  }
  if (ms > kMaxMs) return std::nullopt;
  return neg ? -ms : ms;
}

}  // namespace

std::optional<std::int64_t> parse_record_time(std::string_view text, std::string_view format) noexcept {
  if (format == "rfc3339") return rfc3339(text);
  if (format == "epoch_s") return epoch(text, 1);
  if (format == "epoch_ms") return epoch(text, 1000);
  if (format == "epoch_us") return epoch(text, 1000000);
  if (format == "epoch_ns") return epoch(text, 1000000000);
  try {
    return TimeFormat(std::string(format), "timestamp_format").parse(text);
  } catch (...) {
    return std::nullopt;
  }
}

// ---- the decoder -----------------------------------------------------------------------------

namespace {

// A field path split at dots, kept whole too (for literal dotted keys).
struct Path {
  std::string text;
  enum class Otlp : std::uint8_t { none, body, attribute, resource, scope_attribute, scope_field, record_field };
  Otlp otlp = Otlp::none;
  std::string rest;  // otlp: the attribute key / field path after the prefix
  bool empty() const { return text.empty(); }
};

Path make_path(const std::string& p, bool otlp) {
  Path out{p, Path::Otlp::none, {}};
  if (!otlp || p.empty()) return out;
  auto starts = [&](std::string_view pre) { return p.size() > pre.size() && p.compare(0, pre.size(), pre) == 0; };
  if (p == "body") {
    out.otlp = Path::Otlp::body;
  } else if (starts("attributes.")) {
    out.otlp = Path::Otlp::attribute;
    out.rest = p.substr(11);
  } else if (starts("resource.")) {
    out.otlp = Path::Otlp::resource;
    out.rest = p.substr(9);
    if (out.rest.rfind("attributes.", 0) == 0 && out.rest.size() > 11) out.rest = out.rest.substr(11);
  } else if (starts("scope.attributes.")) {
    out.otlp = Path::Otlp::scope_attribute;
    out.rest = p.substr(17);
  } else if (starts("scope.")) {
    out.otlp = Path::Otlp::scope_field;
    out.rest = p.substr(6);
  } else {
    out.otlp = Path::Otlp::record_field;
    out.rest = p;
  }
  return out;
}

// The value at a dotted path inside `e`: at each level the remaining path as a literal key
// first, then the shortest prefix naming an object.
bool find_path(dom::element e, std::string_view path, dom::element& out) noexcept {
  for (int guard = 0; guard < 1024; ++guard) {
    dom::object obj;
    if (e.get_object().get(obj) != simdjson::SUCCESS) return false;
    if (obj.at_key(path).get(out) == simdjson::SUCCESS) return true;
    bool descended = false;
    for (std::size_t dot = path.find('.'); dot != std::string_view::npos; dot = path.find('.', dot + 1)) {
      dom::element child;
      if (obj.at_key(path.substr(0, dot)).get(child) == simdjson::SUCCESS && child.is_object()) {
        e = child;
        path = path.substr(dot + 1);
        descended = true;
        break;
      }
    }
    if (!descended) return false;
  }
  return false;
}

// OTLP AnyValue ({"stringValue": …}, {"intValue": "5"}, …) -> its scalar; other values as is.
// `strings_only` (a message): only a stringValue unwraps -- an intValue is a JSON string in
// OTLP JSON, yet no text message.
dom::element unwrap_any_value(dom::element e, bool strings_only = false) noexcept {
  dom::object obj;
  if (e.get_object().get(obj) != simdjson::SUCCESS) return e;
  for (const char* k : {"stringValue", "intValue", "doubleValue", "boolValue", "arrayValue", "kvlistValue", "bytesValue"}) {
    dom::element v;
    if (obj.at_key(k).get(v) == simdjson::SUCCESS) return strings_only && k[0] != 's' ? e : v;
  }
  return e;
}

// The value of `key` in an OTLP KeyValue list ([{"key": …, "value": AnyValue}]).
bool find_attribute(dom::element list, std::string_view key, dom::element& out, bool strings_only = false) noexcept {
  dom::array arr;
  if (list.get_array().get(arr) != simdjson::SUCCESS) return false;
  for (dom::element kv : arr) {
    std::string_view k;
    if (kv["key"].get_string().get(k) != simdjson::SUCCESS || k != key) continue;
    dom::element v;
    if (kv["value"].get(v) != simdjson::SUCCESS) return false;
    out = unwrap_any_value(v, strings_only);
    return true;
  }
  return false;
}

}  // namespace

struct RecordDecoder::Impl {
  RecordFormat format;
  Path message, timestamp, session, label, stream;
  bool timestamp_epoch_ns = false;  // otlp's own *UnixNano fields
  std::optional<TimeFormat> pattern;  // timestamp_format when it is a pattern
  std::vector<std::string> streams;   // selected stream values (empty: all)
  dom::parser parser;
  std::deque<std::string> texts;      // numbers/bools rendered as text, stable while decoding
  DecodeStats stats;

  // The scalar text of a field: strings as they are, numbers and bools rendered. False for
  // objects, arrays and null.
  bool scalar_text(dom::element v, std::string_view& out) {
    switch (v.type()) {
      case dom::element_type::STRING: return v.get_string().get(out) == simdjson::SUCCESS;
      case dom::element_type::INT64: texts.push_back(std::to_string(v.get_int64().value_unsafe())); break;
      case dom::element_type::UINT64: texts.push_back(std::to_string(v.get_uint64().value_unsafe())); break;
      case dom::element_type::DOUBLE: {
        char buf[32];
        const auto r = std::to_chars(buf, buf + sizeof buf, v.get_double().value_unsafe());
        texts.emplace_back(buf, r.ptr);
        break;
      }
      case dom::element_type::BOOL: texts.emplace_back(v.get_bool().value_unsafe() ? "true" : "false"); break;
      default: return false;
    }
    out = texts.back();
    return true;
  }

  // A field of a JSON record / an OTLP log record.
  struct Context {
    dom::element record;
    dom::element resource_attributes;  // otlp (may be null-typed when absent)
    dom::element scope;
    bool has_resource = false, has_scope = false;
  };
  bool field(const Path& p, const Context& c, dom::element& out, bool strings_only = false) noexcept {
    switch (p.otlp) {
      case Path::Otlp::none: return find_path(c.record, p.text, out);
      case Path::Otlp::body: {
        dom::element b;
        if (c.record["body"].get(b) != simdjson::SUCCESS) return false;
        out = unwrap_any_value(b, strings_only);
        return true;
      }
      case Path::Otlp::attribute: {
        dom::element a;
        return c.record["attributes"].get(a) == simdjson::SUCCESS && find_attribute(a, p.rest, out, strings_only);
      }
      case Path::Otlp::resource:
        return c.has_resource && find_attribute(c.resource_attributes, p.rest, out, strings_only);
      case Path::Otlp::scope_attribute: {
        dom::element a;
        return c.has_scope && c.scope["attributes"].get(a) == simdjson::SUCCESS &&
               find_attribute(a, p.rest, out, strings_only);
      }
      case Path::Otlp::scope_field:
        if (!c.has_scope || !find_path(c.scope, p.rest, out)) return false;
        out = unwrap_any_value(out, strings_only);
        return true;
      case Path::Otlp::record_field:
        if (!find_path(c.record, p.rest, out)) return false;
        out = unwrap_any_value(out, strings_only);
        return true;
    }
    return false;
  }

  // Optional scalar field -> view (counted when present but not a scalar).
  void optional_field(const Path& p, const Context& c, std::string_view& out) {
    if (p.empty()) return;
    dom::element v;
    if (!field(p, c, v) || v.is_null()) return;
    if (!scalar_text(v, out)) ++stats.bad_fields;
  }

  std::optional<std::int64_t> time_of(dom::element v, bool epoch_ns) {
    const std::string_view fmt = epoch_ns ? std::string_view("epoch_ns") : std::string_view(format.timestamp_format);
    std::string_view text;
    if (v.is_string()) {
      text = v.get_string().value_unsafe();
    } else if (v.is_number()) {
      if (!scalar_text(v, text)) return std::nullopt;
      if (fmt == "rfc3339") return std::nullopt;
    } else {
      return std::nullopt;
    }
    if (pattern && !epoch_ns) return pattern->parse(text);
    return parse_record_time(text, fmt);
  }

  void timestamp_field(const Context& c, DecodedRecord& r) {
    if (timestamp.empty()) return;
    dom::element v;
    if (field(timestamp, c, v)) {
      r.timestamp_ms = time_of(v, timestamp_epoch_ns);
      // OTLP: timeUnixNano "0" / absent means unknown; observedTimeUnixNano then stands in.
      if (timestamp_epoch_ns && r.timestamp_ms && *r.timestamp_ms == 0) r.timestamp_ms.reset();
    }
    if (!r.timestamp_ms && timestamp_epoch_ns && format.timestamp.empty()) {
      dom::element o;
      if (c.record["observedTimeUnixNano"].get(o) == simdjson::SUCCESS) {
        r.timestamp_ms = time_of(unwrap_any_value(o), true);
        if (r.timestamp_ms && *r.timestamp_ms == 0) r.timestamp_ms.reset();
      }
    }
    if (!r.timestamp_ms) ++stats.bad_timestamps;
  }

  void reject(RejectReason why) { ++stats.rejected[static_cast<std::size_t>(why)]; }

  // One log record of a JSON object / OTLP log record. False when rejected or not selected.
  bool record(const Context& c, std::vector<DecodedRecord>& out) {
    DecodedRecord r;
    dom::element m;
    if (!field(message, c, m, /*strings_only=*/true) || m.is_null()) {
      reject(RejectReason::no_message);
      return false;
    }
    if (m.get_string().get(r.message) != simdjson::SUCCESS) {
      reject(RejectReason::message_not_string);
      return false;
    }
    optional_field(stream, c, r.stream);
    if (!streams.empty() && std::find(streams.begin(), streams.end(), r.stream) == streams.end()) {
      ++stats.other_stream;
      return false;
    }
    optional_field(session, c, r.session);
    optional_field(label, c, r.label);
    timestamp_field(c, r);
    out.push_back(r);
    return true;
  }

  static RejectReason why(simdjson::error_code e) {
    switch (e) {
      case simdjson::DEPTH_ERROR: return RejectReason::too_deep;
      case simdjson::CAPACITY: return RejectReason::too_large;
      default: return RejectReason::malformed;
    }
  }

  void otlp(dom::element root, std::vector<DecodedRecord>& out) {
    dom::array resource_logs;
    if (!root.is_object() || root["resourceLogs"].get_array().get(resource_logs) != simdjson::SUCCESS) {
      reject(RejectReason::not_otlp);
      return;
    }
    for (dom::element rl : resource_logs) {
      Context c;
      dom::element res;
      if (rl["resource"].get(res) == simdjson::SUCCESS &&
          res["attributes"].get(c.resource_attributes) == simdjson::SUCCESS)
        c.has_resource = true;
      dom::array scope_logs;
      if (!rl.is_object() || rl["scopeLogs"].get_array().get(scope_logs) != simdjson::SUCCESS) {
        reject(RejectReason::not_otlp);
        continue;
      }
      for (dom::element sl : scope_logs) {
        c.has_scope = sl.is_object() && sl["scope"].get(c.scope) == simdjson::SUCCESS && c.scope.is_object();
        dom::array log_records;
        if (!sl.is_object() || sl["logRecords"].get_array().get(log_records) != simdjson::SUCCESS) {
          reject(RejectReason::not_otlp);
          continue;
        }
        for (dom::element lr : log_records) {
          if (!lr.is_object()) {
            reject(RejectReason::malformed);
            continue;
          }
          c.record = lr;
          record(c, out);
        }
      }
    }
  }
};

RecordDecoder::RecordDecoder(RecordFormat format) : impl_(std::make_unique<Impl>()) {
  format.validate("input");
  auto& m = *impl_;
  m.format = std::move(format);
  const bool otlp = m.format.kind == RecordKind::otlp;
  m.message = make_path(m.format.message_path(), otlp);
  m.timestamp = make_path(m.format.timestamp_path(), otlp);
  m.timestamp_epoch_ns = otlp && m.format.timestamp.empty();
  if (!named_time_format(m.format.timestamp_format)) m.pattern.emplace(m.format.timestamp_format, "input.timestamp_format");
  m.session = make_path(m.format.session, otlp);
  m.label = make_path(m.format.label, otlp);
  m.stream = make_path(m.format.stream, otlp);
  if (!m.format.raw()) {
    m.parser = dom::parser(m.format.max_record_bytes);
    if (m.parser.allocate(std::min<std::size_t>(4096, m.format.max_record_bytes), m.format.max_depth) != simdjson::SUCCESS)
      throw LoadError("input: cannot allocate the JSON parser");
  }
}

RecordDecoder::~RecordDecoder() = default;
RecordDecoder::RecordDecoder(RecordDecoder&&) noexcept = default;
RecordDecoder& RecordDecoder::operator=(RecordDecoder&&) noexcept = default;

void RecordDecoder::select_streams(std::vector<std::string> values) {
  if (!values.empty() && impl_->stream.empty())
    throw ConfigError("input.stream", "needed to select streams by a field value");
  impl_->streams = std::move(values);
}

const RecordFormat& RecordDecoder::format() const noexcept { return impl_->format; }
const DecodeStats& RecordDecoder::stats() const noexcept { return impl_->stats; }

std::size_t RecordDecoder::decode(std::string_view bytes, std::vector<DecodedRecord>& out, bool cut) noexcept {
  auto& m = *impl_;
  out.clear();
  m.texts.clear();
  ++m.stats.inputs;
  if (cut || bytes.size() > m.format.max_record_bytes) {
    m.reject(RejectReason::too_large);
    return 0;
  }
  if (m.format.raw()) {
    out.push_back(DecodedRecord{bytes, {}, {}, {}, std::nullopt});
    ++m.stats.records;
    return 1;
  }
  try {
    // Trailing line terminators of a file line are whitespace to JSON; a BOM is not.
    dom::element root;
    const auto err = m.parser.parse(bytes.data(), bytes.size(), true).get(root);
    if (err != simdjson::SUCCESS) {
      m.reject(Impl::why(err));
      return 0;
    }
    if (m.format.kind == RecordKind::otlp) {
      m.otlp(root, out);
    } else if (!root.is_object()) {
      m.reject(RejectReason::malformed);
    } else {
      Impl::Context c;
      c.record = root;
      m.record(c, out);
    }
  } catch (...) {
    // std::bad_alloc from a text buffer: the record is dropped as malformed rather than the
    // daemon stopping.
    out.clear();
    m.reject(RejectReason::malformed);
    return 0;
  }
  m.stats.records += out.size();
  return out.size();
}

}  // namespace logguard::core
