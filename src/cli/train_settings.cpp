#include "reinforcer/cli/train_settings.hpp"

#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <sstream>

#include "reinforcer/core/errors.hpp"

namespace reinforcer {
namespace {

double non_negative(const Invocation& inv, const std::string& name) {
  const double v = inv.options[name].as<double>();
  if (!(v >= 0))
    throw UsageError("--" + name + ": " + std::to_string(v) + " is negative; give a value >= 0");
  return v;
}

double in_range(const Invocation& inv, const std::string& name, double lo, double hi) {
  const double v = inv.options[name].as<double>();
  if (!(v >= lo && v <= hi))
    throw UsageError("--" + name + ": " + std::to_string(v) + " is out of range; give a value from " +
                     std::to_string(lo) + " to " + std::to_string(hi));
  return v;
}

// A default as --help shows it: 0.1, not 0.10000000000000001.
po::typed_value<double>* decimal(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return po::value<double>()->default_value(v, buf);
}

int default_threads() {
  const char* env = std::getenv("OMP_NUM_THREADS");
  return env && std::atoi(env) > 0 ? std::atoi(env) : 1;
}

}  // namespace

void add_train_options(po::options_description& d) {
  ActionCosts costs;
  d.add_options()
      ("env", po::value<std::string>()->default_value("funnel"), "environment: funnel (fitted, actions change outcomes) or replay (records, for comparison)")
      ("fit-on", po::value<std::string>()->default_value("all"), "customers the funnel is fitted on: all, train, or except-fold:I")
      ("features", po::value<std::string>()->default_value(std::string(kDefaultFeatures)), "decision-time features of the segment, in shrinkage order: cohort, country, education, month")
      ("episodes", po::value<std::int64_t>()->default_value(kDefaultEpisodesPerWorker), "episodes per worker")
      ("seed", po::value<std::uint64_t>()->default_value(1), "random seed")
      ("sync-every", po::value<std::int64_t>()->default_value(kDefaultSyncEvery), "episodes per worker between Q-table averages (a sync round)")
      ("threads", po::value<int>()->default_value(default_threads()), "OpenMP threads (workers) per rank; default OMP_NUM_THREADS or 1")
      ("checkpoint-every", po::value<int>()->default_value(0), "write a checkpoint every R sync rounds (0: only on SIGTERM/SIGUSR1)")
      ("checkpoint", po::value<std::string>()->value_name("PATH"), "checkpoint file (default: OUTPUT.checkpoint.h5)")
      ("resume", po::bool_switch(), "continue from the checkpoint")
      ("dry-run", po::bool_switch(), "print the state space, workers, shards and memory estimate, then exit")
      ("progress", po::value<std::string>()->default_value("auto"), "progress display: auto (live line on a terminal, a line every few seconds otherwise), plain, none")
      ("horizon", po::value<int>()->default_value(52), "episode horizon in weeks (funnel); hazards change over bands of weeks since t0 (0-3, 4-12, 13-25, 26-51, 52+)")
      ("shrinkage", po::value<std::string>()->default_value("auto"), "prior strength of the hazard shrinkage toward the parent segment: auto (empirical Bayes) or a number >= 0")
      ("reward.subscription", decimal(100.0), "reward for a subscription")
      ("oversample", decimal(kDefaultOversample), "share of episodes that start at a subscriber's start state (the same for any number of workers)")
      ("step-size", po::value<std::string>()->default_value("visits"), "Q-learning step size: visits (1/(1+N(s,a))^omega, N the cell's visits so far) or constant (--alpha)")
      ("omega", decimal(0.6), "exponent of the visit-count step size (0.5 < omega <= 1 converges)")
      ("alpha", decimal(0.1), "the constant step size (with --step-size constant)")
      ("gamma", decimal(1.0), "discount per week (1: the finite horizon is the only limit)")
      ("refits", po::value<int>()->default_value(50), "bootstrap refits of the funnel for the interval of the learned policy minus the best constant policy (funnel)")
      ("epsilon-start", decimal(1.0), "exploration at the start")
      ("epsilon-end", decimal(0.01), "exploration floor")
      ("epsilon-decay", decimal(0.0), "decay per global episode (0: reach the floor at half the episode budget)")
      ("interleave", po::value<int>()->default_value(8), "episodes run in lockstep per worker (part of the algorithm)")
      ("replay-steps", po::value<int>()->default_value(10), "steps per replay episode")
      ("replay-rewards", po::value<std::string>()->default_value("plain"), "replay reward table: plain (+100 subscription) or legacy (+15 first call, +12 demo, once each)");
  for (std::size_t a = 0; a < kActions; ++a)
    d.add_options()(("cost." + std::string(kActionNames[a])).c_str(), decimal(costs.cost[a]),
                    ("cost of the action " + std::string(kActionNames[a])).c_str());
  const ActionSuccess success;
  for (std::size_t a = 0; a < kActions; ++a) {
    if (static_cast<Action>(a) == Action::wait) continue;  // wait is the status quo
    const auto target = target_of(static_cast<Action>(a));
    d.add_options()(("success." + std::string(kActionNames[a])).c_str(),
                    decimal(success.probability[a]),
                    ("ASSUMED chance that " + std::string(kActionNames[a]) + " reaches " +
                     std::string(kMilestoneKeys[static_cast<std::size_t>(*target)]) +
                     " in the week it is taken, beyond the status quo (a placeholder: see the break-even table)").c_str());
  }
}

TrainSettings train_settings(const Invocation& inv) {
  TrainSettings s;
  s.environment = inv.options["env"].as<std::string>();
  if (s.environment != "funnel" && s.environment != "replay")
    throw UsageError("--env: '" + s.environment + "' is not funnel or replay");
  s.fit_on = inv.options["fit-on"].as<std::string>();
  s.features = parse_feature_mask(inv.options["features"].as<std::string>());
  TrainSchedule& t = s.schedule;
  t.episodes_per_worker = int_option(inv, "episodes", 1, INT64_C(1) << 40);
  t.sync_every = int_option(inv, "sync-every", 1, INT64_C(1) << 40);
  t.threads = static_cast<int>(int_option(inv, "threads", 1, 1024));
  t.checkpoint_every = static_cast<int>(int_option(inv, "checkpoint-every", 0, 1 << 30));
  t.seed = inv.options["seed"].as<std::uint64_t>();
  t.q.alpha = in_range(inv, "alpha", 1e-9, 1.0);
  const std::string step = inv.options["step-size"].as<std::string>();
  if (step != "visits" && step != "constant") throw UsageError("--step-size: '" + step + "' is not visits or constant");
  t.q.omega = step == "constant" ? 0.0 : in_range(inv, "omega", 0.5, 1.0);
  t.q.gamma = in_range(inv, "gamma", 0.0, 1.0);
  s.oversample = in_range(inv, "oversample", 0.0, 1.0);
  s.refits = static_cast<int>(int_option(inv, "refits", 0, 10000));
  t.q.epsilon_start = in_range(inv, "epsilon-start", 0.0, 1.0);
  t.q.epsilon_end = in_range(inv, "epsilon-end", 0.0, 1.0);
  if (t.q.epsilon_end > t.q.epsilon_start) throw UsageError("--epsilon-end is above --epsilon-start");
  if (t.q.epsilon_end <= 0 && inv.options["epsilon-decay"].as<double>() <= 0)
    throw UsageError("--epsilon-end 0 needs an explicit --epsilon-decay");
  t.q.epsilon_decay = in_range(inv, "epsilon-decay", 0.0, 1.0);
  t.q.interleave = static_cast<int>(int_option(inv, "interleave", 1, 64));
  s.funnel.horizon_weeks = static_cast<int>(int_option(inv, "horizon", 1, 156));
  for (std::size_t a = 0; a < kActions; ++a)
    if (static_cast<Action>(a) != Action::wait)
      s.funnel.success.probability[a] = in_range(inv, "success." + std::string(kActionNames[a]), 0.0, 1.0);
  s.funnel.subscription_reward = in_range(inv, "reward.subscription", 0.0, 1e9);
  for (std::size_t a = 0; a < kActions; ++a)
    s.funnel.costs.cost[a] = non_negative(inv, "cost." + std::string(kActionNames[a]));
  const std::string shrink = inv.options["shrinkage"].as<std::string>();
  if (shrink != "auto") {
    std::istringstream in(shrink);
    if (!(in >> s.shrinkage) || !(in >> std::ws).eof() || s.shrinkage < 0)
      throw UsageError("--shrinkage: '" + shrink + "' is not auto or a number >= 0");
  }
  s.replay.max_steps = static_cast<int>(int_option(inv, "replay-steps", 1, 255));
  s.replay_rewards = inv.options["replay-rewards"].as<std::string>();
  const auto rewards = ReplayRewards::named(s.replay_rewards);
  if (!rewards) throw UsageError("--replay-rewards: '" + s.replay_rewards + "' is not plain or legacy");
  s.replay.rewards = *rewards;
  s.replay.rewards.subscription = s.funnel.subscription_reward;
  s.replay.costs = s.funnel.costs;
  s.checkpoint_path = inv.options.count("checkpoint") ? inv.options["checkpoint"].as<std::string>()
                                                      : inv.output + ".checkpoint.h5";
  s.resume = inv.options["resume"].as<bool>();
  s.dry_run = inv.options["dry-run"].as<bool>();
  s.progress = inv.options["progress"].as<std::string>();
  if (s.progress != "auto" && s.progress != "plain" && s.progress != "none")
    throw UsageError("--progress: '" + s.progress + "' is not auto, plain or none");
  return s;
}

TrainSettings train_settings_from_config(const std::string& config_text, const std::string& origin) {
  std::vector<std::string> args = {origin};
  std::istringstream lines(config_text);
  std::string line;
  while (std::getline(lines, line)) {
    const auto eq = line.find(" = ");
    if (eq == std::string::npos || line[0] == '[') continue;
    const std::string key = line.substr(0, eq);
    if (key == "resume" || key == "dry-run") continue;
    args.push_back("--" + key + "=" + line.substr(eq + 3));
  }
  if (std::none_of(args.begin(), args.end(), [](const std::string& a) { return a.rfind("--output=", 0) == 0; }))
    args.push_back("--output=" + origin);
  Invocation inv;
  try {
    parse_invocation(train_command(), args, inv);
  } catch (const UsageError& e) {
    throw InputError(origin + ": its stored training options do not parse: " + e.what());
  }
  return train_settings(inv);
}

Fingerprint train_fingerprint(const Invocation& inv, std::int64_t workers, const std::string& input_sha256) {
  // Options that do not change the Q-table: where files go, how progress shows, the layout.
  static const std::set<std::string> kIgnored = {"output", "checkpoint", "checkpoint-every", "resume", "dry-run",
                                                 "progress", "threads", "config", "help", "input"};
  Fingerprint fp;
  std::istringstream lines(inv.config_text);
  std::string line;
  while (std::getline(lines, line)) {
    const auto eq = line.find(" = ");
    if (eq == std::string::npos) continue;
    const std::string key = line.substr(0, eq);
    if (!kIgnored.count(key)) fp[key] = line.substr(eq + 3);
  }
  fp["workers"] = std::to_string(workers);
  fp["input_sha256"] = input_sha256;
  return fp;
}

}  // namespace reinforcer
