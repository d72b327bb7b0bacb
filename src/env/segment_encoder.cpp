#include "reinforcer/env/segment_encoder.hpp"

#include <map>

namespace reinforcer {
namespace {
std::string key_of(const std::vector<std::int32_t>& codes, std::size_t depth) {
  std::string k;
  for (std::size_t i = 0; i < depth; ++i) k += std::to_string(codes[i]) + ",";
  return k;
}
}  // namespace

SegmentEncoder::SegmentEncoder(const CustomerTable& table, const std::vector<std::size_t>& fitting, FeatureMask mask)
    : mask_(std::move(mask)), education_code_(kEducationLevels + 1, kUnseenCode) {
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
  node_by_key_[""] = 0;
  // Build the tree from sorted keys, so node numbering is canonical too.
  std::map<std::vector<std::int32_t>, int> paths;
  for (std::size_t i : fitting) paths[codes_of(table.customers[i], table)] = 0;
  for (const auto& [codes, unused] : paths) {
    std::int32_t parent = 0;
    for (std::size_t d = 1; d <= codes.size(); ++d) {
      const std::string k = key_of(codes, d);
      auto it = node_by_key_.find(k);
      if (it == node_by_key_.end()) {
        SegmentNode n{parent, static_cast<std::int32_t>(d), std::vector<std::int32_t>(codes.begin(), codes.begin() + static_cast<long>(d)),
                      d == codes.size()};
        it = node_by_key_.emplace(k, static_cast<std::int32_t>(nodes_.size())).first;
        nodes_.push_back(std::move(n));
      }
      parent = it->second;
    }
  }
}

std::int32_t SegmentEncoder::code(Feature f, const Customer& c, const CustomerTable& table) const {
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
  const auto codes = codes_of(c, table);
  std::int32_t node = 0;
  std::string k;
  for (std::size_t d = 0; d < codes.size(); ++d) {
    k += std::to_string(codes[d]) + ",";
    auto it = node_by_key_.find(k);
    if (it == node_by_key_.end()) break;
    node = it->second;
  }
  return node;
}

std::string SegmentEncoder::code_name(Feature f, std::int32_t code) const {
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
    s += (d ? " " : "") + std::string(kFeatureNames[static_cast<std::size_t>(mask_.order[d])]) + "=" +
         code_name(mask_.order[d], n.codes[d]);
  return s;
}

}  // namespace reinforcer
