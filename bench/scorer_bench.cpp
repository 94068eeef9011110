// Scorer speed: windows scored per second by models::Scorer::score_windows at several batch
// sizes, on real session windows.
//   bench_scorer BUNDLE_DIR SEQUENCES TEMPLATES [THREADS] [SECONDS_PER_POINT] [ENGINE] [BATCHES]
// Windows are cut from the sessions (window_length() events, stride 1), or with SEQUENCES
// `random:N` N windows of templates drawn uniformly from the bundle (TEMPLATES unused, `-`);
// each batch size runs
// for at least SECONDS_PER_POINT seconds (default 3) after one warm-up batch. ENGINE is
// model.detect.engine (auto | native | libtorch; default auto) or a CUDA device (`cuda:0`:
// LibTorch there), THREADS model.detect.threads,
// BATCHES a comma-separated list (default 1,32,256,1024). Prints the process CPU time per
// window beside the wall-clock rate.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "logguard/core/sequences.hpp"
#include "logguard/models/scorer.hpp"

using namespace logguard;

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s BUNDLE_DIR SEQUENCES TEMPLATES [THREADS] [SECONDS] [ENGINE] [BATCHES]\n", argv[0]);
    return 2;
  }
  models::DetectConfig dc;
  dc.threads = argc > 4 ? std::atoi(argv[4]) : 1;
  const double seconds = argc > 5 ? std::atof(argv[5]) : 3.0;
  if (argc > 6) {
    const std::string e = argv[6];
    if (e.rfind("cuda", 0) == 0) {  // LibTorch on a GPU
      dc.device = e;
      dc.engine = "libtorch";
    } else {
      dc.engine = e;
    }
  }
  std::vector<std::size_t> batches{1, 32, 256, 1024};
  if (argc > 7) {
    batches.clear();
    for (const char* p = argv[7]; *p;) {
      char* end = nullptr;
      batches.push_back(std::strtoul(p, &end, 10));
      p = *end ? end + 1 : end;
    }
  }
  const auto scorer = models::Scorer::load(argv[1], dc);
  const auto W = static_cast<std::size_t>(scorer.window_length());
  std::vector<std::vector<std::uint32_t>> windows;
  const std::string seq = argv[2];
  std::vector<core::Session> sessions;
  std::unordered_map<std::uint32_t, std::uint32_t> map;
  if (seq.rfind("random:", 0) == 0) {
    // Diverse windows: every event drawn uniformly from the bundle's templates (fixed seed).
    const auto& t = scorer.manifest().templates;
    std::mt19937_64 rng(1);
    const auto n = std::stoul(seq.substr(7));
    for (std::size_t i = 0; i < n; ++i) {
      std::vector<std::uint32_t> w;
      for (std::size_t j = 0; j < W; ++j) w.push_back(t[std::uniform_int_distribution<std::size_t>(0, t.size() - 1)(rng)].id);
      windows.push_back(std::move(w));
    }
  } else {
    sessions = core::read_sequences(seq);
    map = models::map_templates(scorer.manifest().templates, core::read_templates(argv[3]));
  }
  for (auto& s : sessions) {
    for (auto& e : s.events) e = map.count(e) ? map.at(e) : 0;
    for (std::size_t st = 0; st + W <= s.events.size() && windows.size() < 200000; ++st)
      windows.emplace_back(s.events.begin() + static_cast<long>(st), s.events.begin() + static_cast<long>(st + W));
  }
  // Batches larger than the input repeat it.
  const std::size_t largest = *std::max_element(batches.begin(), batches.end());
  for (std::size_t i = 0; !windows.empty() && windows.size() < largest; ++i) windows.push_back(windows[i]);
  std::printf("model %s, window %zu events, %zu input windows, %d thread(s), engine %s, device %s\n",
              models::to_string(scorer.manifest().kind), W, windows.size(), dc.threads, dc.engine.c_str(), dc.device.c_str());
  std::printf("%8s %14s %12s %16s\n", "batch", "windows/s", "ms/batch", "CPU us/window");
  std::size_t anomalous = 0;
  auto cpu_now = [] {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
  };
  for (std::size_t batch : batches) {
    std::size_t pos = 0, scored = 0, nbatches = 0;
    auto next = [&] {
      if (pos + batch > windows.size()) pos = 0;
      const std::span<const std::vector<std::uint32_t>> b(windows.data() + pos, batch);
      pos += batch;
      for (const auto& v : scorer.score_windows(b)) anomalous += v.anomalous;
    };
    next();  // warm-up
    const double c0 = cpu_now();
    const auto t0 = std::chrono::steady_clock::now();
    double el = 0;
    while (el < seconds) {
      next();
      scored += batch;
      ++nbatches;
      el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    const double cpu = cpu_now() - c0;
    std::printf("%8zu %14.0f %12.3f %16.2f\n", batch, static_cast<double>(scored) / el, 1e3 * el / static_cast<double>(nbatches),
                1e6 * cpu / static_cast<double>(scored));
  }
  return anomalous == static_cast<std::size_t>(-1);  // keep the results observable
}
