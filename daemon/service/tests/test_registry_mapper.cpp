// BundleMapper with the template registry (issue #6): mappers on two instances adopt each
// other's decisions and pin each other's generalised texts. Runs against the embedded mock
// cluster.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "kafka_test_support.hpp"
#include "logguard/core/sequences.hpp"
#include "logguard/kafka/embedded.hpp"
#include "logguard/kafka/registry.hpp"
#include "logguard/models/bundle.hpp"
#include "logguard/service/bundle_mapper.hpp"
#include "tiny_bundle.hpp"

using namespace logguard;
using namespace logguard::daemon;
using namespace std::chrono_literals;

namespace {

namespace fs = std::filesystem;

const auto& kNormal = testing::kEncNormal;
using testing::rec;

// The tiny encoder bundle (S = 0.5) at a small size: these tests need the plumbing, not accuracy.
std::string tiny_bundle() {
  testing::TinyEncoder small;
  small.hidden = 16;
  small.layers = 1;
  small.heads = 2;
  small.intermediate = 32;
  small.epochs = 2;
  small.variants = 2;
  small.sessions = 10;
  return testing::tiny_encoder_bundle("logguard_registry_bundle", 0.5, small);
}

std::string template_of(BundleMapper& m, const std::string& line) {
  const auto id = m.parser().match(line);
  return id == core::kNoTemplate ? std::string() : std::string(m.parser().template_text(id));
}

}  // namespace

TEST_CASE("mappers on two instances share template texts and mappings through the registry",
          "[integration][kafka_mock][registry][mapper]") {
  const auto dir = tiny_bundle();
  auto holder = std::make_shared<ModelHolder>(dir, models::DetectConfig{});
  REQUIRE(holder->current()->semantic);
  const std::string version = holder->current()->version;

  EmbeddedKafka cluster(1);
  const auto kafka = testing::kafka_config();
  const std::string bootstrap = cluster.bootstrap_servers();
  // Long poll intervals: the test syncs explicitly (sync_registry), so A's own records cannot
  // pin its first template before its second line generalises it.
  cluster.create_topic("reg-test-templates", 1);
  TemplateRegistry ra(testing::registry_config(600000), kafka, bootstrap, "a:1");
  ra.ensure_topic(10s);
  ra.catch_up(10s);
  TemplateRegistry rb(testing::registry_config(600000), kafka, bootstrap, "b:2");
  rb.catch_up(10s);

  BundleMapper a(core::LineParser(core::ParserConfig{}), holder);
  BundleMapper b(core::LineParser(core::ParserConfig{}), holder);
  a.set_registry(&ra);
  b.set_registry(&rb);

  // A's history: two lines of one form; Drain generalises them into one template.
  a.map(rec("Receiving the block from the remote node"));
  const auto id_a = a.map(rec("Receiving the block from the local node"));
  const std::string shared = "Receiving the block from the <*> node";
  REQUIRE(template_of(a, "Receiving the block from the local node") == shared);
  CHECK(a.stats().templates_encoded == 2);
  CHECK(ra.stats().published == 2);
  // Exact bundle templates are not registered.
  CHECK(a.map(rec(kNormal[3])) == 4);
  CHECK(ra.stats().published == 2);
  CHECK(ra.flush(10s) == 0);

  // B's history differs: it has never seen this form.
  CHECK(b.map(rec(kNormal[0])) == 1);
  REQUIRE(testing::eventually([&] { b.sync_registry(); },
                     [&] { return rb.find(core::normalize_template_text(shared), version).has_value(); }));
  CHECK(b.stats().registry_pinned == 1);  // the generalised text; "... remote node" stays free

  // Alone, B's Drain would keep this line whole; the pinned registry text takes it instead.
  core::LineParser alone{core::ParserConfig{}};
  CHECK(alone.parse("Receiving the block from the other node").template_text == "Receiving the block from the other node");
  const auto id_b = b.map(rec("Receiving the block from the other node"));
  CHECK(id_b == id_a);
  CHECK(template_of(b, "Receiving the block from the other node") == shared);
  CHECK(b.stats().templates_encoded == 0);  // adopted, not encoded
  CHECK(b.stats().templates_adopted == 1);
  CHECK(rb.stats().adopted == 1);
  CHECK(rb.stats().published == 0);

  // A restarted instance rebuilds from the topic: pins at its first line, adopts, encodes nothing.
  TemplateRegistry rc(testing::registry_config(600000), kafka, bootstrap, "c:3");
  CHECK(rc.catch_up(10s) == 2);
  BundleMapper c(core::LineParser(core::ParserConfig{}), holder);
  c.set_registry(&rc);
  CHECK(c.map(rec("Receiving the block from the restarted node")) == id_a);
  CHECK(template_of(c, "Receiving the block from the restarted node") == shared);
  CHECK(c.stats().templates_encoded == 0);
  CHECK(c.stats().templates_adopted == 1);

  // A later conflicting decision for the same text and model (say, an instance on another
  // device judged a borderline cosine otherwise) wins on every instance: A follows at its next sync.
  const core::TemplateId other = id_a == 1 ? 2 : 1;
  const auto shared_norm = core::normalize_template_text(shared);
  REQUIRE(rb.publish(shared, version, other, 0.49));
  CHECK(rb.flush(10s) == 0);
  REQUIRE(testing::eventually([&] { a.sync_registry(); }, [&] { return ra.find(shared_norm, version)->bundle_id == other; }));
  CHECK(a.map(rec("Receiving the block from the local node")) == other);
  CHECK(a.stats().templates_encoded == 2);

  // After a reload the registry texts are pinned again (with the bundle's) and the mappings
  // recomputed; the same bundle has the same model version, so they are adopted again.
  REQUIRE(holder->reload());
  CHECK(c.map(rec("Receiving the block from the reloaded node")) == id_a);
  CHECK(template_of(c, "Receiving the block from the reloaded node") == shared);
  CHECK(c.stats().templates_encoded == 0);
  CHECK(c.stats().templates_adopted == 2);
  fs::remove_all(dir);
}
