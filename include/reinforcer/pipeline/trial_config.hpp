#pragma once
// A trial's complete configuration (data selection, model, learner, schedule, seed) and the
// one place its options are declared: name, default, help, how the text is read and
// range-checked, and how the value is written back. `train`, `evaluate` (reading a run's
// stored options), `sweep` (a grid file) and checkpoints all go through it.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "reinforcer/env/feature_mask.hpp"
#include "reinforcer/env/funnel_model.hpp"
#include "reinforcer/env/replay_env.hpp"
#include "reinforcer/rl/dqn.hpp"
#include "reinforcer/rl/trainer.hpp"

namespace reinforcer {

struct TrialConfig {
  std::string environment = "funnel";  // funnel | replay
  std::string agent = "tabular";       // tabular (Q-table) | dqn (a network on the funnel's features)
  DqnConfig dqn;                       // the DQN's settings (gamma, seed and threads come from the run)
  std::string fit_on = "all";          // all | train | except-fold:I
  FeatureMask features;
  double shrinkage = -1;  // < 0: empirical Bayes
  FunnelConfig funnel;
  TrainSchedule schedule;  // threads and checkpoint_every are the run's layout, not the trial's
  std::string step_size = "visits";  // visits | constant
  double oversample = kDefaultOversample;  // share of episodes started at a subscriber's start state
  int refits = 50;  // bootstrap refits for the learned-minus-best-constant interval
  ReplayConfig replay;
  std::string replay_rewards = "plain";
};

// The learner's settings with the step-size rule applied (constant: omega 0, alpha used).
inline QLearningConfig learner_of(const TrialConfig& c) {
  QLearningConfig q = c.schedule.q;
  if (c.step_size == "constant") q.omega = 0.0;
  return q;
}

// Option key -> value text.
using OptionValues = std::map<std::string, std::string>;

struct TrialOption {
  std::string key;           // as on the command line without "--", and in INI files
  std::string default_text;  // as --help shows it
  std::string help;
  bool changes_model = false;  // the fitted funnel depends on it (a sweep refits only then)
};

// Every trial option, in --help order (cost.* and success.* per action included).
const std::vector<TrialOption>& trial_options();
bool is_trial_option(const std::string& key);
// Why a key is no option when there is more to say than "unknown" (an unknown action in
// cost.X, a retired option); "" otherwise.
std::string explain_unknown_trial_option(const std::string& key);

// Defaults merged with `values`, each value read and range-checked once, then the checks
// that involve two options. An unknown key or a bad value throws UsageError whose message
// starts with where(key) (e.g. "--alpha" or "grid.ini line 3: alpha").
TrialConfig parse_trial_config(const OptionValues& values,
                               const std::function<std::string(const std::string& key)>& where);
// The same with "--KEY" as the place.
TrialConfig parse_trial_config(const OptionValues& values);

// Every option's value, as text that parses back to the same config.
OptionValues trial_option_values(const TrialConfig& config);
// The options that differ from the defaults' text.
OptionValues non_default_values(const TrialConfig& config);
// "key = value" lines of every option: a canonical text (fingerprints, grids, stored runs).
std::string canonical_text(const TrialConfig& config);
// The options the fitted model depends on, as canonical text: equal keys share one fit.
std::string model_key(const TrialConfig& config);

// The trial options among "key = value" lines (a stored [train] section): other keys (the
// run's layout, paths, progress) are skipped, as are section headers.
OptionValues trial_values_in(const std::string& config_lines);

}  // namespace reinforcer
