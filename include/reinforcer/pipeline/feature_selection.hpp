#pragma once
// `select-features` as a library call: which candidate features and actions matter, by the
// predictive or the decision score (eval/subset_scores.hpp), searched exhaustively with exact
// Shapley values and by Q-learning over subsets (pipeline/subset_search.hpp), across the ranks
// of a communicator. The result is what selection.h5 holds. docs/SELECTION.md.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "reinforcer/data/customer_table.hpp"
#include "reinforcer/env/action.hpp"
#include "reinforcer/env/feature_mask.hpp"
#include "reinforcer/env/funnel_model.hpp"
#include "reinforcer/env/hazards.hpp"
#include "reinforcer/parallel/communicator.hpp"
#include "reinforcer/results/selection_file.hpp"

namespace reinforcer {

// Above this many elements --exhaustive needs force (2^20 subsets: hours of scoring).
inline constexpr int kExhaustiveLimit = 20;

struct SelectionSettings {
  std::vector<Feature> features;  // candidates, in hierarchy order
  std::vector<Action> actions;    // candidates (never wait)
  std::string objective = "predictive";  // predictive | decision
  double element_cost = 0.0;
  bool exhaustive = false;
  bool force = false;             // exhaustive beyond kExhaustiveLimit elements
  int bootstrap = 0;              // refits for the exhaustive search's intervals
  std::int64_t budget = 0;        // RL search's evaluations; 0: default_search_budget
  int episodes_per_batch = 32;
  std::uint64_t seed = 1;
  FunnelConfig funnel;
  HazardOptions hazards;
  double gamma = 1.0;
  // Rank 0: a line of progress (evaluations done / total, elapsed) now and then.
  std::function<void(const std::string& what, std::int64_t done, std::int64_t total, double seconds)> progress;
};

// max(200, 5% of the lattice), at most the lattice.
std::int64_t default_search_budget(int elements);

// Element i's name and kind: actions first (in settings order), then features.
std::vector<std::string> selection_element_names(const SelectionSettings& settings,
                                                 const std::vector<std::string>& attribute_names);

// UsageError naming the option for an empty candidate set, a repeat, wait as a candidate, an
// unknown objective, more than kMaxSearchElements, or exhaustive beyond the limit without force.
void check_selection_settings(const SelectionSettings& settings);

// Collective: every rank passes the same table and settings; the summary is complete on every
// rank and identical for any number of ranks.
SelectionSummary select_features(const CustomerTable& table, const SelectionSettings& settings,
                                 const Communicator& comm);

}  // namespace reinforcer
