// Topic administration: metadata, topic creation (see admin.hpp and client.hpp).
#include "logguard/kafka/admin.hpp"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include <memory>
#include <thread>

#include "client.hpp"

namespace logguard::daemon {

using core::ConfigError;

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

}  // namespace logguard::daemon
