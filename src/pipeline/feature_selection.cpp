#include "reinforcer/pipeline/feature_selection.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

#include <omp.h>

#include "reinforcer/core/errors.hpp"
#include "reinforcer/eval/subset_scores.hpp"
#include "reinforcer/pipeline/subset_search.hpp"

namespace reinforcer {
namespace {

using Clock = std::chrono::steady_clock;

std::string join(const std::vector<std::string>& names, ElementSet bits) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i)
    if (bits >> i & 1u) out += (out.empty() ? "" : ",") + names[i];
  return out.empty() ? "(none)" : out;
}

}  // namespace

std::int64_t default_search_budget(int elements) {
  const std::int64_t lattice = std::int64_t{1} << elements;
  return std::min(lattice, std::max<std::int64_t>(200, lattice / 20));
}

std::vector<std::string> selection_element_names(const SelectionSettings& s, const std::vector<std::string>& attributes) {
  std::vector<std::string> names;
  for (Action a : s.actions) names.emplace_back(kActionNames[static_cast<std::size_t>(a)]);
  for (Feature f : s.features) names.push_back(feature_name(f, attributes));
  return names;
}

void check_selection_settings(const SelectionSettings& s) {
  if (s.objective != "predictive" && s.objective != "decision")
    throw UsageError("--objective: '" + s.objective + "' is not predictive or decision");
  const std::size_t n = s.features.size() + s.actions.size();
  if (n == 0) throw UsageError("--features and --actions name no candidate: give at least one feature or action");
  if (std::set<Feature>(s.features.begin(), s.features.end()).size() != s.features.size())
    throw UsageError("--features: a feature is named twice");
  if (std::set<Action>(s.actions.begin(), s.actions.end()).size() != s.actions.size())
    throw UsageError("--actions: an action is named twice");
  for (Action a : s.actions)
    if (a == Action::wait) throw UsageError("--actions: wait is always available; it is no candidate");
  if (n > static_cast<std::size_t>(kMaxSearchElements))
    throw UsageError(std::to_string(n) + " candidate elements; the search handles at most " +
                     std::to_string(kMaxSearchElements) + ": name fewer with --features/--actions");
  if (s.exhaustive && n > static_cast<std::size_t>(kExhaustiveLimit) && !s.force)
    throw UsageError("--exhaustive over " + std::to_string(n) + " elements scores " + std::to_string(std::int64_t{1} << n) +
                     " subsets (more than the limit of " + std::to_string(kExhaustiveLimit) +
                     " elements); add --force to run it anyway, or drop --exhaustive for the RL search alone");
  if (s.bootstrap < 0) throw UsageError("--bootstrap must be >= 0");
  if (s.bootstrap > 0 && !s.exhaustive)
    throw UsageError("--bootstrap gives intervals to the exhaustive search's Shapley values: add --exhaustive");
  if (s.budget < 0) throw UsageError("--budget must be >= 0 (0: the default)");
  if (!(s.element_cost >= 0) || !std::isfinite(s.element_cost))
    throw UsageError("--element-cost must be a finite number >= 0");
}

SelectionSummary select_features(const CustomerTable& table, const SelectionSettings& s, const Communicator& comm) {
  check_selection_settings(s);
  const auto started = Clock::now();
  const int na = static_cast<int>(s.actions.size());
  const int n = na + static_cast<int>(s.features.size());
  SubsetScoreSettings ss;
  ss.features = s.features;
  ss.actions = s.actions;
  ss.funnel = s.funnel;
  ss.hazards = s.hazards;
  ss.gamma = s.gamma;
  ss.seed = s.seed;
  const SubsetScorer scorer(table, ss);
  const ElementSet action_mask = (ElementSet{1} << na) - 1;
  const bool predictive = s.objective == "predictive";
  const BatchScorer batch = [&](const std::vector<ElementSet>& subsets, int replicate) {
    if (predictive) {
      std::vector<std::uint32_t> features;
      for (ElementSet b : subsets) features.push_back(b >> na);
      std::vector<double> scores;
      for (const PredictiveScore& p : scorer.predictive_batch(features, replicate)) scores.push_back(p.log_likelihood);
      return scores;
    }
    std::vector<std::pair<std::uint32_t, std::uint32_t>> pairs;
    for (ElementSet b : subsets) pairs.emplace_back(b >> na, b & action_mask);
    return scorer.decision_batch(pairs, replicate);
  };
  SearchSpace space;
  space.elements = n;
  space.names = selection_element_names(s, attribute_names(table));
  space.element_cost = s.element_cost;
  const auto farm_progress = [&](const std::string& what) {
    FarmSettings farm;
    // 2^actions consecutive subsets share one feature subset (one fit); a chunk holds one
    // such run per OpenMP thread, which scores them side by side.
    farm.chunk = (std::int64_t{1} << std::min(na, 8)) * std::max(1, omp_get_max_threads());
    if (s.progress) farm.progress = [&, what](const SearchProgress& p) { s.progress(what, p.done, p.total, p.seconds); };
    return farm;
  };

  SelectionSummary out;
  out.objective = s.objective;
  out.element_cost = s.element_cost;
  out.bootstrap = s.bootstrap;
  out.exhaustive = s.exhaustive;
  out.lattice = std::int64_t{1} << n;
  out.ranks = comm.size();
  out.customers = static_cast<std::int64_t>(predictive ? scorer.predictive(0, -1).customers : scorer.prospects());
  std::vector<double> table_scores;  // exhaustive: scores[S]
  ExhaustiveResult ex;
  if (s.exhaustive) {
    ExhaustiveSettings es;
    es.bootstrap = s.bootstrap;
    es.farm = farm_progress("exhaustive");
    ex = search_exhaustive(comm, space, batch, es);
    table_scores = ex.scores;
  }
  QSearchSettings qs;
  qs.seed = s.seed;
  qs.budget = s.budget > 0 ? s.budget : default_search_budget(n);
  qs.episodes_per_batch = s.episodes_per_batch;
  qs.farm = farm_progress("rl search");
  qs.farm.chunk = 0;
  // After the exhaustive search the RL search looks its scores up (no refit); its memo still
  // counts every subset it asked for, so its evaluations are what it would have cost alone.
  const BatchScorer lookup = [&](const std::vector<ElementSet>& subsets, int) {
    std::vector<double> looked_up;
    for (ElementSet b : subsets) looked_up.push_back(table_scores[b]);
    return looked_up;
  };
  const QSearchResult q = search_q_learning(comm, space, s.exhaustive ? lookup : batch, qs);

  for (int i = 0; i < n; ++i) {
    SelectionElement e;
    e.name = space.names[static_cast<std::size_t>(i)];
    e.kind = i < na ? "action" : "feature";
    out.elements.push_back(e);
  }
  std::vector<char> asked(static_cast<std::size_t>(out.lattice), 0);
  for (const auto& [bits, score] : q.memo.scored()) asked[bits] = 1;
  const auto add_subset = [&](ElementSet bits, double score) {
    ScoredSubset r;
    r.bits = bits;
    r.elements = join(space.names, bits);
    r.size = subset_size(bits);
    r.score = score;
    r.net = space.net(bits, score);
    r.rl_evaluated = asked[bits] != 0;
    if (predictive) {
      const PredictiveScore p = scorer.predictive(bits >> na, -1);
      r.log_likelihood = p.log_likelihood, r.auc = p.auc;
    }
    out.subsets.push_back(r);
  };
  if (s.exhaustive) {
    for (ElementSet b = 0; b < static_cast<ElementSet>(out.lattice); ++b) add_subset(b, table_scores[b]);
    out.best_bits = ex.best;
    out.score_empty = table_scores.front();
    out.score_all = table_scores.back();
    for (int i = 0; i < n; ++i) {
      SelectionElement& e = out.elements[static_cast<std::size_t>(i)];
      e.shapley = ex.shapley[static_cast<std::size_t>(i)];
      e.marginal = ex.marginal_gain[static_cast<std::size_t>(i)];
      if (!ex.shapley_interval.empty()) {
        e.shapley_low95 = ex.shapley_interval[static_cast<std::size_t>(i)].low;
        e.shapley_high95 = ex.shapley_interval[static_cast<std::size_t>(i)].high;
        e.marginal_low95 = ex.marginal_gain_interval[static_cast<std::size_t>(i)].low;
        e.marginal_high95 = ex.marginal_gain_interval[static_cast<std::size_t>(i)].high;
      }
    }
  } else {
    std::vector<std::pair<ElementSet, double>> seen = q.memo.scored();
    std::sort(seen.begin(), seen.end());
    for (const auto& [bits, score] : seen) add_subset(bits, score);
    out.best_bits = q.best;
    if (q.memo.contains(0)) out.score_empty = q.memo.at(0);
    if (q.memo.contains(space.all())) out.score_all = q.memo.at(space.all());
  }
  for (int i = 0; i < n; ++i) out.elements[static_cast<std::size_t>(i)].in_best = out.best_bits >> i & 1u;
  out.rl_ran = true;
  out.rl_best_bits = q.best;
  out.rl_best_net = q.best_net;
  if (s.exhaustive) out.rl_regret = ex.best_net - q.best_net;
  out.rl_evaluations = q.evaluations;
  out.rl_episodes = q.episodes;
  out.rl_stop_reason = q.stopped_by;
  for (const QSearchCurveRow& r : q.curve) out.rl_curve.push_back(SearchCurvePoint{r.batch, r.evaluations, r.best_net});
  out.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return out;
}

}  // namespace reinforcer
