// The template registry on a compacted Kafka topic (see registry.hpp).
#include "logguard/kafka/registry.hpp"

#include <librdkafka/rdkafkacpp.h>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "client.hpp"
#include "logguard/kafka/admin.hpp"
#include "logguard/core/sequences.hpp"
#include "logguard/pipeline/log.hpp"

namespace logguard::daemon {
namespace {

using core::ConfigError;

constexpr int kVersion = 1;
constexpr std::int32_t kPartition = 0;
constexpr std::size_t kMaxRecordsPerPoll = 10000;  // bounds one poll() on a busy topic

// Pass-through properties of the daemon's clients (security settings, mostly); the ones
// that would change the registry's semantics are left out and set by us afterwards.
void apply_passthrough(RdKafka::Conf& conf, const std::string& prefix, const std::map<std::string, std::string>& props) {
  static const std::unordered_set<std::string> skipped = {
      "bootstrap.servers", "metadata.broker.list", "group.id", "group.instance.id", "transactional.id",
      "enable.auto.commit", "enable.auto.offset.store", "enable.partition.eof", "enable.idempotence", "acks"};
  std::map<std::string, std::string> kept;
  for (const auto& [name, value] : props)
    if (!skipped.count(name)) kept.emplace(name, value);
  apply(conf, prefix, kept);
}

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
template <class V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

// A parsed, validated record value.
struct Parsed {
  std::string text, model, normalized;
  std::uint32_t bundle_id = 0;
  double similarity = 0;
};

// Validates a record; false for anything that is not a well-formed version-1 record whose id
// and key match its text. Never throws.
bool parse_record(std::string_view key, std::string_view value, Parsed& out) noexcept {
  try {
    const auto j = nlohmann::json::parse(value, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return false;
    const auto v = j.find("v");
    if (v == j.end() || !v->is_number_integer() || v->get<std::int64_t>() != kVersion) return false;
    const auto id = j.find("id"), text = j.find("text"), bundle = j.find("bundle_id"), sim = j.find("similarity"),
               model = j.find("model"), origin = j.find("origin");
    if (id == j.end() || !id->is_string() || text == j.end() || !text->is_string() || bundle == j.end() ||
        !bundle->is_number_unsigned() || sim == j.end() || !sim->is_number() || model == j.end() ||
        !model->is_string() || origin == j.end() || !origin->is_string())
      return false;
    const auto b = bundle->get<std::uint64_t>();
    if (b > std::numeric_limits<std::uint32_t>::max()) return false;
    const double s = sim->get<double>();
    if (!std::isfinite(s)) return false;
    out.text = text->get<std::string>();
    out.model = model->get<std::string>();
    if (out.text.empty() || out.model.empty() || out.model.find('|') != std::string::npos) return false;
    out.normalized = core::normalize_template_text(out.text);
    if (out.normalized.empty()) return false;
    if (id->get<std::string>() != registry_id_hex(registry_id(out.normalized))) return false;
    if (key != registry_key(out.model, out.normalized)) return false;
    out.bundle_id = static_cast<std::uint32_t>(b);
    out.similarity = s;
    return true;
  } catch (...) {
    return false;
  }
}

std::string default_origin() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "unknown");
  return std::string(host) + ":" + std::to_string(::getpid());
}

}  // namespace

void RegistryConfig::validate() const {
  if (!enabled) return;
  // Kafka's legal topic names ("" = the default, <kafka.group_id>-templates).
  const bool legal = topic.size() <= 249 && topic != "." && topic != ".." &&
                     std::all_of(topic.begin(), topic.end(), [](char ch) {
                       return std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == '-';
                     });
  if (!legal) throw ConfigError("topic", "not a legal Kafka topic name (letters, digits, '.', '_', '-'; at most 249)");
  if (poll_interval_ms <= 0) throw ConfigError("poll_interval_ms", "must be > 0");
}

std::string RegistryConfig::effective_topic(const std::string& group_id) const {
  return topic.empty() ? group_id + "-templates" : topic;
}

std::uint64_t registry_id(std::string_view normalized_text) noexcept {
  return XXH64(normalized_text.data(), normalized_text.size(), 0);
}

std::string registry_id_hex(std::uint64_t id) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(id));
  return buf;
}

std::string registry_key(std::string_view model, std::string_view normalized_text) {
  std::string k;
  k.reserve(model.size() + 1 + normalized_text.size());
  k.append(model).append(1, '|').append(normalized_text);
  return k;
}

std::string encode_registry_record(std::string_view text, std::string_view model, std::uint32_t bundle_id,
                                   double similarity, std::string_view origin) {
  nlohmann::json j;
  j["v"] = kVersion;
  j["id"] = registry_id_hex(registry_id(core::normalize_template_text(text)));
  j["text"] = std::string(text);
  j["bundle_id"] = bundle_id;
  j["similarity"] = std::isfinite(similarity) ? similarity : 0.0;
  j["model"] = std::string(model);
  j["origin"] = std::string(origin);
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// ---------------------------------------------------------------- TemplateRegistry

struct TemplateRegistry::Impl : RdKafka::DeliveryReportCb, RdKafka::EventCb {
  RegistryConfig config;
  std::string topic, origin;
  std::unique_ptr<RdKafka::Producer> producer;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer;
  std::string bootstrap;
  std::map<std::string, std::string> producer_props;
  bool assigned = false;
  std::int64_t next_offset = 0;  // after the last record read

  struct Decision {
    std::uint32_t bundle_id = 0;
    double similarity = 0;
  };
  struct Entry {
    std::string text;
    std::uint64_t id = 0;
    StringMap<Decision> by_model;
  };
  StringMap<Entry> entries;                 // normalized text -> entry
  std::unordered_set<std::string> published;  // keys this instance produced
  RegistryStats stats;

  void dr_cb(RdKafka::Message& m) override {
    if (m.err() != RdKafka::ERR_NO_ERROR) ++stats.delivery_failures;
  }
  // Errors and logs of both clients: librdkafka retries on its own; catch_up() reports an
  // unreachable broker, steady state counts delivery failures.
  void event_cb(RdKafka::Event&) override {}

  // Stores a decision; fills `u` and returns true when something changed.
  bool store(std::string_view normalized, std::string_view text, std::string_view model, Decision d,
             RegistryUpdate& u) {
    auto it = entries.find(normalized);
    u = RegistryUpdate{};
    if (it == entries.end()) {
      it = entries.emplace(std::string(normalized), Entry{std::string(text), registry_id(normalized), {}}).first;
      stats.entries = entries.size();
      u.new_text = true;
    }
    auto& by_model = it->second.by_model;
    auto m = by_model.find(model);
    if (m == by_model.end()) {
      by_model.emplace(std::string(model), d);
      u.decision_changed = true;
    } else {
      u.decision_changed = m->second.bundle_id != d.bundle_id;
      m->second = d;
    }
    u.text = it->second.text;
    u.model.assign(model);
    return u.new_text || u.decision_changed;
  }

  // Applies one consumed record (a null value deletes that model's decision).
  void apply_record(const RdKafka::Message& m, std::vector<RegistryUpdate>* out) {
    const std::string* key = m.key();
    const auto* payload = static_cast<const char*>(m.payload());
    if (!payload) {
      const auto bar = key ? key->find('|') : std::string::npos;
      if (bar == std::string::npos) {
        ++stats.malformed;
        return;
      }
      ++stats.received;
      auto it = entries.find(std::string_view(*key).substr(bar + 1));
      if (it == entries.end()) return;
      if (it->second.by_model.erase(key->substr(0, bar)) && out)
        out->push_back(RegistryUpdate{it->second.text, key->substr(0, bar), false, true});
      return;
    }
    Parsed p;
    if (!key || !parse_record(*key, std::string_view(payload, m.len()), p)) {
      ++stats.malformed;
      return;
    }
    ++stats.received;
    RegistryUpdate u;
    if (store(p.normalized, p.text, p.model, Decision{p.bundle_id, p.similarity}, u) && out) out->push_back(std::move(u));
  }

  void assign() {
    if (assigned) return;
    std::vector<RdKafka::TopicPartition*> parts{
        RdKafka::TopicPartition::create(topic, kPartition, RdKafka::Topic::OFFSET_BEGINNING)};
    const RdKafka::ErrorCode e = consumer->assign(parts);
    RdKafka::TopicPartition::destroy(parts);
    if (e != RdKafka::ERR_NO_ERROR)
      throw core::LoadError("registry.topic: cannot assign " + topic + ": " + RdKafka::err2str(e));
    assigned = true;
  }
};

TemplateRegistry::TemplateRegistry(const RegistryConfig& config, const KafkaConfig& kafka,
                                   const std::string& bootstrap, std::string origin)
    : impl_(std::make_unique<Impl>()) {
  auto& p = *impl_;
  p.config = config;
  p.topic = config.effective_topic(kafka.group_id);
  if (p.topic.empty()) throw ConfigError("registry.topic", "empty (and kafka.group_id is empty)");
  p.origin = origin.empty() ? default_origin() : std::move(origin);
  p.bootstrap = bootstrap;
  p.producer_props = kafka.producer;
  std::string err;
  {
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    set_or_throw(*conf, "bootstrap.servers", bootstrap);
    apply_passthrough(*conf, "kafka.producer.", kafka.producer);
    set_or_throw(*conf, "enable.idempotence", "true");
    set_or_throw(*conf, "acks", "all");
    set_or_throw(*conf, "allow.auto.create.topics", "false");  // ensure_topic() creates it compacted
    if (conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(impl_.get()), err) != RdKafka::Conf::CONF_OK ||
        conf->set("event_cb", static_cast<RdKafka::EventCb*>(impl_.get()), err) != RdKafka::Conf::CONF_OK)
      throw ConfigError("registry", "cannot set callbacks: " + err);
    p.producer.reset(RdKafka::Producer::create(conf.get(), err));
    if (!p.producer) throw ConfigError("registry.topic", "cannot create the registry producer: " + err);
  }
  {
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    set_or_throw(*conf, "bootstrap.servers", bootstrap);
    apply_passthrough(*conf, "kafka.consumer.", kafka.consumer);
    // librdkafka's consumer needs a group id; with manual assignment and no commits the group
    // is never joined.
    set_or_throw(*conf, "group.id", kafka.group_id + "-registry-reader");
    set_or_throw(*conf, "enable.auto.commit", "false");
    set_or_throw(*conf, "enable.auto.offset.store", "false");
    set_or_throw(*conf, "enable.partition.eof", "true");
    set_or_throw(*conf, "auto.offset.reset", "earliest");
    if (conf->set("event_cb", static_cast<RdKafka::EventCb*>(impl_.get()), err) != RdKafka::Conf::CONF_OK)
      throw ConfigError("registry", "cannot set callbacks: " + err);
    p.consumer.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
    if (!p.consumer) throw ConfigError("registry.topic", "cannot create the registry consumer: " + err);
  }
}

TemplateRegistry::~TemplateRegistry() {
  flush(std::chrono::seconds(1));
  impl_->consumer->close();
}

const std::string& TemplateRegistry::topic() const noexcept { return impl_->topic; }
std::chrono::milliseconds TemplateRegistry::poll_interval() const noexcept {
  return std::chrono::milliseconds(impl_->config.poll_interval_ms);
}
const std::string& TemplateRegistry::origin() const noexcept { return impl_->origin; }
const RegistryStats& TemplateRegistry::stats() const noexcept { return impl_->stats; }
std::size_t TemplateRegistry::entries() const noexcept { return impl_->entries.size(); }
void TemplateRegistry::note_adopted() noexcept { ++impl_->stats.adopted; }

void TemplateRegistry::ensure_topic(std::chrono::milliseconds timeout) {
  auto& p = *impl_;
  auto props = p.producer_props;
  // The existence probe must not let a broker with auto.create.topics.enable create the topic
  // with default (non-compacted) settings.
  props["allow.auto.create.topics"] = "false";
  props.erase("transactional.id");
  auto n = daemon::ensure_topic(p.bootstrap, props, p.topic, 1, {{"cleanup.policy", "compact"}}, timeout);
  if (!n) throw core::LoadError("registry.topic: " + n.error().message);
  if (*n != 1)
    log_warning("registry topic %s has %d partitions; only partition 0 is used", p.topic.c_str(), *n);
}

std::size_t TemplateRegistry::catch_up(std::chrono::milliseconds timeout) {
  auto& p = *impl_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::int64_t low = 0, high = 0;
  const RdKafka::ErrorCode e =
      p.consumer->query_watermark_offsets(p.topic, kPartition, &low, &high, static_cast<int>(timeout.count()));
  if (e != RdKafka::ERR_NO_ERROR)
    throw core::LoadError("registry.topic: cannot read " + p.topic + " within " + std::to_string(timeout.count()) +
                          " ms: " + RdKafka::err2str(e));
  p.assign();
  std::size_t n = 0;
  while (p.next_offset < high) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      throw core::LoadError("registry.topic: read " + p.topic + " up to offset " + std::to_string(p.next_offset) +
                            " of " + std::to_string(high) + " within " + std::to_string(timeout.count()) + " ms");
    std::unique_ptr<RdKafka::Message> m(p.consumer->consume(static_cast<int>(std::min<std::int64_t>(left.count(), 100))));
    if (m->err() == RdKafka::ERR__PARTITION_EOF) {
      p.next_offset = std::max(p.next_offset, m->offset());  // compacted-away tail (tombstones)
      continue;
    }
    if (m->err() != RdKafka::ERR_NO_ERROR) continue;
    p.next_offset = m->offset() + 1;
    p.apply_record(*m, nullptr);
    ++n;
  }
  p.producer->poll(0);
  return n;
}

std::size_t TemplateRegistry::poll(std::vector<RegistryUpdate>* out) noexcept {
  auto& p = *impl_;
  std::size_t n = 0;
  try {
    p.producer->poll(0);
    if (!p.assigned) return 0;
    while (n < kMaxRecordsPerPoll) {
      std::unique_ptr<RdKafka::Message> m(p.consumer->consume(0));
      if (m->err() != RdKafka::ERR_NO_ERROR) break;  // timed out, end of partition, or an error to retry
      p.next_offset = m->offset() + 1;
      p.apply_record(*m, out);
      ++n;
    }
  } catch (...) {
    // Allocation failure while applying: the record is lost for this instance only.
  }
  return n;
}

std::optional<RegistryHit> TemplateRegistry::find(std::string_view normalized_text,
                                                  std::string_view model) const noexcept {
  const auto& p = *impl_;
  auto it = p.entries.find(normalized_text);
  if (it == p.entries.end()) return std::nullopt;
  auto m = it->second.by_model.find(model);
  if (m == it->second.by_model.end()) return std::nullopt;
  return RegistryHit{m->second.bundle_id, m->second.similarity, it->second.id};
}

bool TemplateRegistry::publish(std::string_view text, std::string_view model, std::uint32_t bundle_id,
                               double similarity) noexcept {
  auto& p = *impl_;
  try {
    const std::string normalized = core::normalize_template_text(text);
    if (normalized.empty() || model.empty()) return false;
    std::string key = registry_key(model, normalized);
    if (!p.published.insert(key).second) return false;
    RegistryUpdate ignored;
    p.store(normalized, text, model, Impl::Decision{bundle_id, similarity}, ignored);
    std::string value = encode_registry_record(text, model, bundle_id, similarity, p.origin);
    const RdKafka::ErrorCode e =
        p.producer->produce(p.topic, kPartition, RdKafka::Producer::RK_MSG_COPY, value.data(), value.size(),
                            key.data(), key.size(), 0, nullptr);
    if (e != RdKafka::ERR_NO_ERROR) {
      ++p.stats.delivery_failures;  // queue full or fatal: never block the consumer thread
    } else {
      ++p.stats.published;
    }
    p.producer->poll(0);
    return true;
  } catch (...) {
    ++p.stats.delivery_failures;
    return false;
  }
}

std::vector<std::string> TemplateRegistry::texts() const {
  std::vector<std::string> out;
  out.reserve(impl_->entries.size());
  for (const auto& [norm, e] : impl_->entries) out.push_back(e.text);
  return out;
}

std::size_t TemplateRegistry::flush(std::chrono::milliseconds timeout) noexcept {
  auto& p = *impl_;
  p.producer->flush(static_cast<int>(timeout.count()));
  return static_cast<std::size_t>(std::max(0, p.producer->outq_len()));
}

}  // namespace logguard::daemon
