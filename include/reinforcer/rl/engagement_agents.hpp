#pragma once
// Agents trained on the engagement funnel, each judged exactly against the DP optimum
// (rl/engagement_dp.hpp). train_agent is the one entry point: an agent is a name in
// kEngagementAgents and a branch in train_agent, returning its greedy policy per grid cell.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "reinforcer/env/engagement_env.hpp"
#include "reinforcer/parallel/communicator.hpp"
#include "reinforcer/rl/dqn.hpp"
#include "reinforcer/rl/engagement_dp.hpp"
#include "reinforcer/rl/q_learning.hpp"

namespace reinforcer {

inline const std::vector<std::string> kEngagementAgents = {"tabular", "dqn"};

struct EngagementTraining {
  std::int64_t episodes_per_worker = 100000;
  std::int64_t sync_every = 10000;  // episodes per worker between averagings (tabular)
  int threads = 1;                 // workers on this rank
  std::uint64_t seed = 1;
  QLearningConfig q;               // gamma is taken from the model
  DqnConfig dqn;                   // the DQN's (steps per worker; gamma, threads and seed from above)
};

// One point of an agent's learning curve.
struct EngagementCurvePoint {
  std::int64_t episodes = 0;  // global, so far
  std::int64_t steps = 0;     // environment steps since the previous point, all workers
  double mean_reward = 0;     // per episode, since the previous point
  double epsilon = 0;
  double regret = 0;          // of the greedy policy at this point, exact (engagement_regret)
  double wall_seconds = 0;
  double loss = std::nan("");    // DQN: mean Huber loss of the gradient steps since the previous point
  double mean_q = std::nan("");  // DQN: mean Q of the taken actions in those batches
};

struct TrainedAgent {
  std::string name;
  std::vector<std::uint8_t> policy;   // greedy engagement action per grid cell
  std::vector<std::int64_t> visits;   // cells x kEngagementActions: the agent's updates of each
  std::vector<EngagementCurvePoint> curve;
  std::vector<int> layer_sizes;  // DQN: inputs, hidden layers, outputs (empty for tabular)
  std::vector<float> weights;    // DQN: the online network's weights (Mlp layout)
};

// Trains agent `name` (one of kEngagementAgents; UsageError naming them otherwise) on `env`,
// judging its greedy policy against `optimum` along the way.
TrainedAgent train_agent(const std::string& name, const EngagementEnvironment& env, const EngagementSolution& optimum,
                         const EngagementTraining& training, const Communicator& comm);

}  // namespace reinforcer
