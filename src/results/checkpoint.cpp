#include "reinforcer/results/checkpoint.hpp"

#include <sys/stat.h>

#include "reinforcer/core/errors.hpp"
#include "reinforcer/core/atomic_output.hpp"
#include "reinforcer/h5/hdf5.hpp"

namespace reinforcer {

void write_learning_curve(const h5::Group& g, const std::vector<LearningCurveRow>& curve) {
  const std::size_t n = curve.size();
  std::vector<std::int64_t> round(n), episodes(n), steps(n), synced(n);
  std::vector<double> reward(n), rate(n), eps(n), dq(n), regret(n), wall(n), wait(n), sync(n), episode(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& r = curve[i];
    round[i] = r.round, episodes[i] = r.episodes, reward[i] = r.mean_reward, rate[i] = r.subscription_rate;
    eps[i] = r.epsilon, dq[i] = r.mean_abs_dq, regret[i] = r.regret, wall[i] = r.wall_seconds;
    wait[i] = r.wait_seconds, sync[i] = r.sync_seconds, steps[i] = r.steps, episode[i] = r.episode_seconds;
    synced[i] = r.synced_rows;
  }
  g.write_table("learning_curve", h5::Table(n)
                                      .add("round", round).add("episodes", episodes).add("mean_reward", reward)
                                      .add("subscription_rate", rate).add("epsilon", eps).add("mean_abs_dq", dq)
                                      .add("regret", regret).add("wall_seconds", wall)
                                      .add("wait_seconds", wait).add("sync_seconds", sync).add("steps", steps)
                                      .add("episode_seconds", episode).add("synced_rows", synced));
}

std::vector<LearningCurveRow> read_learning_curve(const h5::Group& g) {
  const std::string t = "learning_curve";
  const auto round = g.read_int_column(t, "round"), episodes = g.read_int_column(t, "episodes");
  const auto reward = g.read_double_column(t, "mean_reward"), rate = g.read_double_column(t, "subscription_rate");
  const auto eps = g.read_double_column(t, "epsilon"), dq = g.read_double_column(t, "mean_abs_dq");
  const auto regret = g.read_double_column(t, "regret"), wall = g.read_double_column(t, "wall_seconds");
  const auto wait = g.read_double_column(t, "wait_seconds"), sync = g.read_double_column(t, "sync_seconds");
  bool has_steps = false, has_episode = false, has_synced = false;  // files written before the columns existed
  for (const auto& c : g.table_columns(t))
    has_steps = has_steps || c.name == "steps", has_episode = has_episode || c.name == "episode_seconds",
    has_synced = has_synced || c.name == "synced_rows";
  const auto steps = has_steps ? g.read_int_column(t, "steps") : std::vector<std::int64_t>(round.size(), 0);
  const auto episode = has_episode ? g.read_double_column(t, "episode_seconds") : std::vector<double>(round.size(), 0.0);
  const auto synced = has_synced ? g.read_int_column(t, "synced_rows") : std::vector<std::int64_t>(round.size(), 0);
  std::vector<LearningCurveRow> out(round.size());
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = LearningCurveRow{round[i], episodes[i], reward[i], rate[i], eps[i], dq[i], regret[i], wall[i], wait[i], sync[i], steps[i], episode[i], synced[i]};
  return out;
}

namespace {
// "key was 'a', now 'b'; ..." for every key whose value differs (empty: the same work).
std::string fingerprint_differences(const Fingerprint& stored, const Fingerprint& expected) {
  std::string diff;
  for (const auto& [k, v] : expected) {
    auto it = stored.find(k);
    const std::string was = it == stored.end() ? "(absent)" : it->second;
    if (was != v) diff += (diff.empty() ? "" : "; ") + k + " was '" + was + "', now '" + v + "'";
  }
  for (const auto& [k, v] : stored)
    if (!expected.count(k)) diff += (diff.empty() ? "" : "; ") + k + " was '" + v + "', now absent";
  return diff;
}

const CheckpointKind kTrainCheckpoint{kCheckpointFormat, kCheckpointFormatVersion, "checkpoint", "run"};
}  // namespace

void write_checkpoint_identity(const h5::Group& file, const CheckpointKind& kind, const Fingerprint& fingerprint) {
  file.set_attribute("format", kind.format);
  file.set_attribute("format_version", kind.version);
  const h5::Group fp = file.create_group("fingerprint");
  for (const auto& [k, v] : fingerprint) fp.set_attribute(k, v);
}

h5::File open_checkpoint_to_resume(const std::string& path, const CheckpointKind& kind, const Fingerprint& expected) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw PathError(path + ": no checkpoint to resume from (run without --resume, or name it with --checkpoint)");
  h5::File f = h5::File::open_read(path);
  const std::string format = f.has_attribute("format") ? f.string_attribute("format") : "";
  if (format != kind.format) throw InputError(path + ": is not a reinforcer " + kind.name);
  if (f.int_attribute("format_version") != kind.version)
    throw InputError(path + ": " + kind.name + " format version " + std::to_string(f.int_attribute("format_version")) +
                     ", this tool reads version " + std::to_string(kind.version) + " (start afresh without --resume)");
  const h5::Group fp = f.open_group("fingerprint");
  Fingerprint stored;
  for (const auto& name : fp.attribute_names()) stored[name] = fp.string_attribute(name);
  const std::string diff = fingerprint_differences(stored, expected);
  if (!diff.empty())
    throw InputError(path + ": the checkpoint belongs to another " + kind.work + ": " + diff +
                     " (resume with the same input and options, or start afresh without --resume)");
  return f;
}

void write_checkpoint(const std::string& path, const TrainState& state, const Fingerprint& fingerprint) {
  AtomicOutput out(path);
  {
    h5::File f = h5::File::create(out.temp_path());
    write_checkpoint_identity(f, kTrainCheckpoint, fingerprint);
    f.set_attribute("rounds_done", state.rounds_done);
    const std::size_t rows = state.q.size() / kQStride;
    f.write_matrix("q", state.q, rows, kQStride);
    f.write_matrix("visits", state.visits, rows, kQStride);
    write_learning_curve(f, state.curve);
    f.close();  // sealed: readers can tell a damaged copy
  }
  out.commit();
}

TrainState read_checkpoint(const std::string& path, const Fingerprint& expected) {
  const h5::File f = open_checkpoint_to_resume(path, kTrainCheckpoint, expected);
  TrainState s;
  s.rounds_done = f.int_attribute("rounds_done");
  std::size_t rows = 0, cols = 0;
  s.q = f.read_matrix("q", rows, cols);
  s.visits = f.read_int_matrix("visits", rows, cols);
  s.curve = read_learning_curve(f);
  return s;
}

}  // namespace reinforcer
