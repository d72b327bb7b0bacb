#include <cmath>
#include <cstdio>
#include <iostream>
#include <unistd.h>
#include <memory>

#include "reinforcer/cli/command.hpp"
#include "reinforcer/cli/learned_report.hpp"
#include "reinforcer/cli/progress_line.hpp"
#include "reinforcer/cli/text_writer.hpp"
#include "reinforcer/cli/train_settings.hpp"
#include "reinforcer/data/quality_report_text.hpp"
#include "reinforcer/data/raw_table.hpp"
#include "reinforcer/core/errors.hpp"
#include "reinforcer/eval/break_even.hpp"
#include "reinforcer/eval/learner_quality.hpp"
#include "reinforcer/core/atomic_output.hpp"
#include "reinforcer/h5/hdf5.hpp"
#include "reinforcer/results/prepared_file.hpp"
#include "reinforcer/results/run_file.hpp"
#include "reinforcer/core/sha256.hpp"
#include "reinforcer/parallel/mpi_guard.hpp"
#include "reinforcer/parallel/stop_signal.hpp"
#include "reinforcer/pipeline/trial.hpp"
#include "reinforcer/rl/funnel_fit.hpp"
#include "reinforcer/stats/bootstrap.hpp"

namespace reinforcer {
namespace {

struct Layout {
  int ranks = 1, threads = 1;
  std::int64_t workers() const { return static_cast<std::int64_t>(ranks) * threads; }
};

// The plan, from what the options and the data imply without fitting: the hazards, the model
// and its DP are what the run would spend its first seconds on.
void print_dry_run(const FunnelPlan& plan, std::size_t customers, const TrainSettings& s, const Layout& l, std::size_t states,
                   const std::vector<std::vector<std::uint32_t>>& shards) {
  std::size_t lo = SIZE_MAX, hi = 0;
  for (const auto& sh : shards) lo = std::min(lo, sh.size()), hi = std::max(hi, sh.size());
  const TrialMemory m = estimate_trial_memory(s.trial, customers, plan.segments, l.ranks, l.threads);
  auto mb = [](double bytes) { return fixed(bytes / 1e6, 1) + " MB"; };
  const TrialConfig& c = s.trial;
  std::cout << "environment " << c.environment << "; features " << c.features.text() << "; fitted on " << c.fit_on
            << " (" << with_thousands(static_cast<std::int64_t>(plan.fitting.size())) << " customers)\n"
            << "segments " << plan.segments << "; states " << with_thousands(static_cast<std::int64_t>(states))
            << " x " << kActions << " actions\n"
            << "workers " << l.workers() << " = " << l.ranks << " ranks x " << l.threads << " threads; shard sizes on rank 0: "
            << lo << ".." << hi << " customers"
            << (c.environment == "funnel" ? "; " + fixed(100 * c.oversample, 1) + "% of episodes start at a subscriber's state\n"
                                          : " (subscribers replicated to every shard)\n")
            << "episodes " << with_thousands(c.schedule.episodes_per_worker) << " per worker in "
            << c.schedule.rounds() << " sync rounds of " << with_thousands(c.schedule.sync_every) << "\n"
            << "memory estimate per rank (peak): " << mb(m.peak()) << " = process " << mb(m.process) << " + customers "
            << mb(m.customers) << " + fitted model and exact DP " << mb(m.model) << " + Q-table and visits "
            << mb(m.shared) << "\n  + the larger of training (" << l.threads << " workers' row copies " << mb(m.workers)
            << " + sync " << mb(m.sync) << ") and judging " << mb(m.judging) << " (" << c.refits << " refits, "
            << std::min<std::int64_t>(judging_threads(l.threads), std::max(0, c.refits)) << " at a time) + writing "
            << mb(m.writing) << "\n";
}



// The break-even answers, which do not depend on the assumed success probabilities.
void print_break_even(const std::vector<BreakEvenRow>& rows) {
  std::cout << "Break-even (week 0, act now then wait; stages holding >= " << kBreakEvenMinCustomers
            << " fitting customers): the success\nprobability s* above which the action pays, the reward R* at which "
               "it pays at the assumed s,\nand the customers per arm of a randomised test (alpha 0.05, power 80%) "
               "detecting s*:\n";
  Writer w(std::cout, false);
  write_break_even_table(w, rows);
}

void print_quality(const LearnerQuality& q, const FunnelFit& fit, const std::string& agent) {
  const double floor = 0.01 * fit.model.config().subscription_reward;
  std::cout << "The recommendation is the exact DP policy of the fitted funnel; the learned policy ("
            << (agent == "dqn" ? "the DQN's greedy policy" : "Q-learning workers") << ")\n"
               "is judged against it, exactly in the fitted model (no rollout noise), over the fitting customers' start states.\n"
               "regret = (V* - V) / max(|V*|, "
            << fixed(floor, 2) << "); p95 = 95th percentile of V*(s0) - V(s0), reward units:\n";
  std::vector<std::vector<std::string>> rows;
  for (const RegretRow& r : q.regret)
    rows.push_back({r.cohort, with_thousands(r.customers), fixed(r.optimum, 3), fixed(r.learned, 3),
                    fixed(100 * r.regret, 2) + "%", std::isnan(r.regret_low95) ? std::string("-") : refit_interval_text(r.regret_low95, r.regret_high95, q.refits, true),
                    fixed(r.p95_start_regret, 3)});
  Writer(std::cout, false).table({"cohort", "n", "V* (DP)", "V learned", "regret", "95% refit interval", "p95 regret"}, rows);
  std::cout << "learned minus the best constant policy (always " << q.best_constant << ", V " << fixed(q.best_constant_value, 3)
            << "): " << signed_fixed(q.learned_minus_best_constant, 3)
            << (enough_replicates_for_95(q.refits)
                    ? " [" + signed_fixed(q.low95, 3) + ", " + signed_fixed(q.high95, 3) + "] (95% interval over " +
                          std::to_string(q.refits) + " paired bootstrap refits of the funnel)"
                    : " " + refit_interval_text(q.low95, q.high95, q.refits, false))
            << "\n"
            << "Action success probabilities are assumptions (success.*), not data; the break-even table above does\n"
               "not depend on them.\n";
}

int train(const Invocation& inv, const Communicator& comm) {
  Provenance prov;
  prov.started_at = utc_now_iso8601();
  const TrainSettings s = train_settings(inv);
  const TrialConfig& c = s.trial;
  const Layout layout{comm.size(), s.threads};
  ProgressLine progress(s.progress, comm.is_root());
  std::unique_ptr<AtomicOutput> out;
  if (comm.is_root() && !s.dry_run) out = std::make_unique<AtomicOutput>(inv.output);
  // From here a stop signal is a request the run answers with a checkpoint (at its first sync
  // round), even while it still reads and fits: Ctrl-C during the fit used to kill it.
  install_stop_signal_handlers();
  const TrialInput input = read_trial_input(inv.input, comm);
  resolve_feature_mask(c.features, attribute_names(input.table), "--features");  // a clear error before any work
  if (s.dry_run) {
    const FunnelPlan plan = plan_trial_model(c, input);
    if (layout.workers() > static_cast<std::int64_t>(plan.fitting.size()))
      throw UsageError(std::to_string(layout.workers()) + " workers but only " + std::to_string(plan.fitting.size()) +
                       " fitting customers; use fewer ranks or --threads");
    const bool funnel = c.environment == "funnel";
    const auto shards = fitting_shards(input.table, plan.fitting, comm.rank() * layout.threads, layout.threads,
                                       static_cast<int>(layout.workers()), !funnel);
    // The environments' state counts: (segment, week, progress) and (segment, step, progress).
    const std::size_t states = plan.segments * kProgressStates *
                               static_cast<std::size_t>(funnel ? c.funnel.horizon_weeks : c.replay.max_steps);
    if (comm.is_root()) print_dry_run(plan, input.table.customers.size(), s, layout, states, shards);
    return 0;
  }
  // Two runs on one checkpoint would resume from each other's rounds: one run holds it.
  std::unique_ptr<OutputLock> checkpoint_lock;
  if (comm.is_root() && !s.checkpoint_path.empty()) checkpoint_lock = std::make_unique<OutputLock>(s.checkpoint_path);
  const std::shared_ptr<const FunnelFit> fit = fit_trial_model(c, input);
  TrialRun run;
  run.threads = s.threads;
  run.checkpoint_every = s.checkpoint_every;
  run.checkpoint_path = s.checkpoint_path;
  run.resume = s.resume;
  run.stop_requested = stop_signal_received;
  run.note = [&](const std::string& text) { progress.note(text); };
  run.progress = [&](const LearningCurveRow& row, std::int64_t total_rounds, std::int64_t total_episodes) {
    progress.round(row, total_rounds, total_episodes);
  };
  const TrialResult result = run_trial(c, input, fit, comm, run);
  progress.finish();
  if (!comm.is_root()) return 0;
  const RunContents contents = run_contents(c, input, result, layout.ranks, layout.threads);
  for (const std::string& w : contents.warnings) std::cerr << "reinforcer train: warning: " << w << std::endl;
  prov.command_line = inv.command_line;
  prov.config_text = inv.config_text;
  prov.input_path = inv.input;
  prov.input_sha256 = input.sha256;
  write_run_file(out->temp_path(), contents, prov);
  out->commit();
  // The run file now holds everything the checkpoint did; a stale one would only invite a
  // --resume of a finished run.
  if (!s.checkpoint_path.empty()) ::unlink(s.checkpoint_path.c_str());
  const TrainState& state = result.state;
  const double secs = state.curve.empty() ? 0 : state.curve.back().wall_seconds;
  if (c.agent == "dqn") {
    const DqnCurveRow* last = result.dqn.curve.empty() ? nullptr : &result.dqn.curve.back();
    std::cout << "trained a DQN (" << dqn_layers_text(result.dqn.layer_sizes) << ") for " << with_thousands(c.dqn.steps) << " steps per worker x " << layout.workers()
              << " workers (" << layout.ranks << " ranks x " << layout.threads << " threads), "
              << with_thousands(last ? last->gradient_steps : 0) << " gradient steps (each summing every worker's batch), "
              << fixed(result.train_seconds) << " s\n";
  } else {
    std::cout << "trained " << with_thousands(c.schedule.episodes_per_worker) << " episodes per worker x "
              << layout.workers() << " workers (" << layout.ranks << " ranks x " << layout.threads << " threads), "
              << state.rounds_done << " sync rounds, " << fixed(secs) << " s\n";
  }
  if (c.environment == "funnel") {
    print_break_even(result.break_even);
    print_quality(result.quality, *fit, c.agent);
  }
  std::cout << "wrote " << inv.output << std::endl;
  return 0;
}

int run_train(const Invocation& inv) {
  return run_with_communicator(inv, [&](const Communicator& comm) { return train(inv, comm); });
}

}  // namespace

CommandSpec train_command() {
  CommandSpec s;
  s.name = "train";
  s.summary = "learn which actions lead to subscriptions: distributed Q-learning on the fitted funnel";
  s.synopsis = "[mpirun -np R] reinforcer train prepared.h5 -o run.h5 [options]";
  s.description =
      "Fits the weekly funnel (competing-risks hazards per segment and progress, censored at the\n"
      "export date, shrunk toward the parent segment) on the --fit-on customers, solves it exactly\n"
      "by dynamic programming (the referee), and trains tabular Q-learning workers (ranks x threads)\n"
      "that average their Q-tables every --sync-every episodes (visit-weighted, in fixed point: the\n"
      "same seed and worker count give the same Q-table whatever the layout) -- or, with --agent dqn,\n"
      "a deep Q-network on the funnel's features whose gradients are summed over every worker each\n"
      "step (docs/DQN.md). Prints the learned policy's regret to the DP optimum overall and per\n"
      "cohort. What an action does is an assumption (success.*: its chance to reach its milestone\n"
      "that week, beyond the status quo).\n"
      "SIGTERM, SIGUSR1 or Ctrl-C writes a checkpoint and exits 75; --resume continues. Writes run.h5\n"
      "(schema in docs/HDF5_SCHEMA.md).";
  s.runs_under_mpi = true;
  s.add_options = add_train_options;
  s.run = run_train;
  s.explain_unknown = explain_unknown_trial_option;
  return s;
}

}  // namespace reinforcer
