#include <omp.h>

#include <iostream>
#include <memory>

#include "reinforcer/cli/command.hpp"
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
  if (comm.is_root())
    std::cerr << "evaluating " << inv.input << ": " << (s.split == "cv" ? "cross-validation" : s.split + " split") << ", "
              << s.bootstrap << " bootstrap refits, " << comm.size() << " ranks x " << s.threads << " threads ..." << std::endl;
  const EvaluationResult result = evaluate(run.table, run.learned, s, comm);
  if (!comm.is_root()) return 0;
  prov.command_line = inv.command_line;
  prov.config_text = inv.config_text;
  prov.input_path = inv.input;
  prov.input_sha256 = sha256_of_file(inv.input);
  write_evaluated_file(out->temp_path(), inv.input, result, s, prov);
  out->commit();
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
  s.synopsis = "[mpirun -np R] reinforcer evaluate run.h5 [-o evaluated.h5] [--bootstrap B] [--split val|test]";
  s.description =
      "Cross-validation over the folds prepare made (or the temporal val/test split): for each fold,\n"
      "fits the funnel on the other folds, trains Q-learning and scores the held-out customers;\n"
      "targeting (AUC, lift and share captured at 5-30%) against a shrunk segment-rate scorer, a\n"
      "cohort-only scorer and random, with bootstrap intervals, overall and per cohort; the learned\n"
      "policy against the optimum, random, always-wait, always-message, a textbook sequence and the\n"
      "historical process, each with intervals from B bootstrap refits of the model and paired\n"
      "differences; calibration of the simulator on held-out customers; sensitivity to the\n"
      "assumed action success probabilities and reward; action impact; descriptive tables; the call list. Without -o the\n"
      "input is replaced (atomically). Tasks run over ranks and threads.";
  s.output_required = false;
  s.output_help = "output file (default: replace the input, atomically)";
  s.runs_under_mpi = true;
  s.add_options = [](po::options_description& d) {
    d.add_options()("bootstrap", po::value<std::int64_t>()->default_value(200), "bootstrap refits (10..100000)")(
        "split", po::value<std::string>()->default_value("cv"), "cv (cross-validation over the folds), val or test")(
        "seed", po::value<std::uint64_t>()->default_value(1), "seed of the bootstrap and the fold training")(
        "threads", po::value<int>()->default_value(omp_get_max_threads()), "threads per rank (default: all cores)")(
        "min-segment-size", po::value<std::int64_t>()->default_value(30), "smallest segment that is ranked");
  };
  s.run = run_evaluate;
  return s;
}

}  // namespace reinforcer
