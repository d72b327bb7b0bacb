#include "reinforcer/rl/engagement_agents.hpp"

#include <chrono>

#include "reinforcer/core/errors.hpp"
#include "reinforcer/rl/trainer.hpp"

namespace reinforcer {
namespace {

// Distributed tabular Q-learning (rl/trainer.hpp), unchanged: the grid cell is the row.
TrainedAgent train_tabular(const EngagementEnvironment& env, const EngagementSolution& optimum,
                           const EngagementTraining& t, const Communicator& comm) {
  TrainSchedule sched;
  sched.episodes_per_worker = t.episodes_per_worker;
  sched.sync_every = t.sync_every;
  sched.threads = t.threads;
  sched.seed = t.seed;
  sched.q = t.q;
  sched.q.gamma = env.config().gamma;
  const std::vector<EngagementShard> shards(static_cast<std::size_t>(t.threads), env.shard());
  TrainState state;
  TrainHooks hooks;
  hooks.regret = [&](const TrainState& s) {
    return engagement_regret(env, optimum.value, evaluate_engagement_policy(env, greedy_engagement_policy(env, s.q)));
  };
  hooks.regret_share = 1.0;  // exact and cheap (one pass over the grid): every round
  train_distributed(comm, env, shards, sched, state, hooks);
  TrainedAgent a;
  a.name = "tabular";
  a.policy = greedy_engagement_policy(env, state.q);
  a.visits.assign(env.states() * kEngagementActions, 0);
  for (std::size_t i = 0; i < env.states(); ++i)
    for (std::size_t k = 0; k < kEngagementActions; ++k)
      a.visits[i * kEngagementActions + k] = state.visits[i * kQStride + static_cast<std::size_t>(kEngagementActionOf[k])];
  for (const LearningCurveRow& r : state.curve)
    a.curve.push_back(EngagementCurvePoint{r.episodes, r.steps, r.mean_reward, r.epsilon, r.regret, r.wall_seconds});
  return a;
}

// The greedy engagement action per grid cell of a network: its Q-values tabulated over the
// cells' inputs, then the same choice among the three actions as for a Q-table.
std::vector<std::uint8_t> dqn_policy(const EngagementEnvironment& env, const std::vector<int>& layer_sizes,
                                     const std::vector<float>& weights) {
  const std::size_t inputs = env.inputs();
  std::vector<float> features(env.states() * inputs, 0.0f);
  for (std::uint32_t cell = 0; cell < env.states(); ++cell) {
    EpisodeState e;
    e.state = cell;
    env.features(e, features.data() + cell * inputs);
  }
  return greedy_engagement_policy(env, tabulate_q(layer_sizes, weights, features, env.states()));
}

// The DQN (rl/dqn.hpp) on the engagement funnel's inputs (score, stage one-hot), gradients
// all-reduced over every worker each step.
TrainedAgent train_dqn_agent(const EngagementEnvironment& env, const EngagementSolution& optimum,
                             const EngagementTraining& t, const Communicator& comm) {
  DqnConfig cfg = t.dqn;
  cfg.gamma = env.config().gamma;
  cfg.threads = t.threads;
  cfg.seed = t.seed;
  const std::vector<EngagementShard> shards(static_cast<std::size_t>(t.threads), env.shard());
  const std::vector<int> sizes = dqn_layer_sizes(env.inputs(), cfg);
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<double> wall;
  DqnHooks hooks;
  hooks.regret = [&](const std::vector<float>& weights) {
    wall.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    return engagement_regret(env, optimum.value, evaluate_engagement_policy(env, dqn_policy(env, sizes, weights)));
  };
  const DqnResult r = train_dqn(comm, env, shards, cfg, hooks);
  TrainedAgent a;
  a.name = "dqn";
  a.layer_sizes = r.layer_sizes;
  a.weights = r.weights;
  a.policy = dqn_policy(env, r.layer_sizes, r.weights);
  std::int64_t previous_steps = 0;
  for (std::size_t i = 0; i < r.curve.size(); ++i) {
    const DqnCurveRow& row = r.curve[i];
    EngagementCurvePoint p{row.episodes, row.steps - previous_steps, row.mean_episode_reward, row.epsilon, row.regret,
                           i < wall.size() ? wall[i] : 0.0};
    p.loss = row.loss;
    p.mean_q = row.mean_q;
    a.curve.push_back(p);
    previous_steps = row.steps;
  }
  return a;
}

}  // namespace

TrainedAgent train_agent(const std::string& name, const EngagementEnvironment& env, const EngagementSolution& optimum,
                         const EngagementTraining& training, const Communicator& comm) {
  if (name == "tabular") return train_tabular(env, optimum, training, comm);
  if (name == "dqn") return train_dqn_agent(env, optimum, training, comm);
  std::string list;
  for (const auto& n : kEngagementAgents) list += (list.empty() ? "" : ", ") + n;
  throw UsageError("unknown agent '" + name + "'; the agents are " + list);
}

}  // namespace reinforcer
