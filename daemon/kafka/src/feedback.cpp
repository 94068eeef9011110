// The Kafka feedback store (see feedback.hpp): the tools' topic reader following a compacted topic.
#include "logguard/kafka/feedback.hpp"

#include <unordered_set>

#include "logguard/kafka/admin.hpp"
#include "logguard/kafka/topic_reader.hpp"
#include "logguard/pipeline/log.hpp"

namespace logguard::daemon {

std::map<std::string, std::string> feedback_client_properties(const KafkaConfig& kafka) {
  static const std::unordered_set<std::string> skipped = {
      "bootstrap.servers", "metadata.broker.list", "group.id", "group.instance.id", "enable.auto.commit",
      "enable.auto.offset.store", "auto.commit.interval.ms", "auto.offset.reset", "partition.assignment.strategy",
      "session.timeout.ms", "heartbeat.interval.ms", "max.poll.interval.ms", "enable.partition.eof",
      "statistics.interval.ms", "queued.min.messages", "max.partition.fetch.bytes", "group.protocol"};
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : kafka.consumer)
    if (!skipped.count(k)) out.emplace(k, v);
  return out;
}

struct FeedbackFollower::Impl {
  std::string topic, bootstrap;
  std::map<std::string, std::string> props;
  FeedbackBook& book;
  std::unique_ptr<KafkaTopicReader> reader;
  Impl(std::string t, std::string b, std::map<std::string, std::string> p, FeedbackBook& bk)
      : topic(std::move(t)), bootstrap(std::move(b)), props(std::move(p)), book(bk) {}
};

FeedbackFollower::FeedbackFollower(std::string topic, const KafkaConfig& kafka, const std::string& bootstrap,
                                   FeedbackBook& book)
    : impl_(std::make_unique<Impl>(std::move(topic), bootstrap, feedback_client_properties(kafka), book)) {}

FeedbackFollower::~FeedbackFollower() = default;

const std::string& FeedbackFollower::topic() const noexcept { return impl_->topic; }

void FeedbackFollower::ensure_topic(std::chrono::milliseconds timeout) {
  auto props = impl_->props;
  props["allow.auto.create.topics"] = "false";
  auto n = daemon::ensure_topic(impl_->bootstrap, props, impl_->topic, 1, {{"cleanup.policy", "compact"}}, timeout);
  if (!n) throw core::LoadError("feedback.topic: " + n.error().message);
}

std::size_t FeedbackFollower::catch_up(std::chrono::milliseconds timeout) {
  auto& p = *impl_;
  try {
    p.reader = std::make_unique<KafkaTopicReader>(p.bootstrap, p.topic, p.props, timeout);
  } catch (const core::LoadError& e) {
    throw core::LoadError(std::string("feedback.topic: ") + e.what());
  } catch (const core::ConfigError& e) {
    throw core::ConfigError("kafka.consumer", std::string("feedback consumer: ") + e.what());
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t n = 0;
  KafkaMessage m;
  while (!p.reader->at_end()) {
    if (!p.reader->error().empty()) throw core::LoadError("feedback.topic " + p.topic + ": " + p.reader->error());
    if (std::chrono::steady_clock::now() >= deadline)
      throw core::LoadError("feedback.topic " + p.topic + ": not read to its end within " +
                            std::to_string(timeout.count()) + " ms");
    if (!p.reader->poll(m, std::chrono::milliseconds(100))) continue;
    p.book.apply(m.key, m.value);
    ++n;
  }
  return n;
}

std::size_t FeedbackFollower::poll(std::size_t max) noexcept {
  auto& p = *impl_;
  if (!p.reader) return 0;
  std::size_t n = 0;
  try {
    KafkaMessage m;
    while (n < max && p.reader->poll(m, std::chrono::milliseconds(0))) {
      p.book.apply(m.key, m.value);
      ++n;
    }
  } catch (...) {
    // Allocation failure: that record is lost to this instance until a restart reads the
    // topic again.
    log_warning("feedback topic %s: a record could not be applied", p.topic.c_str());
  }
  return n;
}

}  // namespace logguard::daemon
