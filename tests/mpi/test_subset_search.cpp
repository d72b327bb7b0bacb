// Built twice: with the single-process communicator (no mpirun) and, with
// REINFORCER_TEST_WITH_MPI, under mpiexec -n 2 and -n 4. Each rank also runs every search on
// its own (local_communicator) and the results must be identical bit for bit.
#include <catch2/catch.hpp>

#include <cstring>

#include "reinforcer/parallel/communicator.hpp"
#include "test_communicator_choice.hpp"
#include "reinforcer/pipeline/subset_search.hpp"
#include "../unit/synthetic_subset_scores.hpp"

using namespace reinforcer;
using reinforcer::test::test_communicator;
using reinforcer::test::SyntheticSubsetScores;

namespace {

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

bool same_intervals(const std::vector<Interval>& a, const std::vector<Interval>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::memcmp(&a[i].low, &b[i].low, sizeof(double)) != 0 || std::memcmp(&a[i].high, &b[i].high, sizeof(double)) != 0)
      return false;
  return true;
}
}  // namespace

TEST_CASE("subset search: every subset is scored once, by some rank, and every rank gets every score",
          "[subset_search_mpi]") {
  const Communicator comm = test_communicator();
  std::vector<ElementSet> subsets;
  for (ElementSet s = 0; s < 5000; ++s) subsets.push_back((s * 2654435761U) % 65536U);
  std::int64_t scored_here = 0;
  const BatchScorer scorer = [&](const std::vector<ElementSet>& batch, int replicate) {
    scored_here += static_cast<std::int64_t>(batch.size());
    std::vector<double> v;
    for (ElementSet s : batch) v.push_back(s % 2 ? -0.0 : static_cast<double>(s) / 3.0 + replicate);
    return v;
  };
  // Fewer subsets than ranks (no shared counter), then many.
  const std::vector<ElementSet> few = {7, 4, 7};
  const auto few_scores = score_subsets(comm, few, 0, scorer);
  CHECK(comm.sum(scored_here) == 3);
  CHECK(few_scores == std::vector<double>{-0.0, 4.0 / 3.0, -0.0});
  CHECK(same_bits(few_scores, score_subsets(local_communicator(), few, 0, scorer)));
  for (std::int64_t chunk : {0, 1, 13}) {
    scored_here = 0;
    FarmSettings farm;
    farm.chunk = chunk;
    std::int64_t progress_calls = 0;
    farm.progress = [&](const SearchProgress&) { ++progress_calls; };
    const auto scores = score_subsets(comm, subsets, 2, scorer, farm);
    CHECK(comm.sum(scored_here) == static_cast<std::int64_t>(subsets.size()));
    if (!comm.is_root()) CHECK(progress_calls == 0);
    scored_here = 0;
    const auto alone = score_subsets(local_communicator(), subsets, 2, scorer);
    CHECK(same_bits(scores, alone));  // -0.0 stays -0.0
  }
}

TEST_CASE("subset search: exhaustive scores, Shapley values and intervals do not depend on the ranks",
          "[subset_search_mpi]") {
  const Communicator comm = test_communicator();
  ExhaustiveSettings settings;
  settings.bootstrap = 3;
  settings.farm.chunk = 1000;
  const auto space = SyntheticSubsetScores::space();
  const ExhaustiveResult here = search_exhaustive(comm, space, SyntheticSubsetScores::scorer(), settings);
  const ExhaustiveResult alone = search_exhaustive(local_communicator(), space, SyntheticSubsetScores::scorer(), settings);
  CHECK(same_bits(here.scores, alone.scores));
  CHECK(same_bits(here.shapley, alone.shapley));
  CHECK(same_bits(here.marginal_gain, alone.marginal_gain));
  CHECK(same_bits(here.shapley_replicates, alone.shapley_replicates));
  CHECK(same_intervals(here.shapley_interval, alone.shapley_interval));
  CHECK(same_intervals(here.marginal_gain_interval, alone.marginal_gain_interval));
  CHECK(here.best == SyntheticSubsetScores::best());
  CHECK(here.best == alone.best);
}

TEST_CASE("subset search: Q-learning gives the same search on any number of ranks", "[subset_search_mpi]") {
  const Communicator comm = test_communicator();
  const auto space = SyntheticSubsetScores::space();
  for (std::uint64_t seed : {1, 2}) {
    QSearchSettings settings;
    settings.seed = seed;
    settings.budget = 13107;
    settings.farm.chunk = 1;  // spread even small steps over the ranks
    const QSearchResult here = search_q_learning(comm, space, SyntheticSubsetScores::scorer(), settings);
    const QSearchResult alone = search_q_learning(local_communicator(), space, SyntheticSubsetScores::scorer(), settings);
    CHECK(here.memo.scored() == alone.memo.scored());
    CHECK(here.greedy_path == alone.greedy_path);
    CHECK(here.best == alone.best);
    CHECK(here.best == SyntheticSubsetScores::best());
    CHECK(here.episodes == alone.episodes);
    CHECK(here.stopped_by == alone.stopped_by);
    REQUIRE(here.curve.size() == alone.curve.size());
    for (std::size_t b = 0; b < here.curve.size(); ++b) {
      CHECK(here.curve[b].evaluations == alone.curve[b].evaluations);
      CHECK(here.curve[b].best_net == alone.curve[b].best_net);
      CHECK(here.curve[b].greedy_end == alone.curve[b].greedy_end);
    }
  }
}
