#pragma once
// trial-NNNNNN.h5: one sweep trial's outcome, written atomically into the sweep directory:
// its status (complete, or failed with the error), the grid's values, every option, the
// metrics, where and when it ran. Schema in docs/HDF5_SCHEMA.md.
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "reinforcer/eval/learner_quality.hpp"

namespace reinforcer {

inline const std::string kTrialFormat = "reinforcer-trial";
inline constexpr std::int64_t kTrialFormatVersion = 1;

struct TrialRecord {
  std::int64_t index = -1;
  std::string status;  // complete | failed
  std::string error;   // failed: the message
  std::string grid_sha256;      // the sweep's grid identity
  std::string prepared_sha256;  // the input
  std::map<std::string, std::string> parameters;  // the grid's values for this trial
  std::string config;                             // every option, "key = value" lines
  // Metrics (NaN when failed or not computed).
  double regret = std::numeric_limits<double>::quiet_NaN();      // (V* - V^pi) / max(|V*|, floor), all cohorts
  double regret_p95 = std::numeric_limits<double>::quiet_NaN();  // 95th percentile of V*(s0) - V^pi(s0)
  double optimum = std::numeric_limits<double>::quiet_NaN();     // V*
  double learned = std::numeric_limits<double>::quiet_NaN();     // V^pi
  double auc_fold = std::numeric_limits<double>::quiet_NaN();    // status-quo targeting AUC (model-changing grids)
  std::int64_t rung = 0;           // successive halving: the rung it reached (0 without halving)
  std::int64_t episodes = 0;       // per worker, as trained
  std::int64_t workers = 0;
  std::int64_t steps = 0;          // environment steps, all workers
  double wall_seconds = 0, fit_seconds = 0, train_seconds = 0, judge_seconds = 0;
  std::string host, started_at, finished_at;
  std::string slurm_job_id, slurm_array_job_id, slurm_array_task_id;
  std::int64_t slurm_restart_count = 0;
  std::vector<RegretRow> regret_by_cohort;
};

// Writes atomically (a reader sees the old file or the new one, never half).
void write_trial_file(const std::string& path, const TrialRecord& record);
// InputError naming the file if it is not a trial file.
TrialRecord read_trial_file(const std::string& path);

}  // namespace reinforcer
