// Packing MSMASS weights for the CPU kernels, and the scoring thread pool (see msmass_cpu.hpp).
#include "msmass_cpu.hpp"

#include <pthread.h>

#include <limits>
#include <string>

namespace logguard::models::detail {

namespace nn = torch::nn;

namespace {

// Largest first-layer lookup table (per table): V * W * 3 * D_p floats.
constexpr std::size_t kMaxFirstLayerTable = std::size_t{16} << 20;

// A float tensor as a contiguous CPU copy.
torch::Tensor host(const torch::Tensor& t) { return t.detach().to(torch::kCPU).to(torch::kFloat).contiguous(); }

// One packed linear of several torch Linears side by side, each in a block of `block_p`
// columns: w[k][block * block_p + n] = weight[n][k] (torch keeps [out][in]).
PackedLinear pack(std::initializer_list<const nn::LinearImpl*> parts, int block_p) {
  PackedLinear p;
  p.in = static_cast<int>((*parts.begin())->weight.size(1));
  p.in_p = cpu_pad(p.in);
  p.out = static_cast<int>(parts.size()) * block_p;
  p.out_p = p.out;
  p.w.assign(static_cast<std::size_t>(p.in_p) * static_cast<std::size_t>(p.out_p), 0.f);
  p.b.assign(static_cast<std::size_t>(p.out_p), 0.f);
  long col0 = 0;
  for (const auto* l : parts) {
    const auto W = host(l->weight), B = host(l->bias);
    const long out = W.size(0), in = W.size(1);
    const float* pw = W.data_ptr<float>();
    const float* pb = B.data_ptr<float>();
    for (long n = 0; n < out; ++n) {
      for (long k = 0; k < in; ++k) p.w[static_cast<std::size_t>(k * p.out_p + col0 + n)] = pw[n * in + k];
      p.b[static_cast<std::size_t>(col0 + n)] = pb[n];
    }
    col0 += block_p;
  }
  return p;
}

PackedLinear pack1(const nn::Linear& l) { return pack({l.get()}, cpu_pad(static_cast<int>(l->weight.size(0)))); }

PackedNorm pack_norm(const nn::LayerNormImpl& ln, int Dp) {
  PackedNorm n;
  n.g.assign(static_cast<std::size_t>(Dp), 0.f);
  n.b.assign(static_cast<std::size_t>(Dp), 0.f);
  const auto g = host(ln.weight), b = host(ln.bias);
  for (long d = 0; d < g.size(0); ++d) {
    n.g[static_cast<std::size_t>(d)] = g.data_ptr<float>()[d];
    n.b[static_cast<std::size_t>(d)] = b.data_ptr<float>()[d];
  }
  return n;
}

std::vector<float> pack_rows(const torch::Tensor& t, int cols_p) {
  const auto h = host(t);
  const long rows = h.size(0), cols = h.size(1);
  std::vector<float> v(static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols_p), 0.f);
  for (long r = 0; r < rows; ++r)
    for (long c = 0; c < cols; ++c) v[static_cast<std::size_t>(r * cols_p + c)] = h.data_ptr<float>()[r * cols + c];
  return v;
}

const nn::LayerNormImpl& norm(nn::ModuleList& list, int i) {
  return *list[static_cast<std::size_t>(i)]->as<nn::LayerNorm>();
}

}  // namespace

MsmassPacked pack_msmass(MsmassNetImpl& net) {
  torch::NoGradGuard no_grad;
  const auto& c = net.cfg;
  MsmassPacked p;
  p.W = net.W;
  p.L = net.L;
  p.D = c.d_model;
  p.Dp = cpu_pad(p.D);
  p.F = c.ff_dim;
  p.Fp = cpu_pad(p.F);
  p.V = net.vocab;
  p.Vp = cpu_pad(p.V);
  p.heads = c.heads();
  p.d_head = p.D / p.heads;
  for (std::size_t g = 0; g < c.scales.size(); ++g)
    for (int r = 0; r < c.heads_per_scale[g]; ++r) p.head_scale.push_back(c.scales[g]);
  auto band = [&](int T, bool causal) {
    const int Tp = cpu_pad(T);
    std::vector<float> m(static_cast<std::size_t>(p.heads * T * Tp), -std::numeric_limits<float>::infinity());
    for (int h = 0; h < p.heads; ++h)
      for (int i = 0; i < T; ++i)
        for (int j = 0; j < T; ++j)
          if (band_allows(p.head_scale[static_cast<std::size_t>(h)], i, j, causal))
            m[static_cast<std::size_t>((h * T + i) * Tp + j)] = 0.f;
    return m;
  };
  p.enc_band = band(p.W, false);
  p.dec_band = band(p.L, true);
  p.tok = pack_rows(net.tok->weight, p.Dp);
  p.pos = pack_rows(net.pos->weight, p.Dp);
  for (int i = 0; i < c.encoder_layers; ++i) {
    const auto* a = net.enc_attn[static_cast<std::size_t>(i)]->as<Attention>();
    const auto* f = net.enc_ff[static_cast<std::size_t>(i)]->as<FeedForward>();
    PackedEncoderLayer l;
    l.ln1 = pack_norm(norm(net.enc_ln1, i), p.Dp);
    l.ln2 = pack_norm(norm(net.enc_ln2, i), p.Dp);
    l.qkv = pack({a->q.get(), a->k.get(), a->v.get()}, p.Dp);
    l.o = pack1(a->o);
    l.l1 = pack1(f->l1);
    l.l2 = pack1(f->l2);
    p.enc.push_back(std::move(l));
  }
  for (int i = 0; i < c.decoder_layers; ++i) {
    const auto* s = net.dec_self[static_cast<std::size_t>(i)]->as<Attention>();
    const auto* x = net.dec_cross[static_cast<std::size_t>(i)]->as<Attention>();
    const auto* f = net.dec_ff[static_cast<std::size_t>(i)]->as<FeedForward>();
    PackedDecoderLayer l;
    l.ln1 = pack_norm(norm(net.dec_ln1, i), p.Dp);
    l.ln2 = pack_norm(norm(net.dec_ln2, i), p.Dp);
    l.ln3 = pack_norm(norm(net.dec_ln3, i), p.Dp);
    l.qkv = pack({s->q.get(), s->k.get(), s->v.get()}, p.Dp);
    l.o = pack1(s->o);
    l.cq = pack1(x->q);
    l.ckv = pack({x->k.get(), x->v.get()}, p.Dp);
    l.co = pack1(x->o);
    l.l1 = pack1(f->l1);
    l.l2 = pack1(f->l2);
    p.dec.push_back(std::move(l));
  }
  // First-layer q|k|v for every (token, position), when the tables stay small.
  const auto table_bytes = static_cast<std::size_t>(p.V) * static_cast<std::size_t>(p.W) * 3u *
                           static_cast<std::size_t>(p.Dp) * sizeof(float);
  if (table_bytes <= kMaxFirstLayerTable) {
    const auto emb = (net.tok->weight.unsqueeze(1) + net.pos->weight.unsqueeze(0)).reshape({p.V * p.W, p.D});
    auto table = [&](const nn::LayerNormImpl& ln, AttentionImpl& a) {
      const auto h = torch::layer_norm(emb, {p.D}, ln.weight, ln.bias, ln.options.eps());
      const auto q = host(a.q->forward(h)), k = host(a.k->forward(h)), v = host(a.v->forward(h));
      std::vector<float> t(static_cast<std::size_t>(p.V * p.W) * 3u * static_cast<std::size_t>(p.Dp), 0.f);
      for (long r = 0; r < p.V * p.W; ++r)
        for (int part = 0; part < 3; ++part) {
          const float* src = (part == 0 ? q : part == 1 ? k : v).data_ptr<float>() + r * p.D;
          std::copy(src, src + p.D, t.begin() + (r * 3 + part) * p.Dp);
        }
      return t;
    };
    p.enc_qkv0 = table(norm(net.enc_ln1, 0), *net.enc_attn[0]->as<Attention>());
    p.dec_qkv0 = table(norm(net.dec_ln1, 0), *net.dec_self[0]->as<Attention>());
  }
  p.enc_final = pack_norm(*net.enc_final, p.Dp);
  p.dec_final = pack_norm(*net.dec_final, p.Dp);
  p.out = pack1(net.out);
  return p;
}

TaskPool::TaskPool(int threads) {
  for (int i = 1; i < threads; ++i)
    workers_.emplace_back([this, i] {
      const std::string name = "lg-score-" + std::to_string(i);
      pthread_setname_np(pthread_self(), name.c_str());
      worker();
    });
}

TaskPool::~TaskPool() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void TaskPool::drain() {
  for (int t = next_.fetch_add(1); t < tasks_; t = next_.fetch_add(1)) {
    try {
      (*job_)(t);
    } catch (...) {
      std::lock_guard lock(mu_);
      if (!error_) error_ = std::current_exception();
    }
  }
}

void TaskPool::worker() {
  unsigned long long seen = 0;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
    }
    drain();
    {
      std::lock_guard lock(mu_);
      if (--active_ == 0) done_.notify_all();
    }
  }
}

void TaskPool::run(int n, const std::function<void(int)>& f) {
  std::unique_lock busy(busy_, std::try_to_lock);
  if (!busy.owns_lock() || workers_.empty() || n <= 1) {
    for (int t = 0; t < n; ++t) f(t);
    return;
  }
  {
    std::lock_guard lock(mu_);
    job_ = &f;
    tasks_ = n;
    next_.store(0);
    active_ = static_cast<int>(workers_.size());
    error_ = nullptr;
    ++generation_;
  }
  wake_.notify_all();
  drain();
  std::exception_ptr err;
  {
    std::unique_lock lock(mu_);
    done_.wait(lock, [&] { return active_ == 0; });
    job_ = nullptr;
    err = error_;
    error_ = nullptr;
  }
  if (err) std::rethrow_exception(err);
}

}  // namespace logguard::models::detail
