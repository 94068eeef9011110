// KafkaTopicReader, the tools' topic reader (see topic_reader.hpp).
#include "logguard/kafka/topic_reader.hpp"

#include <librdkafka/rdkafkacpp.h>

#include <set>

#include "client.hpp"

namespace logguard::daemon {

using core::ConfigError;

struct KafkaTopicReader::Impl {
  ErrorEvents events;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer;
  int partitions = 0;
  std::set<std::int32_t> at_end;  // partitions at their end (no message since their EOF event)
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
  set_or_throw(*conf, "enable.partition.eof", "true");  // at_end()
  set_cb(*conf, "event_cb", static_cast<RdKafka::EventCb*>(&impl_->events));
  std::string err;
  impl_->consumer.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!impl_->consumer) throw ConfigError("--property", "cannot create consumer: " + err);
  auto n = topic_partitions(*impl_->consumer, topic, timeout);
  if (!n) throw core::LoadError(n.error().message);
  impl_->partitions = *n;
  PartitionList l;
  for (int p = 0; p < *n; ++p) l.v.push_back(RdKafka::TopicPartition::create(topic, p, RdKafka::Topic::OFFSET_BEGINNING));
  const RdKafka::ErrorCode e = impl_->consumer->assign(l.v);
  if (e != RdKafka::ERR_NO_ERROR) throw core::LoadError("topic " + topic + ": cannot assign: " + RdKafka::err2str(e));
}

KafkaTopicReader::~KafkaTopicReader() { impl_->consumer->close(); }

bool KafkaTopicReader::poll(KafkaMessage& out, std::chrono::milliseconds timeout) {
  std::unique_ptr<RdKafka::Message> m(impl_->consumer->consume(static_cast<int>(timeout.count())));
  if (m->err() != RdKafka::ERR_NO_ERROR) {
    if (m->err() == RdKafka::ERR__PARTITION_EOF) impl_->at_end.insert(m->partition());
    if (m->err() != RdKafka::ERR__TIMED_OUT && m->err() != RdKafka::ERR__PARTITION_EOF) ++impl_->events.transient;
    return false;
  }
  impl_->at_end.erase(m->partition());
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

bool KafkaTopicReader::at_end() const noexcept {
  return static_cast<int>(impl_->at_end.size()) >= impl_->partitions;
}

std::string KafkaTopicReader::error() const { return impl_->events.fatal_error(); }

}  // namespace logguard::daemon
