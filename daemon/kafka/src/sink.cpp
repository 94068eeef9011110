// KafkaSink (see sink.hpp).
#include "logguard/kafka/sink.hpp"

#include <librdkafka/rdkafkacpp.h>

#include "client.hpp"

namespace logguard::daemon {

using core::ConfigError;

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

core::Expected<int> KafkaSink::check_topic(std::chrono::milliseconds timeout) {
  return topic_partitions(*impl_->producer, impl_->topic, timeout);
}

}  // namespace logguard::daemon
