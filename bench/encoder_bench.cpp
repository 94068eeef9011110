// Encoding latency of the template encoder on CPU: each template encoded alone, as a new
// template arriving in the stream would be (TemplateMapper caches it afterwards).
//   bench_encoder ENCODER_DIR TEMPLATES.csv [THREADS=1] [ROUNDS=5]
// ENCODER_DIR: models-cache/all-MiniLM-L6-v2 or BUNDLE/encoder. Prints min/median/p95/mean ms
// per template and the batched throughput (64 per call). Results: docs/semantic-mapping.md.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "logguard/core/sequences.hpp"
#include "logguard/models/config.hpp"
#include "logguard/models/encoder.hpp"

int main(int argc, char** argv) {
  using namespace logguard;
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_encoder ENCODER_DIR TEMPLATES.csv [THREADS=1] [ROUNDS=5]\n");
    return 2;
  }
  const int threads = argc > 3 ? std::atoi(argv[3]) : 1;
  const int rounds = argc > 4 ? std::atoi(argv[4]) : 5;
  models::configure_threads(threads);
  const auto enc = models::TemplateEncoder::from_pretrained(argv[1]);
  std::vector<std::string> texts;
  for (const auto& t : core::read_templates(argv[2])) texts.push_back(models::encoder_text(t.text));
  using clock = std::chrono::steady_clock;
  enc.encode({texts.front()});  // warm-up
  std::vector<double> ms;
  for (int r = 0; r < rounds; ++r)
    for (const auto& t : texts) {
      const auto t0 = clock::now();
      enc.encode({t});
      ms.push_back(std::chrono::duration<double, std::milli>(clock::now() - t0).count());
    }
  std::sort(ms.begin(), ms.end());
  double sum = 0;
  for (double x : ms) sum += x;
  const auto t0 = clock::now();
  for (int r = 0; r < rounds; ++r) enc.encode(texts, 64);
  const double batched = std::chrono::duration<double>(clock::now() - t0).count();
  std::printf("encoder %s (%zu parameters, %d layers, dim %d), %d thread(s), %zu templates x %d rounds\n", argv[1],
              enc.parameters(), enc.layers(), enc.dim(), threads, texts.size(), rounds);
  std::printf("one template per call: min %.2f ms, median %.2f ms, p95 %.2f ms, mean %.2f ms\n", ms.front(),
              ms[ms.size() / 2], ms[ms.size() * 95 / 100], sum / static_cast<double>(ms.size()));
  std::printf("batched (64 per call): %.1f templates/s\n",
              static_cast<double>(texts.size()) * rounds / std::max(batched, 1e-9));
  return 0;
}
