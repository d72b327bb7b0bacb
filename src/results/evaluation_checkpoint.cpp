#include "reinforcer/results/evaluation_checkpoint.hpp"

#include "reinforcer/core/atomic_output.hpp"
#include "reinforcer/core/errors.hpp"
#include "reinforcer/h5/hdf5.hpp"

namespace reinforcer {
namespace {
const CheckpointKind kEvaluationCheckpoint{kEvaluationCheckpointFormat, kEvaluationCheckpointFormatVersion,
                                           "evaluate checkpoint", "evaluation"};
}  // namespace

void write_evaluation_checkpoint(const std::string& path, const FinishedTasks& finished, std::int64_t tasks,
                                 const Fingerprint& fingerprint) {
  // The values of every finished task end to end; task k's are [offset[k], offset[k + 1]).
  std::vector<std::int64_t> task, offset = {0};
  std::vector<double> values;
  for (const auto& [t, v] : finished) {
    task.push_back(t);
    values.insert(values.end(), v.begin(), v.end());
    offset.push_back(static_cast<std::int64_t>(values.size()));
  }
  AtomicOutput out(path);
  {
    h5::File f = h5::File::create(out.temp_path());
    write_checkpoint_identity(f, kEvaluationCheckpoint, fingerprint);
    f.set_attribute("tasks", tasks);
    f.set_attribute("tasks_finished", static_cast<std::int64_t>(task.size()));
    if (!task.empty()) {
      f.write_matrix("task", task, task.size(), 1);
      f.write_matrix("offset", offset, offset.size(), 1);
      if (!values.empty()) f.write_matrix("values", values, values.size(), 1);
    }
    f.close();  // sealed: readers can tell a damaged copy
  }
  out.commit();
}

FinishedTasks read_evaluation_checkpoint(const std::string& path, const Fingerprint& expected, std::int64_t tasks,
                                         bool with_values) {
  const h5::File f = open_checkpoint_to_resume(path, kEvaluationCheckpoint, expected);
  if (tasks >= 0 && f.int_attribute("tasks") != tasks)
    throw InputError(path + ": the checkpoint's evaluation has " + std::to_string(f.int_attribute("tasks")) +
                     " tasks, this one " + std::to_string(tasks) + " (start afresh without --resume)");
  FinishedTasks finished;
  if (f.int_attribute("tasks_finished") == 0) return finished;
  std::size_t rows = 0, cols = 0;
  const std::vector<std::int64_t> task = f.read_int_matrix("task", rows, cols);
  const std::vector<std::int64_t> offset = f.read_int_matrix("offset", rows, cols);
  const std::string inconsistent = path + ": the checkpoint's task values are inconsistent (start afresh without --resume)";
  // Offsets from 0, never decreasing: each task's values are a range of the values read.
  if (offset.size() != task.size() + 1 || offset.front() != 0) throw InputError(inconsistent);
  for (std::size_t k = 1; k < offset.size(); ++k)
    if (offset[k] < offset[k - 1]) throw InputError(inconsistent);
  const std::vector<double> values =
      with_values && offset.back() > 0 ? f.read_matrix("values", rows, cols) : std::vector<double>{};
  if (with_values && static_cast<std::int64_t>(values.size()) != offset.back()) throw InputError(inconsistent);
  for (std::size_t k = 0; k < task.size(); ++k) {
    if (task[k] < 0 || task[k] >= f.int_attribute("tasks")) throw InputError(path + ": the checkpoint names a task beyond the evaluation's");
    auto& v = finished[task[k]];
    if (with_values) v.assign(values.begin() + offset[k], values.begin() + offset[k + 1]);
  }
  return finished;
}

}  // namespace reinforcer
