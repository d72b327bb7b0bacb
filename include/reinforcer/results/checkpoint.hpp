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

// What a checkpoint file is, shared by train's and evaluate's: its format, version, what its
// messages call it ("checkpoint") and the work it belongs to ("run").
struct CheckpointKind {
  std::string format;
  std::int64_t version = 0;
  std::string name;
  std::string work;
};
// Writes the kind and the fingerprint into a new checkpoint file.
void write_checkpoint_identity(const h5::Group& file, const CheckpointKind& kind, const Fingerprint& fingerprint);
// Opens a checkpoint to resume from: PathError if missing, InputError (exit 3) if another
// format or version, or if the fingerprint differs -- naming every key that differs, with
// both values.
h5::File open_checkpoint_to_resume(const std::string& path, const CheckpointKind& kind, const Fingerprint& expected);

// Written atomically (temporary file, then rename).
void write_checkpoint(const std::string& path, const TrainState& state, const Fingerprint& fingerprint);

// Throws PathError if missing, InputError (exit 3) if another format, or if the
// fingerprint differs -- naming every key that differs, with both values.
TrainState read_checkpoint(const std::string& path, const Fingerprint& expected);

void write_learning_curve(const h5::Group& group, const std::vector<LearningCurveRow>& curve);
std::vector<LearningCurveRow> read_learning_curve(const h5::Group& group);

}  // namespace reinforcer
