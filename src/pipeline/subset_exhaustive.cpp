// Exhaustive search over every subset: the score table, the best subset, each element's exact
// Shapley value and its marginal gain against the best, with bootstrap intervals.
#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "reinforcer/pipeline/subset_search.hpp"
#include "reinforcer/stats/bootstrap.hpp"

namespace reinforcer {

namespace {

void check_table(const std::vector<double>& scores, int elements) {
  if (elements < 1 || elements > kMaxSearchElements)
    throw std::invalid_argument("subset scores: " + std::to_string(elements) + " elements; 1 to " +
                                std::to_string(kMaxSearchElements) + " allowed");
  if (scores.size() != (std::size_t{1} << elements))
    throw std::invalid_argument("subset scores: " + std::to_string(scores.size()) + " scores for " +
                                std::to_string(elements) + " elements (2^n expected)");
}

}  // namespace

std::vector<double> shapley_values(const std::vector<double>& scores, int elements) {
  check_table(scores, elements);
  const int n = elements;
  // Weight of a coalition of size k: k! (n-k-1)! / n! = 1 / (n * C(n-1, k)), C exact in 64 bits.
  std::vector<long double> weight(static_cast<std::size_t>(n));
  std::uint64_t binomial = 1;  // C(n-1, k)
  for (int k = 0; k < n; ++k) {
    weight[static_cast<std::size_t>(k)] = 1.0L / (static_cast<long double>(n) * static_cast<long double>(binomial));
    binomial = binomial * static_cast<std::uint64_t>(n - 1 - k) / static_cast<std::uint64_t>(k + 1);
  }
  const ElementSet count = ElementSet{1} << n;
  std::vector<double> phi(static_cast<std::size_t>(n));
#pragma omp parallel for schedule(static)
  for (int i = 0; i < n; ++i) {
    const ElementSet bit = ElementSet{1} << i;
    long double sum = 0.0L;
    for (ElementSet s = 0; s < count; ++s) {
      if (s & bit) continue;
      sum += weight[static_cast<std::size_t>(subset_size(s))] *
             (static_cast<long double>(scores[s | bit]) - static_cast<long double>(scores[s]));
    }
    phi[static_cast<std::size_t>(i)] = static_cast<double>(sum);
  }
  return phi;
}

ElementSet best_subset(const std::vector<double>& scores, const SearchSpace& space) {
  check_table(scores, space.elements);
  ElementSet best = 0;
  double best_net = -std::numeric_limits<double>::infinity();
  bool found = false;
  for (ElementSet s = 0; s < scores.size(); ++s) {
    if (std::isnan(scores[s])) continue;
    const double net = space.net(s, scores[s]);
    // Scanning upwards, a later subset wins a tie only by being smaller.
    if (!found || net > best_net || (net == best_net && subset_size(s) < subset_size(best))) {
      best = s;
      best_net = net;
      found = true;
    }
  }
  return best;
}

std::vector<double> marginal_gains(const std::vector<double>& scores, int elements, ElementSet best) {
  check_table(scores, elements);
  std::vector<double> gain(static_cast<std::size_t>(elements));
  for (int i = 0; i < elements; ++i) {
    const ElementSet bit = ElementSet{1} << i;
    gain[static_cast<std::size_t>(i)] = (best & bit) ? scores[best] - scores[best & ~bit] : scores[best | bit] - scores[best];
  }
  return gain;
}

ExhaustiveResult search_exhaustive(const Communicator& comm, const SearchSpace& space, const BatchScorer& scorer,
                                   const ExhaustiveSettings& settings) {
  space.check();
  if (settings.bootstrap < 0) throw std::invalid_argument("exhaustive search: bootstrap refits must be >= 0");
  if (!(settings.level > 0.0 && settings.level < 1.0))
    throw std::invalid_argument("exhaustive search: interval level must be in (0, 1)");
  const int n = space.elements;
  const auto count = static_cast<std::int64_t>(std::int64_t{1} << n);
  std::vector<ElementSet> all(static_cast<std::size_t>(count));
  for (std::int64_t s = 0; s < count; ++s) all[static_cast<std::size_t>(s)] = static_cast<ElementSet>(s);

  // One progress scale over the main fit and every refit.
  const std::int64_t grand_total = count * (settings.bootstrap + 1);
  const auto started = std::chrono::steady_clock::now();
  const auto farm_pass = [&](int pass) {
    FarmSettings farm = settings.farm;
    if (settings.farm.progress)
      farm.progress = [&, pass](const SearchProgress& p) {
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        settings.farm.progress({count * pass + p.done, grand_total, seconds});
      };
    return farm;
  };

  ExhaustiveResult result;
  result.scores = score_subsets(comm, all, -1, scorer, farm_pass(0));
  for (std::int64_t s = 0; s < count; ++s)
    if (!std::isfinite(result.scores[static_cast<std::size_t>(s)]))
      throw std::logic_error("subset scorer returned a non-finite main-fit score for " +
                             space.describe(static_cast<ElementSet>(s)));
  result.evaluations = count;
  result.best = best_subset(result.scores, space);
  result.best_score = result.scores[result.best];
  result.best_net = space.net(result.best, result.best_score);
  result.shapley = shapley_values(result.scores, n);
  result.marginal_gain = marginal_gains(result.scores, n, result.best);
  if (settings.bootstrap == 0) return result;

  const auto nn = static_cast<std::size_t>(n);
  std::vector<int> refit_replicates(static_cast<std::size_t>(settings.bootstrap));
  for (int b = 0; b < settings.bootstrap; ++b) refit_replicates[static_cast<std::size_t>(b)] = b;
  // Every refit's subsets in one pool of work (progress: from the main fit's end onwards).
  const std::vector<std::vector<double>> refits = score_subsets(comm, all, refit_replicates, scorer, farm_pass(1));
  for (int b = 0; b < settings.bootstrap; ++b) {
    const std::vector<double>& refit = refits[static_cast<std::size_t>(b)];
    const std::vector<double> phi = shapley_values(refit, n);
    const std::vector<double> gain = marginal_gains(refit, n, result.best);
    result.shapley_replicates.insert(result.shapley_replicates.end(), phi.begin(), phi.end());
    result.marginal_gain_replicates.insert(result.marginal_gain_replicates.end(), gain.begin(), gain.end());
  }
  result.refit_evaluations = count * settings.bootstrap;
  const auto column = [&](const std::vector<double>& replicates, std::size_t i) {
    std::vector<double> values;
    for (std::size_t b = 0; b < static_cast<std::size_t>(settings.bootstrap); ++b) values.push_back(replicates[b * nn + i]);
    return values;
  };
  for (std::size_t i = 0; i < nn; ++i) {
    result.shapley_interval.push_back(percentile_interval(column(result.shapley_replicates, i), settings.level));
    result.marginal_gain_interval.push_back(percentile_interval(column(result.marginal_gain_replicates, i), settings.level));
  }
  return result;
}

}  // namespace reinforcer
