#include <algorithm>
#include <chrono>
#include <functional>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <unistd.h>

#include "reinforcer/cli/command.hpp"
#include "reinforcer/data/ingest.hpp"
#include "reinforcer/data/raw_table.hpp"
#include "reinforcer/data/synth.hpp"
#include "reinforcer/core/errors.hpp"
#include "reinforcer/core/sha256.hpp"
#include "reinforcer/h5/hdf5.hpp"
#include "reinforcer/results/prepared_file.hpp"
#include "reinforcer/parallel/mpi_guard.hpp"
#include "reinforcer/eval/learner_quality.hpp"
#include "reinforcer/pipeline/trial.hpp"
#include "reinforcer/results/trial_file.hpp"
#include "reinforcer/rl/benchmark.hpp"
#include "reinforcer/rl/dqn.hpp"

namespace reinforcer {
namespace {

std::vector<std::int64_t> int_list(const Invocation& inv, const std::string& name, std::int64_t lo, std::int64_t hi) {
  std::vector<std::int64_t> out;
  std::stringstream in(inv.options[name].as<std::string>());
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      std::size_t used = 0;
      const long long v = std::stoll(item, &used);
      if (used != item.size() || v < lo || v > hi) throw std::out_of_range(item);
      out.push_back(v);
    } catch (const std::exception&) {
      throw UsageError("--" + name + ": '" + item + "' is not a whole number from " + std::to_string(lo) + " to " +
                       std::to_string(hi));
    }
  }
  if (out.empty()) throw UsageError("--" + name + ": give a comma-separated list");
  return out;
}

// Median of `repeat` runs of f() by steps_per_second_per_worker.
template <typename F>
Throughput median_of(int repeat, F f) {
  std::vector<Throughput> runs;
  for (int i = 0; i < repeat; ++i) runs.push_back(f());
  std::sort(runs.begin(), runs.end(), [](const Throughput& a, const Throughput& b) {
    return a.steps_per_second_per_worker < b.steps_per_second_per_worker;
  });
  return runs[runs.size() / 2];
}

CustomerTable bench_customers(const Invocation& inv, const Communicator& comm, Day& export_date) {
  if (!inv.input.empty()) {
    TrialInput input = read_trial_input(inv.input, comm);
    export_date = input.export_date;
    return std::move(input.table);
  }
  // The built-in synthetic data set, written to a scratch file and read back.
  const auto dir = std::filesystem::temp_directory_path() / ("reinforcer-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string csv = (dir / "synth.csv").string();
  SynthOptions so;
  so.customers = 20000;
  write_synthetic_crm(so, csv);
  IngestResult r = ingest_crm(csv, IngestOptions{});
  std::filesystem::remove_all(dir);
  export_date = r.report.export_date;
  return std::move(r.table);
}

std::string num(double v, int digits = 1) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// What a sweep pays per trial besides training: reading its options, the fit (shared by
// trials with the same model options, fresh otherwise), the exact judgement of the learned
// policy, the trial file (written atomically), the skip check of a re-run; and the Q-table
// allreduce that a trial spread over ranks pays per sync round.
void bench_sweep_overhead(const CustomerTable& table, Day export_date, int trials, const Communicator& comm,
                          const std::function<void(const std::string&)>& out) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("reinforcer-bench-sweep-" + std::to_string(::getpid()) + "-" +
                                                    std::to_string(comm.rank()));
  fs::create_directories(dir);
  TrialInput input;
  input.table = table;
  input.export_date = export_date;
  input.sha256 = "bench";
  using Clock = std::chrono::steady_clock;
  const auto since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
  std::vector<double> parse, fresh_fit, train, judge, file, check;
  std::shared_ptr<const FunnelFit> fit;
  BestConstant best;
  std::size_t q_cells = 0;
  for (int i = 0; i < trials; ++i) {
    auto t = Clock::now();
    const TrialConfig c = parse_trial_config({{"episodes", "1"}, {"refits", "0"}, {"seed", std::to_string(i + 1)}});
    parse.push_back(since(t));
    if (i < 3) {  // a fresh fit: a trial whose model options differ from the ones before it
      t = Clock::now();
      fit = fit_trial_model(c, input);
      best = best_constant_policy(*fit);  // found once per model, as a sweep does
      fresh_fit.push_back(since(t));
    }
    TrialRun run;
    run.curve_regret = false;
    run.break_even = false;
    run.best_constant = &best;
    const TrialResult r = run_trial(c, input, fit, local_communicator(), run);
    train.push_back(r.train_seconds);
    judge.push_back(r.judge_seconds);
    q_cells = r.state.q.size();
    TrialRecord rec;
    rec.index = i;
    rec.status = "complete";
    rec.config = canonical_text(c);
    rec.parameters = {{"seed", std::to_string(i + 1)}};
    rec.regret_by_cohort = r.quality.regret;
    const std::string path = (dir / ("trial-" + std::to_string(i) + ".h5")).string();
    t = Clock::now();
    write_trial_file(path, rec);
    file.push_back(since(t));
    t = Clock::now();
    (void)read_trial_file(path).status;
    check.push_back(since(t));
  }
  fs::remove_all(dir);
  std::vector<double> reduce;
  std::vector<double> q(q_cells, 1.0);
  for (int i = 0; i < std::max(5, trials); ++i) {
    comm.barrier();
    const auto t = Clock::now();
    comm.sum_in_place(q);
    reduce.push_back(since(t));
  }
  const double per_trial = median(parse) + median(train) + median(judge) + median(file) + median(check);
  out("\nsweep trial overhead (" + std::to_string(trials) + " trials of 1 episode on rank 0's core, median ms; the fit is shared by trials with the same model options):\n");
  out("| read options | fit (fresh) | train 1 episode | judge (exact policy evaluation) | trial file | skip check (re-run) | per trial, fit shared |\n|---|---|---|---|---|---|---|\n");
  out("| " + num(1e3 * median(parse), 3) + " | " + num(1e3 * median(fresh_fit), 1) + " | " + num(1e3 * median(train), 2) + " | " +
      num(1e3 * median(judge), 1) + " | " + num(1e3 * median(file), 2) + " | " + num(1e3 * median(check), 2) + " | " +
      num(1e3 * per_trial, 1) + " |\n");
  out("Q-table allreduce (" + std::to_string(q_cells) + " doubles, " + std::to_string(comm.size()) + " ranks): " +
      num(1e3 * median(reduce), 3) + " ms median\n");
}

// Loading a prepared file as train and sweep do: the one-read decode of /customers, the
// file's SHA-256, and (under mpirun) both on rank 0 with the broadcast to the other ranks.
// Each rank's table is digested after the broadcast, to show every rank holds the same one.
int bench_load(const std::string& path, int repeat, const Communicator& comm) {
  using Clock = std::chrono::steady_clock;
  const auto since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
  const bool root = comm.is_root();
  if (root) require_readable_file(path);  // a missing file is a path error (4), not a damaged one (3)
  std::vector<double> decode, hash, collective;
  std::size_t customers = 0;
  for (int i = 0; i < repeat; ++i) {
    if (root) {
      auto t = Clock::now();
      customers = read_prepared_customers(path).customers.size();
      decode.push_back(since(t));
      t = Clock::now();
      (void)sha256_of_file(path);
      hash.push_back(since(t));
    }
    comm.barrier();
  }
  TrialInput input;
  for (int i = 0; i < repeat; ++i) {
    comm.barrier();
    const auto t = Clock::now();
    input = read_trial_input(path, comm);
    comm.barrier();  // until the last rank holds its table
    collective.push_back(since(t));
  }
  Sha256 digest;
  const std::string bytes = customer_table_bytes(input.table);
  digest.update(bytes.data(), bytes.size());
  const std::vector<std::string> digests = comm.gather(digest.hex_digest() + " " + input.sha256);
  if (!root) return 0;
  auto rate = [&](double secs) { return num(static_cast<double>(customers) / secs / 1e6, 2) + " M"; };
  std::cout << "load " << path << ": " << customers << " customers; median of " << repeat << " runs; ranks "
            << comm.size() << "\n\n| step | seconds | customers/s |\n|---|---|---|\n"
            << "| read /customers (whole chunks, inflated on all threads) and decode | " << num(median(decode), 3) << " | " << rate(median(decode))
            << " |\n| SHA-256 of the file | " << num(median(hash), 3) << " | " << rate(median(hash)) << " |\n"
            << "| read, hash" << (comm.size() > 1 ? " and broadcast to " + std::to_string(comm.size()) + " ranks" : "")
            << " (as train) | " << num(median(collective), 3) << " | " << rate(median(collective)) << " |\n\n"
            << "file sha256 " << input.sha256 << "\n";
  for (std::size_t r = 0; r < digests.size(); ++r)
    std::cout << "rank " << r << " table digest and file sha256: " << digests[r] << "\n";
  const bool same = std::all_of(digests.begin(), digests.end(), [&](const std::string& d) { return d == digests[0]; });
  std::cout << (same ? "every rank holds the same table and hash\n" : "RANKS DIFFER\n") << std::flush;
  if (!same) throw std::logic_error("the broadcast customer tables differ between ranks");
  return 0;
}

// Gradient steps of the default DQN (batch 64, double DQN with a target network) on
// synthetic replay data, one worker per rank: rank 0 alone, then every rank together (the
// gradients summed by allreduce, as train_dqn does).
int bench_dqn(const Invocation& inv, const Communicator& comm, int repeat) {
  const std::int64_t steps = int_option(inv, "dqn-steps", 10, INT64_C(1) << 30);
  const int inputs = static_cast<int>(int_option(inv, "dqn-inputs", 1, 100000));
  const DqnConfig cfg;
  auto median_run = [&](const Communicator& c) {
    std::vector<DqnBenchmark> runs;
    for (int i = 0; i < repeat; ++i) runs.push_back(measure_dqn_gradient_steps(c, inputs, steps, 1, cfg));
    std::sort(runs.begin(), runs.end(), [](const DqnBenchmark& a, const DqnBenchmark& b) { return a.seconds < b.seconds; });
    return runs[runs.size() / 2];
  };
  const bool root = comm.is_root();
  DqnBenchmark alone;
  if (root) alone = median_run(local_communicator());
  comm.barrier();
  const DqnBenchmark all = comm.size() > 1 ? median_run(comm) : alone;
  if (!root) return 0;
  const double mflop = alone.flops_per_step / 1e6;
  std::cout << "DQN gradient steps: " << inputs << " inputs, hidden 64x64, " << kActions << " outputs, batch " << cfg.batch
            << ", double DQN with a target network; " << steps << " steps per run, median of " << repeat
            << " runs; 1 worker per rank\n\n"
            << "| ranks | gradient steps/s | MFLOP/step (per worker) | GFLOP/s per worker | wait for slowest rank us/step | allreduce us/step | scaling efficiency |\n"
            << "|---|---|---|---|---|---|---|\n";
  auto row = [&](const DqnBenchmark& b, int ranks) {
    const double sps = b.steps_per_second();
    std::cout << "| " << ranks << " | " << num(sps, 0) << " | " << num(mflop, 2) << " | " << num(sps * mflop / 1e3, 2) << " | "
              << num(1e6 * b.wait_seconds / static_cast<double>(b.gradient_steps), 1) << " | "
              << num(1e6 * b.allreduce_seconds / static_cast<double>(b.gradient_steps), 1) << " | "
              << num(100 * sps / alone.steps_per_second(), 0) << "% |\n";
  };
  row(alone, 1);
  if (comm.size() > 1) row(all, comm.size());
  std::cout << "\nscaling efficiency: gradient steps/s against rank 0 alone (each step on R ranks consumes R batches)\n"
            << std::flush;
  return 0;
}

int bench(const Invocation& inv, const Communicator& comm) {
  const int repeat = static_cast<int>(int_option(inv, "repeat", 1, 100));
  if (inv.options["dqn"].as<bool>()) return bench_dqn(inv, comm, repeat);
  if (inv.options.count("load")) return bench_load(inv.options["load"].as<std::string>(), repeat, comm);
  const std::int64_t episodes = int_option(inv, "episodes", 100, INT64_C(1) << 34);
  const auto threads_list = int_list(inv, "threads-list", 1, 256);
  const auto sync_list = int_list(inv, "sync-list", 1, INT64_C(1) << 34);
  const std::int64_t sync_episodes = int_option(inv, "sync-episodes", 100, INT64_C(1) << 34);
  const auto quality_list = int_list(inv, "quality-list", 100, INT64_C(1) << 34);
  const double success_scale = inv.options["success-scale"].as<double>();
  const std::int64_t sweep_trials = int_option(inv, "sweep-trials", 0, 100000);
  if (!(success_scale >= 0)) throw UsageError("--success-scale: " + std::to_string(success_scale) + " is negative; give a number >= 0");
  Day export_date = kNoDay;
  const CustomerTable table = bench_customers(inv, comm, export_date);
  HazardOptions h;
  h.export_date = export_date;
  FunnelConfig fc;
  for (double& p : fc.success.probability) p = std::min(1.0, p * success_scale);
  QLearningConfig q;
  const FunnelFit fit = fit_funnel(table, select_fitting(table, "all"), parse_feature_mask(std::string(kDefaultFeatures)), h, fc, q.gamma);
  const FunnelEnvironment funnel(fit.model, fit.starts);
  ReplayConfig rc;
  const ReplayEnvironment replay(fit.histories, fit.model.segments(), rc);
  const bool root = comm.is_root();
  auto out = [&](const std::string& s) {
    if (root) std::cout << s << std::flush;
  };
  out("benchmark: " + std::to_string(fit.fitting.size()) + " customers, " + std::to_string(funnel.states()) +
      " funnel states x 7 actions, " + std::to_string(replay.states()) + " replay states; " + std::to_string(episodes) +
      " episodes per worker; median of " + std::to_string(repeat) + " runs; ranks " + std::to_string(comm.size()) + "\n" +
      "ceiling: the same episode loop on a null environment (no model work; starts drawn like the environment's, one "
      "week on per step, its mean episode length)\n\n");
  out("| environment | ranks x threads | steps/s per worker | total steps/s | vs 1 worker | ns per step | ceiling ns per step | "
      "share of the ceiling (median of paired runs, range) |\n");
  out("|---|---|---|---|---|---|---|---|\n");
  double single_funnel = 0, single_replay = 0;
  if (comm.size() > 1) {  // the one-worker baseline: rank 0 alone while the others wait
    if (root) {
      single_funnel = median_of(repeat, [&] { return measure_funnel(funnel, 1, episodes, q); }).total_steps_per_second;
      single_replay = median_of(repeat, [&] { return measure_replay(replay, 1, episodes, q); }).total_steps_per_second;
      out("| funnel | 1 x 1 (rank 0 alone) | " + num(single_funnel / 1e6, 2) + " M | " + num(single_funnel / 1e6, 2) +
          " M | 1.00x | | | |\n| replay | 1 x 1 (rank 0 alone) | " + num(single_replay / 1e6, 2) + " M | " +
          num(single_replay / 1e6, 2) + " M | 1.00x | | | |\n");
    }
    comm.barrier();
  }
  for (std::int64_t t : threads_list) {
    const int T = static_cast<int>(t);
    for (const char* name : {"funnel", "replay"}) {
      const bool is_funnel = std::string(name) == "funnel";
      // The environment and its ceiling run in pairs, back to back, and the share is the
      // median of the pairs' ratios: drift of the machine cancels.
      std::vector<Throughput> runs, ceilings;
      std::vector<double> ratios;
      for (int i = 0; i < repeat; ++i) {
        comm.barrier();
        runs.push_back(is_funnel ? measure_funnel(funnel, T, episodes, q) : measure_replay(replay, T, episodes, q));
        const double mean_steps = runs.back().mean_steps();
        comm.barrier();
        ceilings.push_back(is_funnel ? measure_funnel_ceiling(funnel, mean_steps, T, episodes, q)
                                     : measure_replay_ceiling(replay, mean_steps, T, episodes, q));
        ratios.push_back(comm.sum(runs.back().total_steps_per_second) / comm.sum(ceilings.back().total_steps_per_second));
      }
      const auto by_speed = [](const Throughput& a, const Throughput& b) {
        return a.steps_per_second_per_worker < b.steps_per_second_per_worker;
      };
      std::sort(runs.begin(), runs.end(), by_speed);
      std::sort(ceilings.begin(), ceilings.end(), by_speed);
      std::sort(ratios.begin(), ratios.end());
      const Throughput& r = runs[runs.size() / 2];
      // Under MPI every rank measures at once: the total is the sum over ranks.
      const double total = comm.sum(r.total_steps_per_second);
      const double per_worker = total / static_cast<double>(comm.size() * T);
      const double ceiling_per_worker =
          comm.sum(ceilings[ceilings.size() / 2].total_steps_per_second) / static_cast<double>(comm.size() * T);
      double& single = is_funnel ? single_funnel : single_replay;
      if (single == 0) single = total;
      out("| " + std::string(name) + " | " + std::to_string(comm.size()) + " x " + std::to_string(T) + " | " +
          num(per_worker / 1e6, 2) + " M | " + num(total / 1e6, 2) + " M | " + num(total / single, 2) + "x | " +
          num(1e9 / per_worker, 1) + " | " + num(1e9 / ceiling_per_worker, 1) + " | " + num(100 * ratios[ratios.size() / 2], 0) +
          "% (" + num(100 * ratios.front(), 0) + "-" + num(100 * ratios.back(), 0) + "%) |\n");
    }
  }
  const int sync_threads = static_cast<int>(threads_list.back());
  out("\nsync period (funnel, " + std::to_string(comm.size()) + " x " + std::to_string(sync_threads) + " workers, " +
      std::to_string(sync_episodes) + " episodes per worker)\n\n");
  out("| sync every E episodes | rounds | wall s | sync s | sync overhead | waiting for the slowest rank | final regret to DP |\n"
      "|---|---|---|---|---|---|---|\n");
  for (std::int64_t e : sync_list) {
    std::vector<SyncCost> runs;
    for (int i = 0; i < repeat; ++i)
      runs.push_back(measure_sync(fit, funnel, comm, sync_threads, sync_episodes, e, q));
    std::sort(runs.begin(), runs.end(), [](const SyncCost& a, const SyncCost& b) { return a.seconds < b.seconds; });
    const SyncCost& c = runs[runs.size() / 2];
    out("| " + std::to_string(e) + " | " + std::to_string(c.rounds) + " | " + num(c.seconds, 3) + " | " +
        num(c.sync_seconds, 3) + " | " + num(100 * c.sync_seconds / c.seconds, 1) + "% | " +
        num(100 * c.wait_seconds / c.seconds, 1) + "% | " + num(100 * c.final_regret, 2) + "% |\n");
  }
  // Time to quality: the default training (shards, oversampling, step sizes) for each budget,
  // judged exactly against the DP like train's summary.
  out("\ntime to quality (funnel, default training, success probabilities x " + num(success_scale, 2) + ", " +
      std::to_string(comm.size()) + " x " + std::to_string(sync_threads) +
      " workers; wall = training only; regret = (V* - V) / max(|V*|, 1% of the reward) over the fitting customers' "
      "start states)\n\n| episodes per worker | wall s | regret all | outbound | inbound | p95 per-start regret (max over cohorts) |\n"
      "|---|---|---|---|---|---|\n");
  {  // the baseline a learner must beat: waiting everywhere (the status quo)
    const LearnerQuality wait = judge_learned_policy(
        table, fit, h, std::vector<std::uint8_t>(fit.model.states(), static_cast<std::uint8_t>(Action::wait)), 0, 1, comm, 1);
    double p95 = 0;
    std::string cells;
    for (const RegretRow& r : wait.regret) cells += num(100 * r.regret, 2) + "% | ", p95 = std::max(p95, r.p95_start_regret);
    out("| always wait (baseline) | | " + cells + num(p95, 3) + " |\n");
  }
  for (std::int64_t e : quality_list) {
    std::vector<double> secs;
    TimedTraining last;
    for (int i = 0; i < repeat; ++i) {
      last = measure_training(table, fit, funnel, comm, sync_threads, e, std::min<std::int64_t>(e, kDefaultSyncEvery),
                              kDefaultOversample, q);
      secs.push_back(last.seconds);
    }
    std::sort(secs.begin(), secs.end());
    const LearnerQuality lq = judge_learned_policy(table, fit, h, learned_policy(last.state.q, last.state.visits, kQStride), 0,
                                                   1, comm, sync_threads);
    double p95 = 0;
    std::string cells;
    for (const RegretRow& r : lq.regret) {
      cells += num(100 * r.regret, 2) + "% | ";
      p95 = std::max(p95, r.p95_start_regret);
    }
    out("| " + std::to_string(e) + " | " + num(secs[secs.size() / 2], 2) + " | " + cells + num(p95, 3) + " |\n");
  }
  if (sweep_trials > 0) bench_sweep_overhead(table, export_date, static_cast<int>(sweep_trials), comm, out);
  return 0;
}

int run_bench(const Invocation& inv) {
  return run_with_communicator(inv, [&](const Communicator& comm) { return bench(inv, comm); });
}

}  // namespace

CommandSpec bench_command() {
  CommandSpec s;
  s.name = "bench";
  s.runs_under_mpi = true;
  s.summary = "measure environment steps/s per worker, thread and rank scaling, and sync overhead";
  s.synopsis = "[mpirun -np R] reinforcer bench [prepared.h5] [options]";
  s.description =
      "Measures, on the fitted funnel of the given prepared file (default: 20,000 built-in synthetic\n"
      "customers): environment steps per second per worker (a step = one transition plus its Q\n"
      "update) for the funnel and replay environments, against the same loop on a null environment\n"
      "(the ceiling: no model work); scaling over threads (and ranks under mpirun); and the sync period's\n"
      "overhead and final regret to the DP optimum; time to quality: training time and regret to the\n"
      "DP per episode budget; a sweep's per-trial overhead and the Q-table allreduce. Prints\n"
      "Markdown tables (medians of --repeat runs). --load FILE times only the loading of a\n"
      "prepared file (customers/s). --dqn measures only the deep Q-network's gradient steps/s\n"
      "(under mpirun: with the gradients summed across ranks, and the allreduce's share).";
  s.input_optional = true;
  s.output_required = false;
  s.output_help = "not used (bench prints its tables)";
  s.add_options = [](po::options_description& d) {
    d.add_options()("repeat", po::value<std::int64_t>()->default_value(5), "runs per figure (the median is shown)")(
        "episodes", po::value<std::int64_t>()->default_value(200000), "episodes per worker per throughput run")(
        "threads-list", po::value<std::string>()->default_value("1,2"), "thread counts to measure")(
        "sync-list", po::value<std::string>()->default_value("1000,5000,25000,100000"), "sync periods E to measure")(
        "sync-episodes", po::value<std::int64_t>()->default_value(200000), "episodes per worker in the sync table")(
        "quality-list", po::value<std::string>()->default_value("5000,20000,50000,200000"),
        "episode budgets per worker for the time-to-quality table")(
        "success-scale", po::value<double>()->default_value(1.0),
        "multiply every action's assumed success probability (capped at 1): where acting pays more, learning is harder")(
        "sweep-trials", po::value<std::int64_t>()->default_value(20),
        "trials of 1 episode timed for the sweep's per-trial overhead (0: skip)")(
        "dqn", po::bool_switch(), "only measure the deep Q-network's gradient steps/s (synthetic replay data)")(
        "dqn-steps", po::value<std::int64_t>()->default_value(3000), "gradient steps per --dqn run")(
        "dqn-inputs", po::value<std::int64_t>()->default_value(40), "network inputs for --dqn (the funnel's features are ~40)")(
        "load", po::value<std::string>(),
        "only time loading this prepared file as train does (one read, SHA-256, broadcast under mpirun) and check "
        "every rank holds the same table");
  };
  s.run = run_bench;
  return s;
}

}  // namespace reinforcer
