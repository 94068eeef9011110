// Feedback records, the book of current marks and the file store (see feedback.hpp).
#include "logguard/pipeline/feedback.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>

#include "logguard/core/error.hpp"
#include "logguard/pipeline/log.hpp"

namespace logguard::daemon {

namespace {
constexpr const char* kSchema = "logguard.feedback/v1";
}

void FeedbackConfig::validate() const {
  if (!topic.empty() && !path.empty()) throw core::ConfigError("path", "give topic (Kafka) or path (a file), not both");
  // Kafka's legal topic names ("" = the default, <kafka.group_id>-feedback).
  const bool legal = topic.size() <= 249 && topic != "." && topic != ".." &&
                     std::all_of(topic.begin(), topic.end(), [](char ch) {
                       return std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == '-';
                     });
  if (!legal) throw core::ConfigError("topic", "not a legal Kafka topic name (letters, digits, '.', '_', '-'; at most 249)");
  if (poll_interval_ms <= 0) throw core::ConfigError("poll_interval_ms", "must be > 0");
}

std::string FeedbackConfig::effective_topic(const std::string& group_id) const {
  return topic.empty() ? group_id + "-feedback" : topic;
}

const char* to_string(FeedbackVerdict v) noexcept {
  switch (v) {
    case FeedbackVerdict::false_alarm: return "false_alarm";
    case FeedbackVerdict::confirmed: return "confirmed";
    case FeedbackVerdict::withdrawn: return "withdrawn";
  }
  return "?";
}

std::optional<FeedbackVerdict> feedback_verdict_from_name(std::string_view name) noexcept {
  if (name == "false_alarm") return FeedbackVerdict::false_alarm;
  if (name == "confirmed") return FeedbackVerdict::confirmed;
  if (name == "withdrawn") return FeedbackVerdict::withdrawn;
  return std::nullopt;
}

std::string feedback_key(std::string_view stream, std::string_view pattern) {
  std::string k(stream);
  k += '/';
  k += pattern;
  return k;
}

std::string encode_feedback(const FeedbackRecord& r) {
  nlohmann::json j;
  j["schema"] = kSchema;
  j["verdict"] = to_string(r.verdict);
  j["stream"] = r.stream;
  j["pattern"] = r.pattern;
  j["record_id"] = r.record_id;
  j["session"] = r.session;
  j["model_version"] = r.model_version;
  j["at_ms"] = r.at_ms;
  j["by"] = r.by;
  j["note"] = r.note;
  nlohmann::json t = nlohmann::json::array();
  for (const auto& [c, o] : r.transitions) t.push_back({c, o});
  j["transitions"] = t;
  j["window"] = r.window;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<FeedbackRecord> parse_feedback(std::string_view value) noexcept {
  try {
    const auto j = nlohmann::json::parse(value, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return std::nullopt;
    auto str = [&](const char* k, std::string& out, bool required) {
      const auto it = j.find(k);
      if (it == j.end() || it->is_null()) return !required;
      if (!it->is_string()) return false;
      out = it->get<std::string>();
      return true;
    };
    FeedbackRecord r;
    std::string schema, verdict;
    if (!str("schema", schema, true) || schema != kSchema || !str("verdict", verdict, true)) return std::nullopt;
    const auto v = feedback_verdict_from_name(verdict);
    if (!v) return std::nullopt;
    r.verdict = *v;
    if (!str("stream", r.stream, true) || !str("pattern", r.pattern, true) || r.stream.empty() || r.pattern.empty())
      return std::nullopt;
    if (!str("record_id", r.record_id, false) || !str("session", r.session, false) ||
        !str("model_version", r.model_version, false) || !str("by", r.by, false) || !str("note", r.note, false))
      return std::nullopt;
    if (const auto it = j.find("at_ms"); it != j.end() && !it->is_null()) {
      if (!it->is_number_integer()) return std::nullopt;
      r.at_ms = it->get<std::int64_t>();
    }
    if (const auto it = j.find("transitions"); it != j.end() && !it->is_null()) {
      if (!it->is_array()) return std::nullopt;
      for (const auto& t : *it) {
        if (!t.is_array() || t.size() != 2 || !t[0].is_string() || !t[1].is_string()) return std::nullopt;
        r.transitions.emplace_back(t[0].get<std::string>(), t[1].get<std::string>());
      }
    }
    if (const auto it = j.find("window"); it != j.end() && !it->is_null()) {
      if (!it->is_array()) return std::nullopt;
      for (const auto& t : *it) {
        if (!t.is_string()) return std::nullopt;
        r.window.push_back(t.get<std::string>());
      }
    }
    return r;
  } catch (...) {
    return std::nullopt;
  }
}

// ---- FeedbackBook ----------------------------------------------------------------------------

void FeedbackBook::recount() {
  std::uint64_t fa = 0, ok = 0;
  for (const auto& [k, r] : marks_) (r.verdict == FeedbackVerdict::false_alarm ? fa : ok) += 1;
  stats_.false_alarms = fa;
  stats_.confirmed = ok;
}

bool FeedbackBook::apply(std::string_view key, std::string_view value) noexcept {
  try {
    if (value.empty()) {  // tombstone
      std::lock_guard lock(mu_);
      if (auto it = marks_.find(key); it != marks_.end()) marks_.erase(it);
      ++stats_.records;
      recount();
      return true;
    }
    const auto r = parse_feedback(value);
    if (!r || (!key.empty() && key != feedback_key(r->stream, r->pattern))) {
      ++stats_.malformed;
      return false;
    }
    apply(*r);
    return true;
  } catch (...) {
    ++stats_.malformed;
    return false;
  }
}

void FeedbackBook::apply(const FeedbackRecord& r) {
  std::lock_guard lock(mu_);
  const std::string key = feedback_key(r.stream, r.pattern);
  if (r.verdict == FeedbackVerdict::withdrawn)
    marks_.erase(key);
  else
    marks_[key] = r;
  ++stats_.records;
  recount();
}

void FeedbackBook::clear() {
  std::lock_guard lock(mu_);
  marks_.clear();
  recount();
}

std::optional<FeedbackVerdict> FeedbackBook::verdict(std::string_view stream, std::string_view pattern) const {
  const std::string key = feedback_key(stream, pattern);
  std::lock_guard lock(mu_);
  const auto it = marks_.find(key);
  if (it == marks_.end()) return std::nullopt;
  return it->second.verdict;
}

bool FeedbackBook::suppresses(std::string_view stream, std::string_view pattern) const {
  return verdict(stream, pattern) == FeedbackVerdict::false_alarm;
}

std::vector<FeedbackRecord> FeedbackBook::marks() const {
  std::lock_guard lock(mu_);
  std::vector<FeedbackRecord> out;
  out.reserve(marks_.size());
  for (const auto& [k, r] : marks_) out.push_back(r);
  return out;
}

// ---- FeedbackFile ----------------------------------------------------------------------------

FeedbackFile::FeedbackFile(std::string path, FeedbackBook& book) : path_(std::move(path)), book_(book) {}

bool FeedbackFile::poll() {
  struct stat st {};
  std::int64_t size = 0, mtime = 0;
  if (::stat(path_.c_str(), &st) == 0) {
    size = static_cast<std::int64_t>(st.st_size);
    mtime = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  }
  if (size == size_ && mtime == mtime_ns_) return false;
  size_ = size;
  mtime_ns_ = mtime;
  std::vector<std::string> values;
  try {
    values = read_values(path_);
  } catch (const std::exception& e) {
    log_warning("feedback file %s: %s", path_.c_str(), e.what());
    return false;
  }
  book_.clear();
  for (const auto& v : values) book_.apply("", v);
  return true;
}

void FeedbackFile::append(const std::string& path, const FeedbackRecord& r) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  if (!out) throw core::LoadError(path + ": cannot append feedback");
  out << encode_feedback(r) << '\n';
  out.flush();
  if (!out) throw core::LoadError(path + ": cannot append feedback");
}

std::vector<std::string> FeedbackFile::read_values(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in(path, std::ios::binary);
  if (!in) return out;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(line);
  return out;
}

}  // namespace logguard::daemon
