#pragma once
// Which decision-time attributes form a customer's segment (CONTRACT.md: country,
// education, cohort, month of t0, and the attributes the user declared at `prepare
// --attributes` -- never Stage, Status, Last Contact or later dates).
// The order given is the shrinkage hierarchy: a segment's parent drops its last feature.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace reinforcer {

// Values below kFeatures are the built-in features; value kFeatures + k is the table's
// declared attribute k (CustomerTable::attributes[k]).
enum class Feature : std::uint8_t { cohort, country, education, month };
inline constexpr std::size_t kFeatures = 4;
inline constexpr std::array<std::string_view, kFeatures> kFeatureNames = {"cohort", "country", "education", "month"};
inline constexpr std::size_t kMaxAttributes = 255 - kFeatures;

inline bool is_attribute(Feature f) { return static_cast<std::size_t>(f) >= kFeatures; }
inline std::size_t attribute_index(Feature f) { return static_cast<std::size_t>(f) - kFeatures; }
inline Feature attribute_feature(std::size_t k) { return static_cast<Feature>(kFeatures + k); }

// "cohort", or the attribute's column name; std::logic_error for an attribute index beyond the names.
std::string feature_name(Feature f, const std::vector<std::string>& attribute_names);

// The default segment: education carries most of the outbound signal (one country x
// education cell holds half the outbound subscribers of the real export).
inline constexpr std::string_view kDefaultFeatures = "cohort,country,education";

struct FeatureMask {
  std::vector<Feature> order;  // no repeats; empty = one segment (the root: all customers)
  // The names attribute features index (the table's attributes when parsed against a table).
  std::vector<std::string> attribute_names;
  std::string text() const;   // "cohort,Col A"; parses back to the same mask
};

// Parses "cohort,country,Col A": built-in names, and the exact column names of the table's
// attributes (`attribute_names`, CustomerTable order). UsageError naming the option for an
// empty mask, an unknown name (listing the built-in features and the attributes, and saying
// why Stage/Status are not) or a repeat.
FeatureMask parse_feature_mask(const std::string& text, const std::string& option = "--features",
                               const std::vector<std::string>& attribute_names = {});

// Before the table is known (a training option read from the command line or a file): like
// parse_feature_mask, but every name that is not built-in is taken as an attribute, numbered
// in order of appearance. resolve_feature_mask maps it onto a table's attributes.
FeatureMask parse_feature_names(const std::string& text, const std::string& option = "--features");
// The same features numbered by `attribute_names` (the table's); UsageError naming the option
// when an attribute is not among them. A mask already numbered so comes back unchanged.
FeatureMask resolve_feature_mask(const FeatureMask& mask, const std::vector<std::string>& attribute_names,
                                 const std::string& option = "--features");

}  // namespace reinforcer
