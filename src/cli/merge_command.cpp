#include <iostream>

#include "reinforcer/cli/command.hpp"
#include "reinforcer/cli/text_writer.hpp"
#include "reinforcer/core/atomic_output.hpp"
#include "reinforcer/core/errors.hpp"
#include "reinforcer/pipeline/sweep.hpp"

namespace reinforcer {
namespace {

int run_merge(const Invocation& inv) {
  Provenance prov;
  prov.started_at = utc_now_iso8601();
  const std::string objective = inv.options["objective"].as<std::string>();
  check_objective(objective);
  require_writable_destination(inv.output);
  // Merging changes nothing in SWEEP_DIR: an output there could replace a trial file (merge
  // sw -o sw/trial-000000.h5 did) or pose as one to the next sweep.
  const auto slash = inv.output.find_last_of('/');
  const std::string output_dir = slash == std::string::npos ? "." : slash == 0 ? "/" : inv.output.substr(0, slash);
  if (same_file(output_dir, inv.input))
    throw UsageError("-o " + inv.output + " is inside the sweep directory " + inv.input +
                     ", which merge reads and leaves unchanged; write it elsewhere (e.g. -o sweep.h5)");
  const SweepDirectory sweep = SweepDirectory::open(inv.input);
  const SweepSummary summary = summarize_sweep(sweep, objective);
  prov.command_line = inv.command_line;
  prov.config_text = inv.config_text;
  prov.input_path = inv.input;
  prov.input_sha256 = sweep.prepared_sha256();
  write_sweep_file(inv.output, summary, prov);
  std::vector<std::int64_t> failed, missing;
  for (const TrialRecord& r : summary.trials) {
    if (r.status == "failed") failed.push_back(r.index);
    if (r.status == "missing") missing.push_back(r.index);
  }
  const std::size_t n = summary.trials.size();
  std::cout << "merged " << inv.input << ": " << n << " trials, " << n - failed.size() - missing.size()
            << " complete, " << failed.size() << " failed" << (failed.empty() ? "" : " (" + index_ranges(failed) + ")")
            << ", " << missing.size() << " missing" << (missing.empty() ? "" : " (" + index_ranges(missing) + ")") << "\n";
  if (summary.best >= 0) {
    const TrialRecord& b = summary.trials[static_cast<std::size_t>(summary.best)];
    std::cout << "best by " << objective << ": trial " << b.index << ", regret " << fixed(100 * b.regret, 3)
              << "% (p95 " << fixed(b.regret_p95, 3) << "), V* " << fixed(b.optimum, 3) << ", V learned "
              << fixed(b.learned, 3);
    for (const std::string& k : summary.varied) std::cout << "; " << k << " " << b.parameters.at(k);
    std::cout << "\n";
  }
  std::cout << "wrote " << inv.output << " (pandas: reinforcer_analysis.load_sweep)" << std::endl;
  return 0;
}

}  // namespace

CommandSpec merge_command() {
  CommandSpec s;
  s.name = "merge";
  s.summary = "merge a sweep directory's trial files into one sweep.h5 (/trials table, best, failed, missing)";
  s.synopsis = "reinforcer merge SWEEP_DIR -o sweep.h5 [--objective regret]";
  s.description =
      "Reads every trial file of the sweep directory and writes sweep.h5: /trials, a row per trial of\n"
      "the grid (index, every varied parameter, every metric, status, error, wall time, host, SLURM\n"
      "ids; a trial without a file has status missing), /regret_by_cohort, /best (the trial ranked\n"
      "first by --objective), and /failed and /missing (trial indices). The tables depend only on the\n"
      "trial files: merging twice gives the same tables. Nothing in SWEEP_DIR is changed.";
  s.add_options = [](po::options_description& d) {
    d.add_options()("objective", po::value<std::string>()->default_value("regret"),
                    "what ranks trials: regret, regret_p95, learned or auc_fold");
  };
  s.run = run_merge;
  return s;
}

}  // namespace reinforcer
