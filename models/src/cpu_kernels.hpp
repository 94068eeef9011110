#pragma once
// The CPU inference path of MSMASS without LibTorch: packed weights (MsmassPacked), the
// kernels that run one tile of rows through the network, and the per-row softmax statistics
// the judge needs. Not a public header; no LibTorch here (msmass_cpu.cpp packs the weights of
// a LibTorch network into MsmassPacked).
//
// The kernels are compiled several times from cpu_kernels.cpp, once per x86-64 level
// (x86-64-v4: AVX-512, x86-64-v3: AVX2+FMA, and the baseline), and cpu_kernels() picks the
// best one the CPU runs, once per process (LOGGUARD_CPU_ISA=v4|v3|base forces a lower one:
// tests compare them).
//
// Thread-safety: MsmassPacked is read-only after packing; the kernel functions are pure apart
// from the caller's Workspace, so each thread passes its own.
#include <cstdint>
#include <vector>

namespace logguard::models::detail {

/// Every feature dimension is padded to a multiple of this many floats (the widest vector):
/// the padding columns of weights, biases and LayerNorm parameters are zero, so padded
/// activations stay zero through the network.
inline constexpr int kCpuPad = 16;
inline int cpu_pad(int n) { return (n + kCpuPad - 1) / kCpuPad * kCpuPad; }

/// A linear layer y = x W^T + b packed for the kernels: w is [in_p][out_p] row-major (W^T).
struct PackedLinear {
  int in = 0, out = 0, in_p = 0, out_p = 0;
  std::vector<float> w, b;
};
struct PackedNorm {
  std::vector<float> g, b;  // [D_p], padding zero
};
struct PackedEncoderLayer {
  PackedNorm ln1, ln2;
  PackedLinear qkv, o, l1, l2;  // qkv: [D_p][3 D_p] (q | k | v)
};
struct PackedDecoderLayer {
  PackedNorm ln1, ln2, ln3;
  PackedLinear qkv, o, cq, ckv, co, l1, l2;  // ckv: [D_p][2 D_p] (k | v of the memory)
};

/// An MSMASS network's weights in the kernels' layout (see msmass_cpu.hpp for packing).
struct MsmassPacked {
  int W = 0, L = 0, D = 0, Dp = 0, F = 0, Fp = 0, V = 0, Vp = 0, heads = 0, d_head = 0;
  std::vector<int> head_scale;   // band width of each head (odd; 0 = whole window)
  // Additive band masks (0 or -inf) per head and query over the keys padded to a multiple of
  // kCpuPad: encoder [heads][W][W_p], decoder (causal) [heads][L][L_p].
  std::vector<float> enc_band, dec_band;
  std::vector<float> tok, pos;   // embeddings [V][D_p], [W][D_p]
  // The first layers' self-attention inputs depend on (token, position) only: q|k|v of
  // LayerNorm1(tok[t] + pos[j]) for every t < V, j < W, [V][W][3 D_p], for the first encoder
  // and the first decoder layer (computed by LibTorch at packing). Empty when too large (then
  // the kernels compute them).
  std::vector<float> enc_qkv0, dec_qkv0;
  std::vector<PackedEncoderLayer> enc;
  std::vector<PackedDecoderLayer> dec;
  PackedNorm enc_final, dec_final;
  PackedLinear out;              // [D_p][V_p]
};

/// Scratch memory of one thread; grows to the largest tile it saw and is reused.
struct Workspace {
  std::vector<float> x, h, qkv, ctx, ff, mem, kv, y, logits;
};

/// Rows of one tile: R encoder rows of W tokens and their R decoder rows of L tokens at
/// window positions `dec_pos` (int32 model tokens, as nets.hpp numbers them).
struct TileInput {
  int rows = 0;
  const std::int32_t* enc = nullptr;      // [rows][W]
  const std::int32_t* dec = nullptr;      // [rows][L]
  const std::int32_t* dec_pos = nullptr;  // [rows][L]
};

/// Softmax statistics of one logits row over the candidate columns [first, V): the largest
/// logit m, sum = Σ exp(l - m), and for the observed column o: rank = #{l_j > l_o} and
/// above = min{l_j : l_j > l_o} (+inf when rank is 0).
struct RowStat {
  float m = 0, sum = 0, above = 0;
  int rank = 0;
};

struct CpuKernels {
  const char* name;  // "x86-64-v4", "x86-64-v3", "baseline"
  /// Runs the tile through the network; the logits ([rows*L][Vp], row (r, l) at r*L + l)
  /// are left in ws.logits.
  void (*msmass_forward)(const MsmassPacked& p, const TileInput& in, Workspace& ws);
  RowStat (*row_stat)(const float* logits, int first, int V, int observed);
};

/// The best kernels for this CPU (or LOGGUARD_CPU_ISA's), chosen once.
const CpuKernels& cpu_kernels();
/// Every variant this CPU can run, best first (tests compare them).
std::vector<const CpuKernels*> cpu_kernel_variants();

}  // namespace logguard::models::detail
