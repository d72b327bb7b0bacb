#pragma once
// How good a learned policy is, judged against the exact DP optimum of the fitted funnel
// (the recommendation): regret overall and per cohort, the spread of per-start regret, and
// the learned policy minus the best constant policy with a paired bootstrap-refit interval.
// A policy worse than waiting scores a regret above its share of V* and a negative difference
// to the best constant policy, so neither figure can pass it.
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "reinforcer/data/customer_table.hpp"
#include "reinforcer/parallel/communicator.hpp"
#include "reinforcer/rl/funnel_fit.hpp"

namespace reinforcer {

struct RegretRow {
  std::string cohort;            // all, outbound, inbound
  std::int64_t customers = 0;    // start states (fitting customers)
  double optimum = 0;            // V*: mean over the start states, reward units per customer
  double learned = 0;            // V of the learned policy, the same way
  double regret = 0;             // regret_share(optimum, learned, reward)
  double p95_start_regret = 0;   // 95th percentile of V*(s0) - V(s0) over the start states, reward units
  // 95% interval of `regret` over bootstrap refits: in each, the policy against the refit's
  // own DP optimum, over the refit's start states (NaN without refits).
  double regret_low95 = std::numeric_limits<double>::quiet_NaN();
  double regret_high95 = std::numeric_limits<double>::quiet_NaN();
};

struct LearnerQuality {
  std::vector<RegretRow> regret;
  std::string best_constant;     // the constant action of greatest value on the fit
  double best_constant_value = 0;
  double learned_minus_best_constant = 0, low95 = 0, high95 = 0;  // paired over refits
  int refits = 0;
};

// policy: one action per state of fit.model. Refits resample the fitting customers within
// cohorts (seeded) and re-estimate the hazards on fit's encoder; they are dealt to the ranks
// (refit b to rank b mod size) and to `threads` on each. Every rank calls it; the result is
// the same on all.
// known: the fit's best constant policy when the caller has it (a sweep finds it once per
// model), else it is found here (7 exact policy evaluations).
struct BestConstant {
  Action action = Action::wait;
  double value = 0;  // mean start value on the fit
};
BestConstant best_constant_policy(const FunnelFit& fit);
LearnerQuality judge_learned_policy(const CustomerTable& table, const FunnelFit& fit, const HazardOptions& hazards,
                                    const std::vector<std::uint8_t>& policy, int refits, std::uint64_t seed,
                                    const Communicator& comm, int threads, const BestConstant* known = nullptr);

}  // namespace reinforcer
