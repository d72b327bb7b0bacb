#include "reinforcer/env/feature_mask.hpp"

#include <algorithm>

#include "reinforcer/core/errors.hpp"

namespace reinforcer {

std::string FeatureMask::text() const {
  std::string s;
  for (Feature f : order) s += (s.empty() ? "" : ",") + std::string(kFeatureNames[static_cast<std::size_t>(f)]);
  return s;
}

FeatureMask parse_feature_mask(const std::string& text, const std::string& option) {
  FeatureMask m;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t comma = text.find(',', pos);
    if (comma == std::string::npos) comma = text.size();
    std::string name = text.substr(pos, comma - pos);
    name.erase(0, name.find_first_not_of(" \t"));
    name.erase(name.find_last_not_of(" \t") + 1);
    pos = comma + 1;
    if (name.empty()) continue;
    auto it = std::find(kFeatureNames.begin(), kFeatureNames.end(), name);
    if (it == kFeatureNames.end()) {
      std::string why;
      if (name == "stage" || name == "status" || name == "last_contact")
        why = " (it records what happened after the decision, so it cannot be used to decide)";
      throw UsageError(option + ": '" + name + "' is not a decision-time feature" + why +
                       "; choose from cohort, country, education, month");
    }
    const auto f = static_cast<Feature>(it - kFeatureNames.begin());
    if (std::find(m.order.begin(), m.order.end(), f) != m.order.end())
      throw UsageError(option + ": '" + name + "' is given twice");
    m.order.push_back(f);
  }
  if (m.order.empty())
    throw UsageError(option + ": the feature mask is empty; give at least one of cohort, country, education, month");
  return m;
}

}  // namespace reinforcer
