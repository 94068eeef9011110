// The template registry on a compacted Kafka topic (issue #6, registry.hpp): instances share
// template texts and mapping decisions through it, and a late instance rebuilds the set with
// catch_up(). Runs against the embedded mock cluster (or LOGGUARD_TEST_BROKERS where a case
// says so). BundleMapper's use of the registry: service/tests/test_registry_mapper.cpp.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "logguard/core/error.hpp"
#include "logguard/core/sequences.hpp"
#include "kafka_test_support.hpp"
#include "logguard/kafka/embedded.hpp"
#include "logguard/kafka/producer.hpp"
#include "logguard/kafka/registry.hpp"

using namespace logguard;
using namespace logguard::daemon;
using namespace std::chrono_literals;
using testing::eventually;
using testing::kafka_config;
using testing::registry_config;


TEST_CASE("registry config: default topic and validation", "[unit][daemon][registry][config]") {
  RegistryConfig c = registry_config();
  CHECK(c.effective_topic("grp") == "grp-templates");
  c.topic = "shared-templates";
  CHECK(c.effective_topic("grp") == "shared-templates");
  c.validate();
  c.poll_interval_ms = 0;
  try {
    c.validate();
    FAIL("expected a ConfigError");
  } catch (const core::ConfigError& e) {
    CHECK(e.key() == "poll_interval_ms");
  }
  c.poll_interval_ms = 200;
  c.topic = "bad topic/name";
  try {
    c.validate();
    FAIL("expected a ConfigError");
  } catch (const core::ConfigError& e) {
    CHECK(e.key() == "topic");
  }
  c.enabled = false;
  c.validate();  // a disabled section is not checked
}

TEST_CASE("registry records are versioned, content-addressed and validated", "[unit][daemon][registry]") {
  const std::string text = "Receiving the block from the <*> node";
  const auto norm = core::normalize_template_text(text);
  const auto j = nlohmann::json::parse(encode_registry_record(text, "msmass-0badcafe", 3, 0.875, "host:1"));
  CHECK(j["v"] == 1);
  CHECK(j["id"] == registry_id_hex(registry_id(norm)));
  CHECK(j["id"].get<std::string>().size() == 16);
  CHECK(j["text"] == text);
  CHECK(j["bundle_id"] == 3);
  CHECK(j["similarity"] == Approx(0.875));
  CHECK(j["model"] == "msmass-0badcafe");
  CHECK(j["origin"] == "host:1");
  CHECK(registry_key("msmass-0badcafe", norm) == "msmass-0badcafe|" + norm);
  // Same normalized text -> same id, whatever the punctuation and case.
  CHECK(registry_id(core::normalize_template_text("receiving THE block, from the <*> node.")) == registry_id(norm));
}

TEST_CASE("two registries on one topic share entries and a late one rebuilds them with catch_up",
          "[integration][kafka_mock][registry]") {
  EmbeddedKafka cluster(1);
  const auto kafka = kafka_config();
  const std::string bootstrap = cluster.bootstrap_servers();
  // The mock cluster creates any topic a metadata request names (4 partitions), so
  // ensure_topic()'s CreateTopics path (1 partition, compacted) cannot be exercised here: the
  // topic is made as a real deployment's would be.
  cluster.create_topic("reg-test-templates", 1);
  TemplateRegistry a(registry_config(), kafka, bootstrap, "a:1");
  CHECK(a.topic() == "reg-test-templates");
  a.ensure_topic(10s);  // exists: a no-op
  TemplateRegistry b(registry_config(), kafka, bootstrap, "b:2");
  CHECK(a.catch_up(10s) == 0);
  CHECK(b.catch_up(10s) == 0);

  const std::string text = "Receiving the block from the <*> node";
  const auto norm = core::normalize_template_text(text);
  const std::string m1 = "msmass-00000001", m2 = "msmass-00000002";

  REQUIRE(a.publish(text, m1, 1, 0.93));
  CHECK_FALSE(a.publish(text, m1, 1, 0.93));  // once per (text, model) per instance
  REQUIRE(a.find(norm, m1));                  // local at once
  CHECK(a.flush(10s) == 0);
  CHECK(a.stats().published == 1);

  std::vector<RegistryUpdate> ups;
  REQUIRE(eventually([&] { b.poll(&ups); }, [&] { return b.find(norm, m1).has_value(); }));
  const auto hb = *b.find(norm, m1), ha = *a.find(norm, m1);
  CHECK(hb.bundle_id == 1);
  CHECK(hb.id == ha.id);
  CHECK(hb.id == registry_id(norm));
  CHECK(hb.similarity == Approx(0.93));
  REQUIRE(ups.size() == 1);
  CHECK(ups[0].text == text);
  CHECK(ups[0].model == m1);
  CHECK(ups[0].new_text);
  CHECK(ups[0].decision_changed);
  CHECK_FALSE(b.find(norm, m2));

  // A reads its own record back: nothing changes for it.
  std::vector<RegistryUpdate> own;
  REQUIRE(eventually([&] { a.poll(&own); }, [&] { return a.stats().received == 1; }));
  CHECK(own.empty());

  // A conflicting decision published later wins everywhere (as compaction keeps it).
  REQUIRE(b.publish(text, m1, 2, 0.51));
  CHECK(b.find(norm, m1)->bundle_id == 2);
  REQUIRE(eventually([&] { a.poll(&own); }, [&] { return a.find(norm, m1)->bundle_id == 2; }));
  REQUIRE(own.size() == 1);
  CHECK_FALSE(own[0].new_text);
  CHECK(own[0].decision_changed);

  // Another model's decision for the same text lives beside it.
  REQUIRE(a.publish(text, m2, 0, 0.2));
  REQUIRE(a.publish("Deleting block file from the data <*> now", m1, 3, 0.8));
  CHECK(a.flush(10s) == 0);
  REQUIRE(eventually([&] { b.poll(); }, [&] { return b.stats().received == 4; }));
  CHECK(b.find(norm, m1)->bundle_id == 2);
  CHECK(b.find(norm, m2)->bundle_id == 0);
  CHECK(b.entries() == 2);
  CHECK(b.flush(10s) == 0);

  // A third instance started later rebuilds the whole set from the topic.
  TemplateRegistry c(registry_config(), kafka, bootstrap, "c:3");
  c.ensure_topic(10s);
  CHECK(c.catch_up(10s) == 4);
  CHECK(c.entries() == 2);
  CHECK(c.find(norm, m1)->bundle_id == 2);
  CHECK(c.find(norm, m2)->bundle_id == 0);
  CHECK(c.find(core::normalize_template_text("Deleting block file from the data <*> now"), m1)->bundle_id == 3);
  auto texts = c.texts();
  std::sort(texts.begin(), texts.end());
  CHECK(texts == std::vector<std::string>{"Deleting block file from the data <*> now", text});
  CHECK(c.stats().malformed == 0);
  CHECK(c.stats().received == 4);
}

TEST_CASE("malformed registry records are counted and skipped", "[integration][kafka_mock][registry]") {
  EmbeddedKafka cluster(1);
  const auto kafka = kafka_config();
  const std::string topic = "reg-test-templates";
  cluster.create_topic(topic, 1);
  const std::string text = "PacketResponder <*> for block is terminating";
  const auto norm = core::normalize_template_text(text);
  const std::string model = "msmass-00000001";
  const std::string good = encode_registry_record(text, model, 2, 0.9, "x:1");
  auto with = [&](const char* field, nlohmann::json v) {
    auto j = nlohmann::json::parse(good);
    j[field] = std::move(v);
    return j.dump();
  };
  {
    KafkaProducer p(cluster.bootstrap_servers(), {});
    const std::string key = registry_key(model, norm);
    REQUIRE(p.produce(topic, key, "not json"));
    REQUIRE(p.produce(topic, key, "[1,2]"));
    REQUIRE(p.produce(topic, key, with("v", 2)));                   // unknown version
    REQUIRE(p.produce(topic, key, with("id", "0000000000000000")));  // id does not match the text
    REQUIRE(p.produce(topic, key, with("bundle_id", -1)));
    REQUIRE(p.produce(topic, key, with("similarity", "high")));
    REQUIRE(p.produce(topic, registry_key("msmass-00000002", norm), good));  // key does not match
    REQUIRE(p.produce(topic, "", good));                                       // no key
    REQUIRE(p.produce(topic, key, good));
    CHECK(p.flush(10s) == 0);
    CHECK(p.failed() == 0);
  }
  TemplateRegistry r(registry_config(), kafka, cluster.bootstrap_servers(), "r:1");
  CHECK(r.catch_up(10s) == 9);
  CHECK(r.stats().malformed == 8);
  CHECK(r.stats().received == 1);
  CHECK(r.entries() == 1);
  REQUIRE(r.find(norm, model));
  CHECK(r.find(norm, model)->bundle_id == 2);

  // In steady state too.
  {
    KafkaProducer p(cluster.bootstrap_servers(), {});
    REQUIRE(p.produce(topic, "k", "{\"v\":1}"));
    CHECK(p.flush(10s) == 0);
  }
  REQUIRE(eventually([&] { r.poll(); }, [&] { return r.stats().malformed == 9; }));
  CHECK(r.entries() == 1);
}

TEST_CASE("catch_up fails fast naming registry.topic when no broker answers", "[unit][daemon][registry]") {
  TemplateRegistry r(registry_config(), kafka_config(), "127.0.0.1:1", "r:1");
  try {
    r.catch_up(500ms);
    FAIL("expected a LoadError");
  } catch (const core::LoadError& e) {
    CHECK_THAT(e.what(), Catch::Contains("registry.topic") && Catch::Contains("reg-test-templates"));
  }
  KafkaConfig bad = kafka_config();
  bad.producer["no.such.property"] = "1";
  try {
    TemplateRegistry x(registry_config(), bad, "127.0.0.1:1");
    FAIL("expected a ConfigError");
  } catch (const core::ConfigError& e) {
    CHECK(e.key() == "kafka.producer.no.such.property");
  }
}

TEST_CASE("the registry topic is created compacted with one partition on a real broker",
          "[integration][kafka_mock][registry][real_broker]") {
  // LOGGUARD_TEST_BROKERS: a real broker, where ensure_topic() creates the topic (the mock
  // cluster auto-creates any topic a metadata request names, so there it is made beforehand).
  const char* real = std::getenv("LOGGUARD_TEST_BROKERS");
  std::unique_ptr<EmbeddedKafka> cluster;
  KafkaConfig kafka = kafka_config();
  kafka.group_id = "reg-it-" + std::to_string(::getpid()) + "-" +
                   std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000);
  if (!real) {
    cluster = std::make_unique<EmbeddedKafka>(1);
    cluster->create_topic(kafka.group_id + "-templates", 1);
  }
  const std::string bs = real ? real : cluster->bootstrap_servers();
  TemplateRegistry a(registry_config(), kafka, bs, "a:1");
  a.ensure_topic(30s);
  {
    KafkaProducer probe(bs, {{"allow.auto.create.topics", "false"}});
    const auto parts = probe.partitions(a.topic(), 10s);
    REQUIRE(parts);
    CHECK(*parts == 1);
  }
  CHECK(a.catch_up(30s) == 0);
  const std::string model = "msmass-00000001";
  for (int i = 0; i < 20; ++i)
    REQUIRE(a.publish("Template " + std::to_string(i) + " of <*> kind", model, static_cast<std::uint32_t>(i % 5), 0.9));
  CHECK(a.flush(30s) == 0);
  CHECK(a.stats().delivery_failures == 0);
  TemplateRegistry b(registry_config(), kafka, bs, "b:2");
  b.ensure_topic(30s);  // exists
  CHECK(b.catch_up(30s) == 20);
  CHECK(b.entries() == 20);
  for (int i = 0; i < 20; ++i) {
    const auto hit = b.find(core::normalize_template_text("Template " + std::to_string(i) + " of <*> kind"), model);
    REQUIRE(hit);
    CHECK(hit->bundle_id == static_cast<std::uint32_t>(i % 5));
  }
  CHECK(b.stats().malformed == 0);
}
