#pragma once
// `reinforcer train`'s options: the trial's (declared once in pipeline/trial_config) and how
// this run is laid out and reported.
#include <string>

#include "reinforcer/cli/command.hpp"
#include "reinforcer/pipeline/trial_config.hpp"

namespace reinforcer {

struct TrainSettings {
  TrialConfig trial;
  int threads = 1;
  int checkpoint_every = 0;
  std::string checkpoint_path;
  bool resume = false;
  bool dry_run = false;
  std::string progress = "auto";
};

// Every trial option as a command-line option (text; read and checked by the library).
void add_trial_options(po::options_description& d);
// The trial options of an invocation (defaults included), for parse_trial_config.
OptionValues trial_values_of(const Invocation& inv);

void add_train_options(po::options_description& d);
TrainSettings train_settings(const Invocation& inv);
// OMP_NUM_THREADS, or 1.
int default_threads();

}  // namespace reinforcer
