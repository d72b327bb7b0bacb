#include <cstdio>
#include <iostream>
#include <memory>

#include "reinforcer/cli/command.hpp"
#include "reinforcer/cli/progress_line.hpp"
#include "reinforcer/cli/train_settings.hpp"
#include "reinforcer/data/quality_report_text.hpp"
#include "reinforcer/data/raw_table.hpp"
#include "reinforcer/errors.hpp"
#include "reinforcer/io/atomic_output.hpp"
#include "reinforcer/io/hdf5.hpp"
#include "reinforcer/io/prepared_file.hpp"
#include "reinforcer/io/run_file.hpp"
#include "reinforcer/io/sha256.hpp"
#include "reinforcer/parallel/mpi_guard.hpp"
#include "reinforcer/parallel/sharding.hpp"
#include "reinforcer/parallel/stop_signal.hpp"
#include "reinforcer/rl/funnel_fit.hpp"

namespace reinforcer {
namespace {

std::string fixed(double v, int digits = 2) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

struct Layout {
  int ranks = 1, threads = 1;
  std::int64_t workers() const { return static_cast<std::int64_t>(ranks) * threads; }
};

// Shards of this rank's workers, over the fitting customers (positions in fit.fitting).
std::vector<std::vector<std::uint32_t>> rank_shards(const CustomerTable& table, const FunnelFit& fit, const Layout& l,
                                                    int rank) {
  std::vector<std::int64_t> ids;
  std::vector<bool> positive;
  for (std::size_t i : fit.fitting) ids.push_back(table.customers[i].id), positive.push_back(table.customers[i].subscribed);
  std::vector<std::vector<std::uint32_t>> out;
  for (int t = 0; t < l.threads; ++t)
    out.push_back(worker_shard(ids, positive, rank * l.threads + t, static_cast<int>(l.workers())));
  return out;
}

void print_dry_run(const FunnelFit& fit, const TrainSettings& s, const Layout& l, std::size_t states,
                   const std::vector<std::vector<std::uint32_t>>& shards) {
  std::size_t lo = SIZE_MAX, hi = 0;
  for (const auto& sh : shards) lo = std::min(lo, sh.size()), hi = std::max(hi, sh.size());
  const double per_state_worker = kQStride * (8.0 + 4.0);
  const double per_state_rank = kQStride * (8.0 * 4);
  const double mb = (static_cast<double>(states) * (per_state_worker * l.threads + per_state_rank)) / 1e6;
  std::cout << "environment " << s.environment << "; features " << s.features.text() << "; fitted on " << s.fit_on
            << " (" << with_thousands(static_cast<std::int64_t>(fit.fitting.size())) << " customers)\n"
            << "segments " << fit.model.segments() << "; states " << with_thousands(static_cast<std::int64_t>(states))
            << " x " << kActions << " actions\n"
            << "workers " << l.workers() << " = " << l.ranks << " ranks x " << l.threads << " threads; shard sizes on rank 0: "
            << lo << ".." << hi << " customers (subscribers replicated to every shard)\n"
            << "episodes " << with_thousands(s.schedule.episodes_per_worker) << " per worker in "
            << s.schedule.rounds() << " sync rounds of " << with_thousands(s.schedule.sync_every) << "\n"
            << "memory estimate per rank: " << fixed(mb, 1) << " MB (Q-table copies and visit counts)\n";
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
  hopt.horizon_weeks = s.funnel.horizon_weeks;
  hopt.export_date = export_date;
  hopt.shrinkage_strength = s.shrinkage;
  const FunnelFit fit = fit_funnel(table, select_fitting(table, s.fit_on), s.features, hopt, s.funnel,
                                   s.schedule.q.gamma);
  if (layout.workers() > static_cast<std::int64_t>(fit.fitting.size()))
    throw UsageError(std::to_string(layout.workers()) + " workers (" + std::to_string(layout.ranks) + " ranks x " +
                     std::to_string(layout.threads) + " threads) but only " + std::to_string(fit.fitting.size()) +
                     " fitting customers; use fewer ranks or --threads");
  const auto shards = rank_shards(table, fit, layout, comm.rank());
  const bool funnel = s.environment == "funnel";
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
  if (funnel) hooks.gap = [&](const std::vector<double>& q) { return fit.gap_of(q, kQStride); };
  hooks.gap_every = static_cast<int>(std::max<std::int64_t>(1, s.schedule.rounds() / 50));
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
    train_distributed(comm, funnel_env, shards, s.schedule, state, hooks);
  } else {
    std::vector<ReplayShard> rs;
    for (const auto& sh : shards) rs.push_back(replay.make_shard(sh));
    train_distributed(comm, replay, rs, s.schedule, state, hooks);
  }
  progress.finish();
  if (!comm.is_root()) return 0;
  const double dp = fit.dp_start_value(), random = fit.random_start_value();
  const auto learned_policy = greedy_policy(state.q, kQStride);
  const double learned = funnel ? mean_start_value(fit.model, evaluate_policy(fit.model, fit.gamma, learned_policy), fit.starts) : 0;
  RunContents run;
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
  run.double_attributes = {{"dp_start_value", dp}, {"random_start_value", random}};
  if (funnel) {
    run.double_attributes["learned_start_value"] = learned;
    run.double_attributes["gap_closed"] = dp - random > 0 ? (learned - random) / (dp - random) : 1.0;
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
    std::cout << "policy value per customer in the fitted funnel: mean over n = "
              << with_thousands(static_cast<std::int64_t>(fit.starts.size()))
              << " fitting customers' start states,\nexact in the fitted model (no rollout noise); the model's own "
                 "uncertainty (a bootstrap over customers) is not computed by train:\n"
              << "  DP optimum       " << fixed(dp) << "\n"
              << "  learned (greedy) " << fixed(learned) << "   closes " << fixed(100 * run.double_attributes["gap_closed"])
              << "% of the random-to-optimum gap\n"
              << "  random           " << fixed(random) << "\n";
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
      "same seed and worker count give the same Q-table whatever the layout). Action effects are\n"
      "assumptions (effect.*). SIGTERM or SIGUSR1 writes a checkpoint and exits 75; --resume\n"
      "continues. Writes run.h5 (schema in docs/HDF5_SCHEMA.md).";
  s.add_options = add_train_options;
  s.run = run_train;
  s.explain_unknown = [](const std::string& key) -> std::string {
    for (const char* prefix : {"cost.", "effect."}) {
      if (key.rfind(prefix, 0) != 0) continue;
      if (std::string(prefix) == "cost.")
        return "unknown action '" + key.substr(5) + "' in '" + key + "' (actions: " + action_list() + ")";
      return "unknown effect '" + key + "' (effect.act, effect.idle, effect.message)";
    }
    return "";
  };
  return s;
}

}  // namespace reinforcer
