#include "logguard/core/parse_csv.hpp"

#include <cstring>

#include "logguard/core/csv.hpp"

namespace logguard::core {

void ParseCsvWriter::append_row(std::string& out, const ParseResult& r) {
  // Line id + 1, in place: the digits are right-aligned in digits_.
  constexpr std::size_t kEnd = sizeof digits_;
  std::size_t k = kEnd;
  while (k > kEnd - width_ && digits_[k - 1] == '9') digits_[--k] = '0';
  if (k == kEnd - width_) {
    digits_[k - 1] = '1';
    ++width_;
  } else {
    ++digits_[k - 1];
  }
  ++lines_;
  out.append(digits_ + kEnd - width_, width_);

  const TemplateId id = r.template_id;
  if (id >= cache_.size()) {
    cache_.resize(id + 1);
    occurrences_.resize(id + 1, 0);
  }
  ++occurrences_[id];
  Entry& e = cache_[id];
  if (e.row.empty() || e.text.size() != r.template_text.size() ||
      std::memcmp(e.text.data(), r.template_text.data(), e.text.size()) != 0) {
    e.text.assign(r.template_text);
    e.row = ",E" + std::to_string(id) + ",";
    append_csv_field(e.row, r.template_text);
  }
  out.append(e.row);
}

}  // namespace logguard::core
