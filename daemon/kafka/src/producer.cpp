// KafkaProducer, the tools' producer (see producer.hpp).
#include "logguard/kafka/producer.hpp"

#include <librdkafka/rdkafkacpp.h>

#include <mutex>

#include "client.hpp"

namespace logguard::daemon {

using core::ConfigError;

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

}  // namespace logguard::daemon
