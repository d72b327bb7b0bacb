#pragma once
// Which decision-time attributes form a customer's segment (CONTRACT.md: country,
// education, cohort, month of t0 -- never Stage, Status, Last Contact or later dates).
// The order given is the shrinkage hierarchy: a segment's parent drops its last feature.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace reinforcer {

enum class Feature : std::uint8_t { cohort, country, education, month };
inline constexpr std::size_t kFeatures = 4;
inline constexpr std::array<std::string_view, kFeatures> kFeatureNames = {"cohort", "country", "education", "month"};

// The default segment: education carries most of the outbound signal (one country x
// education cell holds half the outbound subscribers of the real export).
inline constexpr std::string_view kDefaultFeatures = "cohort,country,education";

struct FeatureMask {
  std::vector<Feature> order;  // non-empty, no repeats
  std::string text() const;   // "cohort,country"
};

// Parses "cohort,country"; UsageError naming the option for an empty mask, an unknown
// feature (listing the allowed ones, and saying why Stage/Status are not) or a repeat.
FeatureMask parse_feature_mask(const std::string& text, const std::string& option = "--features");

}  // namespace reinforcer
