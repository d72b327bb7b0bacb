#pragma once
// The fitted funnel is small and known, so dynamic programming solves it exactly (backward
// induction over the finite horizon): the referee for Q-learning, and exact policy values.
#include <cstdint>
#include <vector>

#include "reinforcer/env/funnel_env.hpp"
#include "reinforcer/env/funnel_model.hpp"

namespace reinforcer {

struct DpSolution {
  std::vector<double> q;              // states x kActions, row-major
  std::vector<double> value;          // per state: max_a q
  std::vector<std::uint8_t> policy;   // per state: argmax (lowest action on ties)
};

DpSolution solve_funnel(const FunnelModel& model, double gamma);

// Exact value of a deterministic policy (one action per state).
std::vector<double> evaluate_policy(const FunnelModel& model, double gamma, const std::vector<std::uint8_t>& policy);

// Mean of value[state at week 0] over start states.
double mean_start_value(const FunnelModel& model, const std::vector<double>& value, const std::vector<StartState>& starts);

}  // namespace reinforcer
