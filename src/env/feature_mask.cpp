#include "reinforcer/env/feature_mask.hpp"

#include <algorithm>
#include <stdexcept>

#include "reinforcer/core/errors.hpp"

namespace reinforcer {

std::string feature_name(Feature f, const std::vector<std::string>& attribute_names) {
  if (!is_attribute(f)) return std::string(kFeatureNames[static_cast<std::size_t>(f)]);
  if (attribute_index(f) >= attribute_names.size())
    throw std::logic_error("feature " + std::to_string(static_cast<int>(f)) + " names attribute " +
                           std::to_string(attribute_index(f)) + " of " + std::to_string(attribute_names.size()));
  return attribute_names[attribute_index(f)];
}

std::string FeatureMask::text() const {
  std::string s;
  for (Feature f : order) s += (s.empty() ? "" : ",") + feature_name(f, attribute_names);
  return s;
}

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return s;
}

std::string choices(const std::vector<std::string>& attribute_names) {
  std::string s = "cohort, country, education, month";
  if (attribute_names.empty()) return s + " (this prepared file declares no attributes: see prepare --attributes)";
  s += "; or an attribute of the prepared file:";
  for (const auto& a : attribute_names) s += " '" + a + "'";
  return s;
}

// `attributes` null: every name that is not built-in becomes an attribute (numbered in order).
FeatureMask parse(const std::string& text, const std::string& option, const std::vector<std::string>* attributes) {
  FeatureMask m;
  if (attributes) m.attribute_names = *attributes;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t comma = text.find(',', pos);
    if (comma == std::string::npos) comma = text.size();
    std::string name = text.substr(pos, comma - pos);
    name.erase(0, name.find_first_not_of(" \t"));
    name.erase(name.find_last_not_of(" \t") + 1);
    pos = comma + 1;
    if (name.empty()) continue;
    Feature f{};
    auto builtin = std::find(kFeatureNames.begin(), kFeatureNames.end(), name);
    const std::string key = lower(name);
    if (builtin != kFeatureNames.end()) {
      f = static_cast<Feature>(builtin - kFeatureNames.begin());
    } else if (key == "stage" || key == "status" || key == "last_contact" || key == "last contact") {
      throw UsageError(option + ": '" + name + "' is not a decision-time feature (it records what happened after the " +
                       "decision, so it cannot be used to decide); choose from " +
                       choices(attributes ? *attributes : std::vector<std::string>{}));
    } else {
      auto& names = m.attribute_names;
      auto it = std::find(names.begin(), names.end(), name);
      if (it == names.end() && attributes)
        throw UsageError(option + ": '" + name + "' is not a decision-time feature; choose from " + choices(*attributes));
      if (it == names.end()) it = names.insert(names.end(), name);
      const auto k = static_cast<std::size_t>(it - names.begin());
      if (k >= kMaxAttributes) throw UsageError(option + ": more than " + std::to_string(kMaxAttributes) + " attributes");
      f = attribute_feature(k);
    }
    if (std::find(m.order.begin(), m.order.end(), f) != m.order.end())
      throw UsageError(option + ": '" + name + "' is given twice");
    m.order.push_back(f);
  }
  if (m.order.empty())
    throw UsageError(option + ": the feature mask is empty; give at least one of " +
                     choices(attributes ? *attributes : std::vector<std::string>{}));
  return m;
}

}  // namespace

FeatureMask parse_feature_mask(const std::string& text, const std::string& option,
                               const std::vector<std::string>& attribute_names) {
  return parse(text, option, &attribute_names);
}

FeatureMask parse_feature_names(const std::string& text, const std::string& option) {
  return parse(text, option, nullptr);
}

FeatureMask resolve_feature_mask(const FeatureMask& mask, const std::vector<std::string>& attribute_names,
                                 const std::string& option) {
  if (mask.attribute_names == attribute_names) return mask;
  FeatureMask out;
  out.attribute_names = attribute_names;
  for (Feature f : mask.order) {
    if (!is_attribute(f)) {
      out.order.push_back(f);
      continue;
    }
    const std::string& name = feature_name(f, mask.attribute_names);
    auto it = std::find(attribute_names.begin(), attribute_names.end(), name);
    if (it == attribute_names.end())
      throw UsageError(option + ": '" + name + "' is not a decision-time feature; choose from " + choices(attribute_names));
    out.order.push_back(attribute_feature(static_cast<std::size_t>(it - attribute_names.begin())));
  }
  return out;
}

}  // namespace reinforcer
