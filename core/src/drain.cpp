#include "drain.hpp"

#include <algorithm>
#include <cmath>

#include "hash.hpp"

namespace logguard::core::detail {

namespace {
const std::uint64_t kWild = token_hash(kWildcard);

bool has_digit(std::string_view s) noexcept {
  for (char c : s)
    if (c >= '0' && c <= '9') return true;
  return false;
}
}  // namespace

std::uint64_t Drain::wildcard_hash() noexcept { return kWild; }


std::string Drain::canonical(std::string_view text) const {
  std::vector<Token> toks;
  tokenizer.tokenize(text, toks);
  std::string out;
  for (std::size_t i = 0; i < toks.size(); ++i)
    tokenizer.join(out, i == 0, tokenizer.glued(text, toks[i].off), text.substr(toks[i].off, toks[i].len));
  return out;
}

void Drain::rehash(Cluster& c) const {
  thread_local std::vector<Token> toks;
  c.exact = tokenizer.tokenize(c.text, toks);
  c.tokens.clear();
  c.wildcards = 0;
  for (const Token& t : toks) {
    c.tokens.push_back(t.hash);
    c.wildcards += t.hash == kWild;
  }
}

std::uint64_t Drain::exact_key(const std::uint64_t* hashes, std::size_t n) noexcept {
  SequenceKey k;
  for (std::size_t i = 0; i < n; ++i) k.add(hashes[i]);
  return k.finish(n);
}

namespace {
// The exact index is trusted like the token hashes it is built from (a false hit needs a
// 64-bit key collision); only the token count is checked, which needs no extra cache line.
bool same_tokens(const Cluster& c, const std::vector<Token>& toks) noexcept {
  return c.tokens.size() == toks.size();
}
bool variable_like(std::string_view tok) noexcept { return looks_variable(tok); }
}  // namespace

// An identical template is always the best candidate (shown in docs/parser.md); it
// qualifies in masked/any mode (similarity 1) and in never mode only if its constants
// reach the threshold over all n tokens.
bool Drain::exact_accepted(const Cluster& c) const noexcept {
  return cfg.wildcard_match != WildcardMatch::never ||
         needed_matches(c.tokens.size()) <= c.tokens.size() - c.wildcards;
}

std::uint32_t Drain::normalized_exact(std::uint32_t leaf, std::string_view text,
                                      const std::vector<Token>& toks) const noexcept {
  SequenceKey key;
  bool any = false;
  for (const Token& t : toks) {
    std::uint64_t h = t.hash;
    if (h != kWild && variable_like(text.substr(t.off, t.len))) {
      h = kWild;
      any = true;
    }
    key.add(h);
  }
  if (!any) return kNil;
  const std::uint32_t s = exact.find(leaf, key.finish(toks.size()));
  if (s == FlatMap::kNone) return kNil;
  const Cluster& c = slots[s];
  if (c.tokens.size() != toks.size()) return kNil;
  for (std::size_t i = 0; i < toks.size(); ++i) {
    if (c.tokens[i] == toks[i].hash) continue;
    if (c.tokens[i] == kWild && variable_like(text.substr(toks[i].off, toks[i].len))) continue;
    return kNil;
  }
  return s;
}

Drain::Drain(const DrainConfig& c) : cfg(c), tokenizer(c) { nodes.emplace_back(); }

std::uint32_t Drain::new_node(std::uint32_t parent, std::uint64_t key) {
  const auto idx = static_cast<std::uint32_t>(nodes.size());
  Node n;
  n.parent = parent;
  n.depth = nodes[parent].depth + 1;
  n.key = key;
  nodes.push_back(std::move(n));
  children.assign(parent, key, idx);
  ++nodes[parent].children;
  return idx;
}

std::uint32_t Drain::search_leaf(const std::vector<Token>& toks) const noexcept {
  const std::size_t n = toks.size();
  std::uint32_t cur = children.find(0, n);
  if (cur == FlatMap::kNone) return kNil;
  const std::size_t max_node_depth = static_cast<std::size_t>(cfg.depth) - 2;
  std::size_t depth = 1;
  for (std::size_t i = 0; i < n; ++i) {
    if (depth >= max_node_depth || depth >= n) break;
    std::uint32_t next = children.find(cur, toks[i].hash);
    if (next == FlatMap::kNone) next = children.find(cur, kWild);
    if (next == FlatMap::kNone) return kNil;
    cur = next;
    ++depth;
  }
  return cur;
}

std::uint32_t Drain::insert_path(std::string_view text, const std::vector<Token>& toks) {
  const std::size_t n = toks.size();
  std::uint32_t cur = children.find(0, n);
  if (cur == FlatMap::kNone) cur = new_node(0, n);
  const std::size_t max_node_depth = static_cast<std::size_t>(cfg.depth) - 2;
  const auto max_children = static_cast<std::uint32_t>(cfg.max_children);
  std::size_t depth = 1;
  for (std::size_t i = 0; i < n; ++i) {
    if (depth >= max_node_depth || depth >= n) break;
    const std::uint64_t h = toks[i].hash;
    std::uint32_t next = children.find(cur, h);
    if (next == FlatMap::kNone) {
      const std::uint32_t wild = children.find(cur, kWild);
      const std::uint32_t count = nodes[cur].children;
      const std::string_view tok = text.substr(toks[i].off, toks[i].len);
      if (cfg.parametrize_numeric_tokens &&
          (cfg.wildcard_match == WildcardMatch::typed ? looks_variable(tok) : has_digit(tok))) {
        next = wild != FlatMap::kNone ? wild : new_node(cur, kWild);
      } else if (wild != FlatMap::kNone) {
        next = count < max_children ? new_node(cur, h) : wild;
      } else if (count + 1 < max_children) {
        next = new_node(cur, h);
      } else {
        next = new_node(cur, kWild);
      }
    }
    cur = next;
    ++depth;
  }
  return cur;
}

std::size_t Drain::needed_matches(std::size_t n) const noexcept {
  if (n == 0) return 0;
  const double th = cfg.similarity_threshold;
  auto need = static_cast<std::size_t>(std::ceil(th * static_cast<double>(n)));
  while (need > 0 && static_cast<double>(need - 1) / static_cast<double>(n) >= th) --need;
  while (need <= n && static_cast<double>(need) / static_cast<double>(n) < th) ++need;
  return need;
}

// Scores the leaf's candidates (k = template constants equal to the line's token).
//   masked: m = k + positions where template and line both hold "<*>"; accept m/n >= th;
//           rank by m, then k (the more specific template), then leaf order.
//   never:  classic Drain3; accept k/n >= th; rank by k, then more wildcards, then order.
//   any:    accept k/C >= th (C = template constants; C = 0 always qualifies); rank as never.
// Candidates are abandoned as soon as their misses exceed what the threshold allows.
std::uint32_t Drain::best_in_leaf(std::uint32_t leaf, const std::vector<Token>& toks,
                                  const std::uint8_t* /*kinds: typed mode uses typed_pick*/) const noexcept {
  const std::size_t n = toks.size();
  const WildcardMatch mode = cfg.wildcard_match;
  const std::size_t need_n = needed_matches(n);
  std::uint32_t best = kNil;
  std::size_t best_m = 0, best_k = 0, best_w = 0;
  // An instance of a pinned template wins over every unpinned candidate; among pinned ones
  // the most constants, then the most matched positions, then leaf order.
  std::uint32_t pinned = kNil;
  std::size_t pinned_k = 0, pinned_m = 0;
  auto consider_pinned = [&](std::uint32_t s, std::size_t k, std::size_t m) {
    if (pinned == kNil || k > pinned_k || (k == pinned_k && m > pinned_m)) {
      pinned = s;
      pinned_k = k;
      pinned_m = m;
    }
  };
  for (const std::uint32_t s : nodes[leaf].clusters) {
    const Cluster& c = slots[s];
    if (c.tokens.size() != n) continue;
    const std::uint64_t* t = c.tokens.data();
    std::size_t k = 0, m = 0, miss = 0;
    bool rejected = false;
    if (mode == WildcardMatch::masked) {
      if (need_n > n) continue;
      const std::size_t allowed = n - need_n;
      for (std::size_t i = 0; i < n; ++i) {
        if (t[i] == toks[i].hash) {
          ++m;
          k += t[i] != kWild;
        } else if (++miss > allowed || (c.pinned && t[i] != kWild)) {
          rejected = true;
          break;
        }
      }
      if (rejected) continue;
      if (c.pinned) {
        consider_pinned(s, k, m);
        continue;
      }
      if (best == kNil || m > best_m || (m == best_m && k > best_k)) {
        best = s;
        best_m = m;
        best_k = k;
      }
      continue;
    }
    const std::size_t constants = n - c.wildcards;
    const std::size_t need = mode == WildcardMatch::any ? needed_matches(constants) : need_n;
    if (need > constants) continue;
    const std::size_t allowed = constants - need;  // misses allowed among the constants
    for (std::size_t i = 0; i < n; ++i) {
      if (t[i] == kWild) continue;
      if (t[i] == toks[i].hash) {
        ++k;
      } else if (++miss > allowed || c.pinned) {
        rejected = true;
        break;
      }
    }
    if (rejected) continue;
    if (c.pinned) {
      consider_pinned(s, k, n - c.wildcards);
      continue;
    }
    if (best == kNil || k > best_k || (k == best_k && c.wildcards > best_w)) {
      best = s;
      best_k = k;
      best_w = c.wildcards;
    }
  }
  return pinned != kNil ? pinned : best;
}

// Whether `c` passes the threshold for the line (the acceptance test of best_in_leaf).
// Used to double-check memo hits against 64-bit key collisions.
bool Drain::qualifies(const Cluster& c, const std::vector<Token>& toks, const std::uint8_t* kinds) const noexcept {
  const std::size_t n = toks.size();
  if (c.id == kNoTemplate || c.tokens.size() != n) return false;
  std::size_t m = 0, k = 0;
  const bool typed = cfg.wildcard_match == WildcardMatch::typed;
  for (std::size_t i = 0; i < n; ++i) {
    if (c.tokens[i] == toks[i].hash) {
      ++m;
      k += c.tokens[i] != kWild;
    } else if (c.pinned && c.tokens[i] != kWild) {
      return false;  // a pinned template takes its instances only
    } else if (typed && typed_same(c.tokens[i], c.var[i], toks[i].hash, kinds[i])) {
      ++m;
    } else if (typed) {
      return false;  // typed: only a line every position of which the template takes
    }
  }
  switch (cfg.wildcard_match) {
    case WildcardMatch::masked:
    case WildcardMatch::typed: return m >= needed_matches(n);
    case WildcardMatch::never: return k >= needed_matches(n);
    case WildcardMatch::any: return k >= needed_matches(n - c.wildcards);
  }
  return false;
}

void Drain::lru_unlink(std::uint32_t s) noexcept {
  Cluster& c = slots[s];
  if (c.prev != kNil) slots[c.prev].next = c.next; else lru_head = c.next;
  if (c.next != kNil) slots[c.next].prev = c.prev; else lru_tail = c.prev;
  c.prev = c.next = kNil;
}

void Drain::lru_push_front(std::uint32_t s) noexcept {
  Cluster& c = slots[s];
  c.prev = kNil;
  c.next = lru_head;
  if (lru_head != kNil) slots[lru_head].prev = s;
  lru_head = s;
  if (lru_tail == kNil) lru_tail = s;
}

void Drain::exact_insert(std::uint32_t leaf, std::uint64_t key, std::uint32_t s) {
  const std::uint32_t cur = exact.find(leaf, key);
  if (cur == FlatMap::kNone || slots[cur].id > slots[s].id) exact.assign(leaf, key, s);
}

void Drain::exact_remove(std::uint32_t leaf, std::uint64_t key, std::uint32_t s) noexcept {
  if (exact.find(leaf, key) == s) exact.erase(leaf, key);
}

std::uint32_t Drain::alloc_slot() {
  if (!free_slots.empty()) {
    const std::uint32_t s = free_slots.back();
    free_slots.pop_back();
    return s;
  }
  slots.emplace_back();
  return static_cast<std::uint32_t>(slots.size() - 1);
}

void Drain::evict(std::uint32_t s) {
  memo.clear();
  Cluster& c = slots[s];
  auto& list = nodes[c.leaf].clusters;
  list.erase(std::find(list.begin(), list.end(), s));
  exact_remove(c.leaf, c.exact, s);
  lru_unlink(s);
  by_id.erase(c.id);
  c.id = kNoTemplate;
  c.tokens.clear();
  c.var.clear();
  c.text.clear();
  c.shown.clear();
  c.leaf = kNil;
  free_slots.push_back(s);
  --live;
}

void Drain::restyle(Cluster& c) const {
  if (cfg.template_style == TemplateStyle::drain) {
    c.shown.clear();
  } else {
    c.shown = styled_template(c.text, cfg.template_style);
    if (c.shown.empty()) c.shown = c.text;  // never emit an empty template for a non-empty one
  }
}

bool Drain::merge(std::uint32_t s, const std::vector<Token>& toks, const std::uint8_t* kinds) {
  Cluster& c = slots[s];
  bool changed = false;
  for (std::size_t i = 0; i < toks.size(); ++i)
    if (c.tokens[i] != toks[i].hash && c.tokens[i] != kWild) {
      if (!changed) exact_remove(c.leaf, c.exact, s);
      if (!c.var.empty())  // a differing word makes an open variable; two differing variables, a variable
        c.var[i] = c.var[i] == kWordKind || kinds == nullptr || kinds[i] == kWordKind ? kOpenKind : kVarKind;
      c.tokens[i] = kWild;
      changed = true;
    }
  if (!changed) return false;
  memo.clear();
  rebuild_text(c);
  c.exact = exact_key(c.tokens.data(), c.tokens.size());
  exact_insert(c.leaf, c.exact, s);
  return true;
}

// Rewrites c.text (and the emitted style, the wildcard count) from c.tokens: the old text's
// tokens (same count) with "<*>" where the token hash is the wildcard's, separators kept.
void Drain::rebuild_text(Cluster& c) const {
  thread_local std::vector<Token> old;
  tokenizer.tokenize(c.text, old);
  std::string text;
  text.reserve(c.text.size() + 8);
  for (std::size_t i = 0; i < old.size() && i < c.tokens.size(); ++i)
    tokenizer.join(text, i == 0, tokenizer.glued(c.text, old[i].off),
                   c.tokens[i] == kWild ? kWildcard : std::string_view(c.text).substr(old[i].off, old[i].len));
  c.text = std::move(text);
  restyle(c);
  c.wildcards = static_cast<std::uint32_t>(std::count(c.tokens.begin(), c.tokens.end(), kWild));
}

Drain::Outcome Drain::add(std::string_view text, const std::vector<Token>& toks, std::uint64_t ex) {
  Outcome out;
  const std::uint32_t leaf = search_leaf(toks);
  if (leaf != kNil) {
    std::uint32_t s = exact.find(leaf, ex);
    const bool is_exact = s != FlatMap::kNone && same_tokens(slots[s], toks) && exact_accepted(slots[s]);
    if (!is_exact) s = cfg.wildcard_match == WildcardMatch::any ? normalized_exact(leaf, text, toks) : kNil;
    bool memo_hit = false;
    const std::uint8_t* kinds = nullptr;
    TypedPick pick;
    if (!is_exact && s == kNil) {
      if (cfg.wildcard_match == WildcardMatch::typed) {
        line_kinds(text, toks, kinds_);
        kinds = kinds_.data();
      }
      const std::uint32_t m = memo.find(leaf, ex);
      if (m != FlatMap::kNone && slots[m].leaf == leaf && qualifies(slots[m], toks, kinds)) {
        s = m;
        memo_hit = true;
      } else {
        out.scanned = true;
        out.scored = static_cast<std::uint32_t>(nodes[leaf].clusters.size());
        if (kinds != nullptr) {
          pick = typed_pick(leaf, toks, kinds);
          s = pick.slot;
        } else {
          s = best_in_leaf(leaf, toks, kinds);
        }
      }
    }
    if (s != kNil) {
      if (pick.nopen != 0) {
        s = open_family(leaf, s, pick, toks, kinds, &out.retired);
        out.change = ChangeKind::template_changed;
      } else if (!is_exact && merge(s, toks, kinds)) {
        out.change = ChangeKind::template_changed;
      } else if (out.scanned && !memo_hit) {
        if (memo.size() >= kMemoCap) memo.clear();
        memo.assign(leaf, ex, s);
      }
      // Recency only matters for eviction; without max_clusters the list stays in creation
      // order (saving a few cache misses per line).
      if (cfg.max_clusters != 0 && lru_head != s) {
        lru_unlink(s);
        lru_push_front(s);
      }
      ++slots[s].size;
      out.slot = s;
      return out;
    }
  }
  if (cfg.max_clusters != 0 && live >= cfg.max_clusters) {
    const std::uint32_t victim = eviction_victim();
    if (victim != kNil) {
      evict(victim);
      out.evicted = true;
    }
  }
  out.slot = create(text, toks, ex);
  out.change = ChangeKind::created;
  return out;
}

// The least recently used cluster that is not pinned (pinned ones are skipped, so a
// pinned cluster is never evicted), or kNil.
std::uint32_t Drain::eviction_victim() const noexcept {
  std::uint32_t s = lru_tail;
  while (s != kNil && slots[s].pinned) s = slots[s].prev;
  return s;
}

std::uint32_t Drain::create(std::string_view text, const std::vector<Token>& toks, std::uint64_t ex) {
  memo.clear();
  const std::uint32_t target = insert_path(text, toks);
  const std::uint32_t s = alloc_slot();
  Cluster& c = slots[s];
  c.id = next_id++;
  c.leaf = target;
  c.size = 1;
  c.exact = ex;
  c.pinned = false;
  c.tokens.resize(toks.size());
  c.text.clear();
  c.wildcards = 0;
  for (std::size_t i = 0; i < toks.size(); ++i) {
    c.tokens[i] = toks[i].hash;
    c.wildcards += toks[i].hash == kWild;
    tokenizer.join(c.text, i == 0, tokenizer.glued(text, toks[i].off), text.substr(toks[i].off, toks[i].len));
  }
  if (cfg.wildcard_match == WildcardMatch::typed) template_kinds(c); else c.var.clear();
  restyle(c);
  nodes[target].clusters.push_back(s);
  exact_insert(target, ex, s);
  lru_push_front(s);
  by_id.emplace(c.id, s);
  ++live;
  return s;
}

std::pair<std::uint32_t, bool> Drain::pin(std::string_view text, const std::vector<Token>& toks, std::uint64_t ex) {
  std::uint32_t s = kNil;
  const std::uint32_t leaf = search_leaf(toks);
  if (leaf != kNil) {
    const std::uint32_t e = exact.find(leaf, ex);
    if (e != FlatMap::kNone && same_tokens(slots[e], toks)) s = e;
  }
  const bool created = s == kNil;
  if (created) {
    s = create(text, toks, ex);
    slots[s].size = 0;  // no line parsed into it yet
  }
  if (!slots[s].pinned) {
    slots[s].pinned = true;
    if (cfg.wildcard_match == WildcardMatch::typed) template_kinds(slots[s]);
    memo.clear();  // earlier scans may have chosen another cluster for its instances
  }
  return {s, created};
}

TemplateId Drain::match(std::string_view text, const std::vector<Token>& toks, std::uint64_t ex) const noexcept {
  const std::uint32_t leaf = search_leaf(toks);
  if (leaf == kNil) return kNoTemplate;
  std::uint32_t s = exact.find(leaf, ex);
  if (s == FlatMap::kNone || !same_tokens(slots[s], toks) || !exact_accepted(slots[s])) {
    s = cfg.wildcard_match == WildcardMatch::any ? normalized_exact(leaf, text, toks) : kNil;
    if (s == kNil) {
      thread_local std::vector<std::uint8_t> kbuf;
      const std::uint8_t* kinds = nullptr;
      if (cfg.wildcard_match == WildcardMatch::typed) {
        line_kinds(text, toks, kbuf);
        kinds = kbuf.data();
      }
      const std::uint32_t m = memo.find(leaf, ex);
      if (m != FlatMap::kNone && slots[m].leaf == leaf && qualifies(slots[m], toks, kinds)) {
        s = m;
      } else if (kinds != nullptr) {
        const TypedPick pick = typed_pick(leaf, toks, kinds);
        s = pick.nopen == 0 ? pick.slot : kNil;  // opening a variable is a change: not a match
      } else {
        s = best_in_leaf(leaf, toks, kinds);
      }
    }
  }
  return s == kNil ? kNoTemplate : slots[s].id;
}

std::uint32_t Drain::slot_of(TemplateId id) const noexcept {
  const auto it = by_id.find(id);
  return it == by_id.end() ? kNil : it->second;
}

std::size_t Drain::memory_bytes() const noexcept {
  std::size_t b = nodes.capacity() * sizeof(Node) + children.memory_bytes() + exact.memory_bytes() + memo.memory_bytes() +
                  slots.capacity() * sizeof(Cluster) + free_slots.capacity() * sizeof(std::uint32_t);
  for (const Node& n : nodes) b += n.clusters.capacity() * sizeof(std::uint32_t);
  for (const Cluster& c : slots)
    b += c.tokens.capacity() * sizeof(std::uint64_t) + c.var.capacity() + c.text.capacity() + c.shown.capacity();
  // unordered_map: one node (key, value, next pointer, cached hash) per entry + buckets.
  b += by_id.size() * (sizeof(std::pair<const TemplateId, std::uint32_t>) + 2 * sizeof(void*)) +
       by_id.bucket_count() * sizeof(void*);
  return b;
}

}  // namespace logguard::core::detail
