#pragma once
// A sweep: the trials of a grid run into one directory, in any order, by any number of
// processes (an MPI job's rank groups, or SLURM array tasks), resumably.
//
// The directory holds sweep.ini (the grid and the input it belongs to), trial-NNNNNN.h5 per
// trial (written atomically once the trial completes or fails), trial-NNNNNN.checkpoint.h5
// while a trial is stopped part-way, and events.log (a line per start, completion, failure
// and interruption, appended by every process).
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "reinforcer/parallel/communicator.hpp"
#include "reinforcer/pipeline/sweep_grid.hpp"
#include "reinforcer/pipeline/trial.hpp"
#include "reinforcer/results/sweep_file.hpp"
#include "reinforcer/results/trial_file.hpp"

namespace reinforcer {

// Where a process runs, recorded in each trial file (the cli fills it from the environment).
struct RunPlace {
  std::string host;
  std::string slurm_job_id, slurm_array_job_id, slurm_array_task_id;
  std::int64_t slurm_restart_count = 0;
};

class SweepDirectory {
 public:
  // Creates `dir` and its sweep.ini when new; refuses (UsageError) a directory that holds
  // another grid or was swept over another input. Safe when many processes start at once.
  static SweepDirectory create_or_check(const std::string& dir, const SweepGrid& grid, const std::string& prepared_sha256);
  // An existing sweep directory, its grid read back from sweep.ini.
  static SweepDirectory open(const std::string& dir);

  const std::string& path() const { return dir_; }
  const SweepGrid& grid() const { return grid_; }
  const std::string& prepared_sha256() const { return prepared_sha256_; }
  std::string grid_sha256() const;
  std::string trial_path(std::int64_t trial) const;
  std::string checkpoint_path(std::int64_t trial) const;
  std::string events_path() const { return dir_ + "/events.log"; }
  // Appends one line to events.log in a single write (lines of concurrent processes do not mix).
  void log_event(const RunPlace& place, std::int64_t trial, const std::string& event, const std::string& detail = "") const;

  struct Status {
    std::vector<std::int64_t> complete, failed, missing;
    std::map<std::int64_t, std::string> errors;  // failed trial -> its error
  };
  Status status() const;
  // Whether the trial's file says complete (at rung `rung` or later, for halving).
  bool complete(std::int64_t trial, std::int64_t rung = 0) const;

 private:
  std::string dir_;
  SweepGrid grid_;
  std::string prepared_sha256_;
};

struct SweepRun {
  int threads = 1;  // per rank
  RunPlace place;
  std::function<void(const std::string&)> say;   // a progress line (a group's root)
  std::function<void(const std::string&)> warn;  // a failure, at once (a group's root)
  std::function<bool()> stop_requested;         // a signal arrived: checkpoint and stop
  std::string objective = "regret";             // what halving promotes by (auc_fold: every trial computes it)
};

// What a sweep ranks trials by: regret (default), regret_p95 (lower is better), learned
// (V^pi), auc_fold (higher is better). A key where lower is better; NaN for a trial without it.
const std::vector<std::string>& sweep_objectives();
void check_objective(const std::string& objective);  // UsageError naming the choices
double objective_key(const TrialRecord& record, const std::string& objective);
// The complete trial that ranks first (lowest key, then lowest index) among those at the
// highest halving rung reached; -1 if none.
std::int64_t best_trial(const std::vector<TrialRecord>& records, const std::string& objective);

// What one process group did; totals over the world after the sweep.
struct SweepTally {
  std::int64_t ran = 0, skipped = 0, failed = 0;
  std::int64_t episodes = 0;  // trained, per worker summed over trials
};

// Runs the trials `indices` one after another on all of comm's ranks (array mode), skipping
// complete ones and retrying failed ones. A failed trial is reported and recorded, and the
// next one runs; a stop request checkpoints the running trial and throws Interrupted.
SweepTally run_trials(const SweepDirectory& sweep, const TrialInput& input, const std::vector<std::int64_t>& indices,
                      const Communicator& comm, const SweepRun& run);

// MPI mode: world's ranks in groups of ranks_per_trial (which must divide the ranks); each
// group takes the next trial as soon as it is free. Every rank calls it.
SweepTally run_sweep_groups(const SweepDirectory& sweep, const TrialInput& input, const Communicator& world,
                            int ranks_per_trial, const SweepRun& run);

// Successive halving (MPI mode): every trial first on episodes / eta^(R-1), then the best
// 1/eta (by the objective) of each rung on eta times more, up to the grid's episodes; R rungs
// so that the last holds one trial or the remainder. A trial's file holds its last rung.
struct HalvingRung {
  std::int64_t episodes = 0;
  std::vector<std::int64_t> trials;
};
std::vector<std::int64_t> halving_budgets(std::int64_t trials, std::int64_t episodes, int eta);
SweepTally run_halving(const SweepDirectory& sweep, const TrialInput& input, const Communicator& world,
                       int ranks_per_trial, int eta, const SweepRun& run, std::vector<HalvingRung>* rungs = nullptr);

// The directory's trials, one record per trial of the grid (a missing one with status
// "missing" and its parameters), ranked by the objective: what `merge` writes.
SweepSummary summarize_sweep(const SweepDirectory& sweep, const std::string& objective);

// The sum over world of every rank's tally (group roots count their trials).
SweepTally total_over(const Communicator& world, const SweepTally& mine);

}  // namespace reinforcer
