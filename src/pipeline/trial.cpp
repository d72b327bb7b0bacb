#include "reinforcer/pipeline/trial.hpp"

#include <omp.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <exception>
#include <functional>
#include <thread>
#include <utility>
#include <stdexcept>
#include <string_view>
#include <sys/stat.h>

#include "reinforcer/core/bytes.hpp"
#include "reinforcer/core/errors.hpp"
#include "reinforcer/core/memory.hpp"
#include "reinforcer/core/sha256.hpp"
#include "reinforcer/stats/bootstrap.hpp"
#include "reinforcer/data/data_support.hpp"
#include "reinforcer/data/quality_report_text.hpp"
#include "reinforcer/data/raw_table.hpp"
#include "reinforcer/results/prepared_file.hpp"
#include "reinforcer/env/funnel_features.hpp"
#include "reinforcer/rl/dqn.hpp"
#include "reinforcer/rl/trainer.hpp"
#include "reinforcer/rl/worker_table.hpp"

namespace reinforcer {

TrialInput read_trial_input(const std::string& prepared_path) {
  TrialInput in;
  in.path = prepared_path;
  require_readable_file(prepared_path);
  in.export_date = read_prepared_export_date(prepared_path);
  in.table = read_prepared_customers(prepared_path);
  in.sha256 = sha256_of_file(prepared_path);
  return in;
}

TrialInput read_trial_input(const std::string& prepared_path, const Communicator& comm) {
  if (comm.size() == 1) return read_trial_input(prepared_path);
  // First a status (the exit code, then rank 0's message), so that the others never wait for
  // a table that will not come.
  TrialInput in;
  std::string status(1, '\0');
  if (comm.is_root()) {
    try {
      in = read_trial_input(prepared_path);
    } catch (const Error& e) {
      status = static_cast<char>(e.code()) + std::string(e.what());
    } catch (const std::exception& e) {
      status = static_cast<char>(ExitCode::internal) + std::string(e.what());
    }
  }
  comm.broadcast(status);
  if (status[0] != '\0') throw CollectiveError(static_cast<ExitCode>(status[0]), status.substr(1));
  std::string bytes;
  if (comm.is_root()) {
    bytes = customer_table_bytes(in.table);
    ByteWriter(bytes).put(static_cast<std::int64_t>(in.export_date));
    bytes += in.sha256;  // 64 hex digits
  }
  comm.broadcast(bytes);
  if (comm.is_root()) return in;
  constexpr std::size_t kTail = sizeof(std::int64_t) + 64;
  if (bytes.size() < kTail) throw std::logic_error("broadcast trial input: truncated");
  in.path = prepared_path;
  in.sha256 = bytes.substr(bytes.size() - 64);
  in.export_date = static_cast<Day>(ByteReader(std::string_view(bytes).substr(bytes.size() - kTail), "broadcast trial input").get<std::int64_t>());
  in.table = customer_table_from_bytes(std::string_view(bytes).substr(0, bytes.size() - kTail));
  return in;
}

HazardOptions trial_hazard_options(const TrialConfig& config, const TrialInput& input) {
  HazardOptions h;
  h.export_date = input.export_date;
  h.shrinkage_strength = config.shrinkage;
  return h;
}

namespace {
// The customers the funnel is fitted on, refused when nothing can be learned from them (a
// funnel of no subscriber has every value 0 and every regret 0%, which would read as success).
// Every rank holds the same table and reaches this point, so the error is collective.
std::vector<std::size_t> learnable_fitting(const TrialConfig& config, const TrialInput& input) {
  std::vector<std::size_t> fitting = select_fitting(input.table, config.fit_on);
  try {
    require_learnable(input.table, fitting, input.path,
                      config.fit_on == "all" ? "dated customers" : "fitting customers (--fit-on " + config.fit_on + ")");
  } catch (const InputError& e) {
    throw CollectiveError(e.code(), e.what());
  }
  return fitting;
}
}  // namespace

void require_learnable_input(const TrialInput& input, bool with_folds) {
  try {
    require_learnable(input.table, input.path);
    if (with_folds) require_fold_subscribers(input.table, input.path);
  } catch (const InputError& e) {
    throw CollectiveError(e.code(), e.what());
  }
}

std::shared_ptr<const FunnelFit> fit_trial_model(const TrialConfig& config, const TrialInput& input) {
  return std::make_shared<const FunnelFit>(fit_funnel(input.table, learnable_fitting(config, input), config.features,
                                                      trial_hazard_options(config, input), config.funnel,
                                                      config.schedule.q.gamma));
}

FunnelPlan plan_trial_model(const TrialConfig& config, const TrialInput& input) {
  return plan_funnel(input.table, learnable_fitting(config, input), config.features);
}

Fingerprint trial_fingerprint(const TrialConfig& config, std::int64_t workers, const std::string& input_sha256) {
  Fingerprint fp = trial_option_values(config);
  fp.erase("refits");  // refits judge the policy; they do not change the Q-table
  fp["workers"] = std::to_string(workers);
  fp["input_sha256"] = input_sha256;
  return fp;
}

namespace {
bool file_exists(const std::string& path) {
  struct stat st {};
  return !path.empty() && ::stat(path.c_str(), &st) == 0;
}

// Rank 0 writes checkpoints on a thread of its own from a copy of the state, so training
// (its own and the other ranks') goes on meanwhile; one write at a time.
class BackgroundCheckpoint {
 public:
  ~BackgroundCheckpoint() {
    if (writer_.joinable()) writer_.join();
  }
  void write(const std::string& path, const TrainState& state, const Fingerprint& fingerprint,
             std::function<void()> written) {
    finish();
    writer_ = std::thread([this, path, copy = state, fingerprint] {
      try {
        write_checkpoint(path, copy, fingerprint);
      } catch (...) {
        error_ = std::current_exception();
      }
    });
    pending_note_ = std::move(written);
  }
  // Waits for the write in flight; its error, if any, is this call's.
  void finish() {
    if (writer_.joinable()) writer_.join();
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
    if (pending_note_) std::exchange(pending_note_, nullptr)();
  }

 private:
  std::thread writer_;
  std::exception_ptr error_;
  std::function<void()> pending_note_;
};

// Training with its checkpoints finished before it returns; when a signal stopped it, every
// rank leaves only once rank 0's checkpoint is on disk.
template <typename Train>
void train_checkpointed(const Communicator& comm, BackgroundCheckpoint& checkpoints, Train&& train) {
  try {
    train();
  } catch (const Interrupted&) {
    checkpoints.finish();
    comm.barrier();
    throw;
  }
  checkpoints.finish();
}
}  // namespace

namespace {
// The DQN on the fitted funnel's features; its Q-values tabulated over every state of the
// model, so the policy is judged, stored and evaluated exactly like a Q-table's (every action
// counts as visited: the network estimates them all).
void train_dqn_trial(const TrialConfig& config, const TrialInput& input, const FunnelFit& fit, const Communicator& comm,
                     const TrialRun& run, const std::vector<std::vector<std::uint32_t>>& shards, TrialResult& result) {
  const FunnelEnvironment funnel(fit.model, fit.starts);
  const FunnelFeatureEnvironment env(funnel, fit.encoder);
  DqnConfig cfg = config.dqn;
  cfg.gamma = config.schedule.q.gamma;
  cfg.threads = run.threads;
  cfg.seed = config.schedule.seed;
  const std::vector<float> all_inputs = env.encoding().all_states();
  const auto tabulate = [&](const std::vector<float>& weights, const std::vector<int>& sizes) {
    return tabulate_q(sizes, weights, all_inputs, env.states());
  };
  const std::vector<int> sizes = dqn_layer_sizes(env.inputs(), cfg);
  const std::vector<std::int64_t> all_visited(env.states() * kQStride, 1);
  DqnHooks hooks;
  if (run.curve_regret)
    hooks.regret = [&](const std::vector<float>& weights) { return fit.regret_of(tabulate(weights, sizes), all_visited); };
  result.dqn = train_dqn(comm, env, funnel_shards(input.table, fit, shards, config.oversample), cfg, hooks);
  result.state.q = tabulate(result.dqn.weights, result.dqn.layer_sizes);
  result.state.visits = all_visited;
  result.state.rounds_done = 1;
}

}  // namespace

TrialResult run_trial(const TrialConfig& config, const TrialInput& input, std::shared_ptr<const FunnelFit> fit,
                      const Communicator& comm, const TrialRun& run) {
  using Clock = std::chrono::steady_clock;
  TrialResult result;
  result.fit = fit;
  result.hazards = trial_hazard_options(config, input);
  result.workers = static_cast<std::int64_t>(comm.size()) * run.threads;
  if (result.workers > static_cast<std::int64_t>(fit->fitting.size()))
    throw UsageError(std::to_string(result.workers) + " workers (" + std::to_string(comm.size()) + " ranks x " +
                     std::to_string(run.threads) + " threads) but only " + std::to_string(fit->fitting.size()) +
                     " fitting customers; use fewer ranks or threads");
  TrainSchedule schedule = config.schedule;
  schedule.threads = run.threads;
  schedule.checkpoint_every = run.checkpoint_every;
  schedule.q = learner_of(config);
  const bool funnel = config.environment == "funnel";
  const auto shards = fitting_shards(input.table, *fit, comm.rank() * run.threads, run.threads,
                                     static_cast<int>(result.workers), !funnel);
  const Fingerprint fingerprint = trial_fingerprint(config, result.workers, input.sha256);
  TrainState& state = result.state;
  if (run.resume || (run.resume_if_present && file_exists(run.checkpoint_path))) {
    state = read_checkpoint(run.checkpoint_path, fingerprint);
    if (run.note && comm.is_root())
      run.note("resuming from " + run.checkpoint_path + " after round " + std::to_string(state.rounds_done));
  }
  TrainHooks hooks;
  if (funnel && run.curve_regret) hooks.regret = [&](const TrainState& st) { return fit->regret_of(st.q, st.visits); };
  BackgroundCheckpoint checkpoints;
  if (!run.checkpoint_path.empty()) {
    hooks.stop_requested = run.stop_requested;
    hooks.checkpoint = [&](const TrainState& st) {
      if (!comm.is_root()) return;
      checkpoints.write(run.checkpoint_path, st, fingerprint, [&run, rounds = st.rounds_done] {
        if (run.note) run.note("checkpoint written: " + run.checkpoint_path + " (round " + std::to_string(rounds) + ")");
      });
    };
  }
  const std::int64_t total_episodes = schedule.episodes_per_worker * result.workers;
  if (run.progress)
    hooks.progress = [&](const LearningCurveRow& row, std::int64_t total_rounds) {
      run.progress(row, total_rounds, total_episodes);
    };
  const auto t0 = Clock::now();
  if (config.agent == "dqn") {
    if (run.resume || (run.resume_if_present && file_exists(run.checkpoint_path)))
      throw UsageError("--agent dqn keeps no checkpoints yet; run it without --resume");
    train_dqn_trial(config, input, *fit, comm, run, shards, result);
  } else if (funnel) {
    FunnelEnvironment env(fit->model, fit->starts);
    if (state.q.size() != 0 && state.q.size() != env.states() * kQStride)
      throw InputError(run.checkpoint_path + ": Q-table size differs from this run's");
    train_checkpointed(comm, checkpoints, [&] {
      train_distributed(comm, env, funnel_shards(input.table, *fit, shards, config.oversample), schedule, state, hooks);
    });
  } else {
    ReplayEnvironment replay(fit->histories, fit->model.segments(), config.replay);
    if (state.q.size() != 0 && state.q.size() != replay.states() * kQStride)
      throw InputError(run.checkpoint_path + ": Q-table size differs from this run's");
    std::vector<ReplayShard> rs;
    for (const auto& sh : shards) rs.push_back(replay.make_shard(sh));
    train_checkpointed(comm, checkpoints, [&] { train_distributed(comm, replay, rs, schedule, state, hooks); });
  }
  const auto t1 = Clock::now();
  result.train_seconds = std::chrono::duration<double>(t1 - t0).count();
  release_freed_memory();  // the workers' copies: judging and writing need it, not the heap
  if (funnel) {
    result.quality = judge_learned_policy(input.table, *fit, result.hazards, learned_policy(state.q, state.visits, kQStride),
                                          config.refits, config.schedule.seed, comm, judging_threads(run.threads),
                                          run.best_constant);
    if (run.break_even) {
      std::vector<std::uint8_t> start_cohort;
      for (Cohort c : fit->cohorts) start_cohort.push_back(static_cast<std::uint8_t>(c));
      result.break_even = break_even_table(fit->model, fit->gamma, fit->starts, start_cohort);
    }
  }
  result.judge_seconds = std::chrono::duration<double>(Clock::now() - t1).count();
  return result;
}

// Each judging thread holds a refit's hazards and a one-segment model: more threads than
// cores would only multiply the memory (256 threads once judged 50 whole refitted models at
// once in 3.9 GB on the real export).
int judging_threads(int threads) {
  const auto cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::min(threads, cores);
}

double TrialMemory::peak() const {
  // Judging and writing follow training, and the heap's freed pages go back to the system in
  // between (release_freed_memory), so the larger of the two phases counts.
  return process + customers + model + shared + std::max(workers + sync, judging + writing);
}

TrialMemory estimate_trial_memory(const TrialConfig& config, std::size_t customers, std::size_t segments, int ranks,
                                  int threads) {
  const bool funnel = config.environment == "funnel";
  const double steps_per_episode = funnel ? config.funnel.horizon_weeks : config.replay.max_steps;
  const double states = static_cast<double>(segments * kProgressStates) * steps_per_episode;
  const double workers = static_cast<double>(ranks) * threads;
  TrialMemory m;
  m.process = 27e6;  // measured: a run of the 2-segment model (--features cohort) peaks at 29 MB
  m.customers = static_cast<double>(customers) * (sizeof(Customer) + 8);  // and the fitting positions
  // The fitted model holds about half its structural bound (0.46 on the real export: most of
  // a week's 243 conceivable outcomes never occur); the exact DP is values and policy (its
  // Q is computed again only to be written).
  const double model = 0.5 * static_cast<double>(FunnelModel::memory_bytes_bound(segments));
  const double dp = funnel ? states * (8.0 + 1) : 0.0;
  m.model = model + dp;
  m.shared = states * kQStride * 16.0 + states / 8;
  // A worker updates one row per step, but episodes keep to common paths: on the real export a
  // round's distinct rows were 73% of its steps at 5,200 steps, 42% at 52,000, and never more
  // than 36% of the table (epsilon 1). The copies are held in blocks of 256 rows (one partly
  // filled) and the key slots double (1.1 on average).
  const double steps = static_cast<double>(std::min(config.schedule.sync_every, config.schedule.episodes_per_worker)) *
                       steps_per_episode;
  const double rows_per_worker = std::min(0.4 * states, 0.75 * steps);
  m.workers = threads * (rows_per_worker * WorkerTable::bytes_per_row() * 1.1 +
                         static_cast<double>(WorkerTable::kBlockRows) * kQStride * 12);
  const double union_rows = std::min(0.4 * states, rows_per_worker * workers);
  m.sync = std::min<double>(union_rows, static_cast<double>(config.schedule.sync_block_rows)) * (2 * kActions * 8.0) + union_rows * 4;  // sums by block, the rows' list
  // Each judging thread re-estimates the hazards of the segment tree and judges the refit
  // segment by segment in one reused one-segment model (measured: about 8 MB a thread on the
  // real export, a fifth of its model); the learned policy and its values are held throughout.
  const double judging = std::min<double>(judging_threads(threads), std::max(0, config.refits));
  const double per_segment = segments > 0 ? model / static_cast<double>(segments) : 0.0;
  m.judging = states * 9 + (funnel ? judging * (0.2 * model + 2 * per_segment) : 0.0);
  // /states (46 bytes a row, packed a second time chunk by chunk) and /dp/q (optimal_q)
  m.writing = states * (46 + 9 + (funnel ? kActions * 8.0 : 0.0));
  return m;
}

TrialConfig stored_trial_config(const StoredRun& run) {
  try {
    return parse_trial_config(trial_values_in(run.config_text));
  } catch (const UsageError& e) {
    throw InputError(run.path + ": its stored training options do not parse: " + e.what());
  }
}

EvaluationSettings evaluation_settings_of(const TrialConfig& config, Day export_date) {
  EvaluationSettings s;
  s.features = config.features;
  s.funnel = config.funnel;
  s.q = learner_of(config);
  s.fit_on = config.fit_on;
  s.hazards.export_date = export_date;
  s.hazards.shrinkage_strength = config.shrinkage;
  s.oversample = config.oversample;
  s.episodes = config.schedule.episodes_per_worker;
  return s;
}

RunContents run_contents(const TrialConfig& config, const TrialInput& input, const TrialResult& result, int ranks,
                         int threads) {
  const bool funnel = config.environment == "funnel";
  RunContents run;
  run.quality = funnel ? &result.quality : nullptr;
  run.break_even = &result.break_even;
  run.prepared_path = input.path;
  run.environment = config.environment;
  run.steps_per_episode = funnel ? config.funnel.horizon_weeks : config.replay.max_steps;
  run.fit = result.fit.get();
  run.state = &result.state;
  run.dqn = config.agent == "dqn" ? &result.dqn : nullptr;
  run.text_attributes = {{"environment", config.environment}, {"agent", config.agent}, {"features", config.features.text()},
                         {"fit_on", config.fit_on}, {"prepared_sha256", input.sha256},
                         {"export_date", format_day(input.export_date)}};
  run.int_attributes = {{"seed", static_cast<std::int64_t>(config.schedule.seed)}, {"ranks", ranks},
                        {"threads", threads}, {"workers", result.workers},
                        {"episodes_per_worker", config.schedule.episodes_per_worker},
                        {"sync_every", config.schedule.sync_every}, {"rounds", result.state.rounds_done},
                        {"interleave", config.schedule.q.interleave},
                        {"fitting_customers", static_cast<std::int64_t>(result.fit->fitting.size())},
                        {"refits", config.refits}};
  if (config.agent == "dqn") run.int_attributes["dqn_steps_per_worker"] = config.dqn.steps;
  run.double_attributes = {{"dp_start_value", result.fit->dp_start_value()}, {"oversample", config.oversample}};
  if (funnel) {
    run.double_attributes["learned_start_value"] = result.quality.regret.front().learned;
    run.double_attributes["regret"] = result.quality.regret.front().regret;
  }
  run.warnings = trial_warnings(config, input);
  return run;
}

std::vector<std::string> trial_warnings(const TrialConfig& config, const TrialInput& input) {
  std::vector<std::string> w;
  const std::vector<std::size_t> fitting = select_fitting(input.table, config.fit_on);
  std::array<std::int64_t, 2> customers{}, subscribers{};
  for (std::size_t i : fitting) {
    const Customer& c = input.table.customers[i];
    if (c.cohort == Cohort::undated) continue;
    ++customers[static_cast<std::size_t>(c.cohort)];
    subscribers[static_cast<std::size_t>(c.cohort)] += c.subscribed;
  }
  for (Cohort cohort : {Cohort::outbound, Cohort::inbound}) {
    const auto k = static_cast<std::size_t>(cohort);
    if (customers[k] > 0 && subscribers[k] == 0)
      w.push_back(input.path + ": no subscriber among the " + with_thousands(customers[k]) + " fitting " +
                  std::string(kCohortNames[k]) + " customers: that cohort's subscription rates are borrowed from the "
                  "other cohort by the shrinkage, not measured");
  }
  if (config.environment == "funnel" && config.refits > 0 && !enough_replicates_for_95(config.refits))
    w.push_back(std::to_string(config.refits) + " refits are too few for a 95% interval (" +
                std::to_string(kMinReplicatesFor95) + " are needed, so that each 2.5% tail holds one): no refit interval "
                "is printed; train with --refits " + std::to_string(kMinReplicatesFor95) + " or more");
  return w;
}

}  // namespace reinforcer
