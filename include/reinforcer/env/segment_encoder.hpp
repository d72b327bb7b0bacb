#pragma once
// Customers -> segments: the decision-time features chosen by the mask, encoded with codes
// fitted on the fitting customers only. "unknown" (missing in the data) and "unseen" (absent
// from the fitting customers) are different codes. Segments form a tree by the mask's
// order (root = all customers); only nodes that occur among the fitting customers exist,
// and a customer maps to the deepest existing node of its path.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "reinforcer/data/customer_table.hpp"
#include "reinforcer/env/feature_mask.hpp"

namespace reinforcer {

inline constexpr std::int32_t kUnknownCode = 0;
inline constexpr std::int32_t kUnseenCode = 1;

struct SegmentNode {
  std::int32_t parent = -1;          // -1 for the root
  std::int32_t depth = 0;            // number of features fixed
  std::vector<std::int32_t> codes;   // one per fixed feature (depth of them)
  bool leaf = false;                 // depth == mask size
};

class SegmentEncoder {
 public:
  // Fits the codes and the tree on table.customers[i] for i in `fitting` (dated only). The
  // mask's attributes are matched to the table's by name (resolve_feature_mask: UsageError if
  // the table lacks one). An attribute is coded like country: its levels held by fitting
  // customers get codes >= 2, a missing value kUnknownCode, any other level kUnseenCode.
  // An empty mask gives the root alone: every customer is node 0.
  SegmentEncoder(const CustomerTable& table, const std::vector<std::size_t>& fitting, const FeatureMask& mask);

  const FeatureMask& mask() const { return mask_; }
  const std::vector<SegmentNode>& nodes() const { return nodes_; }
  // Index of the deepest existing node on the customer's path. `c` must be an element of
  // table.customers (attributes are columns of the table, found by the row).
  std::int32_t node_of(const Customer& c, const CustomerTable& table) const;
  // The customer's feature codes, in mask order.
  std::vector<std::int32_t> codes_of(const Customer& c, const CustomerTable& table) const;
  // "cohort=inbound country=USA Col A=level"; the root is "all".
  std::string describe(std::int32_t node) const;
  std::string code_name(Feature f, std::int32_t code) const;

 private:
  std::int32_t code(Feature f, const Customer& c, const CustomerTable& table) const;
  FeatureMask mask_;
  std::unordered_map<std::string, std::int32_t> country_code_;  // fitted country name -> code >= 2
  std::vector<std::string> country_names_;                      // code -> name
  std::vector<std::int32_t> education_code_;                    // B level -> code (kUnseenCode if unseen)
  std::vector<std::uint8_t> education_level_;                   // code -> B level
  // Per table attribute (filled for those in the mask): level index -> code, code -> name.
  std::vector<std::vector<std::int32_t>> attribute_code_;
  std::vector<std::vector<std::string>> attribute_code_names_;
  std::vector<SegmentNode> nodes_;
  std::unordered_map<std::uint64_t, std::int32_t> child_;  // (parent, code) -> node
};

}  // namespace reinforcer
