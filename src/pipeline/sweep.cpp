#include "reinforcer/pipeline/sweep.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include "reinforcer/core/errors.hpp"
#include "reinforcer/core/sha256.hpp"
#include "reinforcer/eval/evaluation.hpp"
#include "reinforcer/results/provenance.hpp"

namespace reinforcer {
namespace {

using Clock = std::chrono::steady_clock;

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string manifest_text(const SweepGrid& grid, const std::string& prepared_sha256, std::int64_t random,
                          std::uint64_t seed) {
  std::string t = "# A reinforcer sweep directory: the grid its trials belong to. Written once; do not edit.\n[sweep]\n";
  t += "prepared_sha256 = " + prepared_sha256 + "\n";
  t += "trials = " + std::to_string(grid.trials()) + "\n";
  t += "random = " + std::to_string(random) + "\n";
  t += "seed = " + std::to_string(seed) + "\n";
  t += "[grid]\n";
  std::istringstream lines(grid.identity());
  std::string line;
  while (std::getline(lines, line))
    if (!line.empty() && line[0] != '#') t += line + "\n";
  return t;
}

struct Manifest {
  SweepGrid grid;
  std::string prepared_sha256;
};

Manifest read_manifest(const std::string& path) {
  const std::vector<ConfigSection> sections = read_config_file(path);
  const ConfigSection* grid = nullptr;
  std::map<std::string, std::string> sweep;
  for (const ConfigSection& s : sections) {
    if (s.name == "grid") grid = &s;
    if (s.name == "sweep")
      for (const ConfigEntry& e : s.entries) sweep[e.key] = e.value;
  }
  if (!grid || !sweep.count("prepared_sha256") || !sweep.count("random") || !sweep.count("seed"))
    throw InputError(path + ": not a sweep directory's sweep.ini (no [sweep] or [grid] section)");
  Manifest m{SweepGrid::from_section(*grid, path, std::stoll(sweep["random"]), std::stoull(sweep["seed"])),
             sweep["prepared_sha256"]};
  return m;
}

std::string string_sha256(const std::string& text) {
  Sha256 h;
  h.update(text.data(), text.size());
  return h.hex_digest();
}

}  // namespace

SweepDirectory SweepDirectory::create_or_check(const std::string& dir, const SweepGrid& grid,
                                               const std::string& prepared_sha256) {
  if (::mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST)
    throw PathError(dir + ": cannot create the sweep directory (" + std::strerror(errno) + ")");
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) throw PathError(dir + ": is not a directory");
  const std::string manifest = dir + "/sweep.ini";
  const std::string text = manifest_text(grid, prepared_sha256, grid.random(), grid.seed());
  if (!exists(manifest)) {
    // Written to a private name, then linked into place: of many processes starting at
    // once exactly one link succeeds, and every other one compares against it.
    const std::string temp = manifest + ".tmp." + std::to_string(::getpid());
    {
      std::ofstream out(temp, std::ios::binary);
      out << text;
      if (!out.flush()) throw PathError(temp + ": cannot write the sweep directory's manifest");
    }
    const int rc = ::link(temp.c_str(), manifest.c_str());
    const int err = errno;
    ::unlink(temp.c_str());
    if (rc != 0 && err != EEXIST)
      throw PathError(manifest + ": cannot create (" + std::strerror(err) + ")");
  }
  const std::string held = read_all(manifest);
  if (held != text) {
    const Manifest m = read_manifest(manifest);
    if (m.grid.identity() != grid.identity())
      throw UsageError(dir + " holds the trials of another grid (" + std::to_string(m.grid.trials()) +
                       " trials; see its sweep.ini); give a new -o directory, or the grid it was made with");
    throw UsageError(dir + " holds trials of another input (prepared file sha256 " + m.prepared_sha256.substr(0, 12) +
                     "..., this one " + prepared_sha256.substr(0, 12) + "...); give a new -o directory");
  }
  SweepDirectory d;
  d.dir_ = dir;
  d.grid_ = grid;
  d.prepared_sha256_ = prepared_sha256;
  return d;
}

SweepDirectory SweepDirectory::open(const std::string& dir) {
  const std::string manifest = dir + "/sweep.ini";
  if (!exists(manifest)) throw PathError(dir + ": no sweep here (no sweep.ini); give the directory 'sweep -o' wrote");
  Manifest m = read_manifest(manifest);
  SweepDirectory d;
  d.dir_ = dir;
  d.grid_ = std::move(m.grid);
  d.prepared_sha256_ = m.prepared_sha256;
  return d;
}

std::string SweepDirectory::grid_sha256() const { return string_sha256(grid_.identity()); }

std::string SweepDirectory::trial_path(std::int64_t trial) const {
  char name[32];
  std::snprintf(name, sizeof name, "/trial-%06lld.h5", static_cast<long long>(trial));
  return dir_ + name;
}

std::string SweepDirectory::checkpoint_path(std::int64_t trial) const {
  char name[40];
  std::snprintf(name, sizeof name, "/trial-%06lld.checkpoint.h5", static_cast<long long>(trial));
  return dir_ + name;
}

void SweepDirectory::log_event(const RunPlace& place, std::int64_t trial, const std::string& event,
                               const std::string& detail) const {
  std::string line = utc_now_iso8601() + " host=" + place.host + " job=" +
                     (place.slurm_job_id.empty() ? "-" : place.slurm_job_id) + " task=" +
                     (place.slurm_array_task_id.empty() ? "-" : place.slurm_array_task_id) + " restart=" +
                     std::to_string(place.slurm_restart_count) + " pid=" + std::to_string(::getpid()) +
                     " trial=" + std::to_string(trial) + " event=" + event;
  if (!detail.empty()) {
    std::string d = detail;
    std::replace(d.begin(), d.end(), '\n', ' ');
    line += " " + d;
  }
  line += "\n";
  const int fd = ::open(events_path().c_str(), O_WRONLY | O_CREAT | O_APPEND, 0666);
  if (fd < 0) throw PathError(events_path() + ": cannot append (" + std::strerror(errno) + ")");
  const ssize_t n = ::write(fd, line.data(), line.size());
  ::close(fd);
  if (n != static_cast<ssize_t>(line.size())) throw PathError(events_path() + ": a short write");
}

bool SweepDirectory::complete(std::int64_t trial, std::int64_t rung) const {
  const std::string p = trial_path(trial);
  if (!exists(p)) return false;
  const TrialRecord r = read_trial_file(p);
  return r.status == "complete" && r.rung >= rung && r.grid_sha256 == grid_sha256();
}

SweepDirectory::Status SweepDirectory::status() const {
  Status s;
  for (std::int64_t t = 0; t < grid_.trials(); ++t) {
    const std::string p = trial_path(t);
    if (!exists(p)) {
      s.missing.push_back(t);
      continue;
    }
    const TrialRecord r = read_trial_file(p);
    if (r.status == "complete") {
      s.complete.push_back(t);
    } else {
      s.failed.push_back(t);
      s.errors[t] = r.error;
    }
  }
  return s;
}

namespace {

// Fits shared by trials of one process whose model options agree (a handful at a time).
struct ModelCache {
  struct Entry {
    std::shared_ptr<const FunnelFit> fit;
    BestConstant best_constant;
    double auc = std::numeric_limits<double>::quiet_NaN();
    bool auc_done = false;
  };
  std::map<std::string, Entry> entries;
  Entry& get(const TrialConfig& c, const TrialInput& input) {
    const std::string key = model_key(c);
    auto it = entries.find(key);
    if (it != entries.end()) return it->second;
    if (entries.size() >= 8) entries.clear();
    Entry e;
    e.fit = fit_trial_model(c, input);
    if (c.environment == "funnel") e.best_constant = best_constant_policy(*e.fit);
    return entries.emplace(key, std::move(e)).first->second;
  }
};

bool grid_changes_model(const SweepGrid& grid) {
  for (const std::string& key : grid.varied())
    for (const TrialOption& o : trial_options())
      if (o.key == key && o.changes_model) return true;
  return false;
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string percent(double share) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3f%%", 100 * share);
  return b;
}

// One trial on all of comm's ranks. episodes > 0 replaces the grid's (halving rungs). The
// root writes the trial's file; every rank returns the record.
TrialRecord execute(const SweepDirectory& sweep, const TrialInput& input, std::int64_t trial, std::int64_t episodes,
                    std::int64_t rung, const Communicator& comm, const SweepRun& run, ModelCache& cache, bool auc) {
  const auto t0 = Clock::now();
  TrialRecord rec;
  rec.index = trial;
  rec.grid_sha256 = sweep.grid_sha256();
  rec.prepared_sha256 = input.sha256;
  rec.parameters = sweep.grid().values(trial);
  rec.rung = rung;
  rec.host = run.place.host;
  rec.slurm_job_id = run.place.slurm_job_id;
  rec.slurm_array_job_id = run.place.slurm_array_job_id;
  rec.slurm_array_task_id = run.place.slurm_array_task_id;
  rec.slurm_restart_count = run.place.slurm_restart_count;
  rec.started_at = utc_now_iso8601();
  rec.workers = static_cast<std::int64_t>(comm.size()) * run.threads;
  if (comm.is_root()) sweep.log_event(run.place, trial, "start", rung ? "rung=" + std::to_string(rung) : "");
  const std::string checkpoint = rung == 0 ? sweep.checkpoint_path(trial)
                                           : sweep.checkpoint_path(trial) + ".rung" + std::to_string(rung);
  try {
    OptionValues values = rec.parameters;
    if (episodes > 0) values["episodes"] = std::to_string(episodes);
    const TrialConfig config = parse_trial_config(values, [&](const std::string& key) {
      return sweep.path() + "/sweep.ini: trial " + std::to_string(trial) + ", " + key;
    });
    rec.config = canonical_text(config);
    rec.episodes = config.schedule.episodes_per_worker;
    const auto tf = Clock::now();
    ModelCache::Entry& model = cache.get(config, input);
    if (auc && !model.auc_done) {
      const FoldAuc a = status_quo_auc(input.table, evaluation_settings_of(config, input.export_date));
      model.auc = a.folds > 0 ? a.mean : std::numeric_limits<double>::quiet_NaN();
      model.auc_done = true;
    }
    rec.auc_fold = model.auc;
    rec.fit_seconds = seconds_since(tf);
    TrialRun tr;
    tr.threads = run.threads;
    tr.checkpoint_path = checkpoint;
    tr.resume_if_present = true;
    tr.curve_regret = false;
    tr.break_even = false;
    tr.best_constant = &model.best_constant;
    tr.stop_requested = run.stop_requested;
    if (run.say) tr.note = [&](const std::string& text) { run.say("trial " + std::to_string(trial) + ": " + text); };
    const TrialResult result = run_trial(config, input, model.fit, comm, tr);
    rec.train_seconds = result.train_seconds;
    rec.judge_seconds = result.judge_seconds;
    for (const LearningCurveRow& row : result.state.curve) rec.steps += row.steps;
    if (config.environment == "funnel") {
      rec.regret_by_cohort = result.quality.regret;
      const RegretRow& all = result.quality.regret.front();
      rec.regret = all.regret;
      rec.regret_p95 = all.p95_start_regret;
      rec.optimum = all.optimum;
      rec.learned = all.learned;
    }
    rec.status = "complete";
  } catch (const Interrupted& e) {
    if (comm.is_root()) sweep.log_event(run.place, trial, "interrupted", "checkpoint=" + checkpoint);
    std::string why = e.what();
    why = why.substr(0, why.find(';'));
    throw Interrupted("trial " + std::to_string(trial) + " " + why + "; its checkpoint is " + checkpoint +
                      "; the same sweep command run again resumes it");
  } catch (const std::exception& e) {
    const bool ours = dynamic_cast<const Error*>(&e) != nullptr;
    rec.status = "failed";
    rec.error = ours ? e.what() : std::string("internal error: ") + e.what();
  }
  rec.wall_seconds = seconds_since(t0);
  rec.finished_at = utc_now_iso8601();
  if (comm.is_root()) {
    write_trial_file(sweep.trial_path(trial), rec);
    if (rec.status == "complete") ::unlink(checkpoint.c_str());
    sweep.log_event(run.place, trial, rec.status, rec.status == "failed" ? "error=" + rec.error : "");
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.2f s", rec.wall_seconds);
    if (rec.status == "failed") {
      if (run.warn) run.warn("trial " + std::to_string(trial) + " failed: " + rec.error);
    } else if (run.say) {
      std::string line = "trial " + std::to_string(trial) + " complete: regret " + percent(rec.regret);
      if (rung) line += " at rung " + std::to_string(rung) + " (" + std::to_string(rec.episodes) + " episodes)";
      run.say(line + ", " + secs);
    }
  }
  return rec;
}

// A group's root decides whether to skip (complete already); its ranks follow.
bool group_agrees(const Communicator& group, bool root_says) {
  std::string b = root_says ? "1" : "0";
  group.broadcast(b, 0);
  return b == "1";
}

}  // namespace

namespace {

// What a process does with one trial: skip it when its file says complete (at this rung or
// later), else run it on the group; the group's root counts.
struct TrialRunner {
  const SweepDirectory& sweep;
  const TrialInput& input;
  const SweepRun& run;
  ModelCache cache;
  bool auc;
  SweepTally tally;

  TrialRunner(const SweepDirectory& s, const TrialInput& in, const SweepRun& r)
      // The targeting AUC costs a fit per fold: computed where trials can differ in it, or when
      // it is what ranks them (then the same for every trial of one model, never NaN).
      : sweep(s), input(in), run(r), auc(grid_changes_model(s.grid()) || r.objective == "auc_fold") {}

  void operator()(std::int64_t t, const Communicator& group, std::int64_t episodes = 0, std::int64_t rung = 0) {
    if (group_agrees(group, group.is_root() && sweep.complete(t, rung))) {
      if (group.is_root()) {
        ++tally.skipped;
        if (run.say && rung == 0) run.say("trial " + std::to_string(t) + " complete already: skipped");
      }
      return;
    }
    const TrialRecord r = execute(sweep, input, t, episodes, rung, group, run, cache, auc);
    if (group.is_root()) {
      ++tally.ran;
      tally.failed += r.status == "failed";
      tally.episodes += r.episodes;
    }
  }
};

}  // namespace

SweepTally run_trials(const SweepDirectory& sweep, const TrialInput& input, const std::vector<std::int64_t>& indices,
                      const Communicator& comm, const SweepRun& run) {
  TrialRunner runner(sweep, input, run);
  for (std::int64_t t : indices) runner(t, comm);
  return runner.tally;
}

namespace {

Communicator trial_group(const Communicator& world, int ranks_per_trial) {
  if (ranks_per_trial < 1 || world.size() % ranks_per_trial != 0)
    throw UsageError("--ranks-per-trial " + std::to_string(ranks_per_trial) + " does not divide the " +
                     std::to_string(world.size()) + " ranks; give a divisor of " + std::to_string(world.size()));
  return world.split(world.rank() / ranks_per_trial);
}

// Groups take items [0, items) from a shared counter; work(i) runs item i on the group.
template <typename Work>
void deal_dynamically(const Communicator& world, const Communicator& group, std::int64_t items, Work&& work) {
  Communicator::Counter counter = world.shared_counter(0);
  for (;;) {
    std::string next;
    if (group.is_root()) next = std::to_string(counter.next());
    group.broadcast(next, 0);
    const std::int64_t i = std::stoll(next);
    if (i >= items) break;
    work(i);
  }
  world.barrier();  // the counter is let go at the same point everywhere
}

}  // namespace

SweepTally run_sweep_groups(const SweepDirectory& sweep, const TrialInput& input, const Communicator& world,
                            int ranks_per_trial, const SweepRun& run) {
  const Communicator group = trial_group(world, ranks_per_trial);
  TrialRunner runner(sweep, input, run);
  deal_dynamically(world, group, sweep.grid().trials(), [&](std::int64_t t) { runner(t, group); });
  return runner.tally;
}

std::vector<std::int64_t> halving_budgets(std::int64_t trials, std::int64_t episodes, int eta) {
  std::int64_t rungs = 1;
  for (std::int64_t n = trials; n > 1; n = (n + eta - 1) / eta) ++rungs;
  if (trials > 1) --rungs;  // the loop counts the step to one trial as a rung too
  rungs = std::max<std::int64_t>(1, rungs);
  std::vector<std::int64_t> budgets;
  for (std::int64_t r = 0; r < rungs; ++r) {
    double b = static_cast<double>(episodes);
    for (std::int64_t k = r; k < rungs - 1; ++k) b /= eta;
    budgets.push_back(std::max<std::int64_t>(1, static_cast<std::int64_t>(std::llround(b))));
  }
  return budgets;
}

SweepTally run_halving(const SweepDirectory& sweep, const TrialInput& input, const Communicator& world,
                       int ranks_per_trial, int eta, const SweepRun& run, std::vector<HalvingRung>* rungs_out) {
  if (eta < 2) throw UsageError("--halving " + std::to_string(eta) + ": give ETA >= 2");
  for (const std::string& key : sweep.grid().varied())
    if (key == "episodes")
      throw UsageError("--halving sets each rung's episodes; give episodes one value in the grid (the last rung's budget)");
  const Communicator group = trial_group(world, ranks_per_trial);
  const TrialConfig first = parse_trial_config(sweep.grid().values(0));
  const std::vector<std::int64_t> budgets =
      halving_budgets(sweep.grid().trials(), first.schedule.episodes_per_worker, eta);
  TrialRunner runner(sweep, input, run);
  std::vector<std::int64_t> alive(static_cast<std::size_t>(sweep.grid().trials()));
  for (std::size_t i = 0; i < alive.size(); ++i) alive[i] = static_cast<std::int64_t>(i);
  for (std::size_t r = 0; r < budgets.size(); ++r) {
    const auto rung = static_cast<std::int64_t>(r);
    if (world.is_root() && run.say)
      run.say("halving rung " + std::to_string(r) + ": " + std::to_string(alive.size()) + " trials x " +
              std::to_string(budgets[r]) + " episodes per worker");
    if (rungs_out) rungs_out->push_back(HalvingRung{budgets[r], alive});
    deal_dynamically(world, group, static_cast<std::int64_t>(alive.size()), [&](std::int64_t i) {
      runner(alive[static_cast<std::size_t>(i)], group, budgets[r], rung);
    });
    if (r + 1 == budgets.size()) break;
    // The root ranks the rung from the files; the best 1/eta go on.
    std::string promoted;
    if (world.is_root()) {
      std::vector<std::pair<double, std::int64_t>> ranked;
      for (std::int64_t t : alive) {
        const TrialRecord rec = read_trial_file(sweep.trial_path(t));
        const double key = objective_key(rec, run.objective);
        if (rec.status == "complete" && std::isfinite(key)) ranked.emplace_back(key, t);
      }
      std::sort(ranked.begin(), ranked.end());
      const std::size_t keep = std::min(ranked.size(), (alive.size() + static_cast<std::size_t>(eta) - 1) / static_cast<std::size_t>(eta));
      std::vector<std::int64_t> next;
      for (std::size_t k = 0; k < keep; ++k) next.push_back(ranked[k].second);
      std::sort(next.begin(), next.end());
      for (std::int64_t t : next) promoted += std::to_string(t) + " ";
    }
    world.broadcast(promoted, 0);
    alive.clear();
    std::istringstream in(promoted);
    for (std::int64_t t; in >> t;) alive.push_back(t);
    if (alive.empty()) break;
  }
  return runner.tally;
}

const std::vector<std::string>& sweep_objectives() {
  static const std::vector<std::string> v = {"regret", "regret_p95", "learned", "auc_fold"};
  return v;
}

void check_objective(const std::string& objective) {
  const auto& v = sweep_objectives();
  if (std::find(v.begin(), v.end(), objective) == v.end())
    throw UsageError("--objective: '" + objective + "' is not regret, regret_p95, learned or auc_fold");
}

double objective_key(const TrialRecord& r, const std::string& objective) {
  if (r.status != "complete") return std::numeric_limits<double>::quiet_NaN();
  if (objective == "regret") return r.regret;
  if (objective == "regret_p95") return r.regret_p95;
  if (objective == "learned") return -r.learned;
  if (objective == "auc_fold") return -r.auc_fold;
  throw UsageError("--objective: '" + objective + "' is not regret, regret_p95, learned or auc_fold");
}

std::int64_t best_trial(const std::vector<TrialRecord>& records, const std::string& objective) {
  // With halving, only the last rung reached is compared: a lower rung's figure is from a
  // smaller budget.
  std::int64_t top_rung = 0;
  for (const TrialRecord& r : records)
    if (std::isfinite(objective_key(r, objective))) top_rung = std::max(top_rung, r.rung);
  std::int64_t best = -1;
  double best_key = 0;
  for (const TrialRecord& r : records) {
    const double k = objective_key(r, objective);
    if (!std::isfinite(k) || r.rung != top_rung) continue;
    if (best < 0 || k < best_key || (k == best_key && r.index < best)) best = r.index, best_key = k;
  }
  return best;
}

SweepSummary summarize_sweep(const SweepDirectory& sweep, const std::string& objective) {
  check_objective(objective);
  SweepSummary s;
  s.grid_text = read_all(sweep.path() + "/sweep.ini");
  s.grid_sha256 = sweep.grid_sha256();
  s.prepared_sha256 = sweep.prepared_sha256();
  s.varied = sweep.grid().varied();
  s.objective = objective;
  for (std::int64_t t = 0; t < sweep.grid().trials(); ++t) {
    const std::string p = sweep.trial_path(t);
    TrialRecord r;
    if (exists(p)) {
      r = read_trial_file(p);
      if (r.grid_sha256 != s.grid_sha256 || r.index != t)
        throw InputError(p + ": belongs to another grid or trial (index " + std::to_string(r.index) +
                         "); move it out of " + sweep.path());
    } else {
      r.index = t;
      r.status = "missing";
      r.parameters = sweep.grid().values(t);
    }
    s.trials.push_back(std::move(r));
  }
  s.best = best_trial(s.trials, objective);
  return s;
}

SweepTally total_over(const Communicator& world, const SweepTally& mine) {
  std::vector<std::int64_t> v = {mine.ran, mine.skipped, mine.failed, mine.episodes};
  world.sum_in_place(v);
  return SweepTally{v[0], v[1], v[2], v[3]};
}

}  // namespace reinforcer
