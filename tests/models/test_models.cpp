// MSMASS / DeepLog: band masks, span coverage, bundle round trip and corruption, config
// validation, and tiny models that learn a synthetic grammar and flag its violations.
// LibTorch (via nets.hpp) defines a glog-style CHECK; include it before Catch2 so that
// Catch2's CHECK wins.
#include "nets.hpp"  // NOLINT(llvm-include-order)

#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <fstream>
#include <random>

#include "logguard/core/error.hpp"
#include "logguard/models/scorer.hpp"
#include "logguard/models/trainer.hpp"

using namespace logguard;
using namespace logguard::models;
namespace md = logguard::models::detail;
namespace fs = std::filesystem;

namespace {

// Grammar over ids 1..8: 1 2 (3 (4|5)){2..4} 6 [7] 8. At most two continuations anywhere.
core::Session grammar_session(std::mt19937_64& rng, std::size_t n) {
  core::Session s;
  s.id = "s" + std::to_string(n);
  s.events = {1, 2};
  const int reps = std::uniform_int_distribution<int>(2, 4)(rng);
  for (int r = 0; r < reps; ++r) {
    s.events.push_back(3);
    s.events.push_back(std::uniform_int_distribution<int>(0, 1)(rng) ? 4 : 5);
  }
  s.events.push_back(6);
  if (std::uniform_int_distribution<int>(0, 1)(rng)) s.events.push_back(7);
  s.events.push_back(8);
  return s;
}

std::vector<core::TemplateEntry> grammar_templates() {
  std::vector<core::TemplateEntry> t;
  for (std::uint32_t i = 1; i <= 8; ++i) t.push_back({i, "event " + std::to_string(i) + " <*>"});
  return t;
}

std::vector<core::Session> grammar_sessions(std::uint64_t seed, std::size_t n) {
  std::mt19937_64 rng(seed);
  std::vector<core::Session> v;
  for (std::size_t i = 0; i < n; ++i) v.push_back(grammar_session(rng, i));
  return v;
}

TrainConfig tiny_config(ModelKind kind) {
  TrainConfig c;
  c.kind = kind;
  c.msmass.window = 8;
  c.msmass.d_model = 32;
  c.msmass.ff_dim = 64;
  c.msmass.scales = {1, 3, 0};
  c.msmass.heads_per_scale = {1, 1, 2};
  c.msmass.dropout = 0.0;
  c.deeplog.history = 4;
  c.deeplog.hidden = 32;
  c.deeplog.embed_dim = 16;
  c.epochs = 40;
  c.patience = 5;
  c.learning_rate = 3e-3;
  c.batch_size = 32;
  c.top_k = 2;
  c.seed = 7;
  return c;
}

fs::path tmp_dir(const std::string& name) {
  // Per process: CTest runs the cases of this binary as parallel processes, and a shared path
  // would let one case remove the bundle another is reading.
  auto p = fs::temp_directory_path() / ("logguard_models_test_" + name + "-" + std::to_string(::getpid()));
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

// Trained once per process and shared by the tests below.
const std::string& tiny_bundle(ModelKind kind) {
  static std::string dirs[2];
  auto& d = dirs[kind == ModelKind::msmass ? 0 : 1];
  if (d.empty()) {
    d = tmp_dir(std::string("tiny_") + to_string(kind)).string();
    train(tiny_config(kind), grammar_sessions(1, 1000), grammar_templates(), d, std::nullopt,
                         [](const EpochReport& e) { UNSCOPED_INFO(format_progress(e, 2)); });
  }
  return d;
}

std::vector<core::Session> violations() {
  std::vector<core::Session> v;
  v.push_back({"swap_start", {2, 1, 3, 4, 3, 5, 6, 8}, -1});
  v.push_back({"truncated", {1, 2, 3, 4, 3}, -1});
  v.push_back({"reversed_pair", {1, 2, 3, 4, 5, 3, 6, 8}, -1});
  v.push_back({"missing_end", {1, 2, 3, 4, 3, 5, 6, 7}, -1});
  v.push_back({"unknown", {1, 2, 3, 4, 0, 5, 6, 8}, -1});
  v.push_back({"skip_tail", {1, 2, 3, 4, 8}, -1});
  return v;
}

void learns_grammar(ModelKind kind, int top_k) {
  DetectConfig dc;
  dc.top_k = top_k;
  const auto scorer = Scorer::load(tiny_bundle(kind), dc);
  REQUIRE(scorer.top_k() == top_k);
  const auto normal = grammar_sessions(99, 200);
  const auto nv = scorer.score_sessions(normal);
  std::size_t false_alarms = 0;
  for (std::size_t i = 0; i < nv.size(); ++i) {
    if (!nv[i].anomalous) continue;
    ++false_alarms;
    if (false_alarms <= 3 && nv[i].evidence) {
      std::string seq;
      for (auto e : normal[i].events) seq += std::to_string(e) + " ";
      std::string top;
      for (const auto& p : nv[i].evidence->top_k) top += std::to_string(p.template_id) + ":" + std::to_string(p.probability) + " ";
      WARN("false alarm on " << seq << "at " << nv[i].evidence->position << " observed " << nv[i].evidence->observed << " top " << top);
    }
  }
  CHECK(false_alarms <= 4);  // <= 2% of unseen normal sessions
  const auto bad = violations();
  const auto bv = scorer.score_sessions(bad);
  for (std::size_t i = 0; i < bad.size(); ++i) {
    INFO(to_string(kind) << " violation " << bad[i].id);
    CHECK(bv[i].anomalous);
    REQUIRE(bv[i].evidence.has_value());
    CHECK(bv[i].evidence->top_k.size() == static_cast<std::size_t>(top_k));
    CHECK(bv[i].score > 0);
  }
  // Evidence of the unknown template points at it.
  REQUIRE(bv[4].evidence);
  CHECK(bv[4].evidence->position <= 4);
  CHECK(bv[1].evidence->position <= 5);
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("band masks: a head of scale s never attends outside its band", "[models][msmass]") {
  MsmassConfig c;
  c.window = 12;
  c.d_model = 40;
  c.scales = {1, 3, 5, 0};
  c.heads_per_scale = {1, 2, 1, 1};
  c.validate();
  const auto mask = md::build_band_mask(c.scales, c.heads_per_scale, c.window, false);
  REQUIRE(mask.size(0) == 5);
  const int head_scale[] = {1, 3, 3, 5, 0};
  for (int h = 0; h < 5; ++h)
    for (int i = 0; i < 12; ++i)
      for (int j = 0; j < 12; ++j) {
        const int s = head_scale[h];
        const bool inside = s == 0 || std::abs(i - j) <= (s - 1) / 2;
        CHECK((mask[h][i][j].item<float>() == 0.f) == inside);
      }

  // The real attention probabilities of every encoder layer respect the bands.
  torch::manual_seed(3);
  md::MsmassNet net(c, 20);
  net->eval();
  auto tokens = torch::randint(md::kFirstTemplate, 20, {4, 12}, torch::kLong);
  tokens[1].slice(0, 9, 12).fill_(md::kPad);  // padded tail
  torch::NoGradGuard ng;
  for (int layer = 0; layer < c.encoder_layers; ++layer) {
    const auto w = net->encoder_attention(tokens, layer);  // [B,H,W,W]
    REQUIRE(w.size(1) == 5);
    for (int h = 0; h < 5; ++h) {
      const auto outside = mask[h].ne(0.f).unsqueeze(0).expand({4, 12, 12});
      CHECK(w.select(1, h).masked_select(outside).abs().sum().item<float>() == 0.f);
    }
    // The whole-window head does look far away (the test can fail).
    CHECK(w.select(1, 4)[0][0][11].item<float>() > 0.f);
    // No query attends to padding except the pad position itself.
    CHECK(w[1].select(2, 10).slice(1, 0, 9).abs().max().item<float>() == 0.f);
  }
  // Decoder bands are also causal.
  const auto dm = md::build_band_mask({0}, {1}, 5, true);
  CHECK(dm[0][1][2].item<float>() < 0.f);
  CHECK(dm[0][2][0].item<float>() == 0.f);
}

TEST_CASE("detection spans cover every position", "[models][msmass]") {
  for (int W = 2; W <= 40; ++W)
    for (double ratio : {0.2, 0.3, 0.5, 0.7}) {
      MsmassConfig c;
      c.window = W;
      c.mask_ratio = ratio;
      const int L = c.span_length();
      if (L >= W) continue;
      std::vector<int> covered(static_cast<std::size_t>(W), 0);
      for (int s : md::detection_span_starts(W, L)) {
        REQUIRE(s >= 0);
        REQUIRE(s + L <= W);
        for (int j = s; j < s + L; ++j) covered[static_cast<std::size_t>(j)] = 1;
      }
      INFO("W=" << W << " L=" << L);
      CHECK(std::count(covered.begin(), covered.end(), 1) == W);
    }
  CHECK((md::detection_span_starts(10, 5) == std::vector<int>{0, 5}));
  // Windows over a long session reach its last event.
  const auto st = md::window_starts(23, 10, 5);
  CHECK(st.back() == 13);
  CHECK((md::window_starts(7, 10, 5) == std::vector<std::size_t>{0}));
}

TEST_CASE("config validation names the key", "[models][config]") {
  MsmassConfig c;
  c.scales = {1, 2};
  c.heads_per_scale = {1, 1};
  CHECK_THROWS_WITH(c.validate(), Catch::Contains("model.msmass.scales"));
  c.scales = {1, 3};
  c.heads_per_scale = {1};
  CHECK_THROWS_WITH(c.validate(), Catch::Contains("model.msmass.heads_per_scale"));
  c.heads_per_scale = {1, 2};
  CHECK_THROWS_WITH(c.validate(), Catch::Contains("model.msmass.d_model"));  // 64 % 3
  TrainConfig t;
  t.epochs = 0;
  CHECK_THROWS_AS(t.validate(), core::ConfigError);
  DetectConfig d;
  d.device = "tpu";
  CHECK_THROWS_WITH(d.validate(), Catch::Contains("model.detect.device"));
  CHECK_THROWS_WITH(parse_model_kind("lstm"), Catch::Contains("model.kind"));
}

TEST_CASE("weights save/load round trip gives identical outputs", "[models][bundle]") {
  MsmassConfig c;
  c.window = 8;
  c.d_model = 32;
  c.heads_per_scale = {1, 1, 1, 1};
  torch::manual_seed(1);
  md::MsmassNet a(c, 15);
  a->eval();
  torch::manual_seed(2);
  md::MsmassNet b(c, 15);
  b->eval();
  auto enc = torch::randint(3, 15, {3, 8}, torch::kLong);
  auto dec = torch::randint(3, 15, {3, 4}, torch::kLong);
  auto pos = torch::arange(4, torch::kLong).unsqueeze(0).expand({3, 4}).contiguous();
  torch::NoGradGuard ng;
  const auto before = a->forward(enc, dec, pos);
  CHECK_FALSE(torch::equal(before, b->forward(enc, dec, pos)));
  const auto dir = tmp_dir("roundtrip");
  fs::create_directories(dir);
  const auto path = (dir / "weights.pt").string();
  md::save_weights(*a, path);
  md::load_weights(*b, path);
  CHECK(torch::equal(before, b->forward(enc, dec, pos)));
}

TEST_CASE("tiny MSMASS learns a synthetic grammar and flags its violations", "[models][msmass][train]") {
  learns_grammar(ModelKind::msmass, 3);
}

TEST_CASE("tiny DeepLog learns a synthetic grammar and flags its violations", "[models][deeplog][train]") {
  learns_grammar(ModelKind::deeplog, 2);
}

TEST_CASE("bundle reload and copy give identical scores", "[models][bundle]") {
  const auto& dir = tiny_bundle(ModelKind::msmass);
  const auto copy = tmp_dir("copy");
  fs::copy(dir, copy);
  const auto s1 = Scorer::load(dir, DetectConfig{});
  const auto s2 = Scorer::load(copy.string(), DetectConfig{});
  auto sessions = grammar_sessions(5, 50);
  for (const auto& v : violations()) sessions.push_back(v);
  const auto a = s1.score_sessions(sessions), b = s2.score_sessions(sessions);
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].score == b[i].score);
    CHECK(a[i].anomalous == b[i].anomalous);
  }
  // Batch size does not change verdicts.
  DetectConfig one;
  one.batch_windows = 1;
  const auto c = Scorer::load(dir, one).score_sessions(sessions);
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].anomalous == c[i].anomalous);
    CHECK(a[i].score == Approx(c[i].score).epsilon(1e-4));
  }
}

TEST_CASE("fixed seeds give the same model twice", "[models][train]") {
  auto c = tiny_config(ModelKind::deeplog);
  c.epochs = 2;
  const auto sessions = grammar_sessions(1, 60);
  const auto d1 = tmp_dir("seed1"), d2 = tmp_dir("seed2"), d3 = tmp_dir("seed3");
  const auto r1 = train(c, sessions, grammar_templates(), d1.string());
  const auto r2 = train(c, sessions, grammar_templates(), d2.string());
  CHECK(r1.manifest.weights_digest == r2.manifest.weights_digest);
  CHECK(slurp(d1 / "weights.pt") == slurp(d2 / "weights.pt"));
  c.seed = 8;
  const auto r3 = train(c, sessions, grammar_templates(), d3.string());
  CHECK(r3.manifest.weights_digest != r1.manifest.weights_digest);
  CHECK(r1.manifest.training_digest == r3.manifest.training_digest);
}

TEST_CASE("corrupt, foreign and mismatched bundles fail naming the file", "[models][bundle]") {
  const auto& dir = tiny_bundle(ModelKind::msmass);
  auto fresh = [&](const std::string& name) {
    const auto p = tmp_dir("corrupt_" + name);
    fs::copy(dir, p);
    return p;
  };
  SECTION("truncated weights") {
    const auto p = fresh("trunc");
    const auto w = slurp(p / "weights.pt");
    std::ofstream(p / "weights.pt", std::ios::binary | std::ios::trunc) << w.substr(0, w.size() / 2);
    CHECK_THROWS_WITH(Scorer::load(p.string(), {}), Catch::Contains("weights.pt") && Catch::Contains("truncated"));
  }
  SECTION("flipped byte in weights") {
    const auto p = fresh("flip");
    auto w = slurp(p / "weights.pt");
    w[w.size() / 2] = static_cast<char>(w[w.size() / 2] ^ 0x5a);
    std::ofstream(p / "weights.pt", std::ios::binary | std::ios::trunc) << w;
    CHECK_THROWS_WITH(Scorer::load(p.string(), {}), Catch::Contains("weights.pt") && Catch::Contains("digest"));
  }
  SECTION("truncated manifest") {
    const auto p = fresh("mtrunc");
    const auto m = slurp(p / "manifest.json");
    std::ofstream(p / "manifest.json", std::ios::binary | std::ios::trunc) << m.substr(0, m.size() / 3);
    CHECK_THROWS_WITH(Scorer::load(p.string(), {}), Catch::Contains("manifest.json") && Catch::Contains("JSON"));
  }
  SECTION("foreign manifest") {
    const auto p = fresh("foreign");
    std::ofstream(p / "manifest.json", std::ios::binary | std::ios::trunc) << R"({"name": "some other model"})";
    CHECK_THROWS_WITH(Scorer::load(p.string(), {}), Catch::Contains("manifest.json") &&
                                                        Catch::Contains("not a logguard model bundle"));
  }
  SECTION("newer format version") {
    const auto p = fresh("version");
    auto m = slurp(p / "manifest.json");
    const std::string current = "\"format_version\": " + std::to_string(kBundleFormatVersion);
    m.replace(m.find(current), current.size(), "\"format_version\": 7");
    std::ofstream(p / "manifest.json", std::ios::binary | std::ios::trunc) << m;
    CHECK_THROWS_WITH(Scorer::load(p.string(), {}), Catch::Contains("format_version 7"));
  }
  SECTION("hyper-parameters that do not match the weights") {
    const auto p = fresh("mismatch");
    auto m = slurp(p / "manifest.json");
    m.replace(m.find("\"d_model\": 32"), 13, "\"d_model\": 16");
    std::ofstream(p / "manifest.json", std::ios::binary | std::ios::trunc) << m;
    CHECK_THROWS_WITH(Scorer::load(p.string(), {}), Catch::Contains("weights.pt") && Catch::Contains("shape"));
  }
  SECTION("missing directory") {
    CHECK_THROWS_AS(Scorer::load("/nonexistent/bundle", {}), core::LoadError);
  }
}

TEST_CASE("template tables map by id when equal, else by text", "[models][templates]") {
  const std::vector<core::TemplateEntry> bundle{{1, "Receiving block <*>"}, {2, "Served block <*> to <*>"}};
  auto same = map_templates(bundle, bundle);
  CHECK(same.at(1) == 1);
  CHECK(same.at(2) == 2);
  const std::vector<core::TemplateEntry> other{{7, "<*>Served block<*>to<*>"}, {8, "Brand new message"}};
  auto m = map_templates(bundle, other);
  CHECK(m.at(7) == 2);
  CHECK(m.at(8) == 0);
}

TEST_CASE("templates rare in training are recorded and scored as unknown", "[models][train]") {
  auto c = tiny_config(ModelKind::deeplog);
  c.epochs = 5;
  auto sessions = grammar_sessions(3, 40);
  sessions[5].events.insert(sessions[5].events.begin() + 2, 9);  // template 9: one training session
  auto templates = grammar_templates();
  templates.push_back({9, "event 9 <*>"});
  const auto plain = tmp_dir("rare-off"), rare = tmp_dir("rare-on");
  const auto r0 = train(c, sessions, templates, plain.string());
  c.min_template_sessions = 2;
  const auto r1 = train(c, sessions, templates, rare.string());
  CHECK(r0.manifest.rare_templates.empty());
  CHECK(r1.manifest.rare_templates == std::vector<std::uint32_t>{9});
  CHECK(r1.manifest.weights_digest == r0.manifest.weights_digest);  // same model either way

  DetectConfig dc;
  const auto s0 = Scorer::load(plain.string(), dc), s1 = Scorer::load(rare.string(), dc);
  CHECK(s1.manifest().rare_templates == std::vector<std::uint32_t>{9});  // survives the bundle
  const std::vector<core::Session> probe{sessions[5]};
  const auto v1 = s1.score_sessions(probe);
  REQUIRE(v1.size() == 1);
  CHECK(v1[0].anomalous);
  REQUIRE(v1[0].evidence);
  CHECK(v1[0].evidence->unknown);
  CHECK(v1[0].evidence->position == 2);
  const auto v0 = s0.score_sessions(probe);
  REQUIRE(v0.size() == 1);
  CHECK(!(v0[0].evidence && v0[0].evidence->unknown));  // without the setting 9 is a known template
}

// A tentatively mapped event (TemplateMapper's band below S) counts as its template where the
// model ranks that template in the top-K, else as an unknown template; code that does not know
// the flag reads such an id as unknown.
TEST_CASE("tentative events are judged in context: expected -> their template, else unknown", "[models][scorer]") {
  static_assert(is_tentative(tentative_id(7)) && plain_id(tentative_id(7)) == 7 && !is_tentative(7));
  static_assert(!is_tentative(kAbnormalTemplate) && !is_tentative(kEndOfSession) && !is_tentative(kStartOfSession));
  DetectConfig dc;
  dc.top_k = 2;
  const auto scorer = Scorer::load(tiny_bundle(ModelKind::msmass), dc);
  const core::Session base{"n", {1, 2, 3, 4, 3, 5, 6, 8}, -1};
  auto with = [&](std::uint32_t id) {
    auto s = base;
    s.events[1] = id;  // after 1 the grammar writes 2
    const std::vector<core::Session> one{s};
    int unknown = 0;
    float worst = 0;
    const auto stats = scorer.session_window_stats(one);
    for (const auto& w : stats.at(0)) {
      unknown += w.unknown;
      worst = std::max(worst, w.max_rank);
    }
    return std::pair{unknown, worst};
  };
  const auto plain = with(2), expected = with(tentative_id(2));
  CHECK(expected.first == plain.first);  // where 2 is expected, a tentative 2 is a 2
  CHECK(expected.second == Approx(plain.second));
  CHECK(plain.first == 0);
  const auto unexpected = with(tentative_id(6)), as_unknown = with(0), as_six = with(6);
  CHECK(as_six.first == 0);                       // a known 6 there is a rank miss ...
  CHECK(as_six.second >= 2.0f);
  CHECK(unexpected.first == as_unknown.first);    // ... a tentative 6 there is a new template
  CHECK(unexpected.first > 0);
  const auto v = scorer.score_sessions(std::vector<core::Session>{{"t", {1, tentative_id(6), 3, 4, 3, 5, 6, 8}, -1}});
  REQUIRE(v.at(0).evidence);
  CHECK(v[0].evidence->unknown);
  CHECK(v[0].evidence->position == 1);
}
// The native engine (the default on the CPU) against LibTorch on a trained bundle: every
// model window of normal and violating sessions and of random sequences gets the same verdict,
// the same statistics (fractional ranks within 1e-3) and the same evidence; two scoring threads
// give exactly what one gives.
TEST_CASE("the native MSMASS engine judges as LibTorch does", "[models][scorer][native]") {
  const auto& dir = tiny_bundle(ModelKind::msmass);
  DetectConfig lt, nat, nat2;
  lt.engine = "libtorch";
  nat.engine = "native";
  nat2.engine = "native";
  nat2.threads = 2;
  const auto a = Scorer::load(dir, lt), b = Scorer::load(dir, nat), c = Scorer::load(dir, nat2);
  std::vector<std::vector<std::uint32_t>> windows;
  auto sessions = grammar_sessions(21, 150);
  for (const auto& v : violations()) sessions.push_back(v);
  std::mt19937_64 rng(4);
  for (int i = 0; i < 100; ++i) {  // random sequences over the ids, 0 (unknown) and 9 (never seen)
    core::Session s;
    s.id = "random" + std::to_string(i);
    const auto n = 3 + rng() % 12;
    for (std::size_t j = 0; j < n; ++j) s.events.push_back(static_cast<std::uint32_t>(rng() % 10));
    sessions.push_back(s);
  }
  const int W = a.window_length();
  for (const auto& s : sessions)
    for (std::size_t st = 0; st == 0 || st + static_cast<std::size_t>(W) <= s.events.size(); ++st)
      windows.emplace_back(s.events.begin() + static_cast<long>(st),
                           s.events.begin() + static_cast<long>(std::min(s.events.size(), st + static_cast<std::size_t>(W))));
  const auto va = a.score_windows(windows), vb = b.score_windows(windows), vc = c.score_windows(windows);
  REQUIRE(va.size() == windows.size());
  std::size_t anomalous = 0;
  for (std::size_t i = 0; i < windows.size(); ++i) {
    INFO("window " << i);
    CHECK(va[i].anomalous == vb[i].anomalous);
    CHECK(va[i].stats.max_rank == Approx(vb[i].stats.max_rank).margin(1e-3));
    CHECK(va[i].stats.max_rank_position == vb[i].stats.max_rank_position);
    CHECK(va[i].stats.unknown == vb[i].stats.unknown);
    CHECK(va[i].stats.novel == vb[i].stats.novel);
    CHECK(va[i].score == Approx(vb[i].score).margin(1e-3));
    REQUIRE(va[i].evidence.has_value() == vb[i].evidence.has_value());
    if (va[i].evidence) {
      CHECK(va[i].evidence->position == vb[i].evidence->position);
      CHECK(va[i].evidence->observed == vb[i].evidence->observed);
      REQUIRE(va[i].evidence->top_k.size() == vb[i].evidence->top_k.size());
      for (std::size_t k = 0; k < va[i].evidence->top_k.size(); ++k)
        CHECK(va[i].evidence->top_k[k].probability == Approx(vb[i].evidence->top_k[k].probability).margin(1e-4));
    }
    anomalous += vb[i].anomalous;
    // Threads split the batch into tiles; each window's result does not depend on it.
    CHECK(vb[i].score == vc[i].score);
    CHECK(vb[i].stats.max_rank == vc[i].stats.max_rank);
  }
  CHECK(anomalous > 50);  // the comparison covers anomalous windows too
  // Sessions: the same verdicts, batch by batch.
  const auto sa = a.score_sessions(sessions), sb = c.score_sessions(sessions);
  for (std::size_t i = 0; i < sessions.size(); ++i) CHECK(sa[i].anomalous == sb[i].anomalous);
  // The escape hatch is validated.
  DetectConfig bad;
  bad.engine = "fast";
  CHECK_THROWS_WITH(bad.validate(), Catch::Contains("model.detect.engine"));
  DetectConfig gpu_native;
  gpu_native.engine = "native";
  gpu_native.device = "cuda:0";
  CHECK_THROWS_WITH(gpu_native.validate(), Catch::Contains("model.detect.engine"));
  CHECK_THROWS_WITH(Scorer::load(tiny_bundle(ModelKind::deeplog), nat), Catch::Contains("model.detect.engine"));
}

// Runs where LibTorch has CUDA (ctest -L gpu on a GPU machine); Debian's CPU-only LibTorch
// reports no device and the case only records that it did not run.
TEST_CASE("the CUDA scorer gives the CPU scorer's verdicts", "[models][scorer][gpu]") {
  if (!torch::cuda::is_available()) {
    WARN("no CUDA device visible to LibTorch: nothing to compare");
    DetectConfig gpu;
    gpu.device = "cuda:0";
    CHECK_THROWS_WITH(Scorer::load(tiny_bundle(ModelKind::msmass), gpu), Catch::Contains("model.detect.device"));
    return;
  }
  auto sessions = grammar_sessions(5, 50);
  for (const auto& v : violations()) sessions.push_back(v);
  for (const auto kind : {ModelKind::msmass, ModelKind::deeplog}) {
    const auto& dir = tiny_bundle(kind);
    DetectConfig gpu;
    gpu.device = "cuda:0";
    const auto a = Scorer::load(dir, DetectConfig{}).score_sessions(sessions);
    const auto b = Scorer::load(dir, gpu).score_sessions(sessions);
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      CHECK(a[i].anomalous == b[i].anomalous);
      CHECK(a[i].score == Approx(b[i].score).epsilon(1e-3));
    }
  }
}

TEST_CASE("a calibrated bundle judges by its threshold: violations flagged, normal sessions within budget",
          "[models][msmass][train][detection]") {
  const auto dir = tmp_dir("calibrated");
  fs::copy(tiny_bundle(ModelKind::msmass), dir);
  // Held-out normal sessions the model never saw, scored as train-time calibration scores them.
  const auto held = grammar_sessions(77, 400);
  DetectConfig stats_only;
  stats_only.rule = "any_miss";
  const auto stats = Scorer::load(dir.string(), stats_only).session_window_stats(held);
  std::vector<CalibrationUnit> units;
  for (const auto& s : stats) units.push_back({s, 0, 0, 0});
  CalibrationConfig cc;
  cc.false_alarm_budget_percent = 1.0;
  Detection base;
  base.top_k = 3;
  base.stride = 1;
  attach_detection(dir.string(), calibrate(units, "session", cc, base));

  const auto scorer = Scorer::load(dir.string(), DetectConfig{});
  CHECK(scorer.detection().calibrated);
  CHECK(scorer.detection().rule == DecisionRule::threshold);
  CHECK(scorer.manifest().format_version == kBundleFormatVersion);
  const auto normal = scorer.score_sessions(grammar_sessions(99, 300));
  std::size_t false_alarms = 0;
  for (const auto& v : normal) false_alarms += v.anomalous;
  CHECK(false_alarms <= 9);  // 1 % budget, 300 fresh sessions: a few at most
  const auto bad = violations();
  const auto bv = scorer.score_sessions(bad);
  std::size_t caught = 0;
  for (std::size_t i = 0; i < bad.size(); ++i) {
    INFO("violation " << bad[i].id << " score " << bv[i].score << " threshold " << scorer.detection().threshold);
    caught += bv[i].anomalous;
    if (bv[i].anomalous) CHECK(bv[i].score > scorer.detection().threshold);
  }
  CHECK(caught >= bad.size() - 1);
  CHECK(bv[4].anomalous);  // the unknown template (never in held-out data) always fires
  // An explicit override of the rule gives the paper's top-K verdicts again.
  DetectConfig any;
  any.rule = "any_miss";
  const auto anyv = Scorer::load(dir.string(), any).score_sessions(bad);
  for (const auto& v : anyv) CHECK(v.anomalous);
  // A threshold rule without a calibrated bundle is refused, naming the key.
  DetectConfig need;
  need.rule = "threshold";
  CHECK_THROWS_WITH(Scorer::load(tiny_bundle(ModelKind::msmass), need), Catch::Contains("model.detect.rule"));
}

TEST_CASE("a session shorter than every normal training session is anomalous under the threshold rule",
          "[models][msmass][detection]") {
  const auto dir = tmp_dir("short");
  fs::copy(tiny_bundle(ModelKind::msmass), dir);
  const auto held = grammar_sessions(77, 200);
  DetectConfig stats_only;
  stats_only.rule = "any_miss";
  const auto stats = Scorer::load(dir.string(), stats_only).session_window_stats(held);
  std::vector<CalibrationUnit> units;
  for (const auto& s : stats) units.push_back({s, 0, 0, 0});
  Detection base;
  base.top_k = 3;
  auto d = calibrate(units, "session", CalibrationConfig{}, base);
  std::size_t shortest = SIZE_MAX;
  for (const auto& s : held) shortest = std::min(shortest, s.events.size());
  REQUIRE(shortest > 2);
  d.min_session_events = shortest;
  attach_detection(dir.string(), d);

  const auto scorer = Scorer::load(dir.string(), DetectConfig{});
  REQUIRE(scorer.detection().min_session_events == shortest);  // kept in the bundle
  auto cut = held.front();
  cut.events.resize(2);  // a normal beginning that stops early
  const auto v = scorer.score_sessions(std::vector<core::Session>{cut, held.front()});
  CHECK(v[0].anomalous);
  CHECK(v[0].score > scorer.detection().threshold);
  REQUIRE(v[0].evidence);
  CHECK(v[0].evidence->observed == kEndOfSession);
  CHECK(v[0].evidence->position == 2);
  CHECK(v[1].score <= scorer.detection().threshold);  // a held-out session at full length stays normal
  // The paper's rule (any_miss) decides without it.
  DetectConfig any;
  any.rule = "any_miss";
  CHECK_FALSE(Scorer::load(dir.string(), any).detection().short_session(2));
}

TEST_CASE("the held-out split is the tail in input order; its templates stay out of the vocabulary",
          "[models][train]") {
  auto c = tiny_config(ModelKind::deeplog);
  c.epochs = 1;
  c.min_transition_sessions = 1;
  auto sessions = grammar_sessions(4, 50);
  sessions.back().events.push_back(9);  // a template only the last (held-out) session holds
  auto templates = grammar_templates();
  templates.push_back({9, "event 9 <*>"});
  const auto held = heldout_split(c, sessions);
  REQUIRE(held.size() == 5);
  CHECK(held.front() == 45);
  CHECK(held.back() == 49);
  const auto dir = tmp_dir("tail");
  std::vector<int> labels(50, 0);
  labels[10] = 1;  // a labelled anomalous training session is left out of training
  const auto r = train(c, sessions, templates, dir.string(), std::nullopt, {}, labels);
  CHECK(r.validation == held);
  CHECK(r.manifest.templates.size() == 8);  // template 9 is new to the model, as it would be in production
  CHECK(r.manifest.training_sessions == 44);
  CHECK_FALSE(r.manifest.transitions.empty());
  c.validation_split = ValidationSplit::random;
  CHECK(heldout_split(c, sessions) != held);
}

TEST_CASE("a bundle records every Drain setting of its raw-input parser", "[bundle]") {
  BundleManifest m;
  m.kind = ModelKind::msmass;
  m.top_k = 5;
  m.templates = {{1, "a <*>"}};
  m.weights_bytes = 1;
  m.weights_digest = "00";
  core::ParserConfig p;
  REQUIRE(core::parser_preset("default", &p));  // typed matching, punctuation tokens, loghub2 style
  p.log_format = "<Date> <Content>";
  m.raw_input = RawInputSettings{p, "(blk_-?\\d+)", 0, {}, {}};
  const BundleManifest back = manifest_from_json(manifest_to_json(m), "t");
  REQUIRE(back.raw_input);
  CHECK(back.raw_input->parser == p);
  // A manifest written before these keys existed reads them as the defaults.
  nlohmann::json j = nlohmann::json::parse(manifest_to_json(m));
  for (const char* key : {"wildcard_match", "template_style", "punctuation_tokens", "distinct_words"})
    REQUIRE(j["raw_input"]["parser"]["drain"].erase(key) == 1);
  const std::string old = j.dump();
  const BundleManifest legacy = manifest_from_json(old, "old");
  REQUIRE(legacy.raw_input);
  CHECK(legacy.raw_input->parser.drain.wildcard_match == core::WildcardMatch::masked);
  CHECK(legacy.raw_input->parser.drain.punctuation_tokens.empty());
}
