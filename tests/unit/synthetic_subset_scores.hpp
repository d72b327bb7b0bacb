#pragma once
// A score over subsets of 18 elements whose best subset is known by construction: five
// informative elements (positive weights), noise elements (zero or slightly negative), a
// redundant pair (their joint gain is less than the sum), and a synergistic pair (worthless
// alone, worth more than their cost together, so a greedy add-one search misses it).
// Replicate b >= 0 perturbs the weights a little, as a bootstrap refit would.
#include <string>
#include <vector>

#include "reinforcer/pipeline/subset_search.hpp"

namespace reinforcer::test {

struct SyntheticSubsetScores {
  static constexpr int elements = 18;
  static constexpr double element_cost = 0.02;

  static double weight(int e, int replicate) {
    static const double base[elements] = {0.30, -0.004, 0.0, 0.22, -0.002, 0.0, 0.0, 0.15, -0.006, 0.0,
                                          0.0,  0.10,   0.0, -0.003, 0.06, 0.0, -0.001, 0.0};
    if (replicate < 0) return base[e];
    // A deterministic wobble per (element, replicate) in [-0.01, 0.01].
    const double wobble = static_cast<double>((e * 7919 + replicate * 104729) % 201 - 100) * 1e-4;
    return base[e] + wobble;
  }
  static double score(ElementSet s, int replicate) {
    const auto has = [s](int e) { return (s >> e & 1U) != 0; };
    double v = 1.0;  // a baseline, so v({}) != 0
    for (int e = 0; e < elements; ++e)
      if (has(e)) v += weight(e, replicate);
    if (has(0) && has(3)) v -= 0.10;  // redundant: both still pay
    if (has(7) && has(14)) v -= 0.05;  // redundant: 14 no longer pays its cost beside 7
    if (has(5) && has(9)) v += 0.12;   // synergistic: each alone is worth 0
    return v;
  }
  // {0, 3, 5, 7, 9, 11}
  static ElementSet best() { return (1U << 0) | (1U << 3) | (1U << 5) | (1U << 7) | (1U << 9) | (1U << 11); }

  static SearchSpace space() {
    SearchSpace sp;
    sp.elements = elements;
    for (int e = 0; e < elements; ++e) sp.names.push_back("e" + std::to_string(e));
    sp.element_cost = element_cost;
    return sp;
  }
  static BatchScorer scorer() {
    return [](const std::vector<ElementSet>& subsets, int replicate) {
      std::vector<double> v;
      v.reserve(subsets.size());
      for (ElementSet s : subsets) v.push_back(score(s, replicate));
      return v;
    };
  }
};

}  // namespace reinforcer::test
