// The subset scores: the decision score's known corners (the full information and every
// action is the reference optimum; no action is the status quo; no policy beats the
// reference optimum), the restricted DP, and the predictive score's bootstrap and determinism.
#include <catch2/catch.hpp>

#include <cmath>

#include "reinforcer/core/errors.hpp"
#include "reinforcer/data/split.hpp"
#include "reinforcer/eval/subset_scores.hpp"
#include "reinforcer/rl/funnel_fit.hpp"
#include "reinforcer/rl/value_iteration.hpp"
#include "test_support.hpp"

using namespace reinforcer;

namespace {

struct ScoredData {
  CustomerTable table;
  SubsetScoreSettings settings;
};

const ScoredData& scored_data() {
  static const ScoredData d = [] {
    IngestResult r = test::synthetic_ingest(3000, 5);
    ScoredData out{r.table, {}};
    assign_folds(out.table, 3, 1);
    out.settings.features = {Feature::cohort, Feature::education, Feature::month};
    out.settings.actions = {Action::message, Action::call, Action::demo, Action::account_manager};
    out.settings.hazards.export_date = r.report.export_date;
    out.settings.funnel.horizon_weeks = 20;
    out.settings.funnel.subscription_reward = 1000;  // so that actions pay somewhere
    return out;
  }();
  return d;
}

}  // namespace

TEST_CASE("a restricted DP uses only its actions and never beats the full optimum", "[subset][dp]") {
  const ScoredData& d = scored_data();
  const FunnelFit fit = fit_funnel(d.table, select_fitting(d.table, "all"), parse_feature_mask("cohort,education"),
                             d.settings.hazards, d.settings.funnel, 1.0);
  DpSolution restricted;
  const unsigned allowed = 1u << static_cast<unsigned>(Action::call) | 1u << static_cast<unsigned>(Action::demo);
  solve_funnel(fit.model, 1.0, restricted, allowed);
  bool acts = false;
  for (std::size_t st = 0; st < restricted.policy.size(); ++st) {
    const unsigned a = restricted.policy[st];
    REQUIRE((a == static_cast<unsigned>(Action::wait) || (allowed >> a & 1u)));
    acts = acts || a != static_cast<unsigned>(Action::wait);
    REQUIRE(restricted.value[st] <= fit.dp.value[st] + 1e-12);
  }
  CHECK(acts);  // the restriction is not "wait everywhere"
  DpSolution all;
  solve_funnel(fit.model, 1.0, all, kAllActions);
  CHECK(all.value == fit.dp.value);
  CHECK(all.policy == fit.dp.policy);
  // Judged segment by segment, the policy's values are evaluate_policy's, to the bit.
  const std::vector<double> whole = evaluate_policy(fit.model, 1.0, restricted.policy);
  const std::size_t block = kProgressStates * static_cast<std::size_t>(fit.model.horizon());
  for (std::size_t s = 0; s < fit.model.segments(); ++s) {
    const auto v = evaluate_segment_policy(fit.model, 1.0, static_cast<std::int32_t>(s), restricted.policy.data() + s * block);
    for (std::size_t p = 0; p < kProgressStates; ++p)
      REQUIRE(v[p] == whole[fit.model.state_index(static_cast<std::int32_t>(s), static_cast<Progress>(p), 0)]);
  }
}

TEST_CASE("the decision score: status quo without actions, the reference optimum with everything, nothing above it",
          "[subset][decision]") {
  const ScoredData& d = scored_data();
  const SubsetScorer scorer(d.table, d.settings);
  const std::uint32_t all_f = 0b111, all_a = 0b1111;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> subsets;
  for (std::uint32_t f = 1; f <= all_f; ++f)
    for (std::uint32_t a = 0; a <= all_a; ++a) subsets.emplace_back(f, a);
  const std::vector<double> score = scorer.decision_batch(subsets, -1);
  // The reference optimum over the candidate actions, from the trainer's own fit over the
  // same prospects.
  const FunnelFit ref = fit_funnel(d.table, select_fitting(d.table, "all"), parse_feature_mask("cohort,education,month"),
                                   d.settings.hazards, d.settings.funnel, 1.0);
  unsigned candidates = 0;
  for (Action a : d.settings.actions) candidates |= 1u << static_cast<unsigned>(a);
  DpSolution best;
  solve_funnel(ref.model, 1.0, best, candidates);
  double optimum = 0, status_quo = 0, n = 0;
  const std::vector<double> wait = evaluate_policy(
      ref.model, 1.0, std::vector<std::uint8_t>(ref.model.states(), static_cast<std::uint8_t>(Action::wait)));
  for (std::size_t k = 0; k < ref.fitting.size(); ++k) {
    if (subscribed_by_t0(d.table.customers[ref.fitting[k]])) continue;
    const std::uint32_t st = ref.model.state_index(ref.starts[k].segment, ref.starts[k].progress, 0);
    optimum += best.value[st], status_quo += wait[st], n += 1;
  }
  optimum /= n, status_quo /= n;
  REQUIRE(scorer.prospects() == static_cast<std::size_t>(n));
  CHECK(score.back() == Approx(optimum).epsilon(1e-12));
  CHECK(optimum > status_quo + 1e-6);  // some action pays: the test can tell the two apart
  for (std::size_t i = 0; i < subsets.size(); ++i) {
    INFO("features " << subsets[i].first << " actions " << subsets[i].second);
    if (subsets[i].second == 0) REQUIRE(score[i] == Approx(status_quo).epsilon(1e-12));
    REQUIRE(score[i] <= optimum + 1e-9);
  }
  // One at a time gives the batch's numbers.
  CHECK(scorer.decision(0b011, 0b0101, -1) == score[(0b011 - 1) * 16 + 0b0101]);
}

TEST_CASE("the predictive score is a log-likelihood, deterministic, and its refits differ from the fit",
          "[subset][predictive]") {
  const ScoredData& d = scored_data();
  const SubsetScorer scorer(d.table, d.settings);
  const PredictiveScore cohort = scorer.predictive(0b001, -1);
  CHECK(cohort.log_likelihood < 0);
  CHECK(cohort.auc > 0.5);
  CHECK(cohort.customers > 100);
  CHECK(cohort.subscribers > 0);
  const auto batch = scorer.predictive_batch({0b011, 0b001, 0b011}, -1);
  CHECK(batch[1].log_likelihood == cohort.log_likelihood);
  CHECK(batch[0].log_likelihood == batch[2].log_likelihood);
  const SubsetScorer again(d.table, d.settings);
  CHECK(again.predictive(0b011, -1).log_likelihood == batch[0].log_likelihood);
  const PredictiveScore r0 = scorer.predictive(0b001, 0), r1 = scorer.predictive(0b001, 1);
  CHECK(std::isnan(r0.auc));
  CHECK(r0.log_likelihood != cohort.log_likelihood);
  CHECK(r0.log_likelihood != r1.log_likelihood);
  CHECK(again.predictive(0b001, 1).log_likelihood == r1.log_likelihood);
  CHECK(r0.customers == Approx(cohort.customers).epsilon(0.1));  // a resample is about as large
}

TEST_CASE("customers that cannot support the scores are refused", "[subset][errors]") {
  const ScoredData& d = scored_data();
  CustomerTable no_folds = d.table;
  for (Customer& c : no_folds.customers) c.fold = -1;
  CHECK_THROWS_AS(SubsetScorer(no_folds, d.settings), InputError);
  CustomerTable no_subscribers = d.table;
  for (Customer& c : no_subscribers.customers) c.subscribed = false;
  CHECK_THROWS_WITH(SubsetScorer(no_subscribers, d.settings), Catch::Contains("holds out no subscriber"));
}
