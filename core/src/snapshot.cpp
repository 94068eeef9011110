// LineParser::save()/load(): the versioned binary snapshot (docs/snapshot-format.md).
#include <algorithm>
#include <cstring>
#include <istream>
#include <iterator>
#include <ostream>
#include <unordered_set>

#include "hash.hpp"
#include "line_parser_impl.hpp"

namespace logguard::core {

using detail::Cluster;
using detail::Drain;
using detail::kNil;
using detail::Node;

namespace {

constexpr char kMagic[8] = {'L', 'G', 'D', 'R', 'A', 'I', 'N', '\0'};
constexpr std::uint32_t kVersion = 1;
enum Tag : std::uint32_t { kStats = 1, kClusters = 2, kTree = 3, kLru = 4, kOpen = 5 };

class Writer {
 public:
  void u8(std::uint8_t v) { buf_.push_back(static_cast<char>(v)); }
  void u32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) u8(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void u64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) u8(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void bytes(std::string_view s) { buf_.append(s); }
  void str(std::string_view s) {
    u32(static_cast<std::uint32_t>(s.size()));
    bytes(s);
  }
  // Sections: begin() writes the tag and a length placeholder, end() patches the length.
  std::size_t begin(std::uint32_t tag) {
    u32(tag);
    u32(0);
    const std::size_t at = buf_.size();
    u64(0);
    return at;
  }
  void end(std::size_t at) {
    const std::uint64_t len = buf_.size() - at - 8;
    for (int i = 0; i < 8; ++i) buf_[at + i] = static_cast<char>(static_cast<std::uint8_t>(len >> (8 * i)));
  }
  std::string& buf() { return buf_; }

 private:
  std::string buf_;
};

class Reader {
 public:
  Reader(std::string_view data, const std::string& source) : d_(data), src_(source) {}
  [[noreturn]] void fail(const std::string& what) const {
    throw LoadError(src_ + ": invalid parser snapshot: " + what + " (at byte " + std::to_string(pos_) + ")");
  }
  void need(std::size_t n) const {
    if (d_.size() - pos_ < n) fail("truncated");
  }
  std::uint8_t u8() {
    need(1);
    return static_cast<std::uint8_t>(d_[pos_++]);
  }
  std::uint32_t u32() {
    need(4);
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(d_[pos_ + i])) << (8 * i);
    pos_ += 4;
    return v;
  }
  std::uint64_t u64() {
    need(8);
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(d_[pos_ + i])) << (8 * i);
    pos_ += 8;
    return v;
  }
  std::string_view bytes(std::size_t n) {
    need(n);
    const std::string_view s = d_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::string_view str() { return bytes(u32()); }
  // A count of items each at least `min_item` bytes long: rejects counts the data cannot hold.
  std::uint32_t count(std::size_t min_item) {
    const std::uint32_t n = u32();
    if (min_item > 0 && n > (d_.size() - pos_) / min_item) fail("count " + std::to_string(n) + " exceeds data");
    return n;
  }
  std::size_t pos() const { return pos_; }
  std::size_t size() const { return d_.size(); }
  bool done() const { return pos_ == d_.size(); }

 private:
  std::string_view d_;
  std::size_t pos_ = 0;
  const std::string& src_;
};

void put_config(Writer& w, const ParserConfig& c) {
  w.str(c.log_format);
  w.u32(static_cast<std::uint32_t>(c.masks.size()));
  for (const MaskRule& m : c.masks) {
    w.str(m.name);
    w.str(m.builtin);
    w.str(m.regex);
    w.str(m.replacement);
  }
  w.u32(static_cast<std::uint32_t>(c.drain.depth));
  std::uint64_t th = 0;
  std::memcpy(&th, &c.drain.similarity_threshold, sizeof th);
  w.u64(th);
  w.u32(static_cast<std::uint32_t>(c.drain.max_children));
  w.u64(c.drain.max_clusters);
  w.str(c.drain.extra_delimiters);
  w.u8(c.drain.parametrize_numeric_tokens ? 1 : 0);
  w.u8(static_cast<std::uint8_t>(c.drain.wildcard_match));
  w.u64(c.max_line_bytes);
  if (c.drain.wildcard_match == WildcardMatch::typed) {  // fields added later: absent in older digests
    w.str(c.drain.punctuation_tokens);
    w.u32(static_cast<std::uint32_t>(c.drain.distinct_words));
  } else if (!c.drain.punctuation_tokens.empty()) {
    w.str(c.drain.punctuation_tokens);
  }
}

}  // namespace

std::uint64_t config_digest(const ParserConfig& c) {
  Writer w;
  put_config(w, c);
  return detail::hash_bytes(w.buf().data(), w.buf().size());
}

void LineParser::save(std::ostream& out) const {
  const Impl& m = *impl_;
  const Drain& d = m.drain;
  // typed mode: template positions opened by differing words (not derivable from the text).
  std::vector<std::pair<TemplateId, std::vector<std::uint32_t>>> open;
  for (const detail::Cluster& c : d.slots) {
    if (c.id == kNoTemplate || c.pinned) continue;
    std::vector<std::uint32_t> pos;
    for (std::size_t i = 0; i < c.var.size(); ++i)
      if (c.var[i] == detail::kOpenKind) pos.push_back(static_cast<std::uint32_t>(i));
    if (!pos.empty()) open.emplace_back(c.id, std::move(pos));
  }
  std::sort(open.begin(), open.end());
  Writer w;
  w.bytes(std::string_view(kMagic, 8));
  w.u32(kVersion);
  w.u32(open.empty() ? 4 : 5);  // section count (OPEN only when there is something in it)
  w.u64(m.digest);

  std::size_t at = w.begin(kStats);
  const ParserStats& s = m.stats;
  for (std::uint64_t v : {s.lines, s.header_mismatches, s.truncated_lines, s.invalid_utf8_lines, s.empty_lines,
                          s.clusters_created, s.templates_changed, s.clusters_evicted, s.similarity_scans, s.candidates_scored})
    w.u64(v);
  w.u32(d.next_id);
  w.end(at);

  at = w.begin(kClusters);  // by id; the Drain text (the emitted style is recomputed on load)
  const auto all = templates();
  w.u32(static_cast<std::uint32_t>(all.size()));
  for (const auto& entry : all) {
    const detail::Cluster& c = d.slots[d.slot_of(entry.first)];
    w.u32(c.id);
    w.u64(c.size);
    w.str(c.text);
  }
  w.end(at);

  at = w.begin(kTree);  // nodes in index order; node 0 is the root
  w.u32(static_cast<std::uint32_t>(d.nodes.size()));
  for (std::size_t i = 0; i < d.nodes.size(); ++i) {
    const Node& n = d.nodes[i];
    w.u32(n.parent);
    w.u64(n.key);
    w.u32(static_cast<std::uint32_t>(n.clusters.size()));
    for (std::uint32_t slot : n.clusters) w.u32(d.slots[slot].id);
  }
  w.end(at);

  at = w.begin(kLru);  // most recently used first
  w.u32(static_cast<std::uint32_t>(d.live));
  for (std::uint32_t slot = d.lru_head; slot != kNil; slot = d.slots[slot].next) w.u32(d.slots[slot].id);
  w.end(at);

  if (!open.empty()) {
    at = w.begin(kOpen);  // by id
    w.u32(static_cast<std::uint32_t>(open.size()));
    for (const auto& [id, pos] : open) {
      w.u32(id);
      w.u32(static_cast<std::uint32_t>(pos.size()));
      for (std::uint32_t q : pos) w.u32(q);
    }
    w.end(at);
  }

  const std::uint64_t sum = detail::hash_bytes(w.buf().data(), w.buf().size());
  w.u64(sum);
  out.write(w.buf().data(), static_cast<std::streamsize>(w.buf().size()));
}

LineParser LineParser::load(std::istream& in, ParserConfig config, const std::string& source) {
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw LoadError(source + ": read error");
  LineParser p(std::move(config));
  Impl& m = *p.impl_;
  Drain& d = m.drain;

  Reader hdr(data, source);
  if (data.size() < 32 || std::memcmp(data.data(), kMagic, 8) != 0)
    hdr.fail(data.size() < 8 ? "truncated (no header)" : "not a logguard parser snapshot (bad magic)");
  hdr.bytes(8);
  const std::uint32_t version = hdr.u32();
  if (version != kVersion)
    hdr.fail("unsupported version " + std::to_string(version) + " (this build reads " + std::to_string(kVersion) + ")");
  const std::uint64_t stored_sum = [&] {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i)
      v |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(data[data.size() - 8 + i])) << (8 * i);
    return v;
  }();
  if (detail::hash_bytes(data.data(), data.size() - 8) != stored_sum) hdr.fail("checksum mismatch (corrupt or truncated)");
  const std::uint32_t sections = hdr.u32();
  if (sections != 4 && sections != 5) hdr.fail("expected 4 or 5 sections, found " + std::to_string(sections));
  if (hdr.u64() != m.digest) hdr.fail("written with a different parser configuration");

  Reader r(std::string_view(data).substr(0, data.size() - 8), source);
  r.bytes(24);
  bool seen[6] = {};
  std::vector<TemplateId> lru_ids;
  for (std::uint32_t sec = 0; sec < sections; ++sec) {
    const std::uint32_t tag = r.u32();
    r.u32();
    const std::uint64_t len = r.u64();
    if (len > r.size() - r.pos()) r.fail("section length exceeds data");
    if (tag != sec + 1) r.fail("expected section " + std::to_string(sec + 1) + ", found tag " + std::to_string(tag));
    seen[tag] = true;
    Reader s(r.bytes(static_cast<std::size_t>(len)), source);
    if (tag == kStats) {
      ParserStats& st = m.stats;
      for (std::uint64_t* v : {&st.lines, &st.header_mismatches, &st.truncated_lines, &st.invalid_utf8_lines,
                               &st.empty_lines, &st.clusters_created, &st.templates_changed, &st.clusters_evicted,
                               &st.similarity_scans, &st.candidates_scored})
        *v = s.u64();
      d.next_id = s.u32();
      if (d.next_id == kNoTemplate) s.fail("next id is 0");
    } else if (tag == kClusters) {
      const std::uint32_t n = s.count(16);
      for (std::uint32_t i = 0; i < n; ++i) {
        const TemplateId id = s.u32();
        const std::uint64_t size = s.u64();
        const std::string_view text = s.str();
        if (id == kNoTemplate || d.by_id.count(id) != 0) s.fail("bad or duplicate cluster id " + std::to_string(id));
        const std::uint32_t slot = d.alloc_slot();
        Cluster& c = d.slots[slot];
        c.id = id;
        c.size = size;
        c.text.assign(text);
        if (d.canonical(text) != text) s.fail("malformed text of template " + std::to_string(id));
        d.restyle(c);
        d.rehash(c);
        if (d.cfg.wildcard_match == WildcardMatch::typed) d.template_kinds(c);
        d.by_id.emplace(id, slot);
        ++d.live;
      }
    } else if (tag == kTree) {
      const std::uint32_t n = s.count(16);
      if (n == 0) s.fail("tree has no root");
      for (std::uint32_t i = 0; i < n; ++i) {
        const std::uint32_t parent = s.u32();
        const std::uint64_t key = s.u64();
        if (i == 0) {
          if (parent != kNil) s.fail("root has a parent");
        } else {
          if (parent >= i) s.fail("node " + std::to_string(i) + " has a bad parent");
          if (d.children.find(parent, key) != detail::FlatMap::kNone) s.fail("duplicate child key");
          if (d.nodes[parent].depth == 0 && key > 0xFFFFFFFFull) s.fail("bad token-count key");
          d.new_node(parent, key);
        }
        const std::uint32_t nc = s.count(4);
        for (std::uint32_t k = 0; k < nc; ++k) {
          const TemplateId id = s.u32();
          const std::uint32_t slot = d.slot_of(id);
          if (slot == kNil) s.fail("leaf names unknown cluster " + std::to_string(id));
          if (d.slots[slot].leaf != kNil) s.fail("cluster " + std::to_string(id) + " in two leaves");
          if (i == 0) s.fail("cluster " + std::to_string(id) + " attached to the root");
          d.slots[slot].leaf = i;
          d.nodes[i].clusters.push_back(slot);
        }
      }
    } else if (tag == kLru) {
      const std::uint32_t n = s.count(4);
      for (std::uint32_t i = 0; i < n; ++i) lru_ids.push_back(s.u32());
    } else {  // kOpen: positions of typed-mode templates that take any word
      if (d.cfg.wildcard_match != WildcardMatch::typed) s.fail("open positions need wildcard_match typed");
      const std::uint32_t n = s.count(8);
      TemplateId prev = kNoTemplate;
      for (std::uint32_t i = 0; i < n; ++i) {
        const TemplateId id = s.u32();
        const std::uint32_t slot = d.slot_of(id);
        if (slot == kNil || id <= prev) s.fail("open positions name unknown or unordered cluster " + std::to_string(id));
        prev = id;
        detail::Cluster& c = d.slots[slot];
        const std::uint32_t np = s.count(4);
        for (std::uint32_t k = 0; k < np; ++k) {
          const std::uint32_t q = s.u32();
          if (q >= c.tokens.size() || c.tokens[q] != Drain::wildcard_hash())
            s.fail("open position " + std::to_string(q) + " of cluster " + std::to_string(id) + " is not a variable");
          c.var[q] = detail::kOpenKind;
        }
      }
    }
    if (!s.done()) s.fail("trailing bytes in section " + std::to_string(tag));
  }
  if (!r.done()) r.fail("trailing bytes after sections");
  for (std::uint32_t tag = kStats; tag <= kLru; ++tag)
    if (!seen[tag]) r.fail("missing section " + std::to_string(tag));
  if (d.nodes.empty()) r.fail("missing tree");

  // Cross-checks: every cluster in exactly one leaf under the right token count, ids
  // below next_id, LRU a permutation of the clusters.
  for (const auto& [id, slot] : d.by_id) {
    if (id >= d.next_id) r.fail("cluster id " + std::to_string(id) + " >= next id");
    const std::uint32_t leaf = d.slots[slot].leaf;
    if (leaf == kNil) r.fail("cluster " + std::to_string(id) + " is in no leaf");
    std::uint32_t len_node = leaf;
    while (d.nodes[len_node].depth > 1) len_node = d.nodes[len_node].parent;
    if (d.nodes[len_node].key != d.slots[slot].tokens.size())
      r.fail("cluster " + std::to_string(id) + " is under the wrong token count");
  }
  for (std::uint32_t leaf = 0; leaf < d.nodes.size(); ++leaf)
    for (std::uint32_t slot : d.nodes[leaf].clusters) d.exact_insert(leaf, d.slots[slot].exact, slot);
  if (lru_ids.size() != d.live) r.fail("LRU list length differs from cluster count");
  std::unordered_set<TemplateId> in_lru;
  for (auto it = lru_ids.rbegin(); it != lru_ids.rend(); ++it) {
    const std::uint32_t slot = d.slot_of(*it);
    if (slot == kNil || !in_lru.insert(*it).second) r.fail("LRU list names unknown or repeated cluster");
    d.lru_push_front(slot);
  }
  if (d.cfg.max_clusters != 0 && d.live > d.cfg.max_clusters) r.fail("more clusters than max_clusters");
  return p;
}

}  // namespace logguard::core
