#pragma once
// Drain: the online template miner behind LineParser (He et al., ICWS 2017; semantics
// follow the Drain3 reference implementation, with the deviations documented in
// docs/parser.md).
//
// Tree: root -> token-count node -> (depth-3) levels keyed by leading tokens -> leaf,
// whose cluster list holds the candidate templates. Child links live in one FlatMap
// keyed by (parent node, token hash); templates are compared on 64-bit token hashes.
// An exact-template index per leaf answers the common case (the masked line equals an
// existing template) in O(1); otherwise the leaf's candidates are scored.
// Pinned clusters (the templates a model was trained on) accept only lines that are their
// instances (every constant equal), win over unpinned candidates, are never generalised and
// never evicted; a line that differs from one in a constant goes elsewhere.
// Clusters live in slots (reused after eviction); ids are never reused. An intrusive
// doubly-linked list keeps LRU order for max_clusters eviction.
//
// Lifecycle: owned by LineParser::Impl. Thread-safety: add() mutates; match() is const and
// may run concurrently with other match() calls only.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "flat_map.hpp"
#include "tokenizer.hpp"
#include "logguard/core/line_parser.hpp"
#include "logguard/core/parser_config.hpp"

namespace logguard::core::detail {

/// A token that is a variable by its look: it has a digit or a masked part ("<*>").
inline bool looks_variable(std::string_view tok) noexcept {
  for (char c : tok)
    if (c >= '0' && c <= '9') return true;
  return tok.find("<*>") != std::string_view::npos;
}

inline constexpr std::uint32_t kNil = 0xFFFFFFFFu;
inline constexpr std::uint8_t kWordKind = 0, kVarKind = 1, kOpenKind = 2;

struct Cluster {
  TemplateId id = kNoTemplate;  // kNoTemplate marks a free slot
  std::uint32_t leaf = kNil;
  std::uint32_t prev = kNil;    // LRU neighbours (towards head = most recent)
  std::uint32_t next = kNil;
  std::uint32_t wildcards = 0;  // number of "<*>" positions
  std::uint64_t size = 0;       // lines assigned so far
  std::uint64_t exact = 0;      // exact_key(tokens)
  bool pinned = false;          // a known template (LineParser::pin): takes only its instances, never changes
  std::vector<std::uint64_t> tokens;  // token hashes; kWildcard's hash at variable positions
  // typed mode only, per position: kWordKind (a word), kVarKind (looks variable: "<*>" or a token
  // with a digit; matches a line token that looks variable) or kOpenKind (a "<*>" that took
  // differing words: matches any token).
  std::vector<std::uint8_t> var;
  std::string text;             // tokens joined by single spaces (none before a glued token, see Tokenizer)
  std::string shown;            // text in cfg.template_style (empty when the style is drain)
  /// The text to emit.
  std::string_view display() const noexcept { return shown.empty() ? std::string_view(text) : std::string_view(shown); }
};

struct Node {
  std::uint32_t parent = kNil;
  std::uint32_t depth = 0;      // root 0, token-count nodes 1, token nodes 2..
  std::uint32_t children = 0;
  std::uint64_t key = 0;        // token count (depth 1) or token hash
  std::vector<std::uint32_t> clusters;  // leaf only: cluster slots in creation order
};

class Drain {
 public:
  explicit Drain(const DrainConfig& cfg);
  /// Recomputes c.shown from c.text (on creation and template change only, never per line).
  void restyle(Cluster& c) const;

  struct Outcome {
    std::uint32_t slot = kNil;
    ChangeKind change = ChangeKind::none;
    bool evicted = false;
    bool scanned = false;          // needed a similarity scan over the leaf's candidates
    std::uint32_t retired = 0;     // typed mode: sibling clusters given the merged template
    std::uint32_t scored = 0;      // candidates compared in that scan
  };
  /// Assigns the line (masked text + its tokens) to a cluster, creating or generalising one.
  /// `seq_key` is exact_key() of the token hashes.
  Outcome add(std::string_view text, const std::vector<Token>& toks, std::uint64_t seq_key);
  /// Makes the template (tokens of an already-masked template text, "<*>" as kWild) a pinned
  /// cluster: an identical existing cluster is pinned in place, else one is created. Returns
  /// its slot and whether it was created.
  std::pair<std::uint32_t, bool> pin(std::string_view text, const std::vector<Token>& toks, std::uint64_t seq_key);
  /// Best existing cluster for the line, or kNoTemplate; changes nothing.
  TemplateId match(std::string_view text, const std::vector<Token>& toks, std::uint64_t seq_key) const noexcept;

  std::uint32_t slot_of(TemplateId id) const noexcept;
  std::size_t memory_bytes() const noexcept;

  static std::uint64_t wildcard_hash() noexcept;
  static std::uint64_t exact_key(const std::uint64_t* hashes, std::size_t n) noexcept;

  // ---- state (read and rebuilt by the snapshot code) ----
  DrainConfig cfg;
  Tokenizer tokenizer;               // the parser's; used to split template texts again
  std::vector<Node> nodes;           // nodes[0] is the root
  FlatMap children;                  // (parent, key) -> child node
  FlatMap exact;                     // (leaf, exact key) -> slot of the lowest-id such cluster
  std::vector<Cluster> slots;
  std::vector<std::uint32_t> free_slots;
  std::unordered_map<TemplateId, std::uint32_t> by_id;
  std::uint32_t lru_head = kNil;
  std::uint32_t lru_tail = kNil;
  std::size_t live = 0;
  TemplateId next_id = 1;
  // Scan memo: (leaf, token-sequence key) -> slot chosen by a similarity scan that changed
  // nothing. Valid while no cluster changes, so it is cleared on every create, template
  // change and eviction; a cache only (not part of snapshots).
  FlatMap memo;
  static constexpr std::size_t kMemoCap = 1 << 16;
  std::vector<std::uint8_t> kinds_;  // add(): line_kinds() scratch

  // Helpers shared with the snapshot loader.
  std::uint32_t new_node(std::uint32_t parent, std::uint64_t key);
  void lru_push_front(std::uint32_t slot) noexcept;
  void exact_insert(std::uint32_t leaf, std::uint64_t key, std::uint32_t slot);
  std::uint32_t alloc_slot();

  /// typed mode: per line token, 1 if it looks variable (a digit or "<*>"); else empty.
  static void line_kinds(std::string_view text, const std::vector<Token>& toks, std::vector<std::uint8_t>& out);
  void template_kinds(Cluster& c) const;
  /// Sets c.tokens, c.wildcards and c.exact from c.text.
  void rehash(Cluster& c) const;
  /// `text` tokenized and joined again as templates are written (equal for a valid template).
  std::string canonical(std::string_view text) const;

 private:
  std::uint32_t search_leaf(const std::vector<Token>& toks) const noexcept;
  std::uint32_t insert_path(std::string_view text, const std::vector<Token>& toks);
  bool exact_accepted(const Cluster& c) const noexcept;
  bool qualifies(const Cluster& c, const std::vector<Token>& toks, const std::uint8_t* kinds) const noexcept;
  std::uint32_t create(std::string_view text, const std::vector<Token>& toks, std::uint64_t seq_key);
  std::uint32_t eviction_victim() const noexcept;
  std::uint32_t normalized_exact(std::uint32_t leaf, std::string_view text,
                                 const std::vector<Token>& toks) const noexcept;
  std::uint32_t best_in_leaf(std::uint32_t leaf, const std::vector<Token>& toks,
                             const std::uint8_t* kinds) const noexcept;
  // typed mode: the cluster to take the line (kNil: create one); `open` = the positions where
  // words become variables because the family holds distinct_words different words there.
  struct TypedPick {
    static constexpr std::size_t kMaxOpen = 16;
    std::uint32_t slot = kNil;
    std::uint32_t nopen = 0;
    std::uint32_t open[kMaxOpen];  // the first nopen entries are set
  };
  TypedPick typed_pick(std::uint32_t leaf, const std::vector<Token>& toks, const std::uint8_t* kinds) const noexcept;
  std::uint32_t open_family(std::uint32_t leaf, std::uint32_t slot, const TypedPick& pick, const std::vector<Token>& toks,
                            const std::uint8_t* kinds, std::uint32_t* retired);
  void rebuild_text(Cluster& c) const;
  bool merge(std::uint32_t slot, const std::vector<Token>& toks, const std::uint8_t* kinds = nullptr);
  void evict(std::uint32_t slot);
  void lru_unlink(std::uint32_t slot) noexcept;
  void exact_remove(std::uint32_t leaf, std::uint64_t key, std::uint32_t slot) noexcept;
  std::size_t needed_matches(std::size_t n) const noexcept;
};

/// Typed comparison of one position: equal, or a template variable that takes the token.
inline bool typed_same(std::uint64_t t, std::uint8_t tk, std::uint64_t h, std::uint8_t lk) noexcept {
  return t == h || tk == kOpenKind || (tk == kVarKind && lk != 0);
}

}  // namespace logguard::core::detail
