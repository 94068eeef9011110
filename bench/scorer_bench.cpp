// Scorer speed: windows scored per second by models::Scorer::score_windows at several batch
// sizes, on real session windows.
//   bench_scorer BUNDLE_DIR SEQUENCES TEMPLATES [THREADS] [SECONDS_PER_POINT]
// Windows are cut from the sessions (window_length() events, stride 1); each batch size runs
// for at least SECONDS_PER_POINT seconds (default 3) after one warm-up batch.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "logguard/core/sequences.hpp"
#include "logguard/models/scorer.hpp"

using namespace logguard;

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s BUNDLE_DIR SEQUENCES TEMPLATES [THREADS] [SECONDS]\n", argv[0]);
    return 2;
  }
  models::DetectConfig dc;
  dc.threads = argc > 4 ? std::atoi(argv[4]) : 1;
  const double seconds = argc > 5 ? std::atof(argv[5]) : 3.0;
  const auto scorer = models::Scorer::load(argv[1], dc);
  auto sessions = core::read_sequences(argv[2]);
  const auto map = models::map_templates(scorer.manifest().templates, core::read_templates(argv[3]));
  const auto W = static_cast<std::size_t>(scorer.window_length());
  std::vector<std::vector<std::uint32_t>> windows;
  for (auto& s : sessions) {
    for (auto& e : s.events) e = map.count(e) ? map.at(e) : 0;
    for (std::size_t st = 0; st + W <= s.events.size() && windows.size() < 200000; ++st)
      windows.emplace_back(s.events.begin() + static_cast<long>(st), s.events.begin() + static_cast<long>(st + W));
  }
  std::printf("model %s, window %zu events, %zu input windows, %d intra-op thread(s)\n",
              models::to_string(scorer.manifest().kind), W, windows.size(), dc.threads);
  std::printf("%8s %14s %12s\n", "batch", "windows/s", "ms/batch");
  std::size_t anomalous = 0;
  for (std::size_t batch : {1, 32, 256, 1024}) {
    std::size_t pos = 0, scored = 0, batches = 0;
    auto next = [&] {
      if (pos + batch > windows.size()) pos = 0;
      const std::span<const std::vector<std::uint32_t>> b(windows.data() + pos, batch);
      pos += batch;
      for (const auto& v : scorer.score_windows(b)) anomalous += v.anomalous;
    };
    next();  // warm-up
    const auto t0 = std::chrono::steady_clock::now();
    double el = 0;
    while (el < seconds) {
      next();
      scored += batch;
      ++batches;
      el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    std::printf("%8zu %14.0f %12.3f\n", batch, static_cast<double>(scored) / el, 1e3 * el / static_cast<double>(batches));
  }
  return anomalous == static_cast<std::size_t>(-1);  // keep the results observable
}
