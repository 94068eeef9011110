// `logguard noise`: reworded variants of a template table and noisy copies of sequence files
// (robustness evaluation, docs/cli.md). Deterministic in --seed.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "logguard/core/csv.hpp"
#include "logguard/core/error.hpp"
#include "logguard/core/noise.hpp"
#include "logguard/core/sequences.hpp"
#include "logguard/cli/cli.hpp"

namespace logguard::daemon::detail {
namespace {

struct NoiseOptions {
  std::string templates, sequences, out_templates, out_sequences, flavour = "evaluation";
  std::string wordnet = core::WordNet::kDefaultDir;
  double rate = 0.1;
  std::uint64_t seed = 1;
  std::size_t variants = 10;
  core::NoiseConfig noise;
};

// splitmix64: the same stream on every platform.
struct Stream {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::size_t index(std::size_t n) {  // [0, n), n > 0
    const auto i = static_cast<std::size_t>(static_cast<double>(next() >> 11) * 0x1.0p-53 * static_cast<double>(n));
    return i < n ? i : n - 1;
  }
};

std::ofstream open_out(const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw core::LoadError(path + ": cannot write");
  return out;
}

int run_noise(NoiseOptions o) {
  if (!core::noise_flavour_from_name(o.flavour, &o.noise.flavour))
    throw core::ConfigError("--flavour", "must be training or evaluation, got '" + o.flavour + "'");
  if (!(o.rate >= 0.0 && o.rate <= 1.0)) throw core::ConfigError("--rate", "must be in [0, 1]");
  if (o.sequences.empty() != o.out_sequences.empty())
    throw core::ConfigError("--out-sequences", "give both --sequences and --out-sequences, or neither");
  o.noise.validate();

  const auto templates = core::read_templates(o.templates);
  std::vector<core::Session> sessions;
  if (!o.sequences.empty()) sessions = core::read_sequences(o.sequences);
  const auto wordnet = std::make_shared<const core::WordNet>(core::WordNet::load(o.wordnet));
  const core::NoiseGenerator gen(wordnet, o.noise);

  // Variants: new ids after the largest input id, in table order.
  std::uint32_t next_id = 0;
  for (const auto& t : templates) next_id = std::max(next_id, t.id);
  ++next_id;
  std::map<std::uint32_t, std::vector<std::uint32_t>> variant_ids;  // source id -> variant ids
  std::string csv = "EventId,EventTemplate,SourceId\n";
  std::size_t n_variants = 0;
  for (const auto& t : templates) {
    csv += core::csv_record({std::to_string(t.id), t.text, std::to_string(t.id)}) + "\n";
  }
  for (const auto& t : templates) {
    for (const auto& v : gen.variants(t.text, o.variants, o.seed ^ (0x5851f42d4c957f2dULL * t.id))) {
      csv += core::csv_record({std::to_string(next_id), v, std::to_string(t.id)}) + "\n";
      variant_ids[t.id].push_back(next_id++);
      ++n_variants;
    }
  }
  auto tout = open_out(o.out_templates);
  tout << csv;
  if (!tout.flush()) throw core::LoadError(o.out_templates + ": write error");

  if (!o.sequences.empty()) {
    // Replace exactly round(rate * events) of the events that have variants, chosen uniformly.
    std::vector<std::pair<std::size_t, std::size_t>> eligible;  // (session, position)
    std::size_t events = 0;
    for (std::size_t s = 0; s < sessions.size(); ++s)
      for (std::size_t p = 0; p < sessions[s].events.size(); ++p, ++events)
        if (variant_ids.count(sessions[s].events[p])) eligible.emplace_back(s, p);
    const auto target = static_cast<std::size_t>(std::llround(o.rate * static_cast<double>(events)));
    const std::size_t k = std::min(target, eligible.size());
    Stream rng{o.seed * 0x2545f4914f6cdd1dULL + 0x632be59bd9b4e019ULL};
    std::vector<char> touched(sessions.size(), 0);
    for (std::size_t i = 0; i < k; ++i) {  // partial Fisher-Yates
      std::swap(eligible[i], eligible[i + rng.index(eligible.size() - i)]);
      auto& ev = sessions[eligible[i].first].events[eligible[i].second];
      const auto& ids = variant_ids[ev];
      ev = ids[rng.index(ids.size())];
      touched[eligible[i].first] = 1;
    }
    const bool labelled = std::any_of(sessions.begin(), sessions.end(), [](const auto& s) { return s.label >= 0; });
    auto sout = open_out(o.out_sequences);
    if (labelled) sout << "Sequence,label\n";
    std::string line;
    for (const auto& s : sessions) {
      line.clear();
      if (!labelled) line = s.id + ",";
      for (std::size_t p = 0; p < s.events.size(); ++p) {
        if (p) line += ' ';
        line += std::to_string(s.events[p]);
      }
      if (labelled) line += "," + std::to_string(s.label);
      sout << line << '\n';
    }
    if (!sout.flush()) throw core::LoadError(o.out_sequences + ": write error");
    std::fprintf(stderr, "noise: %zu of %zu events replaced (%.2f%%; %zu eligible), %zu of %zu sessions touched -> %s\n", k,
                 events, events ? 100.0 * static_cast<double>(k) / static_cast<double>(events) : 0.0, eligible.size(),
                 static_cast<std::size_t>(std::count(touched.begin(), touched.end(), 1)), sessions.size(),
                 o.out_sequences.c_str());
    if (k < target) std::fprintf(stderr, "noise: warning: only %zu events have variants (asked for %zu)\n", k, target);
  }
  std::fprintf(stderr, "noise: %zu templates, %zu %s variants (up to %zu each, seed %llu) -> %s\n", templates.size(),
               n_variants, core::to_string(o.noise.flavour), o.variants, static_cast<unsigned long long>(o.seed),
               o.out_templates.c_str());
  return kOk;
}

}  // namespace

void register_noise(CLI::App& root, Action& action) {
  auto o = std::make_shared<NoiseOptions>();
  CLI::App* cmd = root.add_subcommand(
      "noise", "Reworded template variants (WordNet synonyms, insertions, deletions) and noisy sequence files");
  cmd->add_option("--templates", o->templates, "template table (EventId,EventTemplate CSV or one per line)")->required();
  cmd->add_option("--out-templates", o->out_templates, "output table EventId,EventTemplate,SourceId")->required();
  cmd->add_option("--sequences", o->sequences, "session sequence file whose events to replace");
  cmd->add_option("--out-sequences", o->out_sequences, "noisy copy of --sequences");
  cmd->add_option("--rate", o->rate, "fraction of events replaced by a reworded variant")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "seed (same seed, same output)")->capture_default_str();
  cmd->add_option("--flavour", o->flavour, "training | evaluation (disjoint synonyms and filler words)")
      ->check(CLI::IsMember({"training", "evaluation"}))
      ->capture_default_str();
  cmd->add_option("--variants", o->variants, "distinct variants per template")->capture_default_str();
  cmd->add_option("--replace-rate", o->noise.replace_rate, "per word: P(synonym replacement)")->capture_default_str();
  cmd->add_option("--insert-rate", o->noise.insert_rate, "per word gap: P(filler insertion)")->capture_default_str();
  cmd->add_option("--delete-rate", o->noise.delete_rate, "per word: P(deletion)")->capture_default_str();
  cmd->add_option("--max-senses", o->noise.max_senses, "synonyms from each lemma's first N WordNet senses (0 = all)")
      ->capture_default_str();
  cmd->add_option("--wordnet", o->wordnet, "WordNet database directory (Debian wordnet-base)")->capture_default_str();
  cmd->callback([o, &action] { action = [o] { return run_noise(*o); }; });
}

}  // namespace logguard::daemon::detail
