// The native MSMASS engine (models/src/cpu_kernels.*, msmass_cpu.*) against LibTorch's forward
// pass: the same logits within a tolerance, for every kernel variant this CPU runs, on networks
// whose dimensions exercise the padding (d_model, ff_dim and vocabulary not multiples of 16),
// several head scales, more than one decoder layer and padded windows; and the per-row softmax
// statistics the judge reads. Verdict agreement on trained bundles: test_models.cpp.
// LibTorch (via nets.hpp) defines a glog-style CHECK; include it before Catch2.
#include "msmass_cpu.hpp"  // NOLINT(llvm-include-order)

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>

using namespace logguard::models;
namespace md = logguard::models::detail;

namespace {

struct Case {
  const char* name;
  MsmassConfig c;
  int vocab;
};

std::vector<Case> cases() {
  std::vector<Case> v;
  MsmassConfig hdfs;  // the shipped configs' shape
  v.push_back({"shipped shape (W 10, d 64, scales 1/3/5/whole)", hdfs, 53});
  MsmassConfig odd;
  odd.window = 12;
  odd.d_model = 20;
  odd.ff_dim = 50;
  odd.scales = {1, 5, 0};
  odd.heads_per_scale = {1, 1, 2};
  odd.mask_ratio = 0.3;
  odd.encoder_layers = 1;
  odd.decoder_layers = 2;
  v.push_back({"padded dims (d 20, ff 50, V 37), 2 decoder layers", odd, 37});
  MsmassConfig wide;
  wide.window = 20;
  wide.d_model = 96;
  wide.ff_dim = 160;
  wide.scales = {3, 7, 0};
  wide.heads_per_scale = {2, 2, 2};
  v.push_back({"W 20 (keys beyond one vector), d 96, 6 heads", wide, 300});
  return v;
}

// Random weights with some spread in every parameter (LayerNorm gains and biases included).
void randomize(md::MsmassNetImpl& net, std::uint64_t seed) {
  torch::manual_seed(static_cast<std::int64_t>(seed));
  torch::NoGradGuard ng;
  for (auto& p : net.parameters()) p.add_(torch::randn_like(p) * 0.3);
}

}  // namespace

TEST_CASE("native MSMASS kernels give LibTorch's logits", "[models][msmass][native]") {
  for (const auto& tc : cases()) {
    tc.c.validate();
    md::MsmassNet net(tc.c, tc.vocab);
    randomize(*net, 11);
    net->eval();
    const int W = tc.c.window, L = tc.c.span_length(), V = tc.vocab;
    // Rows as the scorer builds them: random windows, some padded, each span masked in turn.
    std::mt19937_64 rng(5);
    const int B = 37;
    std::vector<std::int32_t> enc, dec, pos;
    for (int r = 0; r < B; ++r) {
      const int n = r % 5 == 3 ? 1 + static_cast<int>(rng() % static_cast<unsigned>(W - 1)) : W;  // events in it
      std::vector<std::int32_t> w(static_cast<std::size_t>(W), static_cast<std::int32_t>(md::kPad));
      for (int j = 0; j < n; ++j)
        w[static_cast<std::size_t>(j)] = static_cast<std::int32_t>(md::kUnk + static_cast<long>(rng() % static_cast<unsigned>(V - md::kUnk)));
      const int s = static_cast<int>(rng() % static_cast<unsigned>(W - L + 1));
      for (int j = 0; j < W; ++j)
        enc.push_back(j >= s && j < s + L && w[static_cast<std::size_t>(j)] != md::kPad ? static_cast<std::int32_t>(md::kMask)
                                                                                         : w[static_cast<std::size_t>(j)]);
      for (int l = 0; l < L; ++l) {
        dec.push_back(l == 0 ? static_cast<std::int32_t>(md::kMask) : w[static_cast<std::size_t>(s + l - 1)]);
        pos.push_back(s + l);
      }
    }
    auto t = [&](std::vector<std::int32_t>& v, long cols) {
      return torch::from_blob(v.data(), {B, cols}, torch::kInt).to(torch::kLong);
    };
    torch::Tensor ref;
    {
      torch::NoGradGuard ng;
      ref = net->forward(t(enc, W), t(dec, L), t(pos, L)).reshape({-1, V}).contiguous();
    }
    const float* rp = ref.data_ptr<float>();
    const float scale = std::max(1.0f, ref.abs().max().item<float>());
    const auto packed = md::pack_msmass(*net);
    CHECK(packed.Vp % md::kCpuPad == 0);
    for (const auto* k : md::cpu_kernel_variants()) {
      INFO(tc.name << ", kernels " << k->name << ", largest |logit| " << scale);
      md::Workspace ws;
      md::TileInput in;
      in.rows = B;
      in.enc = enc.data();
      in.dec = dec.data();
      in.dec_pos = pos.data();
      k->msmass_forward(packed, in, ws);
      float worst = 0;
      for (int r = 0; r < B * L; ++r)
        for (int v = 0; v < V; ++v)
          worst = std::max(worst, std::abs(ws.logits[static_cast<std::size_t>(r * packed.Vp + v)] - rp[r * V + v]));
      CHECK(worst <= 2e-5f * scale);
      // A second run in the same (grown) workspace on fewer rows gives the same first rows.
      in.rows = 3;
      const std::vector<float> first(ws.logits.begin(), ws.logits.begin() + 3 * L * packed.Vp);
      k->msmass_forward(packed, in, ws);
      CHECK(std::equal(first.begin(), first.end(), ws.logits.begin()));
    }
  }
}

TEST_CASE("row statistics: softmax sum, rank and the nearest larger logit", "[models][native]") {
  std::mt19937_64 rng(3);
  std::normal_distribution<float> g(0.f, 4.f);
  for (const auto* k : md::cpu_kernel_variants())
    for (int V : {6, 7, 16, 21, 53, 64, 300}) {
      std::vector<float> l(static_cast<std::size_t>(V));
      for (auto& x : l) x = std::round(g(rng) * 4) / 4;  // ties happen
      l[0] = 1e9f;  // below `first`: never a candidate
      for (int o = 4; o < V; ++o) {
        const auto s = k->row_stat(l.data(), 4, V, o);
        float m = -std::numeric_limits<float>::infinity(), above = std::numeric_limits<float>::infinity();
        int rank = 0;
        for (int j = 4; j < V; ++j) {
          m = std::max(m, l[static_cast<std::size_t>(j)]);
          if (l[static_cast<std::size_t>(j)] > l[static_cast<std::size_t>(o)]) {
            ++rank;
            above = std::min(above, l[static_cast<std::size_t>(j)]);
          }
        }
        double sum = 0;
        for (int j = 4; j < V; ++j) sum += std::exp(static_cast<double>(l[static_cast<std::size_t>(j)] - m));
        INFO(k->name << " V=" << V << " o=" << o);
        CHECK(s.m == m);
        CHECK(s.rank == rank);
        CHECK(s.above == above);
        CHECK(s.sum == Approx(sum).epsilon(1e-6));
      }
    }
}
