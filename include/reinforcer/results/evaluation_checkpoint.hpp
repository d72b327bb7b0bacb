#pragma once
// Checkpoints of `evaluate`: the tasks finished so far (folds, sensitivity, fits, refits), each
// with its values, and the fingerprint of everything that determines them, so a resume skips
// them and gives the uninterrupted run's result.
#include <string>

#include "reinforcer/eval/evaluation.hpp"
#include "reinforcer/results/checkpoint.hpp"

namespace reinforcer {

inline const std::string kEvaluationCheckpointFormat = "reinforcer-evaluation-checkpoint";
// 2: the break-even answers became task 0, so every other task's index moved by one; a
// version-1 checkpoint's values would be read as the wrong tasks. 3: a fold's events at risk and
// observed became two bit masks (27 numbers a held-out customer -> 14).
inline constexpr std::int64_t kEvaluationCheckpointFormatVersion = 3;

// Written atomically (temporary file, then rename). tasks: how many the evaluation has.
void write_evaluation_checkpoint(const std::string& path, const FinishedTasks& finished, std::int64_t tasks,
                                 const Fingerprint& fingerprint);

// PathError if missing; InputError if another format or version, another fingerprint (naming
// every key that differs) or another number of tasks (tasks < 0: not checked). with_values false: the task indices only
// (each with an empty vector), for the ranks that only need to know what to skip.
FinishedTasks read_evaluation_checkpoint(const std::string& path, const Fingerprint& expected, std::int64_t tasks,
                                         bool with_values);

}  // namespace reinforcer
