#pragma once
// The options of `reinforcer train`, validated, and the fingerprint a checkpoint carries.
#include <string>

#include "reinforcer/cli/command.hpp"
#include "reinforcer/env/feature_mask.hpp"
#include "reinforcer/env/funnel_model.hpp"
#include "reinforcer/env/replay_env.hpp"
#include "reinforcer/results/checkpoint.hpp"
#include "reinforcer/rl/trainer.hpp"

namespace reinforcer {

struct TrainSettings {
  std::string environment = "funnel";
  std::string fit_on = "all";
  FeatureMask features;
  TrainSchedule schedule;
  FunnelConfig funnel;
  double shrinkage = -1;  // < 0: empirical Bayes
  double oversample = kDefaultOversample;  // share of episodes started at a subscriber's start state
  int refits = 50;          // bootstrap refits for the learned-minus-best-constant interval
  ReplayConfig replay;
  std::string replay_rewards = "plain";
  std::string checkpoint_path;
  bool resume = false;
  bool dry_run = false;
  std::string progress = "auto";
};

void add_train_options(po::options_description& d);
TrainSettings train_settings(const Invocation& inv);
// The settings a run was trained with, from the config text stored in its run file.
TrainSettings train_settings_from_config(const std::string& config_text, const std::string& origin);
// Everything that determines the result: the options that change it, the worker count and
// the input's hash.
Fingerprint train_fingerprint(const Invocation& inv, std::int64_t workers, const std::string& input_sha256);

}  // namespace reinforcer
