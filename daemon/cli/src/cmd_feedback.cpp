// `logguard feedback` (issue #20): an operator marks an anomaly record as a false alarm or
// confirms it, lists the marks, withdraws one. The mark names the record's stream and pattern
// (docs/feedback.md) and goes to the feedback store logguardd follows: the compacted feedback
// topic (feedback.topic of the daemon config, default <kafka.group_id>-feedback) or a file
// (feedback.path). The record is found by id in the anomaly records: a file (--records: the
// daemon's file sink) or the anomaly topics (every stream's output topic of --config, or
// --anomalies-topic).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "commands.hpp"
#include "logguard/config/config_loader.hpp"
#include "logguard/config/exit_codes.hpp"
#include "logguard/core/error.hpp"
#include "logguard/kafka/admin.hpp"
#include "logguard/kafka/feedback.hpp"
#include "logguard/kafka/producer.hpp"
#include "logguard/kafka/topic_reader.hpp"
#include "logguard/pipeline/feedback.hpp"

namespace logguard::daemon::detail {
namespace {

using core::ConfigError;
using core::LoadError;

struct FeedbackOptions {
  std::string config, brokers, topic, file, id, note, by, pattern, stream;
  std::vector<std::string> records, anomalies_topics;
  bool false_alarm = false, confirm = false, json = false;
  int timeout_ms = 30000;
};

// Where marks are kept: a file, or a Kafka topic.
struct Store {
  std::string file;
  std::string brokers, topic;
  std::map<std::string, std::string> properties;
};

// Where anomaly records are looked up.
struct RecordSources {
  std::vector<std::string> files;
  std::string brokers;
  std::vector<std::string> topics;
  std::map<std::string, std::string> properties;
};

std::optional<AppConfig> config_of(const FeedbackOptions& o) {
  if (o.config.empty()) return std::nullopt;
  return load_app_config(o.config);
}

Store store_of(const FeedbackOptions& o, const std::optional<AppConfig>& cfg) {
  Store s;
  if (!o.file.empty()) {
    s.file = o.file;
    return s;
  }
  if (!o.topic.empty()) {
    if (o.brokers.empty() && !cfg) throw ConfigError("--brokers", "needed with --topic");
    s.topic = o.topic;
    s.brokers = !o.brokers.empty() ? o.brokers : cfg->kafka.brokers;
    if (cfg) s.properties = feedback_client_properties(cfg->kafka);
    return s;
  }
  if (!cfg) throw ConfigError("--config", "give the daemon's --config, or --file, or --brokers and --topic");
  if (!cfg->feedback.path.empty()) {
    s.file = cfg->feedback.path;
    return s;
  }
  s.brokers = !o.brokers.empty() ? o.brokers : cfg->kafka.brokers;
  s.topic = cfg->feedback.effective_topic(cfg->kafka.group_id);
  s.properties = feedback_client_properties(cfg->kafka);
  return s;
}

RecordSources sources_of(const FeedbackOptions& o, const std::optional<AppConfig>& cfg) {
  RecordSources r;
  r.files = o.records;
  r.topics = o.anomalies_topics;
  r.brokers = o.brokers;
  if (cfg) {
    if (r.brokers.empty()) r.brokers = cfg->kafka.brokers;
    r.properties = feedback_client_properties(cfg->kafka);
    if (r.files.empty() && r.topics.empty()) {
      if (cfg->daemon.sink == DaemonConfig::SinkKind::file) r.files.push_back(cfg->daemon.sink_path);
      if (cfg->daemon.sink == DaemonConfig::SinkKind::kafka)
        for (std::size_t i = 0; i < stream_count(*cfg); ++i) {
          const auto t = stream_config(*cfg, i).kafka.output_topic;
          if (std::find(r.topics.begin(), r.topics.end(), t) == r.topics.end()) r.topics.push_back(t);
        }
    }
  }
  if (r.files.empty() && r.topics.empty())
    throw ConfigError("--records", "where are the anomaly records? give --records FILE, --anomalies-topic or --config");
  if (!r.topics.empty() && (r.brokers.empty() || r.brokers == "embedded"))
    throw ConfigError("--brokers", "needed to read the anomaly topics");
  return r;
}

// Reads a topic from the beginning to its end (or until the timeout); `take` returns true to stop.
template <class Take>
void read_topic(const std::string& brokers, const std::string& topic, const std::map<std::string, std::string>& props,
                int timeout_ms, Take take) {
  const auto timeout = std::chrono::milliseconds(timeout_ms);
  KafkaTopicReader reader(brokers, topic, props, timeout);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  KafkaMessage m;
  while (!reader.at_end()) {
    if (!reader.error().empty()) throw LoadError("topic " + topic + ": " + reader.error());
    if (std::chrono::steady_clock::now() >= deadline)
      throw LoadError("topic " + topic + ": not read to its end within " + std::to_string(timeout_ms) + " ms");
    if (!reader.poll(m, std::chrono::milliseconds(100))) continue;
    if (take(m)) return;
  }
}

// The anomaly record with this id, as JSON.
nlohmann::json find_record(const std::string& id, const RecordSources& src, int timeout_ms) {
  std::optional<nlohmann::json> found;
  auto check = [&](std::string_view body) {
    if (body.find(id) == std::string_view::npos) return false;
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("id", "") != id) return false;
    found = std::move(j);
    return true;
  };
  for (const auto& f : src.files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) throw LoadError(f + ": cannot open the anomaly records");
    for (std::string line; std::getline(in, line);)
      if (check(line)) return *found;
  }
  for (const auto& t : src.topics) {
    read_topic(src.brokers, t, src.properties, timeout_ms, [&](const KafkaMessage& m) {
      for (const auto& [k, v] : m.headers)
        if (k == "logguard-id" && v != id) return false;
      return check(m.value);
    });
    if (found) return *found;
  }
  std::string where;
  for (const auto& f : src.files) where += (where.empty() ? "" : ", ") + f;
  for (const auto& t : src.topics) where += (where.empty() ? "topic " : ", topic ") + t;
  throw LoadError("no anomaly record with id " + id + " in " + where);
}

std::string template_ref_text(const nlohmann::json& ref, const nlohmann::json& templates) {
  if (ref.is_string()) return ref.get<std::string>();  // a pseudo template by name
  const std::string key = ref.dump();
  if (templates.is_object() && templates.contains(key) && templates[key].is_string() && !templates[key].get<std::string>().empty())
    return templates[key].get<std::string>();
  return "<template " + key + ">";
}

// The mark of an anomaly record (schema v3: stream and pattern).
FeedbackRecord mark_of(const nlohmann::json& rec, FeedbackVerdict verdict, const FeedbackOptions& o) {
  if (!rec.contains("pattern") || !rec["pattern"].is_object())
    throw LoadError("record " + rec.value("id", std::string("?")) + " (" + rec.value("schema", std::string("?")) +
                    ") names no pattern: it was written before logguard.anomaly/v3");
  FeedbackRecord r;
  r.verdict = verdict;
  r.stream = rec.value("stream", std::string(kDefaultStream));
  r.pattern = rec["pattern"].value("id", std::string());
  r.record_id = rec.value("id", std::string());
  r.session = rec.value("session", std::string());
  r.model_version = rec.value("model_version", std::string());
  for (const auto& t : rec["pattern"].value("transitions", nlohmann::json::array()))
    if (t.is_array() && t.size() == 2 && t[0].is_string() && t[1].is_string())
      r.transitions.emplace_back(t[0].get<std::string>(), t[1].get<std::string>());
  const auto templates = rec.value("templates", nlohmann::json::object());
  for (const auto& ref : rec.value("template_ids", nlohmann::json::array())) r.window.push_back(template_ref_text(ref, templates));
  r.at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  r.by = o.by;
  if (r.by.empty())
    if (const char* u = std::getenv("USER")) r.by = u;
  r.note = o.note;
  return r;
}

void write_mark(const Store& s, const FeedbackRecord& r, int timeout_ms) {
  if (!s.file.empty()) {
    FeedbackFile::append(s.file, r);
    return;
  }
  if (s.brokers.empty() || s.brokers == "embedded") throw ConfigError("--brokers", "needed to write the feedback topic");
  auto props = s.properties;
  props["allow.auto.create.topics"] = "false";
  auto n = ensure_topic(s.brokers, props, s.topic, 1, {{"cleanup.policy", "compact"}}, std::chrono::milliseconds(timeout_ms));
  if (!n) throw LoadError("feedback topic " + s.topic + ": " + n.error().message);
  std::map<std::string, std::string> producer_props = s.properties;
  producer_props["enable.idempotence"] = "true";
  KafkaProducer producer(s.brokers, producer_props);
  if (!producer.produce(s.topic, feedback_key(r.stream, r.pattern), encode_feedback(r)))
    throw LoadError("feedback topic " + s.topic + ": " + producer.error());
  if (producer.flush(std::chrono::milliseconds(timeout_ms)) != 0 || producer.failed() != 0)
    throw LoadError("feedback topic " + s.topic + ": not delivered: " + producer.error());
}

// Every current mark of the store.
std::vector<FeedbackRecord> read_marks(const Store& s, int timeout_ms) {
  FeedbackBook book;
  if (!s.file.empty()) {
    for (const auto& v : FeedbackFile::read_values(s.file)) book.apply("", v);
  } else {
    if (s.brokers.empty() || s.brokers == "embedded") throw ConfigError("--brokers", "needed to read the feedback topic");
    read_topic(s.brokers, s.topic, s.properties, timeout_ms, [&](const KafkaMessage& m) {
      book.apply(m.key, m.value);
      return false;
    });
  }
  if (book.stats().malformed > 0)
    std::fprintf(stderr, "feedback: %llu malformed records skipped\n",
                 static_cast<unsigned long long>(book.stats().malformed.load()));
  return book.marks();
}

std::string iso_time(std::int64_t ms) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string where_of(const Store& s) { return s.file.empty() ? "topic " + s.topic : s.file; }

int run_mark(const FeedbackOptions& o) {
  if (o.false_alarm == o.confirm) throw ConfigError("--false-alarm", "give exactly one of --false-alarm and --confirm");
  const auto cfg = config_of(o);
  const Store store = store_of(o, cfg);
  const auto rec = find_record(o.id, sources_of(o, cfg), o.timeout_ms);
  const auto mark = mark_of(rec, o.false_alarm ? FeedbackVerdict::false_alarm : FeedbackVerdict::confirmed, o);
  write_mark(store, mark, o.timeout_ms);
  std::printf("%s: stream %s pattern %s (%zu failing transitions) marked %s (%s)\n", o.id.c_str(), mark.stream.c_str(),
              mark.pattern.c_str(), mark.transitions.size(), to_string(mark.verdict), where_of(store).c_str());
  return kOk;
}

int run_withdraw(const FeedbackOptions& o) {
  const auto cfg = config_of(o);
  const Store store = store_of(o, cfg);
  FeedbackRecord r;
  if (!o.id.empty()) {
    r = mark_of(find_record(o.id, sources_of(o, cfg), o.timeout_ms), FeedbackVerdict::withdrawn, o);
  } else {
    if (o.pattern.empty()) throw ConfigError("--pattern", "give a record id, or --pattern (and --stream)");
    r.verdict = FeedbackVerdict::withdrawn;
    r.pattern = o.pattern;
    r.stream = o.stream.empty() ? kDefaultStream : o.stream;
    r.at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    r.by = o.by;
    r.note = o.note;
  }
  write_mark(store, r, o.timeout_ms);
  std::printf("stream %s pattern %s: mark withdrawn (%s)\n", r.stream.c_str(), r.pattern.c_str(), where_of(store).c_str());
  return kOk;
}

int run_list(const FeedbackOptions& o) {
  const auto cfg = config_of(o);
  const Store store = store_of(o, cfg);
  std::size_t shown = 0;
  for (const auto& m : read_marks(store, o.timeout_ms)) {
    if (!o.stream.empty() && m.stream != o.stream) continue;
    ++shown;
    if (o.json) {
      std::printf("%s\n", encode_feedback(m).c_str());
      continue;
    }
    std::printf("%-11s %-12s %s  record %s  session %s  %s by %s%s%s\n", to_string(m.verdict), m.stream.c_str(),
                m.pattern.c_str(), m.record_id.c_str(), m.session.c_str(), iso_time(m.at_ms).c_str(),
                m.by.empty() ? "?" : m.by.c_str(), m.note.empty() ? "" : ": ", m.note.c_str());
    for (const auto& [c, ob] : m.transitions) std::printf("    %s  ->  %s\n", c.c_str(), ob.c_str());
  }
  if (!o.json) std::fprintf(stderr, "feedback: %zu marks (%s)\n", shown, where_of(store).c_str());
  return kOk;
}

void common_options(CLI::App* cmd, FeedbackOptions& o) {
  cmd->add_option("-c,--config", o.config,
                  "the daemon's config: feedback store (feedback.topic / feedback.path), brokers, anomaly topics or file");
  cmd->add_option("--file", o.file, "feedback file (JSON lines) instead of the topic (feedback.path)");
  cmd->add_option("--brokers", o.brokers, "bootstrap servers (replaces kafka.brokers)");
  cmd->add_option("--topic", o.topic, "feedback topic (replaces feedback.topic)");
  cmd->add_option("--timeout-ms", o.timeout_ms, "how long to wait for Kafka (default 30000)");
}

void record_options(CLI::App* cmd, FeedbackOptions& o) {
  cmd->add_option("--records", o.records, "anomaly records file (JSON lines, the file sink) to find the id in");
  cmd->add_option("--anomalies-topic", o.anomalies_topics,
                  "anomaly topic to find the id in (default: every stream's output topic of --config)");
  cmd->add_option("--by", o.by, "who gives the feedback (default: $USER)");
  cmd->add_option("--note", o.note, "a note kept with the mark");
}

}  // namespace

void register_feedback(CLI::App& root, Action& action) {
  auto opts = std::make_shared<FeedbackOptions>();
  CLI::App* cmd = root.add_subcommand(
      "feedback", "Mark anomaly records as false alarms (their pattern is suppressed from then on) or confirmed; "
                  "list and withdraw marks");
  cmd->require_subcommand(1);
  CLI::App* mark = cmd->add_subcommand("mark", "Mark the anomaly record ID as a false alarm or confirm it");
  mark->add_option("id", opts->id, "anomaly record id (16 hex digits)")->required();
  mark->add_flag("--false-alarm", opts->false_alarm, "the record was a false alarm: suppress its pattern on its stream");
  mark->add_flag("--confirm", opts->confirm, "the record was a real anomaly: its pattern keeps firing");
  common_options(mark, *opts);
  record_options(mark, *opts);
  mark->callback([opts, &action] { action = [opts] { return run_mark(*opts); }; });
  CLI::App* withdraw = cmd->add_subcommand("withdraw", "Withdraw the mark of a record's pattern");
  withdraw->add_option("id", opts->id, "anomaly record id (or give --pattern and --stream)");
  withdraw->add_option("--pattern", opts->pattern, "pattern id (16 hex digits) of the mark");
  withdraw->add_option("--stream", opts->stream, "stream of the mark (default: default)");
  common_options(withdraw, *opts);
  record_options(withdraw, *opts);
  withdraw->callback([opts, &action] { action = [opts] { return run_withdraw(*opts); }; });
  CLI::App* list = cmd->add_subcommand("list", "List the current marks (one stream with --stream)");
  list->add_option("--stream", opts->stream, "only this stream's marks");
  list->add_flag("--json", opts->json, "one feedback record per line (the input of `logguard train --feedback`)");
  common_options(list, *opts);
  list->callback([opts, &action] { action = [opts] { return run_list(*opts); }; });
}

}  // namespace logguard::daemon::detail
