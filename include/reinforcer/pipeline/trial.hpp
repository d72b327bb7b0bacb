#pragma once
// A trial as a library call: a validated TrialConfig, the prepared customers and a
// Communicator in; the fitted funnel, the trained Q-table and its judgement out. `train`,
// `sweep`, and later the subset search call it; none of them parses options to get here.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "reinforcer/data/customer_table.hpp"
#include "reinforcer/eval/break_even.hpp"
#include "reinforcer/eval/evaluation.hpp"
#include "reinforcer/eval/learner_quality.hpp"
#include "reinforcer/parallel/communicator.hpp"
#include "reinforcer/pipeline/trial_config.hpp"
#include "reinforcer/results/checkpoint.hpp"
#include "reinforcer/results/run_file.hpp"
#include "reinforcer/rl/funnel_fit.hpp"

namespace reinforcer {

// The prepared customers a trial reads, loaded once for any number of trials.
struct TrialInput {
  std::string path;
  CustomerTable table;
  Day export_date = 0;
  std::string sha256;
};
TrialInput read_trial_input(const std::string& prepared_path);
// The same on every rank of comm, read and hashed by rank 0 alone and broadcast (a shared
// filesystem serves one reader, not every rank). An error on rank 0 is raised on every rank
// as a CollectiveError with rank 0's message and exit code.
TrialInput read_trial_input(const std::string& prepared_path, const Communicator& comm);

// The hazard options a config implies on this input.
HazardOptions trial_hazard_options(const TrialConfig& config, const TrialInput& input);
// Refuses an input no trial can learn from (fewer than two dated customers, or no subscriber
// among them; with_folds: or a cross-validation fold holding out no subscriber) before any work;
// a CollectiveError, as every rank holds the same table. fit_trial_model and plan_trial_model
// refuse their fitting customers likewise.
void require_learnable_input(const TrialInput& input, bool with_folds = false);
// The fitted funnel and its exact DP; trials whose model_key() is equal can share it.
std::shared_ptr<const FunnelFit> fit_trial_model(const TrialConfig& config, const TrialInput& input);

// The fitting customers and segments the config implies on this input, without fitting.
FunnelPlan plan_trial_model(const TrialConfig& config, const TrialInput& input);

// How a trial runs here (not what it computes): threads per rank, checkpoints, progress.
// What one rank of a trial holds at its peak, by part, in bytes: the estimate --dry-run
// prints, from the plan alone (no fit). docs/PERFORMANCE.md compares it with measured peaks.
struct TrialMemory {
  double process = 0;    // code, libraries, runtime
  double customers = 0;  // the customer table
  double model = 0;      // the fitted funnel (a bound) and its exact DP
  double shared = 0;     // the global Q-table and visit counts
  double workers = 0;    // all threads' copies of the rows they update in a round
  double sync = 0;       // the round's union of updated rows and its fixed-point sums
  double judging = 0;    // refits of the funnel judged in parallel after training
  double writing = 0;    // the run file's per-state table
  double training() const { return shared + workers + sync; }
  double peak() const;
};
// Threads that judge refits at once: at most the machine's cores (each holds a refitted model).
int judging_threads(int threads);
TrialMemory estimate_trial_memory(const TrialConfig& config, std::size_t customers, std::size_t segments, int ranks,
                                  int threads);

struct TrialRun {
  int threads = 1;
  int checkpoint_every = 0;     // rounds; 0: only when stop_requested()
  std::string checkpoint_path;  // "" : no checkpoint, and a stop request is ignored
  bool resume = false;          // continue from checkpoint_path
  bool resume_if_present = false;  // continue from checkpoint_path when it exists (a requeued job)
  std::function<bool()> stop_requested;
  std::function<void(const LearningCurveRow&, std::int64_t total_rounds, std::int64_t total_episodes)> progress;
  std::function<void(const std::string&)> note;  // root only
  // What a sweep can do without: the learning curve's regret (about 50 exact policy
  // evaluations) and the break-even table. The final judgement is always made.
  bool curve_regret = true;
  bool break_even = true;
  const BestConstant* best_constant = nullptr;  // the fit's, when the caller keeps it per model
};

struct TrialResult {
  std::shared_ptr<const FunnelFit> fit;
  HazardOptions hazards;
  TrainState state;
  LearnerQuality quality;               // funnel only
  std::vector<BreakEvenRow> break_even; // funnel only
  DqnResult dqn;                        // agent dqn: the network and its curve (state.q is its tabulation)
  std::int64_t workers = 0;
  double train_seconds = 0;  // the training loop (with the syncs), this run only
  double judge_seconds = 0;  // the policy's regret and refits
};

// Everything that determines a trial's Q-table: its options, the worker count and the input.
Fingerprint trial_fingerprint(const TrialConfig& config, std::int64_t workers, const std::string& input_sha256);

// Trains and judges the trial on every rank of comm (each rank runs run.threads workers);
// the result is complete on every rank. Throws UsageError when the workers outnumber the
// fitting customers and Interrupted after a checkpoint written on a stop request.
TrialResult run_trial(const TrialConfig& config, const TrialInput& input, std::shared_ptr<const FunnelFit> fit,
                      const Communicator& comm, const TrialRun& run);

// The trial options a stored run was trained with; InputError naming the file if they do not
// parse (a run file from another version).
TrialConfig stored_trial_config(const StoredRun& run);
// How a trial's model and learner are set, as evaluation needs them (evaluation's own
// settings at their defaults).
EvaluationSettings evaluation_settings_of(const TrialConfig& config, Day export_date);

// What the trial's data or options cannot support while its result stands (a cohort of the
// fitting customers without a subscriber; refits too few for a 95% interval): one line each.
std::vector<std::string> trial_warnings(const TrialConfig& config, const TrialInput& input);
// The run file's contents for a finished trial (attributes named as docs/HDF5_SCHEMA.md says).
RunContents run_contents(const TrialConfig& config, const TrialInput& input, const TrialResult& result, int ranks,
                         int threads);

}  // namespace reinforcer
