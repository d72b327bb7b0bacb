#pragma once
// Checkpoints of a training run: the global Q-table after a sync round, the visits and the
// learning curve so far, and the fingerprint of everything that determines the result (the
// config and the input's hash), so a resume from another config or data set is refused.
#include <map>
#include <string>

#include "reinforcer/h5/hdf5.hpp"
#include "reinforcer/rl/trainer.hpp"

namespace reinforcer {

inline const std::string kCheckpointFormat = "reinforcer-checkpoint";
inline constexpr std::int64_t kCheckpointFormatVersion = 3;  // 2: the learning curve has wait_seconds; 3: regret replaces the gap

using Fingerprint = std::map<std::string, std::string>;

// "key was 'a', now 'b'; ..." for every key whose value differs (empty: the same run).
std::string fingerprint_differences(const Fingerprint& stored, const Fingerprint& expected);

// Written atomically (temporary file, then rename).
void write_checkpoint(const std::string& path, const TrainState& state, const Fingerprint& fingerprint);

// Throws PathError if missing, InputError (exit 3) if another format, or if the
// fingerprint differs -- naming every key that differs, with both values.
TrainState read_checkpoint(const std::string& path, const Fingerprint& expected);

void write_learning_curve(const h5::Group& group, const std::vector<LearningCurveRow>& curve);
std::vector<LearningCurveRow> read_learning_curve(const h5::Group& group);

}  // namespace reinforcer
