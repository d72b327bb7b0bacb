#include <algorithm>
#include <iostream>
#include <memory>

#include "reinforcer/cli/command.hpp"
#include "reinforcer/cli/text_writer.hpp"
#include "reinforcer/core/atomic_output.hpp"
#include "reinforcer/core/errors.hpp"
#include "reinforcer/core/sha256.hpp"
#include "reinforcer/data/quality_report_text.hpp"
#include "reinforcer/env/engagement_env.hpp"
#include "reinforcer/results/engagement_file.hpp"
#include "reinforcer/rl/engagement_agents.hpp"
#include "reinforcer/rl/engagement_dp.hpp"

namespace reinforcer {
namespace {

std::string agent_list() {
  std::string s;
  for (const auto& n : kEngagementAgents) s += (s.empty() ? "" : ", ") + n;
  return s;
}

// A policy as runs of one action over the scores: "0.000-0.325 webinar, 0.330-1.000 call".
std::string policy_runs(const EngagementEnvironment& env, const std::vector<std::uint8_t>& policy) {
  std::string s;
  std::uint32_t from = 0;
  for (std::uint32_t i = 1; i <= env.terminal(); ++i)
    if (i == env.terminal() || policy[i] != policy[from]) {
      s += (s.empty() ? "" : ", ") + fixed(env.score(from), 3) + "-" + fixed(env.score(i - 1), 3) + " " +
           std::string(kEngagementActionNames[policy[from]]);
      from = i;
    }
  return s;
}

std::string percent(double share) { return fixed(100 * share, share < 0.01 ? 3 : 2) + "%"; }

int engagement(const Invocation& inv, const Communicator& comm) {
  Provenance prov;
  prov.started_at = utc_now_iso8601();
  // The options and the model first: a mistake is reported before anything is written or
  // trained. Every rank reads the same and finds the same mistake, so they end together.
  std::string agent_name;
  EngagementTraining training;
  bool shipped = true;
  EngagementConfig cfg;
  try {
    agent_name = inv.options["agent"].as<std::string>();
    if (std::find(kEngagementAgents.begin(), kEngagementAgents.end(), agent_name) == kEngagementAgents.end())
      throw UsageError("--agent: '" + agent_name + "' is not an agent; give one of " + agent_list());
    training.threads = static_cast<int>(int_option(inv, "threads", 1, 1024));
    training.seed = static_cast<std::uint64_t>(int_option(inv, "seed", 0, INT64_MAX));
    training.episodes_per_worker = int_option(inv, "episodes", 1, INT64_C(1) << 40);
    training.sync_every = std::min(training.episodes_per_worker, int_option(inv, "sync-every", 1, INT64_C(1) << 40));
    training.dqn.steps = int_option(inv, "dqn-steps", 1, INT64_C(1) << 40);
    fit_dqn_schedule_to_steps(training.dqn);
    check_dqn_config(training.dqn);
    shipped = !inv.options.count("config");
    cfg = shipped ? shipped_engagement_config() : load_engagement_config(inv.options["config"].as<std::string>());
  } catch (const Error& e) {
    throw CollectiveError(e.code(), e.what());
  }
  std::unique_ptr<AtomicOutput> out;
  if (comm.is_root()) out = std::make_unique<AtomicOutput>(inv.output);
  const std::int64_t workers = static_cast<std::int64_t>(comm.size()) * training.threads;
  const EngagementEnvironment env(cfg);
  const EngagementSolution optimum = solve_engagement(env);
  const double v_star = mean_start_value(env, optimum.value);
  const auto& starts = env.start_cells();
  if (comm.is_root()) {
    std::cout << "engagement funnel " << cfg.name << ": " << cfg.grid << " grid scores, gamma " << cfg.gamma << ", "
              << starts.size() << " start scores from " << fixed(env.score(starts.front()), 3) << " to "
              << fixed(env.score(starts.back()), 3) << "\n"
              << "DP optimum (value iteration on the grid, " << optimum.sweeps << " sweep" << (optimum.sweeps == 1 ? "" : "s")
              << "): mean V*(start) = " << fixed(v_star, 4) << "\n"
              << "its policy by score: " << policy_runs(env, optimum.policy) << "\n";
  }
  const TrainedAgent agent = train_agent(agent_name, env, optimum, training, comm);
  if (!comm.is_root()) return 0;
  const std::vector<double> agent_value = evaluate_engagement_policy(env, agent.policy);
  const double regret = engagement_regret(env, optimum.value, agent_value);
  const double secs = agent.curve.empty() ? 0 : agent.curve.back().wall_seconds;
  std::int64_t steps = 0;
  for (const auto& point : agent.curve) steps += point.steps;
  std::cout << "agent " << agent_name << ": "
            << (agent_name == "dqn" ? with_thousands(training.dqn.steps) + " steps per worker (network " + dqn_layers_text(agent.layer_sizes) + ")"
                                    : with_thousands(training.episodes_per_worker) + " episodes per worker")
            << " x "
            << workers << " workers (" << comm.size() << " ranks x " << training.threads << " threads), seed "
            << training.seed << ", " << with_thousands(steps) << " steps, " << fixed(secs, 2) << " s\n"
            << "its greedy policy, valued exactly on the grid: mean V(start) = " << fixed(mean_start_value(env, agent_value), 4)
            << "; regret (V* - V)/V* = " << percent(regret) << " (n = " << starts.size() << " start scores)\n";
  int differ = 0;
  for (std::uint32_t i = 0; i < env.terminal(); ++i) differ += agent.policy[i] != optimum.policy[i];
  std::cout << "its policy by score: " << policy_runs(env, agent.policy) << "\n"
            << "it takes another action than the optimum at " << differ << " of " << env.terminal() << " scores\n"
            << "baselines (same model, exact values):\n";
  const std::vector<EngagementBaseline> baselines = engagement_baselines(env, optimum);
  std::vector<std::vector<std::string>> rows;
  for (const auto& b : baselines) rows.push_back({b.policy, fixed(b.start_value, 4), percent(b.regret)});
  rows.push_back({agent_name + " (learned)", fixed(mean_start_value(env, agent_value), 4), percent(regret)});
  rows.push_back({"optimum (DP)", fixed(v_star, 4), percent(0)});
  Writer(std::cout, false).table({"policy", "V(start)", "regret"}, rows);

  EngagementContents contents;
  contents.env = &env;
  contents.optimum = &optimum;
  contents.agent = &agent;
  contents.agent_value = agent_value;
  contents.baselines = &baselines;
  contents.int_attributes = {{"seed", static_cast<std::int64_t>(training.seed)},
                             {"ranks", comm.size()},
                             {"threads", training.threads},
                             {"workers", workers},
                             {"episodes_per_worker", training.episodes_per_worker},
                             {"sync_every", training.sync_every},
                             {"dqn_steps_per_worker", agent_name == "dqn" ? training.dqn.steps : 0},
                             {"dp_sweeps", optimum.sweeps}};
  prov.command_line = inv.command_line;
  prov.config_text = inv.config_text + "\n" + cfg.text;
  prov.input_path = shipped ? "" : cfg.name;
  Sha256 hash;
  hash.update(cfg.text.data(), cfg.text.size());
  prov.input_sha256 = hash.hex_digest();
  write_engagement_file(out->temp_path(), contents, prov);
  out->commit();
  std::cout << "wrote " << inv.output << std::endl;
  return 0;
}

int run_engagement(const Invocation& inv) {
  return run_with_communicator(inv, [&](const Communicator& comm) { return engagement(inv, comm); });
}

}  // namespace

CommandSpec engagement_command() {
  CommandSpec s;
  s.name = "engagement";
  s.summary = "the engagement-score funnel: train an agent, judge it against the exact DP optimum";
  s.synopsis = "[mpirun -np R] reinforcer engagement -o engagement.h5 [--config engagement.ini] [--agent tabular] [options]";
  s.description =
      "A lead's engagement score in [0, 1] and its stage (Cold, Warm, Hot, read off the score);\n"
      "three actions (educational email, webinar or demo invitation, call with a specialist), each\n"
      "raising the score by a random gain whose chance, mean and spread per stage are read from the\n"
      "model file (configs/engagement.ini is shipped and compiled in). Reward: the score's increase\n"
      "minus the action's cost; an episode ends at score 1.0. The score lives on the model's grid,\n"
      "so value iteration on it is the exact optimum: the referee. Trains the agent, values its\n"
      "greedy policy exactly, and prints its regret (V* - V)/V* over the start scores beside the\n"
      "baselines' (each action always, and uniformly random). Writes engagement.h5 (format\n"
      "reinforcer-engagement v1; docs/ENGAGEMENT.md). The tabular agent runs the train command's\n"
      "Q-learning (email, webinar and call are its message, demo and call actions).";
  s.takes_input = false;
  s.runs_under_mpi = true;
  s.own_config_help = "the engagement model (INI; keys in docs/ENGAGEMENT.md); default: the shipped configs/engagement.ini";
  s.add_options = [](po::options_description& d) {
    d.add_options()("agent", po::value<std::string>()->default_value("tabular"), ("the agent to train: " + agent_list()).c_str())
        ("threads", po::value<int>()->default_value(1), "workers (OpenMP threads) per rank; results depend on the seed and ranks x threads only")
        ("seed", po::value<std::int64_t>()->default_value(1), "random seed")
        ("episodes", po::value<std::int64_t>()->default_value(100000), "episodes per worker")
        ("sync-every", po::value<std::int64_t>()->default_value(10000), "episodes per worker between averagings of the workers' Q-tables (tabular)")
        ("dqn-steps", po::value<std::int64_t>()->default_value(200000),
         "environment steps per worker (dqn); exploration decays over the first half; gradients of all workers are summed every 4 steps");
  };
  s.run = run_engagement;
  return s;
}

}  // namespace reinforcer
