// Drain's typed matching (drain.wildcard_match: typed): token kinds of lines and templates,
// the pick among a leaf's clusters and the opening of word positions shared by a family of
// clusters (see drain.hpp). Split from drain.cpp; same class, same thread-safety.
#include <algorithm>

#include "drain.hpp"
#include "hash.hpp"

namespace logguard::core::detail {

namespace {
const std::uint64_t kWild = token_hash(kWildcard);
}  // namespace

void Drain::line_kinds(std::string_view text, const std::vector<Token>& toks, std::vector<std::uint8_t>& out) {
  out.resize(toks.size());
  for (std::size_t i = 0; i < toks.size(); ++i) out[i] = looks_variable(text.substr(toks[i].off, toks[i].len)) ? 1 : 0;
}

void Drain::template_kinds(Cluster& c) const {
  thread_local std::vector<Token> toks;
  tokenizer.tokenize(c.text, toks);
  c.var.assign(c.tokens.size(), kWordKind);
  for (std::size_t i = 0; i < c.tokens.size() && i < toks.size(); ++i) {
    if (c.tokens[i] == kWild)
      c.var[i] = c.pinned ? kOpenKind : kVarKind;  // a pinned template's variables take any token
    else if (!c.pinned && looks_variable(std::string_view(c.text).substr(toks[i].off, toks[i].len)))
      c.var[i] = kVarKind;  // (a pinned template's constants must be equal)
  }
}


// typed: w = positions that are not typed_same (word differences, the set D). A candidate
// with w == 0 takes the line (more equal constants first, then leaf order; a pinned instance
// first). Else the candidate with the fewest word differences (then more equal constants,
// then leaf order) is considered, if it has an equal constant and w <= max(1, n / 3): the
// clusters of the leaf that equal the line outside D (its family, itself included) are
// collected, and if every position of D holds distinct_words different words among them and
// the line, those positions become variables (`open`). Else it takes the line if it passes
// the classic threshold ((n - w) / n >= st), else the line starts a new template.
Drain::TypedPick Drain::typed_pick(std::uint32_t leaf, const std::vector<Token>& toks,
                                   const std::uint8_t* kinds) const noexcept {
  const std::size_t n = toks.size();
  const std::size_t need_n = needed_matches(n);
  const std::size_t allowed = n >= need_n ? n - need_n : 0;  // word differences the threshold allows
  const std::size_t family_max = std::min<std::size_t>(TypedPick::kMaxOpen, std::max<std::size_t>(1, n / 3));
  const std::size_t limit = std::max(allowed, family_max);
  std::uint32_t best0 = kNil, best = kNil;
  std::size_t k0 = 0, wb = 0, kb = 0;
  bool pinned0 = false;
  for (const std::uint32_t s : nodes[leaf].clusters) {
    const Cluster& c = slots[s];
    if (c.tokens.size() != n) continue;
    const std::uint64_t* t = c.tokens.data();
    const std::uint8_t* tk = c.var.data();
    std::size_t k = 0, w = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (t[i] == toks[i].hash) {
        k += t[i] != kWild;
      } else if (!typed_same(t[i], tk[i], toks[i].hash, kinds[i])) {
        if (c.pinned && t[i] != kWild) {  // a pinned template takes its instances only
          w = n + 1;
          break;
        }
        if (++w > limit) break;
      }
    }
    if (w > limit || w > n) continue;
    if (w == 0) {
      if (c.pinned ? (!pinned0 || k > k0) : (!pinned0 && (best0 == kNil || k > k0))) {
        best0 = s;
        k0 = k;
        pinned0 = c.pinned;
      }
    } else if (!c.pinned && (best == kNil || w < wb || (w == wb && k > kb))) {
      best = s;
      wb = w;
      kb = k;
    }
  }
  TypedPick pick;
  if (best0 != kNil || best == kNil) {
    pick.slot = best0;
    return pick;
  }
  const Cluster& b = slots[best];
  if (n >= 2 && kb >= 1 && wb <= family_max) {
    std::uint32_t d[TypedPick::kMaxOpen];
    std::size_t nd = 0;
    for (std::size_t i = 0; i < n && nd < wb; ++i)
      if (!typed_same(b.tokens[i], b.var[i], toks[i].hash, kinds[i])) d[nd++] = static_cast<std::uint32_t>(i);
    // Distinct words at each position of D among the family and the line (up to distinct_words).
    const auto want = static_cast<std::size_t>(cfg.distinct_words);
    std::vector<std::uint64_t> seen[TypedPick::kMaxOpen];
    for (std::size_t j = 0; j < nd; ++j) seen[j].push_back(toks[d[j]].hash);
    for (const std::uint32_t s : nodes[leaf].clusters) {
      const Cluster& c = slots[s];
      if (c.tokens.size() != n || c.pinned) continue;
      bool mate = true;
      for (std::size_t i = 0, j = 0; i < n && mate; ++i) {
        if (j < nd && d[j] == i) {
          ++j;
          continue;
        }
        mate = typed_same(c.tokens[i], c.var[i], toks[i].hash, kinds[i]);
      }
      if (!mate) continue;
      for (std::size_t j = 0; j < nd; ++j) {
        auto& v = seen[j];
        if (v.size() < want && std::find(v.begin(), v.end(), c.tokens[d[j]]) == v.end()) v.push_back(c.tokens[d[j]]);
      }
    }
    bool open = true;
    for (std::size_t j = 0; j < nd && open; ++j) open = seen[j].size() >= want;
    if (open) {
      pick.slot = best;
      pick.nopen = static_cast<std::uint32_t>(nd);
      std::copy(d, d + nd, pick.open);
      return pick;
    }
  }
  if (wb <= allowed) pick.slot = best;  // the classic threshold
  return pick;
}

// Merges the line into the lowest-id cluster of the family (those that equal the line outside
// the positions `open`), with those positions open; every other member becomes an identical
// copy of it (a retired duplicate: the lowest id wins every later lookup, and the final text
// of their ids is the merged template). Returns the survivor's slot.
std::uint32_t Drain::open_family(std::uint32_t leaf, std::uint32_t slot, const TypedPick& pick,
                                 const std::vector<Token>& toks, const std::uint8_t* kinds, std::uint32_t* retired) {
  const std::size_t n = toks.size();
  auto is_open = [&](std::size_t i) { return std::find(pick.open, pick.open + pick.nopen, i) != pick.open + pick.nopen; };
  std::vector<std::uint32_t> family;
  for (const std::uint32_t s : nodes[leaf].clusters) {
    const Cluster& c = slots[s];
    if (c.tokens.size() != n || c.pinned) continue;
    bool same = true;
    for (std::size_t i = 0; i < n && same; ++i)
      same = is_open(i) || typed_same(c.tokens[i], c.var[i], toks[i].hash, kinds[i]);
    if (same) family.push_back(s);
  }
  std::uint32_t survivor = slot;
  for (const std::uint32_t s : family)
    if (slots[s].id < slots[survivor].id) survivor = s;
  merge(survivor, toks, kinds);
  Cluster& sv = slots[survivor];
  for (std::uint32_t j = 0; j < pick.nopen; ++j) {
    const std::uint32_t p = pick.open[j];
    if (sv.tokens[p] != kWild) {  // equal to the line there: still a variable of the family
      exact_remove(sv.leaf, sv.exact, survivor);
      sv.tokens[p] = kWild;
      sv.exact = exact_key(sv.tokens.data(), sv.tokens.size());
      exact_insert(sv.leaf, sv.exact, survivor);
    }
    sv.var[p] = kOpenKind;
  }
  rebuild_text(sv);
  for (const std::uint32_t s : family) {
    if (s == survivor) continue;
    Cluster& c = slots[s];
    exact_remove(c.leaf, c.exact, s);
    c.tokens = sv.tokens;
    c.var = sv.var;
    c.text = sv.text;
    c.shown = sv.shown;
    c.wildcards = sv.wildcards;
    c.exact = sv.exact;
    exact_insert(c.leaf, c.exact, s);
    ++*retired;
  }
  memo.clear();
  return survivor;
}

}  // namespace logguard::core::detail
