#pragma once
// The engagement funnel's referee: value iteration on the score grid, exact for
// EngagementEnvironment (whose score lives on that grid), and exact values of any policy on
// it. Policies give one engagement action (0 email, 1 webinar, 2 call) per grid cell.
#include <cstdint>
#include <string>
#include <vector>

#include "reinforcer/env/engagement_config.hpp"
#include "reinforcer/env/engagement_env.hpp"

namespace reinforcer {

struct EngagementSolution {
  std::vector<double> value;          // V* per cell (terminal: 0)
  std::vector<double> q;              // cells x kEngagementActions, row-major
  std::vector<std::uint8_t> policy;   // per cell: argmax of q (lowest action on ties; terminal: 0)
  std::int64_t sweeps = 0;            // Gauss-Seidel sweeps until the values stopped changing
};

// Solves the grid MDP: V(i) = max_a [ -cost_a + sum_j P(j|i,a) (x_j - x_i + gamma V(j)) ].
// Sweeps from the top cell down, the stay-put outcome solved in closed form, so a model whose
// gains are never negative is solved exactly in one sweep; others sweep until no value moves
// (InputError if that takes more than 100,000 sweeps).
EngagementSolution solve_engagement(const EngagementEnvironment& env);
EngagementSolution solve_engagement(const EngagementConfig& cfg);

// Exact value per cell of a deterministic policy (-infinity where it never reaches 1.0 and
// pays for trying, with gamma = 1).
std::vector<double> evaluate_engagement_policy(const EngagementEnvironment& env, const std::vector<std::uint8_t>& policy);
std::vector<double> evaluate_engagement_policy(const EngagementConfig& cfg, const std::vector<std::uint8_t>& policy);
// Exact value per cell of picking each of the three actions with probability 1/3.
std::vector<double> evaluate_uniform_random_policy(const EngagementEnvironment& env);
std::vector<double> evaluate_uniform_random_policy(const EngagementConfig& cfg);

// Mean of a value over the start distribution (the config's start cells, uniformly).
double mean_start_value(const EngagementEnvironment& env, const std::vector<double>& value);
// (mean V*(start) - mean V_pi(start)) / |mean V*(start)|: the share of the optimum's value a
// policy gives up.
double engagement_regret(const EngagementEnvironment& env, const std::vector<double>& optimum, const std::vector<double>& value);

// The policy a Q-table (states x kQStride, columns = sales actions) takes: the best of the
// three engagement actions per cell (the unavailable sales actions ignored; ties: lowest).
std::vector<std::uint8_t> greedy_engagement_policy(const EngagementEnvironment& env, const std::vector<double>& q_table);

struct EngagementBaseline {
  std::string policy;   // always_email, always_webinar, always_call, random
  double start_value = 0;
  double regret = 0;
  std::vector<double> value;  // per cell
};
// The constant policies and the uniformly random one, judged against `optimum`.
std::vector<EngagementBaseline> engagement_baselines(const EngagementEnvironment& env, const EngagementSolution& optimum);

}  // namespace reinforcer
