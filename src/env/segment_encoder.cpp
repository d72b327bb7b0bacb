#include "reinforcer/env/segment_encoder.hpp"

#include <map>
#include <stdexcept>

namespace reinforcer {
namespace {
std::uint64_t child_key(std::int32_t parent, std::int32_t code) {
  return static_cast<std::uint64_t>(static_cast<std::uint32_t>(parent)) << 32 | static_cast<std::uint32_t>(code);
}
}  // namespace

SegmentEncoder::SegmentEncoder(const CustomerTable& table, const std::vector<std::size_t>& fitting, const FeatureMask& mask)
    : mask_(resolve_feature_mask(mask, attribute_names(table))), education_code_(kEducationLevels + 1, kUnseenCode) {
  attribute_code_.resize(table.attributes.size());
  attribute_code_names_.resize(table.attributes.size());
  for (Feature f : mask_.order) {
    if (!is_attribute(f)) continue;
    const std::size_t k = attribute_index(f);
    const Attribute& a = table.attributes[k];
    std::vector<bool> held(a.levels.size(), false);
    for (std::size_t i : fitting)
      if (a.code[i] >= 0) held[static_cast<std::size_t>(a.code[i])] = true;
    attribute_code_[k].assign(a.levels.size(), kUnseenCode);
    attribute_code_names_[k] = {"unknown", "unseen"};
    for (std::size_t l = 0; l < a.levels.size(); ++l)
      if (held[l]) {
        attribute_code_[k][l] = static_cast<std::int32_t>(attribute_code_names_[k].size());
        attribute_code_names_[k].push_back(a.levels[l]);
      }
  }
  country_names_ = {"unknown", "unseen"};
  education_level_ = {0, 0};
  // Codes in a fixed order (names sorted, levels ascending) so the encoding does not depend
  // on the order of the fitting customers.
  std::map<std::string, int> countries;
  std::vector<bool> levels(kEducationLevels + 1, false);
  for (std::size_t i : fitting) {
    const Customer& c = table.customers[i];
    if (c.country >= 0) countries[table.countries[static_cast<std::size_t>(c.country)]] = 0;
    levels[c.education] = true;
  }
  for (auto& [name, unused] : countries) {
    country_code_[name] = static_cast<std::int32_t>(country_names_.size());
    country_names_.push_back(name);
  }
  for (std::uint8_t b = 1; b <= kEducationLevels; ++b)
    if (levels[b]) {
      education_code_[b] = static_cast<std::int32_t>(education_level_.size());
      education_level_.push_back(b);
    }
  nodes_.push_back(SegmentNode{-1, 0, {}, mask_.order.empty()});
  // Build the tree from sorted keys, so node numbering is canonical too.
  std::map<std::vector<std::int32_t>, int> paths;
  for (std::size_t i : fitting) paths[codes_of(table.customers[i], table)] = 0;
  for (const auto& [codes, unused] : paths) {
    std::int32_t parent = 0;
    for (std::size_t d = 1; d <= codes.size(); ++d) {
      const std::uint64_t k = child_key(parent, codes[d - 1]);
      auto it = child_.find(k);
      if (it == child_.end()) {
        SegmentNode n{parent, static_cast<std::int32_t>(d), std::vector<std::int32_t>(codes.begin(), codes.begin() + static_cast<long>(d)),
                      d == codes.size()};
        it = child_.emplace(k, static_cast<std::int32_t>(nodes_.size())).first;
        nodes_.push_back(std::move(n));
      }
      parent = it->second;
    }
  }
}

std::int32_t SegmentEncoder::code(Feature f, const Customer& c, const CustomerTable& table) const {
  if (is_attribute(f)) {
    // Customers are rows of the table: the attribute's code is found by the row's index.
    const auto row = static_cast<std::size_t>(&c - table.customers.data());
    if (&c < table.customers.data() || row >= table.customers.size())
      throw std::logic_error("segment encoder: an attribute is looked up for a customer outside the table");
    const std::int32_t level = table.attributes[attribute_index(f)].code[row];
    return level < 0 ? kUnknownCode : attribute_code_[attribute_index(f)][static_cast<std::size_t>(level)];
  }
  switch (f) {
    case Feature::cohort: return static_cast<std::int32_t>(c.cohort);
    case Feature::month: return c.t0 == kNoDay ? 0 : civil_from_days(c.t0).month;
    case Feature::education: return c.education == 0 ? kUnknownCode : education_code_[c.education];
    case Feature::country: {
      if (c.country < 0) return kUnknownCode;
      auto it = country_code_.find(table.countries[static_cast<std::size_t>(c.country)]);
      return it == country_code_.end() ? kUnseenCode : it->second;
    }
  }
  return kUnknownCode;
}

std::vector<std::int32_t> SegmentEncoder::codes_of(const Customer& c, const CustomerTable& table) const {
  std::vector<std::int32_t> codes;
  for (Feature f : mask_.order) codes.push_back(code(f, c, table));
  return codes;
}

std::int32_t SegmentEncoder::node_of(const Customer& c, const CustomerTable& table) const {
  std::int32_t node = 0;
  for (Feature f : mask_.order) {
    auto it = child_.find(child_key(node, code(f, c, table)));
    if (it == child_.end()) break;
    node = it->second;
  }
  return node;
}

std::string SegmentEncoder::code_name(Feature f, std::int32_t code) const {
  if (is_attribute(f)) return attribute_code_names_[attribute_index(f)][static_cast<std::size_t>(code)];
  switch (f) {
    case Feature::cohort: return std::string(kCohortNames[static_cast<std::size_t>(code)]);
    case Feature::month: return code == 0 ? "unknown" : std::to_string(code);
    case Feature::education:
      if (code == kUnknownCode) return "unknown";
      if (code == kUnseenCode) return "unseen";
      return education_name(education_level_[static_cast<std::size_t>(code)]);
    case Feature::country: return country_names_[static_cast<std::size_t>(code)];
  }
  return "?";
}

std::string SegmentEncoder::describe(std::int32_t node) const {
  const SegmentNode& n = nodes_[static_cast<std::size_t>(node)];
  if (n.depth == 0) return "all";
  std::string s;
  for (std::size_t d = 0; d < n.codes.size(); ++d)
    s += (d ? " " : "") + feature_name(mask_.order[d], mask_.attribute_names) + "=" +
         code_name(mask_.order[d], n.codes[d]);
  return s;
}

}  // namespace reinforcer
