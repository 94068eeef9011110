// MSMASS inference kernels for the CPU (see cpu_kernels.hpp). This file is compiled once per
// instruction-set level with LG_ISA = 4 (x86-64-v4), 3 (x86-64-v3) or 0 (the baseline); each
// copy lives in its own namespace and exports one CpuKernels table. Vectors are GCC vector
// extensions of the level's natural width, so the same source gives 512-, 256- or 128-bit
// code. Numerics follow LibTorch's eval-mode forward (nets.cpp): pre-LN blocks, LayerNorm eps
// 1e-5, exact (erf) GELU, additive -1e9 masks (here: masked keys are skipped), dropout off.
#include <cmath>
#include <cstring>
#include <limits>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "cpu_kernels.hpp"

#if !defined(LG_ISA)
#error "compile with -DLG_ISA=4|3|0 (models/CMakeLists.txt)"
#endif

#if LG_ISA == 4
#define LG_NS isa_v4
#define LG_NAME "x86-64-v4"
#define LG_VBYTES 64
#define LG_MR 6
#define LG_NV 4
#elif LG_ISA == 3
#define LG_NS isa_v3
#define LG_NAME "x86-64-v3"
#define LG_VBYTES 32
#define LG_MR 6
#define LG_NV 2
#else
#define LG_NS isa_base
#define LG_NAME "baseline"
#define LG_VBYTES 16
#define LG_MR 4
#define LG_NV 2
#endif

namespace logguard::models::detail::LG_NS {
namespace {

typedef float vf __attribute__((vector_size(LG_VBYTES)));
typedef std::int32_t vi __attribute__((vector_size(LG_VBYTES)));
constexpr int NL = LG_VBYTES / 4;  // lanes
static_assert(kCpuPad % NL == 0, "padding must be a multiple of the vector width");

constexpr std::int32_t kPadToken = 0;  // nets.hpp kPad

inline vf ld(const float* p) {
  vf v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void st(float* p, vf v) { std::memcpy(p, &v, sizeof v); }
inline vf splat(float a) { return vf{} + a; }
inline vf vmax(vf a, vf b) { return a > b ? a : b; }
// Horizontal sum / max by halving (lane i meets lane i ^ w).
template <class Op>
inline float reduce(vf v, Op op) {
#if LG_VBYTES == 64
  v = op(v, __builtin_shuffle(v, vi{8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7}));
  v = op(v, __builtin_shuffle(v, vi{4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11}));
  v = op(v, __builtin_shuffle(v, vi{2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13}));
  v = op(v, __builtin_shuffle(v, vi{1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14}));
#elif LG_VBYTES == 32
  v = op(v, __builtin_shuffle(v, vi{4, 5, 6, 7, 0, 1, 2, 3}));
  v = op(v, __builtin_shuffle(v, vi{2, 3, 0, 1, 6, 7, 4, 5}));
  v = op(v, __builtin_shuffle(v, vi{1, 0, 3, 2, 5, 4, 7, 6}));
#else
  v = op(v, __builtin_shuffle(v, vi{2, 3, 0, 1}));
  v = op(v, __builtin_shuffle(v, vi{1, 0, 3, 2}));
#endif
  return v[0];
}
inline float hsum(vf v) {
  return reduce(v, [](vf a, vf b) { return a + b; });
}
inline float hmax(vf v) {
  return reduce(v, [](vf a, vf b) { return vmax(a, b); });
}
inline vf vmin(vf a, vf b) { return a < b ? a : b; }

// exp(x) for a vector: Cephes' expf (range reduction by ln 2, degree-6 polynomial), about
// 1 ulp; below ln(FLT_MIN) the result is 0 (LibTorch would give a denormal).
inline vf vexp(vf x) {
  const float hi = 88.3762626647949f, lo = -87.3365447505531f;
  vf xc = vmin(vmax(x, splat(lo)), splat(hi));
  const vf magic = splat(12582912.0f);  // 1.5 * 2^23: adding it rounds to an integer
  vf t = xc * 1.44269504088896341f + magic;
  vi n = (vi)t - 0x4B400000;
  vf fn = t - magic;
  vf r = xc - fn * 0.693359375f;
  r = r - fn * -2.12194440e-4f;
  vf p = splat(1.9875691500E-4f);
  p = p * r + 1.3981999507E-3f;
  p = p * r + 8.3334519073E-3f;
  p = p * r + 4.1665795894E-2f;
  p = p * r + 1.6666665459E-1f;
  p = p * r + 5.0000001201E-1f;
  p = p * (r * r) + r + 1.0f;
  vi bits = (n + 127) << 23;
  vf y = p * (vf)bits;
  return x < lo ? vf{} : y;
}

// 1 / x: the hardware's reciprocal estimate refined by one Newton step where there is one
// (x86-64-v4: 14 bits -> ~28; x86-64-v3: 12 -> ~23), else a division.
inline vf vrcp(vf x) {
#if LG_VBYTES == 64
  const vf r = (vf)_mm512_mask_rcp14_ps((__m512)x, 0xFFFF, (__m512)x);  // (the unmasked form trips GCC 12 -Wuninitialized)
  return r * (2.0f - x * r);
#elif LG_VBYTES == 32
  const vf r = (vf)_mm256_rcp_ps((__m256)x);
  return r * (2.0f - x * r);
#else
  return 1.0f / x;
#endif
}

// erf(x) by Abramowitz & Stegun 7.1.26: 1 - t (a1 + t (a2 + ... a5)) exp(-x^2), t = 1/(1 + p|x|),
// absolute error < 1.5e-7 (GELU's output error < 1e-6 for |x| < 8); sign restored.
inline vf verf(vf x) {
  const vi sign_mask = vi{} + static_cast<std::int32_t>(0x80000000u);
  const vf z = (vf)((vi)x & ~sign_mask);
  const vf t = vrcp(1.0f + 0.3275911f * z);
  vf q = splat(1.061405429f);
  q = q * t - 1.453152027f;
  q = q * t + 1.421413741f;
  q = q * t - 0.284496736f;
  q = q * t + 0.254829592f;
  const vf e = 1.0f - q * t * vexp(-(z * z));
  return (vf)((vi)e | ((vi)x & sign_mask));
}

inline vf vgelu(vf x) { return 0.5f * x * (1.0f + verf(x * 0.70710678118654752f)); }

enum class Epi { bias, bias_gelu, bias_add };

// C[MR rows][NV vectors] (=|+=) A[MR][K] * B[K][...] + bias, B row-major with ldb.
template <int MR, int NV, Epi E>
inline void gemm_block(int K, const float* A, int lda, const float* B, int ldb, const float* bias, float* C,
                       int ldc) {
  vf acc[MR][NV];
  for (int r = 0; r < MR; ++r)
    for (int v = 0; v < NV; ++v) acc[r][v] = vf{};
  for (int k = 0; k < K; ++k) {
    vf b[NV];
    for (int v = 0; v < NV; ++v) b[v] = ld(B + static_cast<std::size_t>(k) * ldb + v * NL);
    for (int r = 0; r < MR; ++r) {
      const vf a = splat(A[static_cast<std::size_t>(r) * lda + k]);
      for (int v = 0; v < NV; ++v) acc[r][v] += a * b[v];
    }
  }
  for (int v = 0; v < NV; ++v) {
    const vf bb = ld(bias + v * NL);
    for (int r = 0; r < MR; ++r) {
      float* c = C + static_cast<std::size_t>(r) * ldc + v * NL;
      vf y = acc[r][v] + bb;
      if constexpr (E == Epi::bias_gelu) y = vgelu(y);
      if constexpr (E == Epi::bias_add) y = ld(c) + y;
      st(c, y);
    }
  }
}

template <int NV, Epi E>
void gemm_cols(int M, int K, const float* A, int lda, const float* B, int ldb, const float* bias, float* C, int ldc) {
  int i = 0;
  for (; i + LG_MR <= M; i += LG_MR)
    gemm_block<LG_MR, NV, E>(K, A + static_cast<std::size_t>(i) * lda, lda, B, ldb, bias,
                             C + static_cast<std::size_t>(i) * ldc, ldc);
  const float* a = A + static_cast<std::size_t>(i) * lda;
  float* c = C + static_cast<std::size_t>(i) * ldc;
  switch (M - i) {
    case 1: gemm_block<1, NV, E>(K, a, lda, B, ldb, bias, c, ldc); break;
    case 2: gemm_block<2, NV, E>(K, a, lda, B, ldb, bias, c, ldc); break;
    case 3: gemm_block<3, NV, E>(K, a, lda, B, ldb, bias, c, ldc); break;
    case 4: gemm_block<4, NV, E>(K, a, lda, B, ldb, bias, c, ldc); break;
    case 5: gemm_block<5, NV, E>(K, a, lda, B, ldb, bias, c, ldc); break;
    default: break;
  }
}

// C[M][N] (=|+=) A[M][K] * lin + bias (+ GELU); N = lin.out_p, K = lin.in_p (multiples of kCpuPad).
template <Epi E>
void linear(int M, const float* A, int lda, const PackedLinear& lin, float* C, int ldc) {
  const int N = lin.out_p, K = lin.in_p;
  constexpr int step = LG_NV * NL;
  int n = 0;
  for (; n + step <= N; n += step)
    gemm_cols<LG_NV, E>(M, K, A, lda, lin.w.data() + n, N, lin.b.data() + n, C + n, ldc);
  const int rest = (N - n) / NL;
  if (rest == 0) return;
  if constexpr (LG_NV > 1) {
    if (rest == 1) gemm_cols<1, E>(M, K, A, lda, lin.w.data() + n, N, lin.b.data() + n, C + n, ldc);
  }
  if constexpr (LG_NV > 2) {
    if (rest == 2) gemm_cols<2, E>(M, K, A, lda, lin.w.data() + n, N, lin.b.data() + n, C + n, ldc);
    if (rest == 3) gemm_cols<3, E>(M, K, A, lda, lin.w.data() + n, N, lin.b.data() + n, C + n, ldc);
  }
}

// out[t] = LayerNorm(x[t]) over the first D of Dp features (biased variance, eps 1e-5).
void layer_norm(int T, int D, int Dp, const float* x, const PackedNorm& n, float* out) {
  const float inv_d = 1.0f / static_cast<float>(D);
  const float pads = static_cast<float>(Dp - D);
  for (int t = 0; t < T; ++t) {
    const float* a = x + static_cast<std::size_t>(t) * Dp;
    float* o = out + static_cast<std::size_t>(t) * Dp;
    vf s = vf{};
    for (int d = 0; d < Dp; d += NL) s += ld(a + d);
    const float mean = hsum(s) * inv_d;
    vf q = vf{};
    for (int d = 0; d < Dp; d += NL) {
      const vf c = ld(a + d) - mean;
      q += c * c;
    }
    const float var = (hsum(q) - pads * mean * mean) * inv_d;  // padding columns are 0
    const float rstd = 1.0f / std::sqrt(var + 1e-5f);
    for (int d = 0; d < Dp; d += NL) st(o + d, (ld(a + d) - mean) * rstd * ld(n.g.data() + d) + ld(n.b.data() + d));
  }
}

inline bool band_ok(int scale, int i, int j, bool causal) {
  if (causal && j > i) return false;
  if (scale == 0) return true;
  const int half = (scale - 1) / 2;
  return (i > j ? i - j : j - i) <= half;
}

enum class Att { encoder_self, decoder_self, cross };

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

#if LG_VBYTES == 64
// Transposes a 16 x 16 block held as 16 row vectors (four rounds of two-source shuffles).
inline void transpose16(vf* r) {
  vf t[16], u[16];
  const vi lo32 = {0, 16, 1, 17, 4, 20, 5, 21, 8, 24, 9, 25, 12, 28, 13, 29};
  const vi hi32 = {2, 18, 3, 19, 6, 22, 7, 23, 10, 26, 11, 27, 14, 30, 15, 31};
  for (int k = 0; k < 8; ++k) {
    t[2 * k] = __builtin_shuffle(r[2 * k], r[2 * k + 1], lo32);
    t[2 * k + 1] = __builtin_shuffle(r[2 * k], r[2 * k + 1], hi32);
  }
  const vi lo64 = {0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29};
  const vi hi64 = {2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31};
  for (int k = 0; k < 4; ++k)
    for (int h = 0; h < 2; ++h) {
      u[4 * k + 2 * h] = __builtin_shuffle(t[4 * k + h], t[4 * k + 2 + h], lo64);
      u[4 * k + 2 * h + 1] = __builtin_shuffle(t[4 * k + h], t[4 * k + 2 + h], hi64);
    }
  const vi lo128 = {0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27};
  const vi hi128 = {4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31};
  for (int k = 0; k < 2; ++k)
    for (int h = 0; h < 4; ++h) {
      t[8 * k + h] = __builtin_shuffle(u[8 * k + h], u[8 * k + 4 + h], lo128);
      t[8 * k + 4 + h] = __builtin_shuffle(u[8 * k + h], u[8 * k + 4 + h], hi128);
    }
  const vi lo256 = {0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23};
  const vi hi256 = {8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31};
  for (int h = 0; h < 8; ++h) {
    r[h] = __builtin_shuffle(t[h], t[8 + h], lo256);
    r[8 + h] = __builtin_shuffle(t[h], t[8 + h], hi256);
  }
}

// attend() for heads of 16 dimensions and at most 16 keys (the shipped shape): a head's keys
// are transposed once in registers, each query's scores are one vector.
template <Att A>
void attend16(const MsmassPacked& p, int Tq, int Tk, const float* q, int ldq, const float* k, const float* v, int ldkv,
              const std::int32_t* key_tokens, const float* band, float* out, int ldo) {
  const vi iota = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  const float inv_scale = 0.25f;  // 1 / sqrt(16)
  vf keymask;
  for (int j = 0; j < 16; ++j)
    keymask[j] = j >= Tk || (A != Att::decoder_self && key_tokens[j] == kPadToken) ? kNegInf : 0.f;
  for (int h = 0; h < p.heads; ++h) {
    const int off = h * 16;
    const int scale = A == Att::cross ? 0 : p.head_scale[static_cast<std::size_t>(h)];
    if (A != Att::cross && scale == 1) {
      for (int i = 0; i < Tq; ++i)
        st(out + static_cast<std::size_t>(i) * ldo + off, ld(v + static_cast<std::size_t>(i) * ldkv + off));
      continue;
    }
    vf kt[16];
    for (int j = 0; j < 16; ++j) kt[j] = j < Tk ? ld(k + static_cast<std::size_t>(j) * ldkv + off) : vf{};
    transpose16(kt);
    const int half = scale == 0 ? Tk : (scale - 1) / 2;
    for (int i = 0; i < Tq; ++i) {
      const float* qi = q + static_cast<std::size_t>(i) * ldq + off;
      vf sc = vf{};
      for (int d = 0; d < 16; ++d) sc += qi[d] * kt[d];
      vf mask = keymask;
      if constexpr (A == Att::encoder_self) mask = iota == i ? vf{} : mask;  // a padding query sees itself
      sc = sc * inv_scale + mask;
      if constexpr (A != Att::cross) sc += ld(band + (static_cast<std::size_t>(h) * Tq + i) * 16);
      float m = hmax(sc);
      if (m == kNegInf) {  // every key masked: LibTorch's -1e9 scores round to equal values
        sc = iota < Tk ? vf{} : splat(kNegInf);
        m = 0;
      }
      const vf e = vexp(sc - m);
      const float inv = 1.0f / hsum(e);
      const int j0 = i - half > 0 ? i - half : 0;
      int j1 = i + half + 1 < Tk ? i + half + 1 : Tk;
      if (A == Att::decoder_self && j1 > i + 1) j1 = i + 1;
      vf acc = vf{};
      for (int j = j0; j < j1; ++j) acc += (e[j] * inv) * ld(v + static_cast<std::size_t>(j) * ldkv + off);
      st(out + static_cast<std::size_t>(i) * ldo + off, acc);
    }
  }
}
#endif

// Multi-head attention of one row: Tq queries (q, row stride ldq), Tk keys and values (k, v,
// row stride ldkv); writes the heads' contexts into out (row stride ldo). Which keys a query
// sees: encoder self-attention: its head's band, and no padding key but itself; decoder
// self-attention: the band, causal; cross-attention: every non-padding key of the memory
// (all of them, evenly, if the memory is only padding, as the -1e9 mask rounds to in float).
// `band` holds the heads' additive masks [heads][Tq][Tkp] (0 or -inf; self-attention only);
// kt and s are scratch of dh * Tkp and 2 * Tkp floats.
template <Att A>
void attend(const MsmassPacked& p, int Tq, int Tk, const float* q, int ldq, const float* k, const float* v, int ldkv,
            const std::int32_t* key_tokens, const float* band, float* out, int ldo, float* kt, float* s) {
  const int dh = p.d_head;
#if LG_VBYTES == 64
  if (dh == 16 && Tk <= 16) return attend16<A>(p, Tq, Tk, q, ldq, k, v, ldkv, key_tokens, band, out, ldo);
#endif
  const int Tkp = cpu_pad(Tk);
  const float inv_scale = 1.0f / std::sqrt(static_cast<float>(dh));
  float* keymask = s + Tkp;  // 0 for a key that may be seen, -inf for padding
  for (int j = 0; j < Tkp; ++j)
    keymask[j] = j >= Tk || (A != Att::decoder_self && key_tokens[j] == kPadToken) ? kNegInf : 0.f;
  for (int h = 0; h < p.heads; ++h) {
    const int off = h * dh;
    const int scale = A == Att::cross ? 0 : p.head_scale[static_cast<std::size_t>(h)];
    if (A != Att::cross && scale == 1) {  // only itself: the context is its own value
      for (int i = 0; i < Tq; ++i)
        std::memcpy(out + static_cast<std::size_t>(i) * ldo + off, v + static_cast<std::size_t>(i) * ldkv + off,
                    sizeof(float) * static_cast<std::size_t>(dh));
      continue;
    }
    for (int d = 0; d < dh; ++d) {
      float* row = kt + static_cast<std::size_t>(d) * Tkp;
      for (int j = 0; j < Tk; ++j) row[j] = k[static_cast<std::size_t>(j) * ldkv + off + d];
      for (int j = Tk; j < Tkp; ++j) row[j] = 0;
    }
    const int half = scale == 0 ? Tk : (scale - 1) / 2;
    for (int i = 0; i < Tq; ++i) {
      const float* qi = q + static_cast<std::size_t>(i) * ldq + off;
      const float* bi = band + (static_cast<std::size_t>(h) * Tq + i) * Tkp;
      float saved = 0;
      if constexpr (A == Att::encoder_self) {  // a padding query sees itself
        saved = keymask[i];
        keymask[i] = 0.f;
      }
      vf mx = splat(kNegInf);
      for (int c = 0; c < Tkp; c += NL) {
        vf acc = vf{};
        for (int d = 0; d < dh; ++d) acc += qi[d] * ld(kt + static_cast<std::size_t>(d) * Tkp + c);
        vf sc = acc * inv_scale + ld(keymask + c);
        if constexpr (A != Att::cross) sc += ld(bi + c);
        st(s + c, sc);
        mx = vmax(mx, sc);
      }
      if constexpr (A == Att::encoder_self) keymask[i] = saved;
      float m = hmax(mx);
      if (m == kNegInf) {  // every key masked: LibTorch's -1e9 scores round to equal values
        for (int j = 0; j < Tk; ++j) s[j] = 0;
        m = 0;
      }
      vf sum = vf{};
      for (int c = 0; c < Tkp; c += NL) {
        const vf e = vexp(ld(s + c) - m);
        st(s + c, e);
        sum += e;
      }
      const float inv = 1.0f / hsum(sum);
      // Keys outside the band have weight 0: only the band's range is accumulated.
      const int j0 = i - half > 0 ? i - half : 0;
      int j1 = i + half + 1 < Tk ? i + half + 1 : Tk;
      if (A == Att::decoder_self && j1 > i + 1) j1 = i + 1;
      float* o = out + static_cast<std::size_t>(i) * ldo + off;
      int d = 0;
      for (; d + NL <= dh; d += NL) {
        vf acc = vf{};
        for (int j = j0; j < j1; ++j) acc += (s[j] * inv) * ld(v + static_cast<std::size_t>(j) * ldkv + off + d);
        st(o + d, acc);
      }
      for (; d < dh; ++d) {
        float acc = 0;
        for (int j = j0; j < j1; ++j) acc += (s[j] * inv) * v[static_cast<std::size_t>(j) * ldkv + off + d];
        o[d] = acc;
      }
    }
  }
}

template <class T>
void grow(std::vector<T>& v, std::size_t n) {
  if (v.size() < n) v.resize(n);
}

void msmass_forward(const MsmassPacked& p, const TileInput& in, Workspace& ws) {
  const int R = in.rows, W = p.W, L = p.L, Dp = p.Dp, Fp = p.Fp;
  const int NE = R * W, ND = R * L;
  const auto ne = static_cast<std::size_t>(NE), nd = static_cast<std::size_t>(ND);
  const auto dp = static_cast<std::size_t>(Dp);
  grow(ws.x, ne * dp);
  grow(ws.h, ne * dp);
  grow(ws.qkv, ne * 3 * dp);
  grow(ws.ctx, ne * dp);
  grow(ws.ff, ne * static_cast<std::size_t>(Fp));
  grow(ws.mem, ne * dp);
  grow(ws.kv, ne * 2 * dp);
  grow(ws.y, nd * dp);
  grow(ws.logits, nd * static_cast<std::size_t>(p.Vp));
  const int Tmax = W > L ? W : L;
  const auto tkp = static_cast<std::size_t>(cpu_pad(Tmax));
  std::vector<float>& scratch = ws.h;  // the attention's transposed keys and scores follow h
  grow(scratch, ne * dp + tkp * static_cast<std::size_t>(p.d_head) + 2 * tkp);
  float* kt = scratch.data() + ne * dp;
  float* sc = kt + tkp * static_cast<std::size_t>(p.d_head);
  float *x = ws.x.data(), *h = ws.h.data(), *qkv = ws.qkv.data(), *ctx = ws.ctx.data(), *ff = ws.ff.data();
  float *mem = ws.mem.data(), *kv = ws.kv.data(), *y = ws.y.data();

  // Encoder.
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < W; ++j) {
      const float* te = p.tok.data() + static_cast<std::size_t>(in.enc[r * W + j]) * dp;
      const float* pe = p.pos.data() + static_cast<std::size_t>(j) * dp;
      float* o = x + (static_cast<std::size_t>(r) * W + j) * dp;
      for (int d = 0; d < Dp; d += NL) st(o + d, ld(te + d) + ld(pe + d));
    }
  const auto qkv_row = 3 * dp;
  for (std::size_t li = 0; li < p.enc.size(); ++li) {
    const auto& layer = p.enc[li];
    if (li == 0 && !p.enc_qkv0.empty()) {  // looked up by (token, position)
      for (int r = 0; r < R; ++r)
        for (int j = 0; j < W; ++j)
          std::memcpy(qkv + (static_cast<std::size_t>(r) * W + j) * qkv_row,
                      p.enc_qkv0.data() + (static_cast<std::size_t>(in.enc[r * W + j]) * W + j) * qkv_row,
                      sizeof(float) * qkv_row);
    } else {
      layer_norm(NE, p.D, Dp, x, layer.ln1, h);
      linear<Epi::bias>(NE, h, Dp, layer.qkv, qkv, 3 * Dp);
    }
    for (int r = 0; r < R; ++r) {
      const float* b = qkv + static_cast<std::size_t>(r) * W * 3 * dp;
      attend<Att::encoder_self>(p, W, W, b, 3 * Dp, b + Dp, b + 2 * Dp, 3 * Dp, in.enc + r * W, p.enc_band.data(),
                                ctx + static_cast<std::size_t>(r) * W * dp, Dp, kt, sc);
    }
    linear<Epi::bias_add>(NE, ctx, Dp, layer.o, x, Dp);
    layer_norm(NE, p.D, Dp, x, layer.ln2, h);
    linear<Epi::bias_gelu>(NE, h, Dp, layer.l1, ff, Fp);
    linear<Epi::bias_add>(NE, ff, Fp, layer.l2, x, Dp);
  }
  layer_norm(NE, p.D, Dp, x, p.enc_final, mem);

  // Decoder.
  for (int r = 0; r < R; ++r)
    for (int l = 0; l < L; ++l) {
      const float* te = p.tok.data() + static_cast<std::size_t>(in.dec[r * L + l]) * dp;
      const float* pe = p.pos.data() + static_cast<std::size_t>(in.dec_pos[r * L + l]) * dp;
      float* o = y + (static_cast<std::size_t>(r) * L + l) * dp;
      for (int d = 0; d < Dp; d += NL) st(o + d, ld(te + d) + ld(pe + d));
    }
  for (std::size_t li = 0; li < p.dec.size(); ++li) {
    const auto& layer = p.dec[li];
    if (li == 0 && !p.dec_qkv0.empty()) {
      for (int r = 0; r < R; ++r)
        for (int l = 0; l < L; ++l)
          std::memcpy(qkv + (static_cast<std::size_t>(r) * L + l) * qkv_row,
                      p.dec_qkv0.data() +
                          (static_cast<std::size_t>(in.dec[r * L + l]) * W + in.dec_pos[r * L + l]) * qkv_row,
                      sizeof(float) * qkv_row);
    } else {
      layer_norm(ND, p.D, Dp, y, layer.ln1, h);
      linear<Epi::bias>(ND, h, Dp, layer.qkv, qkv, 3 * Dp);
    }
    for (int r = 0; r < R; ++r) {
      const float* b = qkv + static_cast<std::size_t>(r) * L * 3 * dp;
      attend<Att::decoder_self>(p, L, L, b, 3 * Dp, b + Dp, b + 2 * Dp, 3 * Dp, nullptr, p.dec_band.data(),
                                ctx + static_cast<std::size_t>(r) * L * dp, Dp, kt, sc);
    }
    linear<Epi::bias_add>(ND, ctx, Dp, layer.o, y, Dp);
    layer_norm(ND, p.D, Dp, y, layer.ln2, h);
    float* cq = ff;  // the cross-attention queries [ND][Dp] (ff is free here)
    linear<Epi::bias>(ND, h, Dp, layer.cq, cq, Dp);
    linear<Epi::bias>(NE, mem, Dp, layer.ckv, kv, 2 * Dp);
    for (int r = 0; r < R; ++r) {
      const float* b = kv + static_cast<std::size_t>(r) * W * 2 * dp;
      attend<Att::cross>(p, L, W, cq + static_cast<std::size_t>(r) * L * dp, Dp, b, b + Dp, 2 * Dp, in.enc + r * W,
                         nullptr, ctx + static_cast<std::size_t>(r) * L * dp, Dp, kt, sc);
    }
    linear<Epi::bias_add>(ND, ctx, Dp, layer.co, y, Dp);
    layer_norm(ND, p.D, Dp, y, layer.ln3, h);
    linear<Epi::bias_gelu>(ND, h, Dp, layer.l1, ff, Fp);
    linear<Epi::bias_add>(ND, ff, Fp, layer.l2, y, Dp);
  }
  layer_norm(ND, p.D, Dp, y, p.dec_final, h);
  linear<Epi::bias>(ND, h, Dp, p.out, ws.logits.data(), p.Vp);
}

RowStat row_stat(const float* l, int first, int V, int o) {
  constexpr float inf = std::numeric_limits<float>::infinity();
  const float lo = l[o];
  RowStat rs;
  vf m = splat(-inf), above = splat(inf);
  vi rank = vi{};
  int j = first;
  for (; j + NL <= V; j += NL) {
    const vf a = ld(l + j);
    m = vmax(m, a);
    const auto gt = a > lo;  // -1 where greater
    rank -= gt;
    above = gt ? vmin(above, a) : above;
  }
  float mm = -inf, ab = inf;
  int rk = 0;
  for (int i = 0; i < NL; ++i) {
    mm = m[i] > mm ? m[i] : mm;
    ab = above[i] < ab ? above[i] : ab;
    rk += rank[i];
  }
  for (int t = j; t < V; ++t) {
    mm = l[t] > mm ? l[t] : mm;
    if (l[t] > lo) {
      ++rk;
      ab = l[t] < ab ? l[t] : ab;
    }
  }
  vf sum = vf{};
  j = first;
  for (; j + NL <= V; j += NL) sum += vexp(ld(l + j) - mm);
  if (j < V) {
    vf tail = splat(-inf);
    for (int t = j; t < V; ++t) tail[t - j] = l[t];
    sum += vexp(tail - mm);
  }
  rs.m = mm;
  rs.sum = hsum(sum);
  rs.rank = rk;
  rs.above = ab;
  return rs;
}

}  // namespace

extern const CpuKernels kernels{LG_NAME, &msmass_forward, &row_stat};

}  // namespace logguard::models::detail::LG_NS
