#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "reinforcer/cli/command.hpp"
#include "reinforcer/cli/text_writer.hpp"
#include "reinforcer/cli/train_settings.hpp"
#include "reinforcer/core/errors.hpp"
#include "reinforcer/parallel/mpi_guard.hpp"
#include "reinforcer/parallel/stop_signal.hpp"
#include "reinforcer/pipeline/sweep.hpp"

namespace reinforcer {
namespace {

std::string env_or(const char* name, const std::string& fallback = "") {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

RunPlace place_here() {
  RunPlace p;
  char host[256] = {0};
  if (::gethostname(host, sizeof host - 1) == 0) p.host = host;
  p.slurm_job_id = env_or("SLURM_JOB_ID");
  p.slurm_array_job_id = env_or("SLURM_ARRAY_JOB_ID");
  p.slurm_array_task_id = env_or("SLURM_ARRAY_TASK_ID");
  p.slurm_restart_count = std::atoll(env_or("SLURM_RESTART_COUNT", "0").c_str());
  return p;
}

void print_list(const SweepGrid& grid) {
  std::vector<std::string> header = {"trial"};
  for (const SweepParameter& p : grid.parameters()) header.push_back(p.key);
  std::vector<std::vector<std::string>> rows;
  for (std::int64_t t = 0; t < grid.trials(); ++t) {
    const OptionValues v = grid.values(t);
    std::vector<std::string> row = {std::to_string(t)};
    for (const SweepParameter& p : grid.parameters()) row.push_back(v.at(p.key));
    rows.push_back(row);
  }
  Writer(std::cout, false).table(header, rows);
}

// Task indices of trials, for --array=, when each task runs `per_task` trials.
std::vector<std::int64_t> tasks_of(const std::vector<std::int64_t>& trials, std::int64_t per_task) {
  std::vector<std::int64_t> out;
  for (std::int64_t t : trials) out.push_back(t / per_task);
  return out;
}

int print_status(const std::string& dir, std::int64_t per_task) {
  const SweepDirectory sweep = SweepDirectory::open(dir);
  const SweepDirectory::Status s = sweep.status();
  std::cout << dir << ": " << sweep.grid().trials() << " trials: " << s.complete.size() << " complete, "
            << s.failed.size() << " failed, " << s.missing.size() << " missing\n";
  std::cout << "failed: " << index_ranges(s.failed) << "\n";
  std::cout << "missing: " << index_ranges(s.missing) << "\n";
  std::vector<std::int64_t> redo = s.failed;
  redo.insert(redo.end(), s.missing.begin(), s.missing.end());
  std::cout << "rerun: " << index_ranges(redo) << "\n";
  if (per_task > 1) std::cout << "rerun tasks: " << index_ranges(tasks_of(redo, per_task)) << "\n";
  for (const auto& [t, e] : s.errors) std::cout << "trial " << t << ": " << e << "\n";
  return 0;
}

// Options, grid and trial indices: the same on every rank, checked before any rank waits for
// another, so a usage error there ends every rank cleanly with one message.
struct SweepPlan {
  SweepGrid grid;
  std::vector<std::int64_t> indices;  // array mode: this task's trials
  bool array_mode = false, list_only = false;
  int eta = 0, ranks_per_trial = 1, threads = 1;
  std::string objective;
};

SweepPlan plan_sweep(const Invocation& inv, const Communicator& world) {
  SweepPlan p;
  const std::string grid_path = inv.options.count("grid") ? inv.options["grid"].as<std::string>() : "";
  if (grid_path.empty()) throw UsageError("--grid GRID.ini is required (or --status SWEEP_DIR)");
  const std::int64_t random = int_option(inv, "random", 0, INT64_C(1) << 40);
  p.grid = SweepGrid::read(grid_path, random, inv.options["seed"].as<std::uint64_t>());
  p.list_only = inv.options["list"].as<bool>();
  if (p.list_only) return p;
  if (inv.input.empty()) throw UsageError("an INPUT prepared.h5 is required (usage: reinforcer sweep prepared.h5 --grid GRID.ini -o SWEEP_DIR)");
  if (inv.output.empty()) throw UsageError("-o SWEEP_DIR is required");
  p.objective = inv.options["objective"].as<std::string>();
  check_objective(p.objective);
  p.threads = static_cast<int>(int_option(inv, "threads", 1, 1024));
  p.ranks_per_trial = static_cast<int>(int_option(inv, "ranks-per-trial", 1, 1 << 20));
  p.eta = static_cast<int>(int_option(inv, "halving", 0, 1000));
  p.array_mode = inv.options.count("trial-index") > 0;
  const std::int64_t per_task = int_option(inv, "trials-per-task", 1, INT64_C(1) << 40);
  if (p.eta == 1) throw UsageError("--halving 1 keeps every trial; give ETA >= 2 (or 0 for no halving)");
  if (p.array_mode && p.eta) throw UsageError("--halving needs every trial in one job; it does not combine with --trial-index");
  if (world.size() % p.ranks_per_trial != 0)
    throw UsageError("--ranks-per-trial " + std::to_string(p.ranks_per_trial) + " does not divide the " +
                     std::to_string(world.size()) + " ranks; give a divisor of " + std::to_string(world.size()));
  if (p.array_mode) {
    const std::int64_t task = int_option(inv, "trial-index", 0, INT64_C(1) << 40);
    const std::int64_t tasks = (p.grid.trials() + per_task - 1) / per_task;
    if (task >= tasks)
      throw UsageError("--trial-index " + std::to_string(task) + " is out of range: " + std::to_string(p.grid.trials()) +
                       " trials" + (per_task > 1 ? " in tasks of " + std::to_string(per_task) : std::string()) +
                       " make indices 0.." + std::to_string(tasks - 1));
    for (std::int64_t t = task * per_task; t < std::min(p.grid.trials(), (task + 1) * per_task); ++t) p.indices.push_back(t);
  }
  return p;
}

int sweep(const Invocation& inv, const Communicator& world, const SweepPlan& plan) {
  const SweepGrid& grid = plan.grid;
  const auto& indices = plan.indices;
  const bool array_mode = plan.array_mode;
  const int eta = plan.eta, ranks_per_trial = plan.ranks_per_trial, threads = plan.threads;
  const std::string& objective = plan.objective;
  if (plan.list_only) {
    if (world.is_root()) print_list(grid);
    return 0;
  }
  const TrialInput input = read_trial_input(inv.input, world);
  // Before the directory: no trial of such data means anything (nor a fold AUC of a fold
  // without a subscriber, when that ranks the trials).
  require_learnable_input(input, objective == "auc_fold");
  // The root makes (or checks) the directory first; the others then check it.
  std::unique_ptr<SweepDirectory> dir;
  if (world.is_root()) dir = std::make_unique<SweepDirectory>(SweepDirectory::create_or_check(inv.output, grid, input.sha256));
  world.barrier();
  if (!world.is_root()) dir = std::make_unique<SweepDirectory>(SweepDirectory::create_or_check(inv.output, grid, input.sha256));
  install_stop_signal_handlers();
  SweepRun run;
  run.threads = threads;
  run.place = place_here();
  run.objective = objective;
  run.stop_requested = stop_signal_received;
  run.say = [](const std::string& line) { std::cout << line << std::endl; };
  run.warn = [](const std::string& line) { std::cerr << "reinforcer sweep: " << line << std::endl; };
  if (world.is_root())
    std::cout << "sweep of " << grid.trials() << " trials into " << inv.output << ": "
              << (array_mode ? "trials " + index_ranges(indices) + " on " + std::to_string(world.size()) + " ranks"
                             : std::to_string(world.size() / ranks_per_trial) + " groups of " +
                                   std::to_string(ranks_per_trial) + " ranks")
              << " x " << threads << " threads" << (eta ? ", successive halving by " + std::to_string(eta) : "")
              << std::endl;
  SweepTally mine;
  if (array_mode) mine = run_trials(*dir, input, indices, world, run);
  else if (eta) mine = run_halving(*dir, input, world, ranks_per_trial, eta, run);
  else mine = run_sweep_groups(*dir, input, world, ranks_per_trial, run);
  const SweepTally all = total_over(world, mine);
  if (!world.is_root()) return 0;
  const SweepDirectory::Status s = dir->status();
  std::cout << "this run: " << all.ran << " trials run (" << all.failed << " failed), " << all.skipped
            << " complete already; " << all.episodes << " episodes per worker trained\n"
            << "sweep: " << s.complete.size() << " complete, " << s.failed.size() << " failed"
            << (s.failed.empty() ? "" : " (" + index_ranges(s.failed) + ")") << ", " << s.missing.size() << " missing"
            << (s.missing.empty() ? "" : " (" + index_ranges(s.missing) + ")") << " of " << grid.trials() << "\n";
  if (s.missing.empty()) {
    const SweepSummary summary = summarize_sweep(*dir, objective);
    if (summary.best >= 0) {
      const TrialRecord& b = summary.trials[static_cast<std::size_t>(summary.best)];
      std::cout << "best by " << objective << ": trial " << b.index << " (regret " << fixed(100 * b.regret, 3) << "%";
      for (const std::string& k : summary.varied) std::cout << ", " << k << " " << b.parameters.at(k);
      std::cout << ")\n";
    }
  }
  std::cout << "merge with 'reinforcer merge " << inv.output << " -o sweep.h5'" << std::endl;
  return all.failed > 0 ? static_cast<int>(ExitCode::trials_failed) : 0;
}

int run_sweep(const Invocation& inv) {
  if (inv.options.count("status"))
    return print_status(inv.options["status"].as<std::string>(), int_option(inv, "trials-per-task", 1, INT64_C(1) << 40));
  return run_with_communicator(inv, [&](const Communicator& comm) {
    SweepPlan plan;
    try {
      plan = plan_sweep(inv, comm);
    } catch (const Error& e) {
      if (comm.size() == 1) throw;
      // The same on every rank: one message, and every rank ends cleanly.
      if (comm.is_root()) std::cerr << "reinforcer sweep: error: " << e.what() << std::endl;
      return static_cast<int>(e.code());
    }
    return sweep(inv, comm, plan);
  });
}

}  // namespace

CommandSpec sweep_command() {
  CommandSpec s;
  s.name = "sweep";
  s.summary = "run a grid of trials (any training option as a list) over MPI rank groups or SLURM array tasks";
  s.synopsis =
      "[mpirun -np R] reinforcer sweep prepared.h5 --grid GRID.ini -o SWEEP_DIR [--ranks-per-trial K] [--halving ETA]\n"
      "       reinforcer sweep prepared.h5 --grid GRID.ini -o SWEEP_DIR --trial-index I [--trials-per-task M]\n"
      "       reinforcer sweep --grid GRID.ini --list\n"
      "       reinforcer sweep --status SWEEP_DIR [--trials-per-task M]";
  s.description =
      "GRID.ini has one section, [grid], whose keys are train options and whose values are lists:\n"
      "  [grid]\n"
      "  omega = 0.5, 0.6, 0.8\n"
      "  features = \"cohort\", \"cohort,country\"   # quote a value that holds a comma\n"
      "  episodes = 100000                       # one value: the same in every trial\n"
      "  refits = 0\n"
      "A trial is one combination; trials are numbered with the last key varying fastest (--list\n"
      "prints them). Unlisted options take train's defaults. --random N samples N combinations.\n"
      "Each trial trains and judges the learned policy exactly as 'train' does and writes\n"
      "SWEEP_DIR/trial-NNNNNN.h5 atomically: complete (regret overall and per cohort, its 95th\n"
      "percentile, V*, V^pi, steps, wall time; the status-quo targeting AUC when the grid varies the\n"
      "model) or failed (with the error, printed at once). A re-run skips complete trials and retries\n"
      "failed ones; SIGTERM/SIGUSR1/Ctrl-C checkpoints the running trial (exit 75) and the next run resumes\n"
      "it. A directory that holds another grid is refused.\n"
      "Under mpirun the ranks form groups of --ranks-per-trial that take trials as they finish. With\n"
      "--trial-index (a SLURM array task) this process runs trials I*M .. I*M+M-1 on all its ranks.\n"
      "--halving ETA: successive halving -- every trial on episodes/ETA^(R-1), the best 1/ETA of each\n"
      "rung promoted to ETA times more, up to the grid's episodes. --status lists the failed and\n"
      "missing trials in --array= syntax. Then: reinforcer merge SWEEP_DIR -o sweep.h5.";
  s.input_optional = true;
  s.output_required = false;
  s.output_help = "the sweep directory (created if absent)";
  s.runs_under_mpi = true;
  s.add_options = [](po::options_description& d) {
    d.add_options()("grid", po::value<std::string>()->value_name("GRID.ini"), "the grid: a [grid] section of option = list")(
        "list", po::bool_switch(), "print the trials with their indices and exit")(
        "status", po::value<std::string>()->value_name("SWEEP_DIR"), "print complete / failed / missing trials of a sweep directory and exit")(
        "random", po::value<std::int64_t>()->default_value(0), "sample N distinct combinations of the grid (0: all)")(
        "seed", po::value<std::uint64_t>()->default_value(1), "seed of the --random sample")(
        "ranks-per-trial", po::value<int>()->default_value(1), "MPI ranks that train one trial together (must divide the ranks)")(
        "trial-index", po::value<std::int64_t>()->value_name("I"), "array mode: run the trials of task I (e.g. $SLURM_ARRAY_TASK_ID)")(
        "trials-per-task", po::value<std::int64_t>()->default_value(1), "array mode: trials per task")(
        "halving", po::value<int>()->default_value(0), "successive halving with this ETA (0: off)")(
        "objective", po::value<std::string>()->default_value("regret"), "what ranks trials: regret, regret_p95, learned or auc_fold")(
        "threads", po::value<int>()->default_value(default_threads()), "OpenMP threads (workers) per rank; default OMP_NUM_THREADS or 1");
  };
  s.run = run_sweep;
  return s;
}

}  // namespace reinforcer
