#pragma once
// selection.h5: what `select-features` found -- every scored subset of the candidate
// features and actions, the best one, each element's exact Shapley value and marginal gain
// (with bootstrap intervals when refits ran), and the RL search's path, evaluations and
// regret against the exhaustive optimum. Schema in docs/HDF5_SCHEMA.md; `report` reads it.
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "reinforcer/results/provenance.hpp"

namespace reinforcer {

inline const std::string kSelectionFormat = "reinforcer-selection";
inline constexpr std::int64_t kSelectionFormatVersion = 1;

inline constexpr double kNotComputed = std::numeric_limits<double>::quiet_NaN();

struct SelectionElement {
  std::string name;
  std::string kind;  // "feature" or "action"
  // Exact Shapley value of the score over the lattice (exhaustive only) and the gain of
  // adding the element to the best subset (or, for a member, of removing it, sign flipped):
  // the estimate on the customers, and the 95% percentile interval over bootstrap refits.
  double shapley = kNotComputed, shapley_low95 = kNotComputed, shapley_high95 = kNotComputed;
  double marginal = kNotComputed, marginal_low95 = kNotComputed, marginal_high95 = kNotComputed;
  bool in_best = false;
};

struct ScoredSubset {
  std::uint32_t bits = 0;  // bit i = element i
  std::string elements;    // "cohort,education,call" ("(none)" for the empty subset)
  std::int32_t size = 0;
  double score = 0;        // the objective's score
  double net = 0;          // score - element_cost x size
  // The predictive objective's details (NaN under the decision objective).
  double log_likelihood = kNotComputed, auc = kNotComputed;
  bool rl_evaluated = false;  // the RL search asked for it
};

struct SearchCurvePoint {
  std::int64_t batch = 0, evaluations = 0;
  double best_net = 0;
};

struct SelectionSummary {
  std::string objective;     // predictive | decision
  double element_cost = 0;
  std::int64_t customers = 0;  // customers whose outcomes the score averages over
  std::int64_t bootstrap = 0;  // refits behind the intervals (0: none)
  std::vector<SelectionElement> elements;
  std::vector<ScoredSubset> subsets;  // by bits
  bool exhaustive = false;
  std::int64_t lattice = 0;  // 2^elements
  // The best subset by net score: over the lattice when exhaustive, else the RL search's.
  std::uint32_t best_bits = 0;
  double score_empty = kNotComputed, score_all = kNotComputed;
  // The RL search (rl_ran false: not run).
  bool rl_ran = false;
  std::uint32_t rl_best_bits = 0;
  double rl_best_net = kNotComputed;
  double rl_regret = kNotComputed;  // exhaustive best net - RL best net (exhaustive runs only)
  std::int64_t rl_evaluations = 0, rl_episodes = 0;
  std::string rl_stop_reason;
  std::vector<SearchCurvePoint> rl_curve;
  double seconds = 0;
  std::int64_t ranks = 1, threads = 1;
};

// Written atomically.
void write_selection_file(const std::string& path, const SelectionSummary& summary, const Provenance& provenance);
// InputError naming the file for another format, a missing table or a bad value.
SelectionSummary read_selection_file(const std::string& path);

}  // namespace reinforcer
