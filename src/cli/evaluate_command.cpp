#include <omp.h>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>

#include "reinforcer/cli/command.hpp"
#include "reinforcer/cli/progress_line.hpp"
#include "reinforcer/parallel/stop_signal.hpp"
#include "reinforcer/results/evaluation_checkpoint.hpp"
#include "reinforcer/pipeline/trial.hpp"
#include "reinforcer/data/quality_report_text.hpp"
#include "reinforcer/data/raw_table.hpp"
#include "reinforcer/core/errors.hpp"
#include "reinforcer/eval/evaluation.hpp"
#include "reinforcer/core/atomic_output.hpp"
#include "reinforcer/results/evaluation_file.hpp"
#include "reinforcer/results/prepared_file.hpp"
#include "reinforcer/results/run_file.hpp"
#include "reinforcer/core/sha256.hpp"
#include "reinforcer/parallel/mpi_guard.hpp"

namespace reinforcer {
namespace {

int evaluate_run(const Invocation& inv, const Communicator& comm) {
  Provenance prov;
  prov.started_at = utc_now_iso8601();
  const std::string output = inv.output.empty() ? inv.input : inv.output;
  std::unique_ptr<AtomicOutput> out;
  if (comm.is_root()) out = std::make_unique<AtomicOutput>(output);
  install_stop_signal_handlers();  // a stop while reading is answered at the first task boundary
  require_readable_file(inv.input);
  const StoredRun run = read_run_file(inv.input);
  const TrialConfig trained = stored_trial_config(run);
  if (trained.environment != "funnel")
    throw InputError(inv.input + ": evaluate compares policies in the fitted funnel; this run trained on the " +
                     trained.environment + " environment (train with --env funnel)");
  EvaluationSettings s = evaluation_settings_of(trained, run.export_date);
  s.episodes = run.episodes_per_worker * run.workers;
  s.bootstrap = static_cast<int>(int_option(inv, "bootstrap", 10, 100000));
  s.seed = inv.options["seed"].as<std::uint64_t>();
  s.split = inv.options["split"].as<std::string>();
  if (s.split != "cv" && s.split != "val" && s.split != "test")
    throw UsageError("--split: '" + s.split + "' is not cv, val or test");
  s.threads = static_cast<int>(int_option(inv, "threads", 1, 1024));
  s.min_segment_size = int_option(inv, "min-segment-size", 1, 1000000);
  s.source = inv.input;
  const std::string progress_mode = progress_option(inv);
  const std::string checkpoint = inv.options.count("checkpoint") ? inv.options["checkpoint"].as<std::string>()
                                                                 : output + ".checkpoint.h5";
  const std::string input_sha256 = sha256_of_file(inv.input);
  // Everything the tasks' results depend on; ranks and threads only share them out.
  const Fingerprint fingerprint = {{"input_sha256", input_sha256},
                                   {"bootstrap", std::to_string(s.bootstrap)},
                                   {"seed", std::to_string(s.seed)},
                                   {"split", s.split},
                                   {"min_segment_size", std::to_string(s.min_segment_size)}};
  ProgressLine progress(progress_mode, comm.is_root());
  EvaluationRun hooks;
  if (inv.options["resume"].as<bool>()) {
    hooks.finished = read_evaluation_checkpoint(checkpoint, fingerprint, -1, comm.is_root());
    progress.note("resuming from " + checkpoint + ": " + std::to_string(hooks.finished.size()) + " tasks already finished");
  }
  hooks.stop_requested = stop_signal_received;
  // The refits' scores wait beside the output, or where --scratch-dir says (a node-local disk).
  hooks.scratch_directory = inv.options.count("scratch-dir") ? inv.options["scratch-dir"].as<std::string>() : directory_of(output);
  if (hooks.scratch_directory.empty())
    throw UsageError("--scratch-dir: give a directory (the default is the output's directory)");
  hooks.checkpoint = [&](const FinishedTasks& finished, std::int64_t tasks) {
    write_evaluation_checkpoint(checkpoint, finished, tasks, fingerprint);
    // The hint goes with the line that says the checkpoint exists: under mpirun a signal's job
    // may be killed before the ranks' last message.
    progress.note("checkpoint written: " + checkpoint + " (" + std::to_string(finished.size()) + " of " +
                  std::to_string(tasks) + " tasks finished); continue with --resume");
  };
  bool first_refit_shown = false;
  hooks.progress = [&](const EvaluationProgress& p) {
    // The first refit's line comes at once (it gives the rate), then one every few seconds.
    const bool first_refit = !first_refit_shown && p.refits_done > 0;
    first_refit_shown = first_refit_shown || first_refit;
    const double eta = p.seconds / static_cast<double>(p.tasks_done) * static_cast<double>(p.tasks - p.tasks_done);
    const std::string who = p.ranks > 1 ? "rank 0 of " + std::to_string(p.ranks) + ": " : "";
    char line[160];
    std::snprintf(line, sizeof line, "refit %lld/%lld, task %lld/%lld, %.1f s elapsed, ETA %.0f s",
                  static_cast<long long>(p.refits_done), static_cast<long long>(p.refits),
                  static_cast<long long>(p.tasks_done), static_cast<long long>(p.tasks), p.seconds, std::ceil(eta));
    progress.status(who + line, first_refit || p.tasks_done == p.tasks);
  };
  if (comm.is_root())
    std::cerr << "evaluating " << inv.input << ": " << (s.split == "cv" ? "cross-validation" : s.split + " split") << ", "
              << s.bootstrap << " bootstrap refits, " << comm.size() << " ranks x " << s.threads << " threads ..." << std::endl;
  const EvaluationResult result = evaluate(run.table, run.learned_policy, s, comm, hooks);
  progress.finish();
  if (!comm.is_root()) return 0;
  prov.command_line = inv.command_line;
  prov.config_text = inv.config_text;
  prov.input_path = inv.input;
  prov.input_sha256 = input_sha256;
  write_evaluated_file(out->temp_path(), inv.input, result, s, prov);
  out->commit();
  for (const std::string& w : result.warnings) std::cerr << "reinforcer evaluate: warning: " << w << std::endl;
  ::unlink(checkpoint.c_str());  // the result holds everything the checkpoint did
  std::cout << "wrote " << output << ": " << result.scores.size() << " customers scored out of fold in " << result.folds
            << (result.folds == 1 ? " split" : " folds") << "; " << result.call_list.size()
            << " open leads on the call list; read it with 'reinforcer report " << output << "'" << std::endl;
  return 0;
}

int run_evaluate(const Invocation& inv) {
  return run_with_communicator(inv, [&](const Communicator& comm) { return evaluate_run(inv, comm); });
}

}  // namespace

CommandSpec evaluate_command() {
  CommandSpec s;
  s.name = "evaluate";
  s.summary = "cross-validated targeting, policies vs baselines with bootstrap intervals, calibration";
  s.synopsis = "[mpirun -np R] reinforcer evaluate run.h5 [-o evaluated.h5] [--bootstrap B] [--split val|test] [--resume]";
  s.description =
      "Cross-validation over the folds prepare made (or the temporal val/test split): for each fold,\n"
      "fits the funnel on the other folds, trains Q-learning and scores the held-out customers;\n"
      "targeting (AUC, lift and share captured at 5-30%) against a shrunk segment-rate scorer, a\n"
      "cohort-only scorer and random, with bootstrap intervals, overall and per cohort; the learned\n"
      "policy against the optimum, random, always-wait, always-message, a textbook sequence and the\n"
      "historical process, each with intervals from B bootstrap refits of the model and paired\n"
      "differences; calibration of the simulator on held-out customers; sensitivity to the\n"
      "assumed action success probabilities and reward; action impact; descriptive tables; the call list. Without -o the\n"
      "input is replaced (atomically). Tasks run over ranks and threads. SIGTERM, SIGUSR1 or Ctrl-C lets the\n"
      "running tasks finish, writes the finished ones to a checkpoint and exits 75; the same command\n"
      "with --resume skips them and gives the same result; the checkpoint is removed on success.\n"
      "Until they are written, the call list's refit scores (16 bytes per lead and refit: 0.76 GB at\n"
      "1M customers and 50 refits) wait on disk in scratch files in the output's directory, or in\n"
      "--scratch-dir (each rank its own; a rank-local disk serves well), without a name, so nothing\n"
      "is left behind; a directory with less free space than they may take is refused up front.";
  s.output_required = false;
  s.output_help = "output file (default: replace the input, atomically)";
  s.runs_under_mpi = true;
  s.add_options = [](po::options_description& d) {
    d.add_options()("bootstrap", po::value<std::int64_t>()->default_value(200), "bootstrap refits (10..100000)")(
        "split", po::value<std::string>()->default_value("cv"), "cv (cross-validation over the folds), val or test")(
        "seed", po::value<std::uint64_t>()->default_value(1), "seed of the bootstrap and the fold training")(
        "threads", po::value<int>()->default_value(omp_get_max_threads()), "threads per rank (default: all cores)")(
        "min-segment-size", po::value<std::int64_t>()->default_value(30), "smallest segment that is ranked")(
        "checkpoint", po::value<std::string>()->value_name("PATH"), "checkpoint file (default: OUTPUT.checkpoint.h5)")(
        "scratch-dir", po::value<std::string>()->value_name("DIR"),
        "where the refits' scores wait until written (default: the output's directory)")(
        "resume", po::bool_switch(), "continue from the checkpoint, skipping its finished tasks");
    add_progress_option(d);
  };
  s.run = run_evaluate;
  return s;
}

}  // namespace reinforcer
