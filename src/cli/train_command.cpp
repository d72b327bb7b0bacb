#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>

#include "reinforcer/cli/command.hpp"
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
#include "reinforcer/rl/funnel_fit.hpp"

namespace reinforcer {
namespace {

struct Layout {
  int ranks = 1, threads = 1;
  std::int64_t workers() const { return static_cast<std::int64_t>(ranks) * threads; }
};

void print_dry_run(const FunnelFit& fit, const TrainSettings& s, const Layout& l, std::size_t states,
                   const std::vector<std::vector<std::uint32_t>>& shards) {
  std::size_t lo = SIZE_MAX, hi = 0;
  for (const auto& sh : shards) lo = std::min(lo, sh.size()), hi = std::max(hi, sh.size());
  const double per_state_worker = kQStride * (8.0 + 4.0);
  const double per_state_rank = kQStride * (8.0 * 4);
  const double mb = (static_cast<double>(states) * (per_state_worker * l.threads + per_state_rank)) / 1e6;
  // The fitted model and its exact DP (Q, values, policy) and the policy values judged after training.
  const double model_mb = (static_cast<double>(fit.model.memory_bytes()) +
                           static_cast<double>(fit.model.states()) * (kActions * 8.0 + 8 + 1 + 2 * 8.0)) / 1e6;
  std::cout << "environment " << s.environment << "; features " << s.features.text() << "; fitted on " << s.fit_on
            << " (" << with_thousands(static_cast<std::int64_t>(fit.fitting.size())) << " customers)\n"
            << "segments " << fit.model.segments() << "; states " << with_thousands(static_cast<std::int64_t>(states))
            << " x " << kActions << " actions\n"
            << "workers " << l.workers() << " = " << l.ranks << " ranks x " << l.threads << " threads; shard sizes on rank 0: "
            << lo << ".." << hi << " customers"
            << (s.environment == "funnel" ? "; " + fixed(100 * s.oversample, 1) + "% of episodes start at a subscriber's state\n"
                                          : " (subscribers replicated to every shard)\n")
            << "episodes " << with_thousands(s.schedule.episodes_per_worker) << " per worker in "
            << s.schedule.rounds() << " sync rounds of " << with_thousands(s.schedule.sync_every) << "\n"
            << "memory estimate per rank: " << fixed(mb + model_mb, 1) << " MB (Q-table copies and visit counts "
            << fixed(mb, 1) << " MB; fitted model and exact DP " << fixed(model_mb, 1)
            << " MB), on top of the customer table and the libraries\n";
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

void print_quality(const LearnerQuality& q, const FunnelFit& fit) {
  const double floor = 0.01 * fit.model.config().subscription_reward;
  std::cout << "The recommendation is the exact DP policy of the fitted funnel; the learned policy (Q-learning workers)\n"
               "is judged against it, exactly in the fitted model (no rollout noise), over the fitting customers' start states.\n"
               "regret = (V* - V) / max(|V*|, "
            << fixed(floor, 2) << "); p95 = 95th percentile of V*(s0) - V(s0), reward units:\n";
  std::vector<std::vector<std::string>> rows;
  for (const RegretRow& r : q.regret)
    rows.push_back({r.cohort, with_thousands(r.customers), fixed(r.optimum, 3), fixed(r.learned, 3),
                    fixed(100 * r.regret, 2) + "%", fixed(r.p95_start_regret, 3)});
  Writer(std::cout, false).table({"cohort", "n", "V* (DP)", "V learned", "regret", "p95 regret"}, rows);
  std::cout << "learned minus the best constant policy (always " << q.best_constant << ", V " << fixed(q.best_constant_value, 3)
            << "): " << signed_fixed(q.learned_minus_best_constant, 3) << " [" << signed_fixed(q.low95, 3) << ", "
            << signed_fixed(q.high95, 3) << "] (95% interval over " << q.refits << " paired bootstrap refits of the funnel)\n"
            << "Action success probabilities are assumptions (success.*), not data; the break-even table above does\n"
               "not depend on them.\n";
}

int train(const Invocation& inv, const Communicator& comm) {
  Provenance prov;
  prov.started_at = utc_now_iso8601();
  const TrainSettings s = train_settings(inv);
  const Layout layout{comm.size(), s.schedule.threads};
  ProgressLine progress(s.progress, comm.is_root());
  std::unique_ptr<AtomicOutput> out;
  if (comm.is_root() && !s.dry_run) out = std::make_unique<AtomicOutput>(inv.output);
  require_readable_file(inv.input);
  const Day export_date = read_prepared_export_date(inv.input);
  const CustomerTable table = read_prepared_customers(inv.input);
  const std::string input_sha = sha256_of_file(inv.input);
  HazardOptions hopt;
  hopt.export_date = export_date;
  hopt.shrinkage_strength = s.shrinkage;
  const FunnelFit fit = fit_funnel(table, select_fitting(table, s.fit_on), s.features, hopt, s.funnel,
                                   s.schedule.q.gamma);
  if (layout.workers() > static_cast<std::int64_t>(fit.fitting.size()))
    throw UsageError(std::to_string(layout.workers()) + " workers (" + std::to_string(layout.ranks) + " ranks x " +
                     std::to_string(layout.threads) + " threads) but only " + std::to_string(fit.fitting.size()) +
                     " fitting customers; use fewer ranks or --threads");
  const bool funnel = s.environment == "funnel";
  const auto shards = fitting_shards(table, fit, comm.rank() * layout.threads, layout.threads,
                                     static_cast<int>(layout.workers()), !funnel);
  ReplayEnvironment replay(fit.histories, fit.model.segments(), s.replay);
  FunnelEnvironment funnel_env(fit.model, fit.starts);
  const std::size_t states = funnel ? funnel_env.states() : replay.states();
  if (s.dry_run) {
    if (comm.is_root()) print_dry_run(fit, s, layout, states, shards);
    return 0;
  }
  const Fingerprint fingerprint = train_fingerprint(inv, layout.workers(), input_sha);
  TrainState state;
  if (s.resume) {
    state = read_checkpoint(s.checkpoint_path, fingerprint);
    if (state.q.size() != states * kQStride) throw InputError(s.checkpoint_path + ": Q-table size differs from this run's");
    if (comm.is_root()) progress.note("resuming from " + s.checkpoint_path + " after round " + std::to_string(state.rounds_done));
  }
  install_stop_signal_handlers();
  TrainHooks hooks;
  if (funnel) hooks.regret = [&](const TrainState& st) { return fit.regret_of(st.q, st.visits); };
  hooks.regret_every = static_cast<int>(std::max<std::int64_t>(1, s.schedule.rounds() / 50));
  hooks.stop_requested = stop_signal_received;
  const std::int64_t total_episodes = s.schedule.episodes_per_worker * layout.workers();
  hooks.progress = [&](const LearningCurveRow& row, std::int64_t total_rounds) {
    progress.round(row, total_rounds, total_episodes);
  };
  hooks.checkpoint = [&](const TrainState& st) {
    if (comm.is_root()) {
      write_checkpoint(s.checkpoint_path, st, fingerprint);
      progress.note("checkpoint written: " + s.checkpoint_path + " (round " + std::to_string(st.rounds_done) + ")");
    }
    comm.barrier();
  };
  if (funnel) {
    train_distributed(comm, funnel_env, funnel_shards(table, fit, shards, s.oversample), s.schedule, state, hooks);
  } else {
    std::vector<ReplayShard> rs;
    for (const auto& sh : shards) rs.push_back(replay.make_shard(sh));
    train_distributed(comm, replay, rs, s.schedule, state, hooks);
  }
  progress.finish();
  LearnerQuality quality;  // every rank: the refits are shared among them
  if (funnel)
    quality = judge_learned_policy(table, fit, hopt, learned_policy(state.q, state.visits, kQStride), s.refits,
                                   s.schedule.seed, comm, s.schedule.threads);
  if (!comm.is_root()) return 0;
  const double dp = fit.dp_start_value();
  std::vector<std::uint8_t> start_cohort;
  for (Cohort c : fit.cohorts) start_cohort.push_back(static_cast<std::uint8_t>(c));
  const std::vector<BreakEvenRow> break_even =
      funnel ? break_even_table(fit.model, fit.gamma, fit.starts, start_cohort) : std::vector<BreakEvenRow>{};
  RunContents run;
  run.quality = funnel ? &quality : nullptr;
  run.break_even = &break_even;
  run.prepared_path = inv.input;
  run.environment = s.environment;
  run.steps_per_episode = funnel ? s.funnel.horizon_weeks : s.replay.max_steps;
  run.fit = &fit;
  run.state = &state;
  run.text_attributes = {{"environment", s.environment}, {"features", s.features.text()}, {"fit_on", s.fit_on},
                         {"prepared_sha256", input_sha}, {"export_date", format_day(export_date)}};
  run.int_attributes = {{"seed", static_cast<std::int64_t>(s.schedule.seed)}, {"ranks", layout.ranks},
                        {"threads", layout.threads}, {"workers", layout.workers()},
                        {"episodes_per_worker", s.schedule.episodes_per_worker}, {"sync_every", s.schedule.sync_every},
                        {"rounds", state.rounds_done}, {"interleave", s.schedule.q.interleave},
                        {"fitting_customers", static_cast<std::int64_t>(fit.fitting.size())}};
  run.int_attributes["refits"] = s.refits;
  run.double_attributes = {{"dp_start_value", dp}, {"oversample", s.oversample}};
  if (funnel) {
    run.double_attributes["learned_start_value"] = quality.regret.front().learned;
    run.double_attributes["regret"] = quality.regret.front().regret;
  }
  prov.command_line = inv.command_line;
  prov.config_text = inv.config_text;
  prov.input_path = inv.input;
  prov.input_sha256 = input_sha;
  write_run_file(out->temp_path(), run, prov);
  out->commit();
  const double secs = state.curve.empty() ? 0 : state.curve.back().wall_seconds;
  std::cout << "trained " << with_thousands(s.schedule.episodes_per_worker) << " episodes per worker x "
            << layout.workers() << " workers (" << layout.ranks << " ranks x " << layout.threads << " threads), "
            << state.rounds_done << " sync rounds, " << fixed(secs) << " s\n";
  if (funnel) {
    print_break_even(break_even);
    print_quality(quality, fit);
  }
  std::cout << "wrote " << inv.output << std::endl;
  return 0;
}

int run_train(const Invocation& inv) {
  if (!launched_under_mpi()) return train(inv, local_communicator());
  int argc = 0;
  char** argv = nullptr;
  MpiGuard guard(argc, argv);
  const Communicator comm = mpi_world_communicator();
  try {
    return train(inv, comm);
  } catch (const Interrupted& e) {  // a collective decision: every rank stops here
    if (comm.is_root()) std::cerr << "reinforcer train: " << e.what() << std::endl;
    return static_cast<int>(e.code());
  } catch (const Error& e) {
    if (comm.size() == 1) throw;
    std::cerr << "reinforcer train: error" << (comm.is_root() ? "" : " (rank " + std::to_string(comm.rank()) + ")")
              << ": " << e.what() << std::endl;
    MpiGuard::abort(static_cast<int>(e.code()));
  }
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
      "same seed and worker count give the same Q-table whatever the layout). Prints the learned\n"
      "policy's regret to the DP optimum overall and per cohort. What an action does is an\n"
      "assumption (success.*: its chance to reach its milestone that week, beyond the status quo).\n"
      "SIGTERM or SIGUSR1 writes a checkpoint and exits 75; --resume continues. Writes run.h5\n"
      "(schema in docs/HDF5_SCHEMA.md).";
  s.add_options = add_train_options;
  s.run = run_train;
  s.explain_unknown = [](const std::string& key) -> std::string {
    for (const std::string prefix : {"cost.", "success."})
      if (key.rfind(prefix, 0) == 0)
        return "unknown action '" + key.substr(prefix.size()) + "' in '" + key + "' (actions: " + action_list() +
               (prefix == "success." ? "; wait has no success: it is the status quo" : "") + ")";
    if (key.rfind("effect.", 0) == 0)
      return "'" + key + "': effect multipliers were replaced by success.<action> probabilities (see --help)";
    return "";
  };
  return s;
}

}  // namespace reinforcer
