// The Kafka feedback store (issue #20, feedback.hpp): marks written to a compacted topic are
// read by every instance at start-up (catch_up: a restarted daemon has them again) and while it
// runs (poll); a withdrawal or a tombstone removes a mark. Against the embedded mock cluster.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "kafka_test_support.hpp"
#include "logguard/kafka/embedded.hpp"
#include "logguard/kafka/feedback.hpp"
#include "logguard/kafka/producer.hpp"

using namespace logguard;
using namespace logguard::daemon;
using namespace std::chrono_literals;
using testing::eventually;

namespace {

FeedbackRecord mark(FeedbackVerdict v, const std::string& pattern) {
  FeedbackRecord r;
  r.verdict = v;
  r.stream = "hdfs";
  r.pattern = pattern;
  r.window = {"a <*>", "b <*>"};
  return r;
}

void produce(KafkaProducer& p, const std::string& topic, const FeedbackRecord& r) {
  REQUIRE(p.produce(topic, feedback_key(r.stream, r.pattern), encode_feedback(r)));
}

}  // namespace

TEST_CASE("every instance follows the feedback topic and a restarted one reads it again", "[kafka_mock][feedback]") {
  EmbeddedKafka kafka(1);
  const std::string topic = "grp-feedback";
  KafkaConfig k;
  k.group_id = "grp";
  FeedbackBook a_book, b_book;
  FeedbackFollower a(topic, k, kafka.bootstrap_servers(), a_book);
  a.ensure_topic(10s);
  KafkaProducer producer(kafka.bootstrap_servers(), {});
  produce(producer, topic, mark(FeedbackVerdict::false_alarm, "aaaaaaaaaaaaaaaa"));
  produce(producer, topic, mark(FeedbackVerdict::confirmed, "bbbbbbbbbbbbbbbb"));
  REQUIRE(producer.flush(10s) == 0);
  CHECK(a.catch_up(20s) == 2);
  CHECK(a_book.suppresses("hdfs", "aaaaaaaaaaaaaaaa"));
  CHECK(a_book.verdict("hdfs", "bbbbbbbbbbbbbbbb") == FeedbackVerdict::confirmed);
  // Marks that arrive while running: every instance sees them.
  FeedbackFollower b(topic, k, kafka.bootstrap_servers(), b_book);
  CHECK(b.catch_up(20s) == 2);
  produce(producer, topic, mark(FeedbackVerdict::withdrawn, "aaaaaaaaaaaaaaaa"));
  REQUIRE(producer.flush(10s) == 0);
  CHECK(eventually([&] { a.poll(); }, [&] { return !a_book.suppresses("hdfs", "aaaaaaaaaaaaaaaa"); }));
  CHECK(eventually([&] { b.poll(); }, [&] { return !b_book.suppresses("hdfs", "aaaaaaaaaaaaaaaa"); }));
  // A tombstone removes a mark; malformed records are counted and skipped.
  REQUIRE(producer.produce(topic, feedback_key("hdfs", "bbbbbbbbbbbbbbbb"), ""));
  REQUIRE(producer.produce(topic, "junk", "{not json"));
  REQUIRE(producer.flush(10s) == 0);
  CHECK(eventually([&] { a.poll(); }, [&] { return a_book.marks().empty() && a_book.stats().malformed == 1; }));
  // A restarted instance reads the whole topic again and ends with the same marks.
  FeedbackBook c_book;
  FeedbackFollower c(topic, k, kafka.bootstrap_servers(), c_book);
  CHECK(c.catch_up(20s) == 5);
  CHECK(c_book.marks().empty());
}
