// The routing stage (see router.hpp).
#include "logguard/kafka/router.hpp"

#include <librdkafka/rdkafkacpp.h>

#include <unistd.h>

#include <algorithm>

#include "client.hpp"
#include "logguard/pipeline/log.hpp"

namespace logguard::daemon {

using core::ConfigError;


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
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      assign_partitions(*c, parts);
      return;
    }
    if (in_txn) commit();
    unassign_partitions(*c, parts);
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
  log_info("created repartition topic %s with %d partitions", p.routing.topic.c_str(), parts);
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
