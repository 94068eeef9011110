// WordNet reader and template noise generator (core/include/logguard/core/{wordnet,noise}.hpp).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include "logguard/core/error.hpp"
#include "logguard/core/noise.hpp"

namespace fs = std::filesystem;
using namespace logguard::core;

namespace {

// A small database in the wndb(5WN) format, written to a fresh directory. Each part of
// speech gets `synsets` (words; byte offsets computed) and an index listing every word.
struct TinyWordNet {
  fs::path dir;
  explicit TinyWordNet(const std::string& name) {
    dir = fs::temp_directory_path() / ("logguard-wordnet-" + name + "-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    const std::vector<std::vector<std::string>> nouns = {{"error", "mistake", "fault"}, {"block", "cube"},
                                                         {"error", "erroneousness"}};
    const std::vector<std::vector<std::string>> verbs = {{"delete", "erase"}, {"delete", "cancel"},
                                                         {"receive", "get", "obtain"}};
    write("noun", 'n', nouns);
    write("verb", 'v', verbs);
    write("adj", 'a', {{"empty", "vacant(a)"}});
    write("adv", 'r', {{"again", "once_more"}});
  }
  ~TinyWordNet() { fs::remove_all(dir); }

  void write(const std::string& pos, char c, const std::vector<std::vector<std::string>>& synsets) const {
    std::string data = "  1 This is a licence header line.  \n  2 Another one.  \n";
    std::vector<std::pair<std::string, std::string>> senses;  // word -> offset
    for (const auto& s : synsets) {
      char off[16];
      std::snprintf(off, sizeof off, "%08zu", data.size());
      char cnt[8];
      std::snprintf(cnt, sizeof cnt, "%02zx", s.size());
      std::string line = std::string(off) + " 05 " + c + " " + cnt;
      for (const auto& w : s) {
        line += " " + w + " 0";
        senses.emplace_back(w.substr(0, w.find('(')), off);
      }
      line += " 000 | a gloss; with words  \n";
      data += line;
    }
    std::ofstream(dir / ("data." + pos), std::ios::binary) << data;
    std::stable_sort(senses.begin(), senses.end(), [](auto& a, auto& b) { return a.first < b.first; });
    std::string index = "  1 licence  \n";
    for (std::size_t i = 0; i < senses.size();) {
      std::size_t j = i;
      std::string offs;
      for (; j < senses.size() && senses[j].first == senses[i].first; ++j) offs += " " + senses[j].second;
      index += senses[i].first + " " + c + " " + std::to_string(j - i) + " 0 " + std::to_string(j - i) + " 0" + offs + "  \n";
      i = j;
    }
    std::ofstream(dir / ("index." + pos), std::ios::binary) << index;
    std::ofstream(dir / (pos + ".exc"), std::ios::binary) << (pos == "verb" ? "got get\ngetting get\n" : "");
  }
};

std::shared_ptr<const WordNet> real_wordnet() {
  static const auto wn = std::make_shared<const WordNet>(WordNet::load());
  return wn;
}

std::vector<std::string> placeholders_of(const std::string& s) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '<' && s[i] != '{') continue;
    const auto j = s.find(s[i] == '<' ? '>' : '}', i);
    if (j != std::string::npos && is_placeholder(s.substr(i, j - i + 1))) {
      out.push_back(s.substr(i, j - i + 1));
      i = j;
    }
  }
  return out;
}

const std::vector<std::string> kHdfs = {
    "<*>Adding an already existing block<*>",
    "<*>Receiving block<*>src:<*>dest:<*>",
    "<*>PacketResponder <*> for block <*> terminating<*>",
    "<*>Unexpected error trying to delete block<*>BlockInfo not found in volumeMap<*>",
    "<*>BLOCK* NameSystem<*>addStoredBlock: blockMap updated:<*>is added to<*>size<*>",
    "<*>Got exception while serving<*>to<*>",
    "Connection from <IP> closed after {} seconds by user <USER_NAME>",
};

}  // namespace

TEST_CASE("WordNet reads a small database in the wndb format", "[unit][noise]") {
  TinyWordNet db("ok");
  const auto wn = WordNet::load(db.dir.string());
  CHECK(wn.synset_count() == 8);
  CHECK(wn.contains("error", PartOfSpeech::noun));
  CHECK_FALSE(wn.contains("error", PartOfSpeech::verb));
  // Both senses of "error", in sense order; the lemma itself excluded.
  CHECK(wn.synonyms("error", PartOfSpeech::noun) == std::vector<std::string>{"mistake", "fault", "erroneousness"});
  CHECK(wn.synonyms("error", PartOfSpeech::noun, 1) == std::vector<std::string>{"mistake", "fault"});
  CHECK(wn.synonyms("delete", PartOfSpeech::verb) == std::vector<std::string>{"erase", "cancel"});
  // Adjective markers stripped, underscores become spaces.
  CHECK(wn.synonyms("empty", PartOfSpeech::adj) == std::vector<std::string>{"vacant"});
  CHECK(wn.synonyms("again", PartOfSpeech::adv) == std::vector<std::string>{"once more"});
  CHECK(wn.base_forms("got", PartOfSpeech::verb) == std::vector<std::string>{"get"});
  CHECK(wn.irregular_forms("get", PartOfSpeech::verb) == std::vector<std::string>{"got", "getting"});
  CHECK(wn.synonyms("nothing", PartOfSpeech::noun).empty());
}

TEST_CASE("WordNet: a missing or corrupt database names the file", "[unit][noise]") {
  SECTION("missing directory") {
    try {
      (void)WordNet::load("/nonexistent/wordnet");
      FAIL("no error");
    } catch (const LoadError& e) {
      CHECK_THAT(e.what(), Catch::Contains("/nonexistent/wordnet/data.noun") && Catch::Contains("wordnet-base"));
    }
  }
  SECTION("synset offset that is not the line's byte offset") {
    TinyWordNet db("badoff");
    std::string data;
    {
      std::ifstream in(db.dir / "data.verb", std::ios::binary);
      data.assign(std::istreambuf_iterator<char>(in), {});
    }
    data.insert(0, "  0 one more header line shifts every offset\n");
    std::ofstream(db.dir / "data.verb", std::ios::binary) << data;
    try {
      (void)WordNet::load(db.dir.string());
      FAIL("no error");
    } catch (const LoadError& e) {
      CHECK_THAT(e.what(), Catch::Contains("data.verb:4:") && Catch::Contains("byte offset"));
    }
  }
  SECTION("truncated data line") {
    TinyWordNet db("trunc");
    std::ofstream(db.dir / "data.adv", std::ios::app | std::ios::binary) << "00000999 02 r 0";
    CHECK_THROWS_WITH(WordNet::load(db.dir.string()), Catch::Contains("data.adv:4:"));
  }
  SECTION("index pointing at no synset") {
    TinyWordNet db("badidx");
    std::ofstream(db.dir / "index.noun", std::ios::app | std::ios::binary) << "ghost n 1 0 1 0 00000042  \n";
    CHECK_THROWS_WITH(WordNet::load(db.dir.string()),
                      Catch::Contains("index.noun:") && Catch::Contains("00000042 is not in the data file"));
  }
  SECTION("garbage index line") {
    TinyWordNet db("garbage");
    std::ofstream(db.dir / "index.verb", std::ios::app | std::ios::binary) << "what is this\n";
    CHECK_THROWS_AS(WordNet::load(db.dir.string()), LoadError);
  }
}

TEST_CASE("WordNet: the installed wordnet-base database loads", "[unit][noise]") {
  const auto wn = real_wordnet();
  CHECK(wn->synset_count() > 100000);  // WordNet 3.0: 117,659
  const auto del = wn->synonyms("delete", PartOfSpeech::verb);
  CHECK(std::find(del.begin(), del.end(), "erase") != del.end());
  CHECK(wn->base_forms("got", PartOfSpeech::verb) == std::vector<std::string>{"get"});
}

TEST_CASE("Noise: same seed, same output; other seeds vary", "[unit][noise]") {
  NoiseGenerator g(real_wordnet(), NoiseConfig{});
  std::set<std::string> outs;
  for (const auto& t : kHdfs) {
    for (std::uint64_t seed = 0; seed < 20; ++seed) {
      const auto a = g.reword(t, seed);
      CHECK(a == g.reword(t, seed));
      CHECK(a == NoiseGenerator(real_wordnet(), NoiseConfig{}).reword(t, seed));  // no hidden state
      outs.insert(a);
    }
  }
  CHECK(outs.size() > kHdfs.size() * 5);
  // A fixed expectation guards cross-platform determinism of the PRNG and hash.
  // (Changes when the algorithm, the filler list or the database changes: update it then.)
  CHECK(g.reword("<*>Unexpected error trying to delete block<*>", 42) ==
        "<*>Unexpected error trying out to delete block<*>");
}

TEST_CASE("Noise never touches placeholders or identifiers", "[unit][noise]") {
  for (auto flavour : {NoiseFlavour::training, NoiseFlavour::evaluation}) {
    NoiseConfig c;
    c.flavour = flavour;
    c.replace_rate = c.insert_rate = c.delete_rate = 1.0;
    NoiseGenerator g(real_wordnet(), c);
    for (const auto& t : kHdfs) {
      for (std::uint64_t seed = 0; seed < 50; ++seed) {
        const auto v = g.reword(t, seed);
        INFO(t << " -> " << v);
        CHECK(placeholders_of(v) == placeholders_of(t));
        for (const char* ident : {"addStoredBlock", "NameSystem", "BLOCK*", "volumeMap", "BlockInfo", "src:", "dest:"})
          if (t.find(ident) != std::string::npos) CHECK(v.find(ident) != std::string::npos);
      }
    }
  }
}

TEST_CASE("Noise rates are respected", "[unit][noise]") {
  const std::string text = "error delete receive block error delete receive block error delete receive block";
  const auto wn = std::make_shared<const WordNet>(WordNet::from_synsets({
      {PartOfSpeech::noun, {"error", "mistake", "fault", "flaw", "slip", "blunder", "lapse"}},
      {PartOfSpeech::noun, {"block", "brick", "cube", "chunk", "lump", "slab", "hunk"}},
      {PartOfSpeech::verb, {"delete", "erase", "cancel", "remove", "wipe", "strike", "scrub"}},
      {PartOfSpeech::verb, {"receive", "get", "obtain", "acquire", "gain", "accept", "collect"}},
  }));
  auto measure = [&](double rep, double ins, double del) {
    NoiseConfig c;
    c.replace_rate = rep;
    c.insert_rate = ins;
    c.delete_rate = del;
    c.min_edits = 0;
    NoiseGenerator g(wn, c);
    double replaced = 0, replaceable = 0, inserted = 0, deleted = 0, deletable = 0, words = 0;
    for (std::uint64_t seed = 0; seed < 3000; ++seed) {
      const auto r = g.reword_detailed(text, seed);
      replaced += r.replaced;
      replaceable += r.replaceable;
      inserted += r.inserted;
      deleted += r.deleted;
      deletable += r.deletable;
      words += r.words;
    }
    REQUIRE(replaceable > 0);
    REQUIRE(deletable > 0);
    return std::array<double, 3>{replaced / replaceable, inserted / words, deleted / deletable};
  };
  const auto a = measure(0.3, 0.0, 0.0);
  CHECK(a[0] == Approx(0.3).margin(0.02));
  CHECK(a[1] == 0.0);
  CHECK(a[2] == 0.0);
  const auto b = measure(0.0, 0.2, 0.0);  // every word of `text` is an insertion point
  CHECK(b[0] == 0.0);
  CHECK(b[1] == Approx(0.2).margin(0.02));
  const auto d = measure(0.0, 0.0, 0.25);
  CHECK(d[2] == Approx(0.25).margin(0.02));
  // All rates 0 and no forced edit: the text comes back unchanged.
  NoiseConfig none;
  none.replace_rate = none.insert_rate = none.delete_rate = 0;
  none.min_edits = 0;
  CHECK(NoiseGenerator(wn, none).reword(text, 7) == text);
  // min_edits forces a change even at rate 0.
  none.min_edits = 1;
  CHECK(NoiseGenerator(wn, none).reword(text, 7) != text);
}

TEST_CASE("Noise flavours do not overlap", "[unit][noise]") {
  NoiseConfig tc, ec;
  tc.flavour = NoiseFlavour::training;
  ec.flavour = NoiseFlavour::evaluation;
  const NoiseGenerator train(real_wordnet(), tc), eval(real_wordnet(), ec);
  std::size_t with_both = 0;
  for (const char* w : {"block", "Receiving", "received", "delete", "error", "exception", "terminating", "serving",
                        "transfer", "file", "request", "empty", "packet", "Unexpected", "found", "got", "size"}) {
    const auto a = train.synonym_candidates(w), b = eval.synonym_candidates(w);
    INFO(w);
    for (const auto& s : a) CHECK(std::find(b.begin(), b.end(), s) == b.end());
    with_both += !a.empty() && !b.empty();
    CHECK(train.deletable(w) != eval.deletable(w));
  }
  CHECK(with_both >= 8);  // both halves are usable on HDFS vocabulary
  const auto& fa = train.insertion_vocabulary();
  const auto& fb = eval.insertion_vocabulary();
  CHECK(fa.size() >= 10);
  CHECK(fb.size() >= 10);
  for (const auto& w : fa) CHECK(std::find(fb.begin(), fb.end(), w) == fb.end());
  // Training variants never contain an evaluation-only inserted word and vice versa.
  for (const auto& t : kHdfs)
    for (const auto& v : eval.variants(t, 10, 3)) CHECK(v != t);
}

TEST_CASE("Noise keeps inflection and capitalisation", "[unit][noise]") {
  const auto wn = std::make_shared<const WordNet>(WordNet::from_synsets({
      {PartOfSpeech::verb, {"receive", "obtain", "acquire"}},
  }));
  NoiseConfig c;
  c.replace_rate = 1.0;
  c.insert_rate = c.delete_rate = 0;
  std::set<std::string> seen;
  for (auto f : {NoiseFlavour::training, NoiseFlavour::evaluation}) {
    c.flavour = f;
    NoiseGenerator g(wn, c);
    for (const auto& s : g.synonym_candidates("Receiving")) seen.insert(s);
    for (const auto& s : g.synonym_candidates("received")) seen.insert(s);
  }
  CHECK(seen == std::set<std::string>{"obtaining", "acquiring", "obtained", "acquired"});
  c.flavour = flavour_of_word("obtain");
  const auto v = NoiseGenerator(wn, c).reword("Receiving block <*>", 1);
  CHECK(v == "Obtaining block <*>");
}

TEST_CASE("Noise: sequence-level positives (k1 k1* k3 k4) and (k1* k1 k3 k4)", "[unit][noise]") {
  NoiseGenerator g(real_wordnet(), NoiseConfig{});
  const std::vector<std::uint32_t> seg = {5, 22, 11, 9};
  auto text_of = [](std::uint32_t id) { return id == 5 ? std::string("<*>Receiving block<*>src:<*>dest:<*>") : std::string("x"); };
  const auto p = noisy_segments(g, seg, 0, text_of, 9);
  CHECK(p[0].events == std::vector<std::uint32_t>{5, 5, 11, 9});
  CHECK(p[0].reworded == 1);
  CHECK(p[1].events == std::vector<std::uint32_t>{5, 5, 11, 9});
  CHECK(p[1].reworded == 0);
  CHECK(p[0].reworded_text == p[1].reworded_text);
  CHECK(p[0].reworded_text != text_of(5));
  CHECK_THROWS_AS(noisy_segments(g, seg, 3, text_of, 9), ConfigError);
}

TEST_CASE("Noise config validation names the key", "[unit][noise]") {
  NoiseConfig c;
  c.insert_rate = 1.5;
  CHECK_THROWS_WITH(c.validate(), Catch::Contains("noise.insert_rate"));
  NoiseFlavour f;
  CHECK(noise_flavour_from_name("evaluation", &f));
  CHECK(f == NoiseFlavour::evaluation);
  CHECK_FALSE(noise_flavour_from_name("eval", &f));
  CHECK(is_placeholder("<*>"));
  CHECK(is_placeholder("{}"));
  CHECK(is_placeholder("<IP_ADDR>"));
  CHECK_FALSE(is_placeholder("< not one >"));
  CHECK_FALSE(is_placeholder("<a<b>"));
}

// Splits on anything but letters, digits, '_', '-' and '\'' (enough to compare a corruption with its source).
static std::vector<std::string> words_of(const std::string& s) {
  std::vector<std::string> out;
  std::string w;
  for (char c : s + " ") {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '\'') w += c;
    else if (!w.empty()) out.push_back(std::exchange(w, {}));
  }
  return out;
}

TEST_CASE("Noise: hard negatives replace one content word by a word of another meaning", "[unit][noise]") {
  const auto wn = real_wordnet();
  NoiseGenerator g(wn, NoiseConfig{});
  const std::string t = "<*>PacketResponder <*> for block <*> terminating<*>";
  std::set<std::string> outs;
  for (std::uint64_t seed = 0; seed < 60; ++seed) {
    const auto c = g.corrupt(t, seed);
    CHECK(c == g.corrupt(t, seed));  // deterministic
    const auto a = words_of(t), b = words_of(c);
    REQUIRE(a.size() == b.size());  // placeholders, identifiers and spacing kept
    std::size_t changed = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (a[i] == b[i]) continue;
      ++changed;
      CHECK((a[i] == "block" || a[i] == "terminating"));  // content words only ("for": function word)
      std::string lo = b[i];
      for (auto& ch : lo) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      // Never a synonym of any sense: "terminating" -> not "ending", "block" -> not "obstruct".
      const auto syn_end = wn->synonyms("terminate", PartOfSpeech::verb);
      const auto syn_block = wn->synonyms("block", PartOfSpeech::noun);
      for (const auto& s : a[i] == "block" ? syn_block : syn_end) {
        const auto gerund = (s.back() == 'e' ? s.substr(0, s.size() - 1) : s) + "ing";
        CHECK(lo != s);
        CHECK(lo != gerund);
      }
      if (a[i] == "terminating") CHECK(lo.size() > 3);
      if (a[i] == "terminating") CHECK(lo.substr(lo.size() - 3) == "ing");  // inflected like the word
    }
    CHECK(changed == 1);
    outs.insert(c);
  }
  CHECK(outs.size() > 30);
  // A pool: half of the draws come from it.
  const std::vector<std::string> pool = {"Interrupted", "Verification"};
  std::size_t from_pool = 0;
  for (std::uint64_t seed = 0; seed < 40; ++seed) {
    const auto c = g.corrupt(t, seed, pool);
    from_pool += c.find("nterrupted") != std::string::npos || c.find("erification") != std::string::npos;
  }
  CHECK(from_pool > 5);
  CHECK(from_pool < 35);
  // Nothing to corrupt: unchanged.
  CHECK(g.corrupt("<*> for <*> to <*>", 1) == "<*> for <*> to <*>");
}
