// The subset-search engine on score tables whose answers are known: Shapley values (a
// hand-solved game, an additive game, efficiency on random tables), the best subset and its
// ties, farming and the memo on the single-process communicator, the exhaustive search with
// bootstrap intervals, and Q-learning against the exhaustive answer.
#include <catch2/catch.hpp>

#include <cmath>
#include <stdexcept>

#include "reinforcer/core/rng.hpp"
#include "reinforcer/pipeline/subset_search.hpp"
#include "reinforcer/stats/bootstrap.hpp"
#include "synthetic_subset_scores.hpp"

using namespace reinforcer;
using reinforcer::test::SyntheticSubsetScores;

namespace {

SearchSpace space_of(int n, double cost = 0.0) {
  SearchSpace sp;
  sp.elements = n;
  for (int e = 0; e < n; ++e) sp.names.push_back("x" + std::to_string(e));
  sp.element_cost = cost;
  return sp;
}

BatchScorer table_scorer(const std::vector<double>& table) {
  return [table](const std::vector<ElementSet>& subsets, int) {
    std::vector<double> v;
    for (ElementSet s : subsets) v.push_back(table.at(s));
    return v;
  };
}

}  // namespace

TEST_CASE("subset search: Shapley values of a hand-solved three-player game", "[subset_search]") {
  // A = bit 0, B = bit 1, C = bit 2. v(A)=1, v(B)=2, v(C)=3, v(AB)=4, v(AC)=5, v(BC)=6, v(ABC)=10.
  // Weights 1/3 (|S| = 0), 1/6 (|S| = 1), 1/3 (|S| = 2):
  // phi_A = 1/3 * 1 + 1/6 * (2 + 2) + 1/3 * 4 = 7/3; phi_B = 2/3 + 1/6 * 6 + 5/3 = 10/3;
  // phi_C = 1 + 1/6 * 8 + 2 = 13/3.
  const std::vector<double> v = {0, 1, 2, 4, 3, 5, 6, 10};
  const auto phi = shapley_values(v, 3);
  REQUIRE(phi.size() == 3);
  CHECK(phi[0] == Approx(7.0 / 3.0).epsilon(1e-15));
  CHECK(phi[1] == Approx(10.0 / 3.0).epsilon(1e-15));
  CHECK(phi[2] == Approx(13.0 / 3.0).epsilon(1e-15));
}

TEST_CASE("subset search: in an additive game each element's Shapley value is its weight", "[subset_search]") {
  const int n = 10;
  const std::vector<double> w = {0.5, -0.25, 0.0, 1.75, 0.125, -2.0, 0.3, 0.7, 0.01, 3.0};
  std::vector<double> v(std::size_t{1} << n);
  for (std::size_t s = 0; s < v.size(); ++s) {
    v[s] = 4.0;  // a constant: it belongs to no element
    for (int e = 0; e < n; ++e)
      if (s >> e & 1U) v[s] += w[static_cast<std::size_t>(e)];
  }
  const auto phi = shapley_values(v, n);
  for (int e = 0; e < n; ++e) CHECK(std::abs(phi[static_cast<std::size_t>(e)] - w[static_cast<std::size_t>(e)]) < 1e-12);
}

TEST_CASE("subset search: Shapley values sum to v(all) - v(empty) on random tables, n = 1..12", "[subset_search]") {
  for (int n = 1; n <= 12; ++n) {
    RandomStream rng(2024, static_cast<std::uint64_t>(n));
    std::vector<double> v(std::size_t{1} << n);
    for (double& x : v) x = 100.0 * rng.uniform() - 50.0;
    const auto phi = shapley_values(v, n);
    double sum = 0.0;
    for (double p : phi) sum += p;
    INFO("n = " << n);
    CHECK(std::abs(sum - (v.back() - v.front())) < 1e-9);
    // A null element (v(S + 0) = v(S) for every S) gets 0.
    std::vector<double> null0 = v;
    for (std::size_t s = 1; s < null0.size(); s += 2) null0[s] = null0[s - 1];
    CHECK(std::abs(shapley_values(null0, n)[0]) < 1e-12);
  }
}

TEST_CASE("subset search: score tables of the wrong size are refused", "[subset_search]") {
  CHECK_THROWS_AS(shapley_values(std::vector<double>(7), 3), std::invalid_argument);
  CHECK_THROWS_AS(shapley_values(std::vector<double>(1), 0), std::invalid_argument);
  CHECK_THROWS_AS(marginal_gains(std::vector<double>(9), 3, 0), std::invalid_argument);
}

TEST_CASE("subset search: the best subset by net score, ties to the smaller set, then the lower bitmask", "[subset_search]") {
  // Net = score - 1 * |S|. {} -> 0; {0} -> 1.5 - 1 = 0.5; {1} -> 0.5; {0,1} -> 2.5 - 2 = 0.5.
  const std::vector<double> v = {0.0, 1.5, 1.5, 2.5};
  CHECK(best_subset(v, space_of(2, 1.0)) == 1U);
  // Without the cost, {0,1} (2.5) wins outright.
  CHECK(best_subset(v, space_of(2, 0.0)) == 3U);
  // A tie between sizes: {0,1} at net 0.5 and {} at net 0.5 -> the empty set.
  CHECK(best_subset({0.5, 0.0, 0.0, 2.5}, space_of(2, 1.0)) == 0U);
  // NaN never wins.
  CHECK(best_subset({std::nan(""), -5.0, -1.0, std::nan("")}, space_of(2, 0.0)) == 2U);
}

TEST_CASE("subset search: marginal gains against the best subset", "[subset_search]") {
  const std::vector<double> v = {0, 1, 2, 4, 3, 5, 6, 10};
  const auto gain = marginal_gains(v, 3, 3U);  // best = {A, B}
  CHECK(gain[0] == 4.0 - 2.0);                 // in it: v(AB) - v(B)
  CHECK(gain[1] == 4.0 - 1.0);                 // in it: v(AB) - v(A)
  CHECK(gain[2] == 10.0 - 4.0);                // not in it: v(ABC) - v(AB)
}

TEST_CASE("subset search: farming keeps the order of the subsets whatever the chunk", "[subset_search]") {
  const Communicator comm = local_communicator();
  std::vector<ElementSet> subsets;
  for (ElementSet s = 0; s < 1000; ++s) subsets.push_back((s * 7919U) % 4096U);
  std::vector<int> replicates_seen;
  const BatchScorer scorer = [&](const std::vector<ElementSet>& batch, int replicate) {
    replicates_seen.push_back(replicate);
    std::vector<double> v;
    for (ElementSet s : batch) v.push_back(static_cast<double>(s) * 0.5 + replicate);
    return v;
  };
  for (std::int64_t chunk : {0, 1, 7, 1000, 5000}) {
    FarmSettings farm;
    farm.chunk = chunk;
    std::vector<SearchProgress> progress;
    farm.progress = [&](const SearchProgress& p) { progress.push_back(p); };
    const auto scores = score_subsets(comm, subsets, 3, scorer, farm);
    REQUIRE(scores.size() == subsets.size());
    for (std::size_t k = 0; k < subsets.size(); ++k) CHECK(scores[k] == static_cast<double>(subsets[k]) * 0.5 + 3);
    REQUIRE(!progress.empty());
    CHECK(progress.back().done == 1000);
    CHECK(progress.back().total == 1000);
    for (std::size_t k = 1; k < progress.size(); ++k) CHECK(progress[k].done >= progress[k - 1].done);
  }
  for (int r : replicates_seen) CHECK(r == 3);
  CHECK(score_subsets(comm, {}, -1, scorer).empty());
  const BatchScorer short_scorer = [](const std::vector<ElementSet>& batch, int) {
    return std::vector<double>(batch.size() - 1);
  };
  CHECK_THROWS_AS(score_subsets(comm, {1, 2, 3}, -1, short_scorer), std::logic_error);
  // Several replicates in one pool: each row is that replicate's scores, in the subsets' order.
  for (std::int64_t chunk : {0, 1, 7, 1000}) {
    FarmSettings farm;
    farm.chunk = chunk;
    std::vector<SearchProgress> progress;
    farm.progress = [&](const SearchProgress& p) { progress.push_back(p); };
    const auto pooled = score_subsets(comm, subsets, std::vector<int>{0, 5, 2}, scorer, farm);
    REQUIRE(pooled.size() == 3);
    const int expected[3] = {0, 5, 2};
    for (std::size_t r = 0; r < 3; ++r) {
      REQUIRE(pooled[r].size() == subsets.size());
      for (std::size_t k = 0; k < subsets.size(); ++k)
        REQUIRE(pooled[r][k] == static_cast<double>(subsets[k]) * 0.5 + expected[r]);
    }
    CHECK(progress.back().done == 3000);
    CHECK(progress.back().total == 3000);
    for (std::size_t k = 1; k < progress.size(); ++k) CHECK(progress[k].done >= progress[k - 1].done);
  }
}

TEST_CASE("subset search: the memo scores each subset once and keeps them in the order scored", "[subset_search]") {
  const Communicator comm = local_communicator();
  std::int64_t scored = 0;
  const BatchScorer scorer = [&](const std::vector<ElementSet>& batch, int) {
    scored += static_cast<std::int64_t>(batch.size());
    std::vector<double> v;
    for (ElementSet s : batch) v.push_back(10.0 + s);
    return v;
  };
  ScoreMemo memo;
  memo.score_missing(comm, {5, 3, 5, 9}, scorer);
  memo.score_missing(comm, {3, 9, 1}, scorer);
  CHECK(scored == 4);
  CHECK(memo.evaluations() == 4);
  REQUIRE(memo.scored().size() == 4);
  CHECK(memo.scored()[0].first == 5U);
  CHECK(memo.scored()[1].first == 3U);
  CHECK(memo.scored()[2].first == 9U);
  CHECK(memo.scored()[3].first == 1U);
  CHECK(memo.at(9) == 19.0);
  CHECK(!memo.contains(2));
  CHECK_THROWS_AS(memo.at(2), std::logic_error);
  const BatchScorer nan_scorer = [](const std::vector<ElementSet>& batch, int) {
    return std::vector<double>(batch.size(), std::nan(""));
  };
  CHECK_THROWS_AS(memo.score_missing(comm, {2}, nan_scorer), std::logic_error);
}

TEST_CASE("subset search: exhaustive search finds the built-in best subset and attributes the synergy", "[subset_search]") {
  const Communicator comm = local_communicator();
  const SearchSpace space = SyntheticSubsetScores::space();
  ExhaustiveSettings settings;
  settings.bootstrap = 20;
  std::int64_t last_done = -1, total = 0;
  bool monotone = true;
  settings.farm.progress = [&](const SearchProgress& p) {
    monotone = monotone && p.done >= last_done;
    last_done = p.done;
    total = p.total;
  };
  const ExhaustiveResult r = search_exhaustive(comm, space, SyntheticSubsetScores::scorer(), settings);
  const std::int64_t count = std::int64_t{1} << SyntheticSubsetScores::elements;
  CHECK(r.evaluations == count);
  CHECK(r.refit_evaluations == 20 * count);
  CHECK(monotone);
  CHECK(last_done == 21 * count);
  CHECK(total == 21 * count);
  CHECK(r.best == SyntheticSubsetScores::best());
  CHECK(r.best_score == SyntheticSubsetScores::score(r.best, -1));
  CHECK(r.best_net == Approx(r.best_score - 6 * SyntheticSubsetScores::element_cost));
  CHECK(r.shapley == shapley_values(r.scores, SyntheticSubsetScores::elements));
  double sum = 0.0;
  for (double p : r.shapley) sum += p;
  CHECK(std::abs(sum - (r.scores.back() - r.scores.front())) < 1e-9);
  // Pairwise interactions split evenly: phi_5 = 0 + 0.12 / 2, phi_14 = 0.06 - 0.05 / 2.
  CHECK(r.shapley[5] == Approx(0.06).margin(1e-12));
  CHECK(r.shapley[14] == Approx(0.035).margin(1e-12));
  CHECK(r.shapley[1] == Approx(-0.004).margin(1e-12));
  // Marginal gains: 5 is in the best (its partner 9 too): 0 + 0.12; 14 is not: 0.06 - 0.05.
  CHECK(r.marginal_gain[5] == Approx(0.12).margin(1e-12));
  CHECK(r.marginal_gain[14] == Approx(0.01).margin(1e-12));
  // Intervals: the percentiles of the refits' values, which wobble by at most 0.01 per weight.
  REQUIRE(r.shapley_interval.size() == 18);
  REQUIRE(r.shapley_replicates.size() == 20 * 18);
  for (std::size_t i = 0; i < 18; ++i) {
    std::vector<double> column;
    for (std::size_t b = 0; b < 20; ++b) column.push_back(r.shapley_replicates[b * 18 + i]);
    const Interval expected = percentile_interval(column, 0.95);
    CHECK(r.shapley_interval[i].low == expected.low);
    CHECK(r.shapley_interval[i].high == expected.high);
    CHECK(r.shapley_interval[i].low >= r.shapley[i] - 0.01 - 1e-12);
    CHECK(r.shapley_interval[i].high <= r.shapley[i] + 0.01 + 1e-12);
    CHECK(r.shapley_interval[i].low < r.shapley_interval[i].high);
    CHECK(r.marginal_gain_interval[i].low <= r.marginal_gain_interval[i].high);
  }
}

TEST_CASE("subset search: exhaustive search refuses a bad space", "[subset_search]") {
  const Communicator comm = local_communicator();
  SearchSpace space = space_of(3);
  space.names.pop_back();
  CHECK_THROWS_AS(search_exhaustive(comm, space, table_scorer(std::vector<double>(8)), {}), std::invalid_argument);
  CHECK_THROWS_AS(search_exhaustive(comm, space_of(25), table_scorer({}), {}), std::invalid_argument);
  ExhaustiveSettings bad;
  bad.level = 1.0;
  CHECK_THROWS_AS(search_exhaustive(comm, space_of(3), table_scorer(std::vector<double>(8)), bad), std::invalid_argument);
}

TEST_CASE("subset search: Q-learning finds the exhaustive best of 18 elements with at most 5% of the evaluations",
          "[subset_search]") {
  const Communicator comm = local_communicator();
  const SearchSpace space = SyntheticSubsetScores::space();
  const std::int64_t count = std::int64_t{1} << SyntheticSubsetScores::elements;
  for (std::uint64_t seed : {1, 2, 3, 4, 5, 6, 7, 8}) {
    QSearchSettings settings;
    settings.seed = seed;
    settings.budget = count / 20;
    const QSearchResult r = search_q_learning(comm, space, SyntheticSubsetScores::scorer(), settings);
    INFO("seed " << seed << ": best " << space.describe(r.best) << " after " << r.evaluations << " evaluations, "
                 << r.episodes << " episodes, stopped by " << r.stopped_by);
    CHECK(r.best == SyntheticSubsetScores::best());
    CHECK(r.best_score == SyntheticSubsetScores::score(r.best, -1));
    CHECK(r.best_net == Approx(r.best_score - 6 * SyntheticSubsetScores::element_cost));
    CHECK(r.greedy_end == SyntheticSubsetScores::best());
    CHECK(r.stopped_by == "converged");
    CHECK(r.evaluations <= count / 20);
    CHECK(r.evaluations == r.memo.evaluations());
    // Converged: every add to the greedy walk's end was scored and none raises the net score.
    for (int e = 0; e < SyntheticSubsetScores::elements; ++e) {
      const ElementSet child = r.greedy_end | (ElementSet{1} << e);
      if (child == r.greedy_end) continue;
      REQUIRE(r.memo.contains(child));
      CHECK(space.net(child, r.memo.at(child)) < r.best_net);
    }
    ElementSet walked = 0;
    for (int e : r.greedy_path) walked |= ElementSet{1} << e;
    CHECK(walked == r.greedy_end);
    REQUIRE(static_cast<std::int64_t>(r.curve.size()) == r.batches);
    for (std::size_t b = 1; b < r.curve.size(); ++b) {
      CHECK(r.curve[b].evaluations >= r.curve[b - 1].evaluations);
      CHECK(r.curve[b].best_net >= r.curve[b - 1].best_net);
      CHECK(r.curve[b].epsilon <= r.curve[b - 1].epsilon);
    }
    CHECK(r.curve.back().evaluations == r.evaluations);
    CHECK(r.curve.back().best_net == r.best_net);
  }
}

TEST_CASE("subset search: Q-learning is a pure function of its settings", "[subset_search]") {
  const Communicator comm = local_communicator();
  const SearchSpace space = SyntheticSubsetScores::space();
  QSearchSettings settings;
  settings.seed = 11;
  settings.budget = 5000;
  const QSearchResult a = search_q_learning(comm, space, SyntheticSubsetScores::scorer(), settings);
  const QSearchResult b = search_q_learning(comm, space, SyntheticSubsetScores::scorer(), settings);
  CHECK(a.memo.scored() == b.memo.scored());
  CHECK(a.greedy_path == b.greedy_path);
  CHECK(a.episodes == b.episodes);
  settings.seed = 12;
  const QSearchResult c = search_q_learning(comm, space, SyntheticSubsetScores::scorer(), settings);
  CHECK(c.memo.scored() != a.memo.scored());  // the seed drives the exploration
}

TEST_CASE("subset search: without random exploration Q-learning misses the synergistic pair", "[subset_search]") {
  // Elements 5 and 9 are worth nothing alone (each costs 0.02) and 0.12 together: adding one
  // at a time never shows it; epsilon-greedy exploration is what finds it (previous test).
  const Communicator comm = local_communicator();
  QSearchSettings settings;
  settings.budget = 5000;
  settings.epsilon_start = settings.epsilon_end = 0.0;
  const QSearchResult r = search_q_learning(comm, SyntheticSubsetScores::space(), SyntheticSubsetScores::scorer(), settings);
  CHECK(r.best == ((1U << 0) | (1U << 3) | (1U << 7) | (1U << 11)));
}

TEST_CASE("subset search: Q-learning stops at its budget of evaluations", "[subset_search]") {
  const Communicator comm = local_communicator();
  std::int64_t scored = 0;
  const BatchScorer counting = [&](const std::vector<ElementSet>& batch, int replicate) {
    scored += static_cast<std::int64_t>(batch.size());
    return SyntheticSubsetScores::scorer()(batch, replicate);
  };
  for (std::int64_t budget : {1, 40, 300}) {
    scored = 0;
    QSearchSettings settings;
    settings.budget = budget;
    const QSearchResult r = search_q_learning(comm, SyntheticSubsetScores::space(), counting, settings);
    CHECK(r.stopped_by == "budget");
    CHECK(r.evaluations <= budget);
    CHECK(r.evaluations > budget - settings.episodes_per_batch);
    CHECK(scored == r.evaluations);
    // The best is the best of what was scored.
    for (const auto& [subset, score] : r.memo.scored())
      CHECK(SyntheticSubsetScores::space().net(subset, score) <= r.best_net);
  }
  QSearchSettings few;
  few.budget = 100000;
  few.max_episodes = 5;
  const QSearchResult r = search_q_learning(comm, SyntheticSubsetScores::space(), SyntheticSubsetScores::scorer(), few);
  CHECK(r.stopped_by == "max_episodes");
  CHECK(r.episodes == 5);
}

TEST_CASE("subset search: Q-learning refuses bad settings", "[subset_search]") {
  const Communicator comm = local_communicator();
  const auto run = [&](const QSearchSettings& s) {
    return search_q_learning(comm, SyntheticSubsetScores::space(), SyntheticSubsetScores::scorer(), s);
  };
  QSearchSettings s;
  CHECK_THROWS_AS(run(s), std::invalid_argument);  // no budget
  s.budget = 10;
  s.alpha = 0.0;
  CHECK_THROWS_AS(run(s), std::invalid_argument);
  s.alpha = 1.0;
  s.epsilon_start = 1.5;
  CHECK_THROWS_AS(run(s), std::invalid_argument);
  s.epsilon_start = 0.3;
  s.episodes_per_batch = 0;
  CHECK_THROWS_AS(run(s), std::invalid_argument);
}

TEST_CASE("subset search: Q-learning finds the exhaustive best of 18 elements for nearly every seed", "[subset_search]") {
  // The figure quoted in subset_search.hpp (998 of seeds 1..1000) on a smaller sample.
  const Communicator comm = local_communicator();
  const SearchSpace space = SyntheticSubsetScores::space();
  int found = 0;
  std::int64_t evaluations = 0;
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    QSearchSettings settings;
    settings.seed = seed;
    settings.budget = 13107;
    const QSearchResult r = search_q_learning(comm, space, SyntheticSubsetScores::scorer(), settings);
    found += r.best == SyntheticSubsetScores::best() ? 1 : 0;
    evaluations += r.evaluations;
  }
  CHECK(found >= 197);
  CHECK(evaluations / 200 < 2621);  // on average under 1% of 2^18
}
