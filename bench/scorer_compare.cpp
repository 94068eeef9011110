// Agreement of two scorer configurations on the same windows: the native CPU engine against
// LibTorch (the check behind docs/benchmarks.md), or a CUDA device against the CPU
// (bench/gpu/run.sh).
//   bench_scorer_compare BUNDLE_DIR SEQUENCES TEMPLATES [A] [B] [MAX_WINDOWS]
// A and B: `native`, `libtorch` (CPU) or `cuda:N` (LibTorch on that device); defaults
// `libtorch` and `native`. Windows: every model window (window_length() events, stride 1) of
// the sessions, at most MAX_WINDOWS (default 200000), scored in batches of 1024. Prints one
// JSON object: windows, verdicts that differ, anomalous windows per side, the largest score and
// fractional-rank differences, windows whose integer rank differs, and sessions (score_sessions)
// whose verdicts differ, with the threshold and the scores (A, B) of the first differing windows.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "logguard/core/sequences.hpp"
#include "logguard/models/scorer.hpp"

using namespace logguard;

namespace {

models::DetectConfig spec(const std::string& s) {
  models::DetectConfig c;
  c.batch_windows = 1024;
  if (s.rfind("cuda", 0) == 0) {
    c.device = s;
    c.engine = "libtorch";
  } else {
    c.engine = s;
  }
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s BUNDLE_DIR SEQUENCES TEMPLATES [A] [B] [MAX_WINDOWS]\n", argv[0]);
    return 2;
  }
  const std::string as = argc > 4 ? argv[4] : "libtorch", bs = argc > 5 ? argv[5] : "native";
  const std::size_t max_windows = argc > 6 ? std::strtoul(argv[6], nullptr, 10) : 200000;
  const auto a = models::Scorer::load(argv[1], spec(as));
  const auto b = models::Scorer::load(argv[1], spec(bs));
  auto sessions = core::read_sequences(argv[2]);
  const auto map = models::map_templates(a.manifest().templates, core::read_templates(argv[3]));
  for (auto& s : sessions)
    for (auto& e : s.events) e = map.count(e) ? map.at(e) : 0;
  const auto W = static_cast<std::size_t>(a.window_length());
  std::vector<std::vector<std::uint32_t>> windows;
  for (const auto& s : sessions) {
    for (std::size_t st = 0; (st == 0 || st + W <= s.events.size()) && windows.size() < max_windows; ++st)
      windows.emplace_back(s.events.begin() + static_cast<long>(st),
                           s.events.begin() + static_cast<long>(std::min(s.events.size(), st + W)));
    if (windows.size() >= max_windows) break;
  }
  std::size_t differ = 0, anom_a = 0, anom_b = 0, rank_differ = 0;
  std::string examples;  // the first differing windows: scores on both sides
  double dscore = 0, drank = 0;
  for (std::size_t i = 0; i < windows.size(); i += 1024) {
    const std::span<const std::vector<std::uint32_t>> batch(windows.data() + i, std::min<std::size_t>(1024, windows.size() - i));
    const auto va = a.score_windows(batch), vb = b.score_windows(batch);
    for (std::size_t j = 0; j < va.size(); ++j) {
      if (va[j].anomalous != vb[j].anomalous && differ < 5) {
        char buf[96];
        std::snprintf(buf, sizeof buf, "%s[%.9g,%.9g]", examples.empty() ? "" : ",", va[j].score, vb[j].score);
        examples += buf;
      }
      differ += va[j].anomalous != vb[j].anomalous;
      anom_a += va[j].anomalous;
      anom_b += vb[j].anomalous;
      if (va[j].score < models::kAbnormalScore && vb[j].score < models::kAbnormalScore)
        dscore = std::max(dscore, std::abs(va[j].score - vb[j].score));
      drank = std::max(drank, static_cast<double>(std::abs(va[j].stats.max_rank - vb[j].stats.max_rank)));
      rank_differ += std::floor(va[j].stats.max_rank) != std::floor(vb[j].stats.max_rank);
    }
  }
  // Whole sessions as `logguard detect` scores them (the sessions the windows came from).
  std::size_t n_sessions = 0, covered = 0;
  for (const auto& s : sessions) {
    covered += s.events.size() <= W ? 1 : s.events.size() - W + 1;
    ++n_sessions;
    if (covered >= windows.size()) break;
  }
  const std::span<const core::Session> ss(sessions.data(), n_sessions);
  const auto sa = a.score_sessions(ss), sb = b.score_sessions(ss);
  std::size_t sdiffer = 0, sanom = 0;
  for (std::size_t i = 0; i < sa.size(); ++i) {
    sdiffer += sa[i].anomalous != sb[i].anomalous;
    sanom += sa[i].anomalous;
  }
  std::printf(
      "{\"a\":\"%s\",\"b\":\"%s\",\"windows\":%zu,\"verdicts_differ\":%zu,\"anomalous_a\":%zu,\"anomalous_b\":%zu,"
      "\"max_score_diff\":%.3g,\"max_rank_diff\":%.3g,\"integer_rank_differs\":%zu,\"sessions\":%zu,"
      "\"session_verdicts_differ\":%zu,\"anomalous_sessions_a\":%zu,\"threshold\":%.9g,\"differing_scores\":[%s]}\n",
      as.c_str(), bs.c_str(), windows.size(), differ, anom_a, anom_b, dscore, drank, rank_differ, sa.size(), sdiffer, sanom,
      a.detection().threshold, examples.c_str());
  return differ == 0 && sdiffer == 0 ? 0 : 1;
}
