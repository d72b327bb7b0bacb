#include "reinforcer/cli/train_settings.hpp"

#include <cstdlib>

#include "reinforcer/core/errors.hpp"

namespace reinforcer {

int default_threads() {
  const char* env = std::getenv("OMP_NUM_THREADS");
  return env && std::atoi(env) > 0 ? std::atoi(env) : 1;
}

void add_trial_options(po::options_description& d) {
  for (const TrialOption& o : trial_options())
    d.add_options()(o.key.c_str(), po::value<std::string>()->default_value(o.default_text), o.help.c_str());
}

OptionValues trial_values_of(const Invocation& inv) {
  OptionValues v;
  for (const TrialOption& o : trial_options())
    if (inv.options.count(o.key)) v[o.key] = inv.options[o.key].as<std::string>();
  return v;
}

void add_train_options(po::options_description& d) {
  add_trial_options(d);
  d.add_options()
      ("threads", po::value<int>()->default_value(default_threads()), "OpenMP threads (workers) per rank; default OMP_NUM_THREADS or 1")
      ("checkpoint-every", po::value<int>()->default_value(0), "write a checkpoint every R sync rounds (0: only on SIGTERM/SIGUSR1/SIGINT)")
      ("checkpoint", po::value<std::string>()->value_name("PATH"), "checkpoint file (default: OUTPUT.checkpoint.h5)")
      ("resume", po::bool_switch(), "continue from the checkpoint")
      ("dry-run", po::bool_switch(), "print the state space, workers, shards and memory estimate, then exit");
  add_progress_option(d);
}

TrainSettings train_settings(const Invocation& inv) {
  TrainSettings s;
  s.trial = parse_trial_config(trial_values_of(inv));
  s.threads = static_cast<int>(int_option(inv, "threads", 1, 1024));
  s.checkpoint_every = static_cast<int>(int_option(inv, "checkpoint-every", 0, 1 << 30));
  s.checkpoint_path = inv.options.count("checkpoint") ? inv.options["checkpoint"].as<std::string>()
                                                      : inv.output + ".checkpoint.h5";
  s.resume = inv.options["resume"].as<bool>();
  s.dry_run = inv.options["dry-run"].as<bool>();
  s.progress = progress_option(inv);
  return s;
}

}  // namespace reinforcer
