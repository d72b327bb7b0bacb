#pragma once
// The two scores of a subset of candidate features and actions (docs/SELECTION.md):
//  - predictive (whom to contact): the mean out-of-fold log-likelihood per held-out customer
//    of the observed outcome (subscribed within the customer's own follow-up) under the
//    status-quo model fitted with the features S_f -- a proper scoring rule -- with the
//    fold-stratified AUC beside it;
//  - decision (what to do): the expected reward per customer of the DP policy that sees only
//    S_f and uses only the actions S_a (and wait), judged in the reference model (every
//    candidate feature, every action) from each fitting customer's decision-time state.
// Both are pure functions of (subset, replicate): replicate -1 is the fit on the customers,
// replicate b >= 0 the refit on bootstrap resample b (stratified by cohort, counted as
// multiplicities), so any rank computes the same number.
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "reinforcer/data/customer_table.hpp"
#include "reinforcer/env/action.hpp"
#include "reinforcer/env/feature_mask.hpp"
#include "reinforcer/env/funnel_model.hpp"
#include "reinforcer/env/hazards.hpp"

namespace reinforcer {

struct SubsetScoreSettings {
  std::vector<Feature> features;  // candidates; a subset keeps their order (the shrinkage hierarchy)
  std::vector<Action> actions;    // candidates; never wait (always available)
  FunnelConfig funnel;
  HazardOptions hazards;
  double gamma = 1.0;
  std::uint64_t seed = 1;         // the bootstrap resamples
};

struct PredictiveScore {
  double log_likelihood = 0;  // mean per held-out customer (natural log; 0 is perfect)
  double auc = 0;             // fold-stratified; NaN for a bootstrap replicate
  double customers = 0;       // held-out customers counted (weights of a replicate)
  double subscribers = 0;     // of whom subscribed within their follow-up
};

class SubsetScorer {
 public:
  // Throws InputError when the customers cannot support a score: no folds, a fold without
  // held-out subscribers, no dated prospects.
  SubsetScorer(const CustomerTable& table, SubsetScoreSettings settings);
  ~SubsetScorer();
  SubsetScorer(const SubsetScorer&) = delete;
  SubsetScorer& operator=(const SubsetScorer&) = delete;

  const SubsetScoreSettings& settings() const { return settings_; }
  // Bit i of feature_bits = settings().features[i]; bit j of action_bits = settings().actions[j].
  PredictiveScore predictive(std::uint32_t feature_bits, int replicate) const;
  double decision(std::uint32_t feature_bits, std::uint32_t action_bits, int replicate) const;
  // Many subsets at once on this process's OpenMP threads, grouped by feature subset so each
  // one's fit is made once: (feature_bits, action_bits) pairs in, scores out in that order.
  std::vector<double> decision_batch(const std::vector<std::pair<std::uint32_t, std::uint32_t>>& subsets,
                                     int replicate) const;
  std::vector<PredictiveScore> predictive_batch(const std::vector<std::uint32_t>& feature_bits, int replicate) const;
  // Dated prospects whose decision-time state the decision score averages over.
  std::size_t prospects() const;

  struct Reference;
  struct Folds;

 private:
  const Reference& reference(int replicate) const;
  std::vector<std::uint32_t> multiplicity(int replicate) const;  // per fitting customer; empty for -1
  FeatureMask mask_of(std::uint32_t feature_bits) const;
  const CustomerTable& table_;
  SubsetScoreSettings settings_;
  std::vector<std::size_t> fitting_;         // every dated customer
  std::vector<std::uint8_t> stratum_;        // cohort, per fitting customer
  std::unique_ptr<Folds> folds_;
  mutable std::mutex mutex_;
  mutable std::map<int, std::shared_ptr<const Reference>> references_;
  mutable std::map<std::pair<std::uint32_t, int>, PredictiveScore> predictive_memo_;
};

}  // namespace reinforcer
