#include <catch2/catch.hpp>

#include <cmath>

#include "reinforcer/eval/learner_quality.hpp"
#include "reinforcer/parallel/communicator.hpp"
#include "test_support.hpp"

using namespace reinforcer;

TEST_CASE("learner quality: the regret's refit interval starts at zero for the optimum and excludes zero for a wasteful policy",
          "[quality][model]") {
  IngestResult r = test::synthetic_ingest(8000, 21);
  HazardOptions h;
  h.export_date = r.report.export_date;
  const FunnelFit fit = fit_funnel(r.table, select_fitting(r.table, "all"), parse_feature_mask("cohort"), h, FunnelConfig{}, 1.0);
  const Communicator comm = local_communicator();
  // The DP policy of the fit is judged against each refit's own optimum: near zero, never below.
  const LearnerQuality best = judge_learned_policy(r.table, fit, h, fit.dp.policy, 20, 5, comm, 2);
  REQUIRE(best.regret.size() == 3);
  for (const RegretRow& row : best.regret) {
    CHECK(row.regret == Approx(0.0).margin(1e-12));
    CHECK(row.regret_low95 >= -1e-12);
    CHECK(row.regret_low95 <= row.regret_high95);
  }
  // An account manager every week (cost 20 a week): a regret far above zero in every cohort,
  // its whole interval too, and the interval around the point.
  const std::vector<std::uint8_t> costly(fit.model.states(), static_cast<std::uint8_t>(Action::account_manager));
  const LearnerQuality wasteful = judge_learned_policy(r.table, fit, h, costly, 20, 5, comm, 2);
  for (const RegretRow& row : wasteful.regret) {
    INFO(row.cohort);
    CHECK(row.regret > 1.0);  // more than a hundredth of a subscription per customer, in those units
    CHECK(row.regret_low95 > 1.0);
    CHECK(row.regret_low95 <= row.regret);
    CHECK(row.regret <= row.regret_high95);
  }
  CHECK(wasteful.regret[0].regret_low95 > best.regret[0].regret_high95);
  // Without refits there is no interval.
  const LearnerQuality none = judge_learned_policy(r.table, fit, h, costly, 0, 5, comm, 1);
  CHECK(std::isnan(none.regret[0].regret_low95));
}
