#include "logguard/daemon/kafka.hpp"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <librdkafka/rdkafkacpp.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "kafka_util.hpp"

namespace logguard::daemon {
namespace {

using core::ConfigError;

// Properties with a key of their own, or that the at-least-once design depends on.
void check_reserved(const std::string& section, const std::string& name, const std::string& value) {
  if (name == "bootstrap.servers" || name == "metadata.broker.list")
    throw ConfigError(section + "." + name, "set kafka.brokers instead");
  if (section == "consumer") {
    if (name == "group.id") throw ConfigError(section + "." + name, "set kafka.group_id instead");
    if (name == "enable.auto.offset.store" && value != "false")
      throw ConfigError(section + "." + name, "must stay false: offsets are stored only once their lines are done");
  } else if (name == "enable.idempotence" && value != "true") {
    throw ConfigError(section + "." + name, "must stay true: the anomaly producer is idempotent");
  }
}

template <class Cb>
void set_cb(RdKafka::Conf& conf, const char* name, Cb* cb) {
  std::string err;
  if (conf.set(name, cb, err) != RdKafka::Conf::CONF_OK)
    throw ConfigError("kafka", std::string("cannot set ") + name + ": " + err);
}

std::vector<TopicPartition> convert(const std::vector<RdKafka::TopicPartition*>& parts) {
  std::vector<TopicPartition> out;
  out.reserve(parts.size());
  for (const auto* p : parts) out.push_back(TopicPartition{p->topic(), p->partition()});
  return out;
}

// Defaults of the daemon's consumers (the scoring source and the router), before the
// pass-through properties. Prefetch measured on a 2-partition HDFS topic (docs/daemon-bench.md,
// run 4): with librdkafka's queued.min.messages of 100000 the fetcher keeps backing off and the
// daemon idles at ~113k lines/s; 1M (bounded by queued.max.messages.kbytes, 64 MiB per
// partition) and 8 MiB partition fetches let it read 300k+ lines/s.
void set_consumer_defaults(RdKafka::Conf& conf) {
  set_or_throw(conf, "auto.offset.reset", "earliest");
  set_or_throw(conf, "queued.min.messages", "1000000");
  set_or_throw(conf, "max.partition.fetch.bytes", "8388608");
}

// How often librdkafka reports statistics (broker states, consumer lag) unless configured.
constexpr const char* kStatsIntervalMs = "1000";

// Error events: fatal ones are remembered, everything else is informational and counted.
// Statistics events (when statistics.interval.ms is set) update the broker and lag views.
struct ErrorEvents : RdKafka::EventCb {
  void event_cb(RdKafka::Event& e) override {
    if (e.type() == RdKafka::Event::EVENT_STATS) return on_stats(e.str());
    if (e.type() != RdKafka::Event::EVENT_ERROR) return;
    if (e.err() == RdKafka::ERR__ALL_BROKERS_DOWN) brokers_up = 0;
    if (e.fatal()) {
      std::lock_guard lock(mu);
      if (fatal.empty()) fatal = RdKafka::err2str(e.err()) + ": " + e.str();
    } else {
      ++transient;
    }
  }
  std::string fatal_error() const {
    std::lock_guard lock(mu);
    return fatal;
  }
  // Brokers in state UP (the coordinator's logical entry aside) and the summed consumer lag
  // of the partitions being fetched, from the last statistics; -1 = not known yet.
  void on_stats(const std::string& text) {
    const auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return;
    if (auto b = j.find("brokers"); b != j.end() && b->is_object()) {
      int up = 0;
      for (const auto& [name, broker] : b->items()) {
        if (!broker.is_object() || broker.value("source", "") == "logical" || broker.value("source", "") == "internal")
          continue;
        if (broker.value("state", "") == "UP") ++up;
      }
      brokers_up = up;
    }
    if (auto t = j.find("topics"); t != j.end() && t->is_object()) {
      std::int64_t lag = 0;
      bool any = false;
      for (const auto& [topic, tj] : t->items()) {
        auto parts = tj.find("partitions");
        if (parts == tj.end() || !parts->is_object()) continue;
        for (const auto& [id, pj] : parts->items()) {
          if (id == "-1" || !pj.is_object()) continue;
          const std::string state = pj.value("fetch_state", "none");
          if (state == "none" || state == "stopped") continue;
          std::int64_t l = pj.value("consumer_lag", std::int64_t{-1});
          if (l < 0) continue;
          // librdkafka's lag runs from the committed offset to the partition's end (the high
          // watermark, or the last stable offset with read_committed). Measured from what was
          // read instead (app_offset), so that transaction markers after the last committed
          // line do not look like unread input.
          const std::int64_t committed = pj.value("committed_offset", std::int64_t{-1});
          const std::int64_t read = pj.value("app_offset", std::int64_t{-1});
          if (committed >= 0 && read >= 0) l = std::max<std::int64_t>(0, committed + l - read);
          lag += l;
          any = true;
        }
      }
      consumer_lag = any ? lag : (consumer_lag.load() < 0 ? -1 : 0);
    }
  }
  mutable std::mutex mu;
  std::string fatal;
  std::atomic<std::uint64_t> transient{0};
  std::atomic<int> brokers_up{-1};
  std::atomic<std::int64_t> consumer_lag{-1};
};

}  // namespace

// ---- KafkaConfig -------------------------------------------------------------------------

void KafkaConfig::validate() const {
  if (brokers.empty()) throw ConfigError("brokers", "must name bootstrap servers or be 'embedded'");
  if (group_id.empty()) throw ConfigError("group_id", "must not be empty");
  if (output_topic.empty()) throw ConfigError("output_topic", "must not be empty");
  for (std::size_t i = 0; i < topics.size(); ++i)
    if (topics[i].empty()) throw ConfigError("topics[" + std::to_string(i) + "]", "must not be empty");
  // Each pass-through property is tried on a scratch configuration, so that a typo is
  // reported by name at --check-config time, not when the daemon connects.
  for (const auto* section : {"consumer", "producer"}) {
    const auto& props = std::string(section) == "consumer" ? consumer : producer;
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    for (const auto& [name, value] : props) check_reserved(section, name, value);
    apply(*conf, std::string(section) + ".", props);
  }
}

// ---- EmbeddedKafka -----------------------------------------------------------------------

struct EmbeddedKafka::Impl {
  rd_kafka_t* rk = nullptr;
  rd_kafka_mock_cluster_t* cluster = nullptr;
  std::string bootstrap;
};

EmbeddedKafka::EmbeddedKafka(int brokers) : impl_(std::make_unique<Impl>()) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  impl_->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!impl_->rk) {
    rd_kafka_conf_destroy(conf);
    throw core::LoadError(std::string("embedded kafka: cannot create client: ") + err);
  }
  impl_->cluster = rd_kafka_mock_cluster_new(impl_->rk, brokers);
  if (!impl_->cluster) {
    rd_kafka_destroy(impl_->rk);
    throw core::LoadError("embedded kafka: cannot start the mock cluster");
  }
  impl_->bootstrap = rd_kafka_mock_cluster_bootstraps(impl_->cluster);
}

EmbeddedKafka::~EmbeddedKafka() {
  rd_kafka_mock_cluster_destroy(impl_->cluster);
  rd_kafka_destroy(impl_->rk);
}

const std::string& EmbeddedKafka::bootstrap_servers() const noexcept { return impl_->bootstrap; }

void EmbeddedKafka::create_topic(const std::string& name, int partitions, int replication) {
  rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(impl_->cluster, name.c_str(), partitions, replication);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw core::LoadError("embedded kafka: cannot create topic " + name + ": " + rd_kafka_err2str(e));
}

// ---- KafkaSource -------------------------------------------------------------------------

struct KafkaSource::Impl : RdKafka::RebalanceCb {
  ErrorEvents events;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer;
  bool paused = false;
  bool closed = false;
  std::vector<TopicPartition> revoked;
  RevokeHandler on_revoke;
  AssignHandler on_assign;
  std::vector<TopicPartition> revoked_in_poll;  // revoked during the current poll()

  void rebalance_cb(RdKafka::KafkaConsumer* c, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& parts) override {
    const bool cooperative = c->rebalance_protocol() == "COOPERATIVE";
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      if (on_assign && !parts.empty()) {
        // Start where the handed-over state ends (the rest at the committed offsets).
        for (const auto& start : on_assign(convert(parts)))
          for (auto* p : parts)
            if (p->topic() == start.tp.topic && p->partition() == start.tp.partition) p->set_offset(start.offset);
      }
      if (cooperative) delete c->incremental_assign(parts);
      else c->assign(parts);
      if (paused) c->pause(parts);
      return;
    }
    if (err == RdKafka::ERR__REVOKE_PARTITIONS) {
      auto tps = convert(parts);
      if (on_revoke) on_revoke(tps);  // the pipeline stores its final offsets here
      c->commitSync();                // commits stored offsets; "no offset" is fine
      revoked.insert(revoked.end(), tps.begin(), tps.end());
      revoked_in_poll.insert(revoked_in_poll.end(), tps.begin(), tps.end());
      if (cooperative) delete c->incremental_unassign(parts);
      else c->unassign();
      return;
    }
    ++events.transient;
    c->unassign();
  }

  void assignment(PartitionList& l) { consumer->assignment(l.v); }
};

KafkaSource::KafkaSource(const KafkaConfig& config, const std::string& bootstrap)
    : impl_(std::make_unique<Impl>()) {
  config.validate();
  if (config.topics.empty()) throw ConfigError("kafka.topics", "must list at least one input topic");
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  set_or_throw(*conf, "bootstrap.servers", bootstrap);
  set_or_throw(*conf, "group.id", config.group_id);
  set_or_throw(*conf, "enable.auto.offset.store", "false");
  set_or_throw(*conf, "enable.auto.commit", "true");
  set_or_throw(*conf, "statistics.interval.ms", kStatsIntervalMs);
  set_consumer_defaults(*conf);
  apply(*conf, "kafka.consumer.", config.consumer);
  set_cb(*conf, "rebalance_cb", static_cast<RdKafka::RebalanceCb*>(impl_.get()));
  set_cb(*conf, "event_cb", static_cast<RdKafka::EventCb*>(&impl_->events));
  std::string err;
  impl_->consumer.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!impl_->consumer) throw ConfigError("kafka.consumer", "cannot create consumer: " + err);
  RdKafka::ErrorCode e = impl_->consumer->subscribe(config.topics);
  if (e != RdKafka::ERR_NO_ERROR) throw ConfigError("kafka.topics", "cannot subscribe: " + RdKafka::err2str(e));
}

KafkaSource::~KafkaSource() { close(); }

Source::PollStatus KafkaSource::poll(std::vector<Record>& out, std::size_t max_records,
                                     std::chrono::milliseconds timeout) {
  if (impl_->closed) return PollStatus::end_of_stream;
  std::size_t n = 0;
  const std::size_t first = out.size();
  while (n < max_records) {
    std::unique_ptr<RdKafka::Message> m(
        impl_->consumer->consume(n == 0 ? static_cast<int>(timeout.count()) : 0));
    if (!impl_->revoked_in_poll.empty()) {
      // Lines of partitions revoked by a rebalance during this poll belong to their new owner
      // (it reads from the offset stored in the revoke): drop what was collected of them.
      auto& gone = impl_->revoked_in_poll;
      const auto end = std::remove_if(out.begin() + static_cast<std::ptrdiff_t>(first), out.end(), [&](const Record& r) {
        return std::find(gone.begin(), gone.end(), r.pos.tp) != gone.end();
      });
      n -= static_cast<std::size_t>(out.end() - end);
      out.erase(end, out.end());
      gone.clear();
    }
    const RdKafka::ErrorCode err = m->err();
    if (err == RdKafka::ERR__TIMED_OUT) break;
    if (err == RdKafka::ERR__PARTITION_EOF) continue;
    if (err != RdKafka::ERR_NO_ERROR) {
      if (err == RdKafka::ERR__FATAL || !impl_->events.fatal_error().empty()) return PollStatus::fatal;
      ++impl_->events.transient;
      break;
    }
    // Built in place; the key through key_pointer() (key() would allocate a std::string copy
    // inside the message first).
    Record& r = out.emplace_back();
    const auto* p = static_cast<const char*>(m->payload());
    std::size_t len = p ? m->len() : 0;
    while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r')) --len;
    r.line = SharedLine(std::string_view(p ? p : "", len));
    if (const void* k = m->key_pointer(); k != nullptr && m->key_len() > 0)
      r.key.assign(static_cast<const char*>(k), m->key_len());
    r.pos = SourcePosition{TopicPartition{m->topic_name(), m->partition()}, m->offset()};
    const RdKafka::MessageTimestamp ts = m->timestamp();
    r.timestamp_ms = ts.type == RdKafka::MessageTimestamp::MSG_TIMESTAMP_NOT_AVAILABLE ? 0 : ts.timestamp;
    ++n;
  }
  return impl_->events.fatal_error().empty() ? PollStatus::ok : PollStatus::fatal;
}

void KafkaSource::pause() {
  if (impl_->paused || impl_->closed) return;
  PartitionList l;
  impl_->assignment(l);
  impl_->consumer->pause(l.v);
  impl_->paused = true;
}

void KafkaSource::resume() {
  if (!impl_->paused || impl_->closed) return;
  PartitionList l;
  impl_->assignment(l);
  impl_->consumer->resume(l.v);
  impl_->paused = false;
}

void KafkaSource::store_offsets(std::span<const SourcePosition> next_offsets) {
  if (next_offsets.empty() || impl_->closed) return;
  PartitionList l;
  for (const auto& p : next_offsets) l.v.push_back(RdKafka::TopicPartition::create(p.tp.topic, p.tp.partition, p.offset));
  // Fails for partitions no longer assigned (their lines will be re-read by the new owner).
  if (impl_->consumer->offsets_store(l.v) != RdKafka::ERR_NO_ERROR) ++impl_->events.transient;
}

std::vector<TopicPartition> KafkaSource::take_revoked() {
  std::vector<TopicPartition> r;
  r.swap(impl_->revoked);
  return r;
}

std::string KafkaSource::error() const { return impl_->events.fatal_error(); }
int KafkaSource::brokers_up() const noexcept { return impl_->events.brokers_up.load(); }
std::int64_t KafkaSource::consumer_lag() const noexcept { return impl_->events.consumer_lag.load(); }

void KafkaSource::set_revoke_handler(RevokeHandler h) { impl_->on_revoke = std::move(h); }
void KafkaSource::set_assign_handler(AssignHandler h) { impl_->on_assign = std::move(h); }

std::vector<SourcePosition> KafkaSource::committed(std::chrono::milliseconds timeout) {
  PartitionList l;
  impl_->assignment(l);
  std::vector<SourcePosition> out;
  if (impl_->consumer->committed(l.v, static_cast<int>(timeout.count())) != RdKafka::ERR_NO_ERROR) return out;
  for (const auto* p : l.v) out.push_back(SourcePosition{TopicPartition{p->topic(), p->partition()}, p->offset()});
  return out;
}

std::vector<TopicPartition> KafkaSource::assignment() {
  PartitionList l;
  impl_->assignment(l);
  return convert(l.v);
}

bool KafkaSource::paused() const noexcept { return impl_->paused; }
std::uint64_t KafkaSource::transient_errors() const noexcept { return impl_->events.transient; }

void KafkaSource::close() {
  if (impl_->closed || !impl_->consumer) return;
  impl_->consumer->close();  // runs the revoke handler, commits stored offsets, leaves the group
  impl_->closed = true;
}

// ---- KafkaSink ---------------------------------------------------------------------------

struct KafkaSink::Impl : RdKafka::DeliveryReportCb {
  ErrorEvents events;
  std::unique_ptr<RdKafka::Producer> producer;
  std::string topic;

  void dr_cb(RdKafka::Message& m) override {
    std::unique_ptr<Done> done(static_cast<Done*>(m.msg_opaque()));
    if (!done || !*done) return;
    if (m.err() == RdKafka::ERR_NO_ERROR) (*done)(true, {});
    else (*done)(false, m.errstr());
  }
};

KafkaSink::KafkaSink(const KafkaConfig& config, const std::string& bootstrap, std::string topic)
    : impl_(std::make_unique<Impl>()) {
  config.validate();
  impl_->topic = std::move(topic);
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  set_or_throw(*conf, "bootstrap.servers", bootstrap);
  set_or_throw(*conf, "enable.idempotence", "true");
  set_or_throw(*conf, "statistics.interval.ms", kStatsIntervalMs);
  apply(*conf, "kafka.producer.", config.producer);
  set_cb(*conf, "dr_cb", static_cast<RdKafka::DeliveryReportCb*>(impl_.get()));
  set_cb(*conf, "event_cb", static_cast<RdKafka::EventCb*>(&impl_->events));
  std::string err;
  impl_->producer.reset(RdKafka::Producer::create(conf.get(), err));
  if (!impl_->producer) throw ConfigError("kafka.producer", "cannot create producer: " + err);
}

KafkaSink::~KafkaSink() {
  // Whatever was not delivered completes with ok = false (and frees its callback).
  impl_->producer->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT);
  impl_->producer->poll(0);
  impl_->producer->flush(1000);
}

void KafkaSink::write(std::string_view key, std::string_view id, std::string_view json, Done done) {
  auto* owned = new Done(std::move(done));
  while (true) {
    RdKafka::Headers* headers = RdKafka::Headers::create();
    headers->add("logguard-id", id.data(), id.size());
    const RdKafka::ErrorCode err = impl_->producer->produce(
        impl_->topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
        const_cast<char*>(json.data()), json.size(), key.data(), key.size(), 0, headers, owned);
    if (err == RdKafka::ERR_NO_ERROR) return;  // librdkafka owns headers and callback now
    delete headers;
    if (err == RdKafka::ERR__QUEUE_FULL && impl_->events.fatal_error().empty()) {
      impl_->producer->poll(100);  // serve delivery reports until there is room
      continue;
    }
    std::unique_ptr<Done> d(owned);
    if (*d) (*d)(false, RdKafka::err2str(err));
    return;
  }
}

void KafkaSink::poll(std::chrono::milliseconds timeout) { impl_->producer->poll(static_cast<int>(timeout.count())); }

std::size_t KafkaSink::flush(std::chrono::milliseconds timeout) {
  impl_->producer->flush(static_cast<int>(timeout.count()));
  return static_cast<std::size_t>(impl_->producer->outq_len());
}

std::string KafkaSink::fatal_error() const { return impl_->events.fatal_error(); }
int KafkaSink::brokers_up() const noexcept { return impl_->events.brokers_up.load(); }
std::uint64_t KafkaSink::transient_errors() const noexcept { return impl_->events.transient; }

// ---- tools: KafkaProducer, KafkaTopicReader -------------------------------------------------

namespace {

// Applies tool properties; a reserved or bad one is a ConfigError "--property <name>".
void apply_tool_properties(RdKafka::Conf& conf, const std::map<std::string, std::string>& props) {
  for (const auto& [name, value] : props) {
    if (name == "bootstrap.servers" || name == "metadata.broker.list")
      throw ConfigError("--property " + name, "set --brokers instead");
    std::string err;
    if (conf.set(name, value, err) != RdKafka::Conf::CONF_OK) throw ConfigError("--property " + name, err);
  }
}

// The partition count of `topic` as the cluster reports it, or why not.
core::Expected<int> topic_partitions(RdKafka::Handle& h, const std::string& name, std::chrono::milliseconds timeout) {
  std::string err;
  std::unique_ptr<RdKafka::Topic> topic(RdKafka::Topic::create(&h, name, nullptr, err));
  if (!topic) return core::Error{"topic " + name + ": " + err};
  RdKafka::Metadata* raw = nullptr;
  const RdKafka::ErrorCode e = h.metadata(false, topic.get(), &raw, static_cast<int>(timeout.count()));
  std::unique_ptr<RdKafka::Metadata> md(raw);
  if (e != RdKafka::ERR_NO_ERROR)
    return core::Error{"cannot fetch metadata of topic " + name + " within " + std::to_string(timeout.count()) +
                       " ms: " + RdKafka::err2str(e)};
  for (const auto* t : *md->topics()) {
    if (t->topic() != name) continue;
    if (t->err() != RdKafka::ERR_NO_ERROR) return core::Error{"topic " + name + ": " + RdKafka::err2str(t->err())};
    return static_cast<int>(t->partitions()->size());
  }
  return core::Error{"topic " + name + ": not in the cluster's metadata"};
}

// Creates a topic through the Admin API (an existing one is fine); `config` are topic-level
// settings such as cleanup.policy.
core::Expected<bool> create_topic(rd_kafka_t* rk, const std::string& name, int partitions,
                                  const std::map<std::string, std::string>& config, std::chrono::milliseconds timeout) {
  char err[512];
  rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(name.c_str(), partitions, -1, err, sizeof err);
  if (!nt) return core::Error{err};
  for (const auto& [k, v] : config)
    if (rd_kafka_NewTopic_set_config(nt, k.c_str(), v.c_str()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_NewTopic_destroy(nt);
      return core::Error{"bad topic setting " + k};
    }
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_CreateTopics(rk, &nt, 1, nullptr, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, static_cast<int>(timeout.count()));
  std::string problem;
  if (!ev) {
    problem = "no answer from the brokers within " + std::to_string(timeout.count()) + " ms";
  } else if (rd_kafka_event_error(ev)) {
    problem = rd_kafka_event_error_string(ev);
  } else if (const auto* res = rd_kafka_event_CreateTopics_result(ev)) {
    std::size_t n = 0;
    const rd_kafka_topic_result_t** tr = rd_kafka_CreateTopics_result_topics(res, &n);
    for (std::size_t i = 0; i < n; ++i) {
      const auto e = rd_kafka_topic_result_error(tr[i]);
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        problem = rd_kafka_topic_result_error_string(tr[i]) ? rd_kafka_topic_result_error_string(tr[i]) : rd_kafka_err2str(e);
    }
  }
  if (ev) rd_kafka_event_destroy(ev);
  rd_kafka_queue_destroy(q);
  rd_kafka_NewTopic_destroy(nt);
  if (!problem.empty()) return core::Error{problem};
  return true;
}

}  // namespace

core::Expected<int> KafkaSink::check_topic(std::chrono::milliseconds timeout) {
  return topic_partitions(*impl_->producer, impl_->topic, timeout);
}

struct KafkaProducer::Impl : RdKafka::DeliveryReportCb {
  ErrorEvents events;
  std::unique_ptr<RdKafka::Producer> producer;
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::uint64_t> failed{0};
  mutable std::mutex mu;
  std::string first_error;

  void remember(const std::string& e) {
    std::lock_guard lock(mu);
    if (first_error.empty()) first_error = e;
  }
  void dr_cb(RdKafka::Message& m) override {
    if (m.err() == RdKafka::ERR_NO_ERROR) {
      ++delivered;
    } else {
      ++failed;
      remember(m.errstr());
    }
  }
};

KafkaProducer::KafkaProducer(const std::string& bootstrap, const std::map<std::string, std::string>& properties)
    : impl_(std::make_unique<Impl>()) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  set_or_throw(*conf, "bootstrap.servers", bootstrap);
  set_or_throw(*conf, "linger.ms", "10");  // batches for throughput; overridable
  apply_tool_properties(*conf, properties);
  set_cb(*conf, "dr_cb", static_cast<RdKafka::DeliveryReportCb*>(impl_.get()));
  set_cb(*conf, "event_cb", static_cast<RdKafka::EventCb*>(&impl_->events));
  std::string err;
  impl_->producer.reset(RdKafka::Producer::create(conf.get(), err));
  if (!impl_->producer) throw ConfigError("--property", "cannot create producer: " + err);
}

KafkaProducer::~KafkaProducer() {
  impl_->producer->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT);
  impl_->producer->flush(1000);
}

core::Expected<int> KafkaProducer::partitions(const std::string& topic, std::chrono::milliseconds timeout) {
  return topic_partitions(*impl_->producer, topic, timeout);
}

bool KafkaProducer::produce(const std::string& topic, std::string_view key, std::string_view value,
                            std::int64_t timestamp_ms) {
  while (true) {
    const RdKafka::ErrorCode err = impl_->producer->produce(
        topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(value.data()),
        value.size(), key.empty() ? nullptr : key.data(), key.size(), timestamp_ms, nullptr);
    if (err == RdKafka::ERR_NO_ERROR) return true;
    if (err == RdKafka::ERR__QUEUE_FULL && impl_->events.fatal_error().empty()) {
      impl_->producer->poll(100);  // serve delivery reports until there is room
      continue;
    }
    ++impl_->failed;
    impl_->remember(impl_->events.fatal_error().empty() ? RdKafka::err2str(err) : impl_->events.fatal_error());
    return false;
  }
}

void KafkaProducer::poll(std::chrono::milliseconds timeout) { impl_->producer->poll(static_cast<int>(timeout.count())); }

std::size_t KafkaProducer::flush(std::chrono::milliseconds timeout) {
  impl_->producer->flush(static_cast<int>(timeout.count()));
  return static_cast<std::size_t>(impl_->producer->outq_len());
}

std::uint64_t KafkaProducer::delivered() const noexcept { return impl_->delivered; }
std::uint64_t KafkaProducer::failed() const noexcept { return impl_->failed; }

std::string KafkaProducer::error() const {
  std::string fatal = impl_->events.fatal_error();
  if (!fatal.empty()) return fatal;
  std::lock_guard lock(impl_->mu);
  return impl_->first_error;
}

struct KafkaTopicReader::Impl {
  ErrorEvents events;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer;
};

KafkaTopicReader::KafkaTopicReader(const std::string& bootstrap, const std::string& topic,
                                   const std::map<std::string, std::string>& properties,
                                   std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  set_or_throw(*conf, "bootstrap.servers", bootstrap);
  // librdkafka's consumer needs a group id; with manual assignment and no commits the group
  // is never joined.
  set_or_throw(*conf, "group.id", "logguard-tail");
  set_or_throw(*conf, "enable.auto.commit", "false");
  set_or_throw(*conf, "enable.auto.offset.store", "false");
  set_or_throw(*conf, "fetch.wait.max.ms", "50");  // deliver soon after arrival (latency benches)
  apply_tool_properties(*conf, properties);
  set_cb(*conf, "event_cb", static_cast<RdKafka::EventCb*>(&impl_->events));
  std::string err;
  impl_->consumer.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!impl_->consumer) throw ConfigError("--property", "cannot create consumer: " + err);
  auto n = topic_partitions(*impl_->consumer, topic, timeout);
  if (!n) throw core::LoadError(n.error().message);
  PartitionList l;
  for (int p = 0; p < *n; ++p) l.v.push_back(RdKafka::TopicPartition::create(topic, p, RdKafka::Topic::OFFSET_BEGINNING));
  const RdKafka::ErrorCode e = impl_->consumer->assign(l.v);
  if (e != RdKafka::ERR_NO_ERROR) throw core::LoadError("topic " + topic + ": cannot assign: " + RdKafka::err2str(e));
}

KafkaTopicReader::~KafkaTopicReader() { impl_->consumer->close(); }

bool KafkaTopicReader::poll(KafkaMessage& out, std::chrono::milliseconds timeout) {
  std::unique_ptr<RdKafka::Message> m(impl_->consumer->consume(static_cast<int>(timeout.count())));
  if (m->err() != RdKafka::ERR_NO_ERROR) {
    if (m->err() != RdKafka::ERR__TIMED_OUT && m->err() != RdKafka::ERR__PARTITION_EOF) ++impl_->events.transient;
    return false;
  }
  out.topic = m->topic_name();
  out.partition = m->partition();
  out.offset = m->offset();
  const RdKafka::MessageTimestamp ts = m->timestamp();
  out.timestamp_ms = ts.type == RdKafka::MessageTimestamp::MSG_TIMESTAMP_NOT_AVAILABLE ? 0 : ts.timestamp;
  out.log_append_time = ts.type == RdKafka::MessageTimestamp::MSG_TIMESTAMP_LOG_APPEND_TIME;
  const std::string* k = m->key();
  out.key = k ? *k : std::string();
  out.value.assign(static_cast<const char*>(m->payload()) ? static_cast<const char*>(m->payload()) : "", m->len());
  out.headers.clear();
  if (RdKafka::Headers* h = m->headers()) {
    for (const auto& hd : h->get_all())
      out.headers.emplace_back(hd.key(), std::string(static_cast<const char*>(hd.value()) ? static_cast<const char*>(hd.value()) : "",
                                                      hd.value_size()));
  }
  return true;
}

std::string KafkaTopicReader::error() const { return impl_->events.fatal_error(); }

}  // namespace logguard::daemon

// ---- Router ---------------------------------------------------------------------------------

namespace logguard::daemon {

void RoutingConfig::validate() const {
  if (!enabled) return;
  if (topic.empty()) throw ConfigError("topic", "must name the repartition topic");
  if (partitions < 0) throw ConfigError("partitions", "must be >= 0 (0 = as many as the input topics)");
  if (transaction_interval_ms <= 0) throw ConfigError("transaction_interval_ms", "must be > 0");
}

struct Router::Impl : RdKafka::RebalanceCb {
  KafkaConfig kafka;
  RoutingConfig routing;
  KeyOf key_of;
  ErrorEvents consumer_events, producer_events;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer;
  std::unique_ptr<RdKafka::Producer> producer;
  RouterStats stats;
  bool in_txn = false;
  std::size_t txn_lines = 0;
  std::string failure;  // fatal transaction error

  // Revoked partitions: their lines so far go out with the open transaction first, so that
  // the next owner starts exactly after them.
  void rebalance_cb(RdKafka::KafkaConsumer* c, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& parts) override {
    const bool cooperative = c->rebalance_protocol() == "COOPERATIVE";
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      if (cooperative) delete c->incremental_assign(parts);
      else c->assign(parts);
      return;
    }
    if (in_txn) commit();
    if (cooperative) delete c->incremental_unassign(parts);
    else c->unassign();
  }

  // Seeks every assigned partition back to the group's committed offset (after an abort).
  void rewind() {
    PartitionList l;
    consumer->assignment(l.v);
    if (l.v.empty()) return;
    consumer->committed(l.v, 10000);
    for (auto* tp : l.v) {
      if (tp->offset() < 0) tp->set_offset(RdKafka::Topic::OFFSET_BEGINNING);
      consumer->seek(*tp, 10000);
    }
  }

  void abort() {
    std::unique_ptr<RdKafka::Error> e(producer->abort_transaction(30000));
    if (e && failure.empty()) failure = "router: cannot abort a transaction: " + e->str();
    in_txn = false;
    txn_lines = 0;
    ++stats.aborts;
    rewind();
  }

  // Commits the open transaction with the consumer's positions. On an abortable error the
  // transaction is aborted and the consumer rewound; a fatal one is remembered.
  void commit() {
    if (!in_txn) return;
    PartitionList l;
    consumer->assignment(l.v);
    consumer->position(l.v);
    std::unique_ptr<RdKafka::ConsumerGroupMetadata> md(consumer->groupMetadata());
    for (int attempt = 0; attempt < 3; ++attempt) {
      std::unique_ptr<RdKafka::Error> e(producer->send_offsets_to_transaction(l.v, md.get(), 30000));
      if (!e) e.reset(producer->commit_transaction(30000));
      if (!e) {
        in_txn = false;
        txn_lines = 0;
        ++stats.transactions;
        return;
      }
      if (e->is_retriable()) continue;
      if (e->txn_requires_abort()) return abort();
      if (failure.empty()) failure = "router: transaction failed: " + e->str();
      return;
    }
    abort();
  }
};

Router::Router(const KafkaConfig& kafka, const RoutingConfig& routing, const std::string& bootstrap, KeyOf key_of)
    : impl_(std::make_unique<Impl>()) {
  kafka.validate();
  routing.validate();
  if (kafka.topics.empty()) throw ConfigError("kafka.topics", "must list at least one input topic");
  impl_->kafka = kafka;
  impl_->routing = routing;
  impl_->key_of = std::move(key_of);
  const std::string group = routing.group_id.empty() ? kafka.group_id + "-router" : routing.group_id;

  std::unique_ptr<RdKafka::Conf> cc(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  set_or_throw(*cc, "bootstrap.servers", bootstrap);
  set_or_throw(*cc, "group.id", group);
  set_consumer_defaults(*cc);
  apply(*cc, "kafka.consumer.", kafka.consumer);
  // After the pass-through properties (which suit the scoring consumer): the router's offsets
  // go with its transactions only.
  set_or_throw(*cc, "enable.auto.commit", "false");
  set_cb(*cc, "rebalance_cb", static_cast<RdKafka::RebalanceCb*>(impl_.get()));
  set_cb(*cc, "event_cb", static_cast<RdKafka::EventCb*>(&impl_->consumer_events));
  std::string err;
  impl_->consumer.reset(RdKafka::KafkaConsumer::create(cc.get(), err));
  if (!impl_->consumer) throw ConfigError("kafka.consumer", "router: cannot create consumer: " + err);

  std::unique_ptr<RdKafka::Conf> pc(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  set_or_throw(*pc, "bootstrap.servers", bootstrap);
  // Unique per process: fencing of a stale router is done by the consumer group generation
  // (KIP-447), not by reusing the id.
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  set_or_throw(*pc, "transactional.id", group + "-" + host + "-" + std::to_string(::getpid()));
  set_or_throw(*pc, "linger.ms", "5");
  // A crashed router's open transaction holds back read_committed readers of the partitions
  // it wrote to until the broker aborts it: 10 s instead of librdkafka's 60 s (transactions
  // last transaction_interval_ms).
  set_or_throw(*pc, "transaction.timeout.ms", std::to_string(std::max<std::int64_t>(10000, 20 * routing.transaction_interval_ms)));
  apply(*pc, "kafka.producer.", kafka.producer);
  set_cb(*pc, "event_cb", static_cast<RdKafka::EventCb*>(&impl_->producer_events));
  impl_->producer.reset(RdKafka::Producer::create(pc.get(), err));
  if (!impl_->producer) throw ConfigError("kafka.producer", "router: cannot create producer: " + err);
}

Router::~Router() {
  if (impl_->consumer) impl_->consumer->close();
}

const RouterStats& Router::stats() const noexcept { return impl_->stats; }

void Router::ensure_topic(std::chrono::milliseconds timeout) {
  auto& p = *impl_;
  if (topic_partitions(*p.producer, p.routing.topic, timeout)) return;  // exists
  int parts = p.routing.partitions;
  if (parts == 0) {
    for (const auto& t : p.kafka.topics) {
      auto n = topic_partitions(*p.producer, t, timeout);
      if (!n) throw core::LoadError("kafka.topics: " + n.error().message);
      parts = std::max(parts, *n);
    }
  }
  auto made = create_topic(p.producer->c_ptr(), p.routing.topic, parts, {}, timeout);
  if (!made) throw core::LoadError("routing.topic: cannot create " + p.routing.topic + ": " + made.error().message);
  std::fprintf(stderr, "logguardd: created repartition topic %s with %d partitions\n", p.routing.topic.c_str(), parts);
}

core::Expected<int> ensure_topic(const std::string& bootstrap, const std::map<std::string, std::string>& properties,
                                 const std::string& topic, int partitions,
                                 const std::map<std::string, std::string>& topic_config,
                                 std::chrono::milliseconds timeout) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  set_or_throw(*conf, "bootstrap.servers", bootstrap);
  apply(*conf, "kafka.producer.", properties);
  // The existence probe must not let a broker with auto.create.topics.enable create the
  // topic with its defaults (e.g. not compacted).
  set_or_throw(*conf, "allow.auto.create.topics", "false");
  std::string err;
  std::unique_ptr<RdKafka::Producer> admin(RdKafka::Producer::create(conf.get(), err));
  if (!admin) return core::Error{"cannot create an admin client: " + err};
  if (auto n = topic_partitions(*admin, topic, timeout)) return *n;
  auto made = create_topic(admin->c_ptr(), topic, partitions, topic_config, timeout);
  if (!made) return core::Error{"cannot create topic " + topic + ": " + made.error().message};
  // Metadata of a new topic may take a moment to reach every broker.
  for (int i = 0; i < 50; ++i) {
    if (auto n = topic_partitions(*admin, topic, timeout)) return *n;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return partitions;
}

core::Expected<bool> Router::run(const std::atomic<bool>& stop) {
  auto& p = *impl_;
  {
    std::unique_ptr<RdKafka::Error> e(p.producer->init_transactions(30000));
    if (e) return core::Error{"router: cannot initialise transactions: " + e->str()};
  }
  if (auto e = p.consumer->subscribe(p.kafka.topics); e != RdKafka::ERR_NO_ERROR)
    return core::Error{"router: cannot subscribe: " + RdKafka::err2str(e)};
  std::vector<std::string_view> keys;
  auto txn_start = std::chrono::steady_clock::now();
  const auto interval = std::chrono::milliseconds(p.routing.transaction_interval_ms);
  while (!stop && p.failure.empty()) {
    if (!p.in_txn) {
      std::unique_ptr<RdKafka::Error> e(p.producer->begin_transaction());
      if (e) return core::Error{"router: cannot begin a transaction: " + e->str()};
      p.in_txn = true;
      txn_start = std::chrono::steady_clock::now();
    }
    std::unique_ptr<RdKafka::Message> m(p.consumer->consume(50));
    if (m->err() == RdKafka::ERR_NO_ERROR) {
      const auto* payload = static_cast<const char*>(m->payload());
      const std::string_view line(payload ? payload : "", payload ? m->len() : 0);
      keys.clear();
      p.key_of(line, keys);
      // One copy per distinct session the line names (an HDFS deletion line names several
      // blocks, and each block's session needs it), or one unkeyed copy.
      if (keys.empty()) keys.emplace_back();
      const RdKafka::MessageTimestamp ts = m->timestamp();
      for (std::size_t k = 0; k < keys.size(); ++k) {
        const std::string_view key = keys[k];
        if (std::find(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(k), key) != keys.begin() + static_cast<std::ptrdiff_t>(k))
          continue;
        for (;;) {
          const RdKafka::ErrorCode e = p.producer->produce(
              p.routing.topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
              const_cast<char*>(line.data()), line.size(), key.empty() ? nullptr : key.data(), key.size(),
              ts.type == RdKafka::MessageTimestamp::MSG_TIMESTAMP_NOT_AVAILABLE ? 0 : ts.timestamp, nullptr);
          if (e == RdKafka::ERR__QUEUE_FULL) {
            p.producer->poll(50);
            continue;
          }
          if (e != RdKafka::ERR_NO_ERROR) return core::Error{"router: cannot produce: " + RdKafka::err2str(e)};
          break;
        }
        if (k > 0) ++p.stats.copies;
      }
      ++p.txn_lines;
      ++p.stats.lines;
      if (keys.front().empty()) ++p.stats.unkeyed;
    } else if (m->err() != RdKafka::ERR__TIMED_OUT && m->err() != RdKafka::ERR__PARTITION_EOF) {
      if (m->err() == RdKafka::ERR__FATAL || !p.consumer_events.fatal_error().empty())
        return core::Error{"router: consumer: " + p.consumer_events.fatal_error()};
    }
    // Housekeeping every 256 lines or when the input is quiet (not per line: it showed in profiles).
    if ((p.stats.lines & 255) != 0 && m->err() == RdKafka::ERR_NO_ERROR) continue;
    p.producer->poll(0);
    if (!p.producer_events.fatal_error().empty()) return core::Error{"router: producer: " + p.producer_events.fatal_error()};
    const auto now = std::chrono::steady_clock::now();
    if (now - txn_start >= interval) {
      if (p.txn_lines > 0) p.commit();
      else txn_start = now;
    }
  }
  if (p.failure.empty() && p.in_txn) {
    if (p.txn_lines > 0) p.commit();
    else {
      std::unique_ptr<RdKafka::Error> e(p.producer->abort_transaction(30000));
      p.in_txn = false;
    }
  }
  if (!p.failure.empty()) return core::Error{p.failure};
  p.consumer->close();
  return true;
}

}  // namespace logguard::daemon
