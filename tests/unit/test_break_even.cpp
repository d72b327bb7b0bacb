#include <catch2/catch.hpp>
#include <cmath>

#include "reinforcer/eval/break_even.hpp"
#include "reinforcer/rl/value_iteration.hpp"
#include "hand_solved_funnel.hpp"

using namespace reinforcer;

namespace {
// The hand-solved funnel (hand_solved_funnel.hpp) with a call that succeeds with `success`
// at cost 2 (reward 100: reward/cost 50); gamma 0.9.
FunnelModel synthetic_funnel(double success) { return test::hand_solved_funnel(success, 0.0, 2.0); }
constexpr double kGamma = 0.9;
}  // namespace

TEST_CASE("break-even: the DP acts above it and the table equals the hand computation", "[break-even]") {
  const FunnelModel m = synthetic_funnel(0.3);
  const double s = 1 - std::exp(-30.0), R = 100;
  // Week 0 from nothing. W(q) = P_sub(q) R + (1 - P_sub(q)) 0.9 V_wait(q, week 1):
  //   W(first_call) = sR + (1 - s) 0.9 sR;  W(none) = 0 + 0.9 (3/4) sR.
  // A success matters only where the status quo brought no first call (1/4):
  //   G = 1/4 [W(first_call) - W(none)];  s* = 2 / G;  R* = 2 / (0.3 G / R);  cost* = 0.3 G.
  const double w1 = s * R + (1 - s) * kGamma * s * R, w0 = kGamma * 0.75 * s * R;
  const double G = 0.25 * (w1 - w0);
  const std::vector<StartState> starts = {StartState{0, 0}};
  const auto rows = break_even_table(m, kGamma, starts, {0});
  const BreakEvenRow* call = nullptr;
  for (const auto& r : rows)
    if (r.action == "call") call = &r;
  REQUIRE(call != nullptr);
  CHECK(call->cohort == "outbound");
  CHECK(call->stage == "none");
  CHECK(std::fabs(call->gain_per_success - G) < 1e-6);
  CHECK(std::fabs(call->break_even_success - 2.0 / G) < 1e-6);
  CHECK(std::fabs(call->break_even_reward - 2.0 / (0.3 * G / R)) < 1e-6);
  CHECK(std::fabs(call->break_even_cost - 0.3 * G) < 1e-6);
  CHECK(std::fabs(call->milestone_base - 0.75) < 1e-12);
  CHECK(call->pays());
  // The DP agrees: at 0.3 > s* it calls in week 0; just below s* it waits. (Just above s* the
  // DP may still wait: calling again next week, it values waiting now more than the one-week
  // deviation does -- the break-even is where acting now beats waiting from then on.)
  const DpSolution d = solve_funnel(m, kGamma);
  CHECK(d.policy[m.state_index(0, 0, 0)] == static_cast<std::uint8_t>(Action::call));
  const FunnelModel below = synthetic_funnel(call->break_even_success * 0.99);
  const DpSolution db = solve_funnel(below, kGamma);
  CHECK(db.policy[below.state_index(0, 0, 0)] == static_cast<std::uint8_t>(Action::wait));
  // Actions whose milestone has no value, or none reachable: they never pay.
  for (const auto& r : rows)
    if (r.action == "demo") CHECK_FALSE(r.pays());
}

TEST_CASE("two-proportion sample size matches the textbook formula", "[break-even]") {
  // p0 = 0.10 vs p1 = 0.15, alpha 0.05 two-sided, power 0.8: 686 per arm (pooled-variance form).
  CHECK(two_proportion_sample_size(0.10, 0.15) == 686);
  CHECK(std::isinf(two_proportion_sample_size(0.2, 0.2)));
}
