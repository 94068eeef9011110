// Template encoder: WordPiece tokenizer, safetensors reader, BERT save/load, parity with an
// independent numpy reference (skipped without scripts/fetch-models), contrastive
// fine-tuning of a from-scratch encoder, threshold choice, mapping, and bundles with an encoder.
// LibTorch (via bert.hpp) defines a glog-style CHECK; include it before Catch2.
#include "bert.hpp"  // NOLINT(llvm-include-order)

#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "logguard/core/error.hpp"
#include "logguard/models/bundle.hpp"
#include "logguard/models/encoder.hpp"
#include "logguard/models/template_mapper.hpp"
#include "logguard/models/trainer.hpp"
#include "safetensors.hpp"

using namespace logguard;
using namespace logguard::models;
namespace md = logguard::models::detail;
namespace fs = std::filesystem;

namespace {

fs::path tmp(const std::string& name) {
  auto p = fs::temp_directory_path() / ("logguard_encoder_test_" + name + "-" + std::to_string(::getpid()));  // per process (parallel CTest)
  fs::remove_all(p);
  static struct Cleanup {  // the process's directories go when it exits
    std::vector<fs::path> dirs;
    ~Cleanup() {
      std::error_code ec;
      for (const auto& d : dirs) fs::remove_all(d, ec);
    }
  } cleanup;
  cleanup.dirs.push_back(p);
  return p;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void spit(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::binary | std::ios::trunc) << s; }

const fs::path kMiniLm = fs::path(LOGGUARD_SOURCE_DIR) / "models-cache" / "all-MiniLM-L6-v2";
bool have_minilm() { return fs::exists(kMiniLm / "model.safetensors") && fs::exists(kMiniLm / "vocab.txt"); }

WordPieceTokenizer small_tokenizer() {
  return WordPieceTokenizer({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##aff", "##able", "block", "receiving", ",",
                             "!", "want", "##ed", "wa", "run", "##ning", "."});
}

// Normal HDFS-like templates, their co-occurring partner, and abnormal ones.
const std::vector<std::string> kNormal = {
    "Receiving block <*> src: <*> dest: <*>",
    "Received block <*> of size <*> from <*>",
    "PacketResponder <*> for block <*> terminating",
    "BLOCK* NameSystem.allocateBlock: <*> <*>",
    "Deleting block <*> file <*>",
    "Verification succeeded for <*>",
};
const std::vector<std::string> kAbnormal = {
    "Exception in receiveBlock for block <*> <*>",
    "writeBlock <*> received exception <*>",
    "Unexpected error trying to delete block <*>. BlockInfo not found in volumeMap.",
};

EncoderConfig tiny_encoder_config() {
  EncoderConfig c;
  c.scratch_hidden = 32;
  c.scratch_layers = 2;
  c.scratch_heads = 4;
  c.scratch_intermediate = 64;
  c.epochs = 6;
  c.learning_rate = 1e-3;
  c.batch_size = 6;
  c.variants = 4;
  c.train_layers = 0;
  c.tau = 0.1;
  c.seed = 3;
  return c;
}

}  // namespace

TEST_CASE("basic tokenization lower-cases, strips accents and splits punctuation", "[models][tokenizer]") {
  const auto t = small_tokenizer();
  CHECK(t.basic_tokens("Hello,  WORLD!") == std::vector<std::string>{"hello", ",", "world", "!"});
  CHECK(t.basic_tokens("naïve Café\tü") == std::vector<std::string>{"naive", "cafe", "u"});
  CHECK(t.basic_tokens("a.b:c/d") == std::vector<std::string>{"a", ".", "b", ":", "c", "/", "d"});
  CHECK(t.basic_tokens("x\x01y") == std::vector<std::string>{"xy"});
  CHECK(t.basic_tokens("日本") == std::vector<std::string>{"日", "本"});
  CHECK(t.basic_tokens("").empty());
}

TEST_CASE("WordPiece: greedy longest match, [UNK], [CLS]/[SEP] and truncation", "[models][tokenizer]") {
  const auto t = small_tokenizer();
  CHECK(t.tokenize("unaffable") == std::vector<std::string>{"un", "##aff", "##able"});
  CHECK(t.tokenize("Wanted running!") == std::vector<std::string>{"want", "##ed", "run", "##ning", "!"});
  CHECK(t.tokenize("unwanted") == std::vector<std::string>{"[UNK]"});  // "##want" absent
  CHECK(t.tokenize(std::string(101, 'a')) == std::vector<std::string>{"[UNK]"});
  const auto ids = t.encode("receiving block, block", 64);
  CHECK(ids == std::vector<std::int64_t>{2, 8, 7, 9, 7, 3});
  const auto cut = t.encode("receiving block, block", 4);
  CHECK(cut == std::vector<std::int64_t>{2, 8, 7, 3});
  CHECK_THROWS_AS(WordPieceTokenizer({"[PAD]", "[CLS]"}), core::LoadError);
}

TEST_CASE("encoder text drops wildcards", "[models][tokenizer]") {
  CHECK(encoder_text("<*>Adding an  already existing block<*>") == "Adding an already existing block");
  CHECK(encoder_text("a <*> b <*>") == "a b");
}

TEST_CASE("safetensors round trip and corrupt files name the file", "[models][safetensors]") {
  const auto dir = tmp("st");
  fs::create_directories(dir);
  const auto p = (dir / "w.safetensors").string();
  md::write_safetensors(p, {{"b", {3}, {1, 2, 3}}, {"a", {2, 2}, {4, 5, 6, 7}}});
  const auto f = md::read_safetensors(p);
  REQUIRE(f.tensors.size() == 2);
  CHECK(f.tensors.at("a").shape == std::vector<std::int64_t>{2, 2});
  CHECK(f.f32("a") == std::vector<float>{4, 5, 6, 7});
  CHECK(f.f32("b") == std::vector<float>{1, 2, 3});
  CHECK_THROWS_WITH(f.f32("c"), Catch::Contains(p) && Catch::Contains("missing tensor `c`"));

  const auto good = slurp(p);
  std::uint64_t n = 0;
  std::memcpy(&n, good.data(), 8);
  auto expect_bad = [&](const std::string& bytes, const std::string& why) {
    spit(p, bytes);
    CHECK_THROWS_WITH(md::read_safetensors(p), Catch::Contains(p) && Catch::Contains(why));
  };
  expect_bad(good.substr(0, 5), "truncated");
  expect_bad(good.substr(0, good.size() - 4), "outside the data area");
  expect_bad(good.substr(0, 8 + n / 2), "exceeds the file size");
  std::string bad_json = good;
  bad_json[8] = '[';
  expect_bad(bad_json, "JSON");
  std::string wrong_shape = good;
  const auto pos = wrong_shape.find("[2,2]");
  REQUIRE(pos != std::string::npos);
  wrong_shape.replace(pos, 5, "[2,3]");
  expect_bad(wrong_shape, "shape needs");
  std::string bad_dtype = good;
  bad_dtype.replace(bad_dtype.find("F32"), 3, "Q32");
  expect_bad(bad_dtype, "unknown dtype");
  CHECK_THROWS_WITH(md::read_safetensors((dir / "absent").string()), Catch::Contains("absent"));
}

TEST_CASE("a from-scratch encoder saves and loads to identical embeddings", "[models][encoder]") {
  auto c = tiny_encoder_config();
  auto enc = TemplateEncoder::from_scratch(c, kNormal);
  const auto dir = tmp("roundtrip").string();
  enc.save(dir);
  auto back = TemplateEncoder::from_pretrained(dir);
  CHECK(back.dim() == enc.dim());
  CHECK(back.max_length() == enc.max_length());
  const auto a = enc.encode(kNormal), b = back.encode(kNormal);
  REQUIRE(a.values.size() == b.values.size());
  CHECK(a.values == b.values);
  for (std::size_t r = 0; r < a.rows; ++r) {
    double norm = 0;
    for (int i = 0; i < a.dim; ++i) norm += a.row(r)[i] * a.row(r)[i];
    CHECK(norm == Approx(1.0).epsilon(1e-4));
  }
  // A config.json whose shape disagrees with the weights fails naming the weights file.
  auto cfg = slurp(fs::path(dir) / "config.json");
  cfg.replace(cfg.find("\"intermediate_size\": 64"), 23, "\"intermediate_size\": 65");
  spit(fs::path(dir) / "config.json", cfg);
  CHECK_THROWS_WITH(TemplateEncoder::from_pretrained(dir),
                    Catch::Contains("model.safetensors") && Catch::Contains("config.json expects"));
  fs::remove(fs::path(dir) / "vocab.txt");
  CHECK_THROWS_WITH(TemplateEncoder::from_pretrained(dir), Catch::Contains("vocab.txt"));
}

TEST_CASE("co-occurring templates come from session neighbourhoods", "[models][encoder]") {
  const std::vector<std::vector<std::uint32_t>> sessions = {{1, 2, 3, 1, 2}, {1, 2, 9}, {4}};
  const auto rel = cooccurring_templates(sessions, {1, 2, 3, 4}, 1);
  CHECK(rel == std::vector<int>{1, 0, 0, -1});  // ties: the lower index
}

TEST_CASE("with one labelled abnormal template, normal negatives keep the normal templates apart",
          "[models][encoder][train]") {
  // Pushed only away from one abnormal template, the normal templates move together; with the
  // other normal templates as negatives too (model.encoder.normal_negatives, the default) they
  // stay apart, so a new message of the system is less likely to land on one of them.
  const std::vector<int> related{1, 0, 0, 4, 3, 2};
  auto mean_sibling_cosine = [&](bool normal_negatives) {
    auto c = tiny_encoder_config();
    c.normal_negatives = normal_negatives;
    auto enc = TemplateEncoder::from_scratch(c, kNormal);
    const auto r = fine_tune(enc, ContrastiveData{kNormal, related, {kAbnormal[0]}}, c, basic_noise(0.15, 0.15, 0.0));
    CHECK(r.negatives == (normal_negatives ? "abnormal+normal" : "abnormal"));
    const auto sim = similarity_matrix(enc, kNormal);
    const std::size_t n = kNormal.size();
    double sum = 0;
    int pairs = 0;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j)
        if (i != j && related[i] != static_cast<int>(j) && related[j] != static_cast<int>(i)) {
          sum += sim[i * n + j];
          ++pairs;
        }
    return sum / pairs;
  };
  const double with = mean_sibling_cosine(true), without = mean_sibling_cosine(false);
  INFO("mean cosine between unrelated normal templates: with normal negatives " << with << ", without " << without);
  CHECK(with < without);
}

TEST_CASE("contrastive fine-tuning maps noisy variants to their template and keeps abnormal ones out",
          "[models][encoder][train]") {
  auto c = tiny_encoder_config();
  auto enc = TemplateEncoder::from_scratch(c, kNormal);
  const auto train_noise = basic_noise(0.15, 0.15, 0.0);
  ContrastiveData data{kNormal, {1, 0, 0, 4, 3, 2}, kAbnormal};
  std::vector<double> losses;
  const auto r = fine_tune(enc, data, c, train_noise, [&](const FineTuneEpoch& e) { losses.push_back(e.loss); });
  CHECK(r.negatives == (c.normal_negatives ? "abnormal+normal" : "abnormal"));
  CHECK(r.epochs == c.epochs);
  REQUIRE(losses.size() == static_cast<std::size_t>(c.epochs));
  CHECK(losses.back() < losses.front());

  const auto eval_noise = basic_noise(0.1, 0.1, 0.1);  // other seeds, adds swaps
  const std::vector<int> related{1, 0, 0, 4, 3, 2};  // the pairs fine-tuning pulled together
  const auto choice = choose_threshold(enc, kNormal, kAbnormal, eval_noise, 10, 99, &related);
  INFO("S=" << choice.threshold << " acc=" << choice.normal_accuracy << " rej=" << choice.abnormal_rejected
               << " siblings=" << choice.siblings_rejected);
  CHECK(choice.method == "balanced");
  CHECK(choice.abnormal_rejected == 1.0);
  CHECK(choice.sibling_templates <= kNormal.size());
  CHECK(choice.threshold >= choice.quantile_threshold);
  // A labelled abnormal template far from every normal one leaves a wide interval; its middle
  // would lie below what the rewordings need. Negatives only ever raise S.
  const auto far = choose_threshold(enc, kNormal, {"zq 0x7f qqq vvv 9981"}, eval_noise, 10, 99);
  INFO("far S=" << far.threshold << " quantile=" << far.quantile_threshold);
  CHECK(far.method == "balanced");
  CHECK(far.threshold >= far.quantile_threshold);
  // An abnormal verdict by similarity never needs less than S.
  CHECK(choice.abnormal_threshold >= choice.threshold);
  CHECK(far.abnormal_threshold >= far.threshold);

  // Without labels the negatives are the other normal templates (leave one out, the related
  // pairs excepted): S is chosen where variants mapped right plus siblings kept below S is
  // largest. Without the related pairs, the pairs fine-tuning pulled together count too.
  const auto sim = similarity_matrix(enc, kNormal);
  const std::size_t n = kNormal.size();
  auto siblings = [&](bool skip_related) {
    std::vector<float> sib(n, -2.0f);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j)
        if (i != j && !(skip_related && (related[i] == static_cast<int>(j) || related[j] == static_cast<int>(i))))
          sib[i] = std::max(sib[i], sim[i * n + j]);
    return sib;
  };
  auto count_below = [&](const std::vector<float>& sib, float S) {
    return static_cast<double>(std::count_if(sib.begin(), sib.end(), [&](float x) { return x < S; }));
  };
  for (const bool with_related : {true, false}) {
    const std::vector<int> none;
    const auto loo = choose_threshold(enc, kNormal, {}, eval_noise, 10, 99, with_related ? &related : &none);
    INFO("related " << with_related << " S=" << loo.threshold << " acc=" << loo.normal_accuracy);
    CHECK(loo.method == "balanced-siblings");
    CHECK(loo.abnormal_templates == 0);
    CHECK(loo.abnormal_rejected == 1.0);
    // Siblings nearer than the median right variant are left out; S stays below that median,
    // so every sibling below S is one of the negatives.
    CHECK(loo.sibling_templates <= n);
    CHECK(loo.siblings_rejected * static_cast<double>(loo.sibling_templates) ==
          Approx(count_below(siblings(with_related), loo.threshold)));
    // Never worse than S = -1 (every variant, no sibling) or S = 1 (no variant, every sibling).
    CHECK(loo.normal_accuracy + loo.siblings_rejected >= 1.0);
  }
  CHECK(choose_threshold(enc, kNormal, {}, eval_noise, 10, 99, &related).threshold ==
        choose_threshold(enc, kNormal, {}, eval_noise, 10, 99, &related).threshold);  // seeded
  CHECK(choose_threshold(enc, {kNormal[0]}, {}, eval_noise, 10, 99, &related).method == "normal-quantile");
  // Without siblings (model.encoder.sibling_negatives: false, the default) and without labels:
  // the normal-quantile rule, which is also the tentative band's floor.
  const auto plain = choose_threshold(enc, kNormal, {}, eval_noise, 10, 99);
  CHECK(plain.method == "normal-quantile");
  CHECK(plain.sibling_templates == 0);
  CHECK(plain.threshold == Approx(plain.quantile_threshold));
  CHECK(plain.abnormal_threshold == plain.threshold);  // no labelled template: nothing stricter

  std::vector<core::TemplateEntry> index;
  for (std::size_t i = 0; i < kNormal.size(); ++i) index.push_back({static_cast<std::uint32_t>(10 + i), kNormal[i]});
  // This toy encoder keeps its six templates close together (siblings ~0.96), so the chosen S
  // is high; the mapping itself is checked just above the abnormal templates' best cosine.
  float s_abnormal = -1;
  {
    const auto ae = enc.encode(kAbnormal), ne = enc.encode(kNormal);
    for (std::size_t a = 0; a < kAbnormal.size(); ++a)
      for (std::size_t i = 0; i < n; ++i) {
        float dotp = 0;
        for (int k = 0; k < enc.dim(); ++k) dotp += ae.row(a)[k] * ne.row(i)[k];
        s_abnormal = std::max(s_abnormal, dotp);
      }
  }
  const auto shared = std::make_shared<const TemplateEncoder>(std::move(enc));
  TemplateMapper mapper(shared, index, {}, s_abnormal + 1e-3f);
  const auto m = mapper.map("Receiving the block <*> src: <*> dest: <*>");
  CHECK(m.verdict == MapVerdict::known);
  CHECK(m.template_id == 10);
  CHECK(mapper.map(kNormal[2]).template_id == 12);
  CHECK(mapper.cache_size() == 2);
  mapper.forget(kNormal[2]);
  CHECK(mapper.cache_size() == 1);
  for (const auto& a : kAbnormal) CHECK(mapper.map(a).verdict != MapVerdict::known);

  // The tentative band [tentative_threshold, S): the nearest template, flagged for the scorer
  // to judge in context; without a band (tentative_threshold >= S) the same text is unknown.
  const std::string variant = "Receiving the block <*> src: <*> dest: <*>";
  TemplateMapper strict(shared, index, {}, 0.9999f, {}, true, -1.0f);
  const auto t = strict.map(variant);
  CHECK(t.verdict == MapVerdict::tentative);
  CHECK(t.template_id == t.nearest_id);
  CHECK(t.nearest_similarity < 0.9999f);
  CHECK(strict.map(kNormal[2]).verdict == MapVerdict::known);
  CHECK(std::string(to_string(MapVerdict::tentative)) == "tentative");
  TemplateMapper no_band(shared, index, {}, 0.9999f);
  CHECK(no_band.tentative_threshold() == Approx(0.9999f));
  CHECK(no_band.map(variant).verdict == MapVerdict::unknown);
}

TEST_CASE("hard negatives join the anchor's negatives and need a generator", "[models][encoder][train]") {
  auto c = tiny_encoder_config();
  c.epochs = 2;
  c.hard_negatives = 3;
  auto enc = TemplateEncoder::from_scratch(c, kNormal);
  ContrastiveData data{kNormal, {}, {}, {}};
  CHECK_THROWS_WITH(fine_tune(enc, data, c, basic_noise(0.15, 0.15, 0.0)), Catch::Contains("model.encoder.hard_negatives"));
  std::size_t calls = 0;
  data.hard_negative = [&](const std::string& t, std::uint64_t) {
    ++calls;
    return t + " corrupted";
  };
  const auto r = fine_tune(enc, data, c, basic_noise(0.15, 0.15, 0.0));
  CHECK(r.epochs == 2);
  CHECK(calls == static_cast<std::size_t>(c.epochs * c.variants * c.hard_negatives) * kNormal.size());
  c.hard_negatives = 65;
  CHECK_THROWS_WITH(c.validate(), Catch::Contains("model.encoder.hard_negatives"));
}

TEST_CASE("bundles carry the encoder; corrupt encoder files fail naming the file", "[models][encoder][bundle]") {
  // A minimal MSMASS bundle to attach to.
  TrainConfig tc;
  tc.msmass.window = 4;
  tc.msmass.d_model = 8;
  tc.msmass.ff_dim = 8;
  tc.msmass.encoder_layers = 1;
  tc.msmass.scales = {0};
  tc.msmass.heads_per_scale = {1};
  tc.epochs = 1;
  std::vector<core::Session> sessions;
  for (int i = 0; i < 20; ++i) sessions.push_back({"s" + std::to_string(i), {1, 2, 3, 1, 2, 3}, -1});
  std::vector<core::TemplateEntry> templates{{1, kNormal[0]}, {2, kNormal[1]}, {3, kNormal[2]}};
  const auto dir = tmp("bundle").string();
  train(tc, sessions, templates, dir);

  auto enc = TemplateEncoder::from_scratch(tiny_encoder_config(), kNormal);
  const auto files = tmp("bundle_enc").string();
  enc.save(files);
  EncoderManifest em;
  em.threshold = 0.8;
  em.threshold_method = "config";
  em.base = "scratch";
  em.negatives = "none";
  em.abnormal_templates = {kAbnormal[0]};
  attach_encoder(dir, files, em);

  const auto m = read_manifest(dir);
  REQUIRE(m.encoder);
  CHECK(m.format_version == kBundleFormatVersion);
  CHECK(m.encoder->threshold == Approx(0.8));
  CHECK(m.encoder->files.size() == 3);
  auto mapper = TemplateMapper::load(dir);
  CHECK(mapper.threshold() == Approx(0.8f));
  CHECK(mapper.map(kNormal[1]).template_id == 2);
  CHECK(mapper.map(kAbnormal[0]).verdict == MapVerdict::abnormal);
  CHECK(m.encoder->abnormal_by_similarity);
  CHECK(m.encoder->tentative_threshold == -1);  // not set: no tentative band
  CHECK(mapper.tentative_threshold() == Approx(0.8f));
  em.tentative_threshold = 0.5;
  attach_encoder(dir, files, em);
  CHECK(read_manifest(dir).encoder->tentative_threshold == Approx(0.5));
  CHECK(TemplateMapper::load(dir).tentative_threshold() == Approx(0.5f));
  em.tentative_threshold = -1;
  attach_encoder(dir, files, em);

  // abnormal_threshold: absent (-1) = S. A text nearer an abnormal template than any normal one
  // is abnormal from that cosine on, unknown below it (never the normal template next to it).
  CHECK(m.encoder->abnormal_threshold == -1);
  CHECK(mapper.abnormal_threshold() == Approx(0.8f));
  const std::string near_abnormal = kAbnormal[0] + " again";
  const auto at_s = mapper.map(near_abnormal);
  REQUIRE(at_s.verdict == MapVerdict::abnormal);
  REQUIRE(at_s.similarity < 0.999f);
  em.abnormal_threshold = at_s.similarity + 1e-3;
  attach_encoder(dir, files, em);
  CHECK(read_manifest(dir).encoder->abnormal_threshold == Approx(at_s.similarity + 1e-3));
  {
    auto strict = TemplateMapper::load(dir);
    const auto r = strict.map(near_abnormal);
    CHECK(r.verdict == MapVerdict::unknown);
    CHECK(r.template_id == 0);
    CHECK(r.nearest_abnormal == -1);
    CHECK(strict.map(kAbnormal[0]).verdict == MapVerdict::abnormal);  // cosine 1
  }
  em.abnormal_threshold = -1;
  attach_encoder(dir, files, em);
  {  // out of range: refused naming the key
    const auto path = fs::path(dir) / "manifest.json";
    const auto good = slurp(path);
    auto j = nlohmann::json::parse(good);
    j["encoder"]["abnormal_threshold"] = 1.5;
    spit(path, j.dump());
    CHECK_THROWS_WITH(read_manifest(dir), Catch::Contains("encoder.abnormal_threshold"));
    spit(path, good);
  }

  // abnormal_by_similarity false: a template nearest an abnormal one is unknown, and still not
  // mapped to the normal template next to it. A manifest without the key (written before it
  // existed) takes false for a from-scratch encoder, true for pretrained weights.
  em.abnormal_by_similarity = false;
  attach_encoder(dir, files, em);
  REQUIRE_FALSE(read_manifest(dir).encoder->abnormal_by_similarity);
  {
    auto off = TemplateMapper::load(dir);
    CHECK_FALSE(off.abnormal_by_similarity());
    const auto r = off.map(kAbnormal[0]);
    CHECK(r.verdict == MapVerdict::unknown);
    CHECK(r.template_id == 0);
    CHECK(r.nearest_abnormal == -1);
    CHECK(off.map(kNormal[1]).template_id == 2);
  }
  const auto manifest_path = fs::path(dir) / "manifest.json";
  auto without_key = [&](const std::string& base) {
    auto j = nlohmann::json::parse(slurp(manifest_path));
    j["encoder"].erase("abnormal_by_similarity");
    j["encoder"]["base"] = base;
    spit(manifest_path, j.dump());
    return read_manifest(dir).encoder->abnormal_by_similarity;
  };
  CHECK_FALSE(without_key("scratch"));
  CHECK(without_key("all-MiniLM-L6-v2"));
  em.abnormal_by_similarity = true;
  attach_encoder(dir, files, em);

  const auto weights = fs::path(dir) / "encoder" / "model.safetensors";
  auto bytes = slurp(weights);
  bytes[bytes.size() / 2] ^= 0x55;
  spit(weights, bytes);
  CHECK_THROWS_WITH(TemplateMapper::load(dir), Catch::Contains(weights.string()) && Catch::Contains("digest"));
  spit(weights, bytes.substr(0, 100));
  CHECK_THROWS_WITH(read_manifest(dir), Catch::Contains(weights.string()) && Catch::Contains("truncated"));
  fs::remove(weights);
  CHECK_THROWS_WITH(read_manifest(dir), Catch::Contains(weights.string()));
}

TEST_CASE("all-MiniLM-L6-v2: tokens and embeddings match the numpy reference", "[models][encoder][pretrained]") {
  if (!have_minilm()) {
    WARN("skipped: run scripts/fetch-models for " << kMiniLm.string());
    return;
  }
  const auto golden = nlohmann::json::parse(
      slurp(fs::path(LOGGUARD_SOURCE_DIR) / "tests" / "golden" / "encoder" / "minilm_reference.json"));
  const auto enc = TemplateEncoder::from_pretrained(kMiniLm.string());
  CHECK(enc.dim() == 384);
  double max_diff = 0;
  for (const auto& c : golden["cases"]) {
    const auto text = c["text"].get<std::string>();
    CHECK(encoder_text(c["template"].get<std::string>()) == text);
    INFO(text);
    CHECK(enc.tokenizer().encode(text, 512) == c["ids"].get<std::vector<std::int64_t>>());
    const auto ref = c["embedding"].get<std::vector<double>>();
    const auto e = enc.encode({text});
    REQUIRE(e.values.size() == ref.size());
    for (std::size_t i = 0; i < ref.size(); ++i) max_diff = std::max(max_diff, std::abs(e.values[i] - ref[i]));
  }
  // The golden file records the difference measured when it was made and the tolerance.
  WARN("max |embedding - reference| = " << max_diff << " (recorded: " << golden["measured_max_abs_diff"] << ")");
  CHECK(max_diff <= golden["tolerance"].get<double>());
}
