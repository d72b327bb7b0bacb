#include "reinforcer/rl/engagement_agents.hpp"

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

}  // namespace

TrainedAgent train_agent(const std::string& name, const EngagementEnvironment& env, const EngagementSolution& optimum,
                         const EngagementTraining& training, const Communicator& comm) {
  if (name == "tabular") return train_tabular(env, optimum, training, comm);
  std::string list;
  for (const auto& n : kEngagementAgents) list += (list.empty() ? "" : ", ") + n;
  throw UsageError("unknown agent '" + name + "'; the agents are " + list);
}

}  // namespace reinforcer
