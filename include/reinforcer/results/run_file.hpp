#pragma once
// run.h5: the training run's results (schema: docs/HDF5_SCHEMA.md): the prepared customers,
// the Q-table and visits with a description of every state, the DP referee, the learning
// curve, the fitted model and the provenance.
#include <map>
#include <string>

#include "reinforcer/eval/break_even.hpp"
#include "reinforcer/eval/learner_quality.hpp"
#include "reinforcer/results/provenance.hpp"
#include "reinforcer/rl/dqn.hpp"
#include "reinforcer/rl/funnel_fit.hpp"
#include "reinforcer/rl/trainer.hpp"

namespace reinforcer {

inline const std::string kRunFormat = "reinforcer-run";
inline constexpr std::int64_t kRunFormatVersion = 3;  // 3: /states holds enum actions and segment indices (names in /segments), no per-row strings

struct RunContents {
  std::string prepared_path;       // its /customers table is copied
  std::string environment;         // funnel | replay
  int steps_per_episode = 0;       // horizon (funnel) or max steps (replay): the t axis of states
  const FunnelFit* fit = nullptr;  // the fitted funnel (referee), always present
  const TrainState* state = nullptr;
  const LearnerQuality* quality = nullptr;  // funnel: the learned policy judged against the DP
  const std::vector<BreakEvenRow>* break_even = nullptr;  // funnel: may be empty
  const DqnResult* dqn = nullptr;                         // agent dqn: its network and curve
  std::map<std::string, std::string> text_attributes;     // run settings, written as root attributes
  std::map<std::string, std::int64_t> int_attributes;
  std::map<std::string, double> double_attributes;
  std::vector<std::string> warnings;  // what the data or options cannot support: /warnings when any
};

void write_run_file(const std::string& path, const RunContents& run, const Provenance& provenance);

// What `evaluate` reads back: the customers, the learned policy (of the Q-table and visits), the stored
// [train] options (as text), the export date and the layout. An evaluated file (a run file
// with /evaluation added) reads the same. InputError names the file and what is wrong.
struct StoredRun {
  std::string path;
  CustomerTable table;
  std::vector<std::uint8_t> learned_policy;  // learned_policy() per state, read a block of rows at a time
  std::string config_text;
  Day export_date = 0;
  std::int64_t workers = 0, episodes_per_worker = 0;
};
StoredRun read_run_file(const std::string& path);

// What the report shows of a run: its agent and settings, and the learned policy judged
// against the DP optimum (/quality; absent for the replay environment).
struct StoredQuality {
  std::string path, agent, environment, features;
  std::int64_t workers = 0, episodes_per_worker = 0;
  std::int64_t dqn_steps_per_worker = 0;  // agent dqn: its budget (episodes do not apply)
  bool judged = false;  // /quality present
  LearnerQuality quality;
};
StoredQuality read_run_quality(const std::string& path);

}  // namespace reinforcer
