// EmbeddedKafka (see embedded.hpp).
#include "logguard/kafka/embedded.hpp"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "logguard/core/error.hpp"

namespace logguard::daemon {

using core::ConfigError;

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

}  // namespace logguard::daemon
