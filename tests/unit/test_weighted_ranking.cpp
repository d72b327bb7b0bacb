// A bootstrap replicate as multiplicities over one ranking gives, bit for bit, the metrics of
// the materialised resample ranked afresh (the tie rules included).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "reinforcer/core/rng.hpp"
#include "reinforcer/stats/bootstrap.hpp"
#include "reinforcer/stats/ranking_metrics.hpp"

using namespace reinforcer;

namespace {

// Equal as bits: NaN equals NaN, and 0.1 + 0.2 does not equal 0.3.
bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

}  // namespace

TEST_CASE("stratified resample counts are the histogram of the stratified sample", "[statistics][weighted]") {
  RandomStream rng(11, 0);
  std::vector<std::uint8_t> stratum(997);
  for (auto& s : stratum) s = static_cast<std::uint8_t>(rng.below(5));
  const StratifiedResampler resampler(stratum);
  std::vector<std::uint32_t> counts;
  for (std::uint64_t r = 0; r < 5; ++r) {
    resampler.counts(42, r, counts);
    std::vector<std::uint32_t> expected(stratum.size(), 0);
    for (std::uint32_t i : bootstrap_sample_stratified(stratum, 42, r)) ++expected[i];
    REQUIRE(counts == expected);
  }
}

TEST_CASE("weighted sweep over one ranking equals the materialised resample ranked afresh", "[statistics][weighted]") {
  const std::vector<double> fractions = {0.05, 0.10, 0.20, 0.30, 0.0, 1.0, 0.37};
  for (std::uint64_t trial = 0; trial < 40; ++trial) {
    RandomStream rng(7, trial);
    const std::size_t n = 20 + rng.below(400);
    // Few distinct scores, so many ties straddle the top-k cut-offs and span folds; labels
    // sometimes all one class; folds with non-contiguous ids.
    const std::uint64_t levels = 1 + rng.below(12);
    const double positive_rate = trial % 7 == 0 ? 0.0 : rng.uniform();
    std::vector<double> score(n);
    std::vector<std::uint8_t> label(n), stratum(n);
    std::vector<std::int32_t> fold(n);
    for (std::size_t i = 0; i < n; ++i) {
      score[i] = static_cast<double>(rng.below(levels)) / 3.0;
      label[i] = rng.uniform() < positive_rate;
      fold[i] = static_cast<std::int32_t>(rng.below(4)) * 3 - 2;
      stratum[i] = static_cast<std::uint8_t>(2 * (fold[i] + 2) + label[i]);
    }
    const RankedCustomers ranked(score, label, fold);
    const StratifiedResampler resampler(stratum);
    std::vector<std::uint32_t> counts;
    for (std::uint64_t r = 0; r < 6; ++r) {
      // The replicate as the evaluation used to build it: the resampled rows themselves.
      std::vector<double> s;
      std::vector<std::uint8_t> y;
      std::vector<std::int32_t> f;
      for (std::uint32_t i : bootstrap_sample_stratified(stratum, trial, r))
        s.push_back(score[i]), y.push_back(label[i]), f.push_back(fold[i]);
      const Ranking materialised(s, y);
      const FoldAuc fold_auc = fold_stratified_auc(s, y, f);

      resampler.counts(trial, r, counts);
      const RankedCustomers::Metrics m = ranked.metrics(counts, fractions);
      INFO("trial " << trial << " replicate " << r << " n " << n << " levels " << levels);
      CHECK(same_bits(m.roc_auc, materialised.roc_auc()));
      CHECK(same_bits(m.fold_auc.mean, fold_auc.mean));
      CHECK(m.fold_auc.folds == fold_auc.folds);
      REQUIRE(m.top.size() == fractions.size());
      for (std::size_t k = 0; k < fractions.size(); ++k) {
        const TopShare t = materialised.top_share(fractions[k]);
        CHECK(m.top[k].selected == t.selected);
        CHECK(same_bits(m.top[k].positives_selected, t.positives_selected));
        CHECK(same_bits(m.top[k].lift, t.lift));
        CHECK(same_bits(m.top[k].captured, t.captured));
      }
    }
    // No weights: every customer once, as the estimate is computed.
    const RankedCustomers::Metrics all = ranked.metrics({}, fractions);
    CHECK(same_bits(all.roc_auc, roc_auc(score, label)));
    CHECK(same_bits(all.fold_auc.mean, fold_stratified_auc(score, label, fold).mean));
    for (std::size_t k = 0; k < fractions.size(); ++k)
      CHECK(same_bits(all.top[k].positives_selected, top_share(score, label, fractions[k]).positives_selected));
  }
}

TEST_CASE("weighted ranking refuses mismatched weights and NaN scores", "[statistics][weighted]") {
  const RankedCustomers ranked({0.5, 0.2}, {1, 0}, {});
  CHECK_THROWS_AS(ranked.metrics({1, 2, 3}, {0.1}), std::invalid_argument);
  CHECK_THROWS_AS(ranked.metrics({}, {1.5}), std::invalid_argument);
  CHECK_THROWS_AS(RankedCustomers({std::nan("")}, {1}, {}), std::invalid_argument);
  CHECK(ranked.metrics({}, {}).fold_auc.folds == 0);
}

TEST_CASE("a subset of a ranking and its lift curve equal the subset ranked afresh", "[statistics][weighted]") {
  const std::vector<double> fractions = {0.05, 0.10, 0.20, 0.30, 0.0, 1.0, 0.37};
  for (std::uint64_t trial = 0; trial < 40; ++trial) {
    RandomStream rng(13, trial);
    const std::size_t n = 20 + rng.below(400);
    const std::uint64_t levels = 1 + rng.below(12);  // ties that straddle the members and the cut-offs
    const double positive_rate = trial % 7 == 0 ? 0.0 : rng.uniform(), keep_rate = trial % 5 == 0 ? 1.0 : rng.uniform();
    std::vector<double> score(n);
    std::vector<std::uint8_t> label(n);
    std::vector<std::int32_t> fold(n);
    std::vector<std::uint32_t> members;
    for (std::size_t i = 0; i < n; ++i) {
      score[i] = static_cast<double>(rng.below(levels)) / 3.0;
      label[i] = rng.uniform() < positive_rate;
      fold[i] = static_cast<std::int32_t>(rng.below(5)) * 2 - 3;
      if (rng.uniform() < keep_rate) members.push_back(static_cast<std::uint32_t>(i));
    }
    if (trial % 11 == 3) members.clear();
    std::vector<double> s;
    std::vector<std::uint8_t> y, stratum;
    std::vector<std::int32_t> f;
    for (std::uint32_t i : members)
      s.push_back(score[i]), y.push_back(label[i]), f.push_back(fold[i]),
          stratum.push_back(static_cast<std::uint8_t>(2 * (fold[i] + 3) + label[i]));
    INFO("trial " << trial << " n " << n << " members " << members.size() << " levels " << levels);
    const RankedCustomers whole(score, label, fold);
    const RankedCustomers part = whole.subset(members), afresh(s, y, f);
    REQUIRE(part.size() == members.size());
    const StratifiedResampler resampler(stratum);
    std::vector<std::uint32_t> counts;
    for (std::uint64_t r = 0; r < 4; ++r) {
      if (r == 0) counts.clear();  // every member once
      else resampler.counts(trial, r, counts);
      const RankedCustomers::Metrics a = part.metrics(counts, fractions), b = afresh.metrics(counts, fractions);
      CHECK(same_bits(a.roc_auc, b.roc_auc));
      CHECK(same_bits(a.fold_auc.mean, b.fold_auc.mean));
      CHECK(a.fold_auc.folds == b.fold_auc.folds);
      for (std::size_t k = 0; k < fractions.size(); ++k) {
        CHECK(a.top[k].selected == b.top[k].selected);
        CHECK(same_bits(a.top[k].positives_selected, b.top[k].positives_selected));
      }
    }
    for (int points : {1, 7, 20}) {
      const auto curve = part.lift_curve(points), expected = lift_curve(s, y, points);
      REQUIRE(curve.size() == expected.size());
      for (std::size_t k = 0; k < curve.size(); ++k) {
        CHECK(same_bits(curve[k].first, expected[k].first));
        CHECK(same_bits(curve[k].second, expected[k].second));
      }
    }
  }
  const RankedCustomers ranked({0.5, 0.2, 0.7}, {1, 0, 1}, {});
  CHECK_THROWS_AS(ranked.subset({2, 1}), std::invalid_argument);  // not increasing
  CHECK_THROWS_AS(ranked.subset({0, 3}), std::invalid_argument);  // beyond the customers
  CHECK_THROWS_AS(ranked.lift_curve(0), std::invalid_argument);
}
