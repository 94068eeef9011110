// KafkaSource (see source.hpp).
#include "logguard/kafka/source.hpp"

#include <librdkafka/rdkafkacpp.h>

#include <algorithm>

#include "client.hpp"

namespace logguard::daemon {

using core::ConfigError;

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
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      if (on_assign && !parts.empty()) {
        // Start where the handed-over state ends (the rest at the committed offsets).
        for (const auto& start : on_assign(convert(parts)))
          for (auto* p : parts)
            if (p->topic() == start.tp.topic && p->partition() == start.tp.partition) p->set_offset(start.offset);
      }
      assign_partitions(*c, parts);
      if (paused) c->pause(parts);
      return;
    }
    if (err == RdKafka::ERR__REVOKE_PARTITIONS) {
      auto tps = convert(parts);
      if (on_revoke) on_revoke(tps);  // the pipeline stores its final offsets here
      c->commitSync();                // commits stored offsets; "no offset" is fine
      revoked.insert(revoked.end(), tps.begin(), tps.end());
      revoked_in_poll.insert(revoked_in_poll.end(), tps.begin(), tps.end());
      unassign_partitions(*c, parts);
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

}  // namespace logguard::daemon
