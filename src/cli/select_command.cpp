#include <omp.h>

#include <cmath>
#include <iostream>
#include <memory>
#include <sstream>

#include "reinforcer/cli/command.hpp"
#include "reinforcer/cli/progress_line.hpp"
#include "reinforcer/cli/text_writer.hpp"
#include "reinforcer/cli/train_settings.hpp"
#include "reinforcer/core/atomic_output.hpp"
#include "reinforcer/core/errors.hpp"
#include "reinforcer/pipeline/feature_selection.hpp"
#include "reinforcer/pipeline/trial.hpp"

namespace reinforcer {
namespace {

// The model options select-features shares with train (declared once in trial_config).
bool is_model_option(const std::string& key) {
  return key == "horizon" || key == "shrinkage" || key == "gamma" || key == "reward.subscription" ||
         key.rfind("cost.", 0) == 0 || key.rfind("success.", 0) == 0;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(text);
  while (std::getline(in, item, ',')) {
    const auto b = item.find_first_not_of(' '), e = item.find_last_not_of(' ');
    out.push_back(b == std::string::npos ? "" : item.substr(b, e - b + 1));
  }
  return out;
}

std::vector<Action> parse_actions(const std::string& text) {
  std::vector<Action> out;
  if (text == "none") return out;
  for (const std::string& name : split_list(text)) {
    if (name.empty()) throw UsageError("--actions: an empty item in '" + text + "'; give names separated by commas (or none)");
    const auto a = action_named(name);
    if (!a) throw UsageError("--actions: '" + name + "' is no action; choose among " + action_list() + " (or none)");
    out.push_back(*a);
  }
  return out;
}

std::string all_candidate_features(const CustomerTable& table) {
  std::string text = "cohort,country,education,month";
  for (const std::string& a : attribute_names(table)) text += "," + a;
  return text;
}

SelectionSettings selection_settings(const Invocation& inv, const TrialInput& input) {
  SelectionSettings s;
  OptionValues model;
  for (const TrialOption& o : trial_options())
    if (is_model_option(o.key) && inv.options.count(o.key)) model[o.key] = inv.options[o.key].as<std::string>();
  const TrialConfig c = parse_trial_config(model);
  s.funnel = c.funnel;
  s.gamma = c.schedule.q.gamma;
  s.hazards = trial_hazard_options(c, input);
  const std::string features = inv.options["features"].as<std::string>();
  if (features != "none")
    s.features = parse_feature_mask(features == "all" ? all_candidate_features(input.table) : features, "--features",
                                    attribute_names(input.table)).order;
  s.actions = parse_actions(inv.options["actions"].as<std::string>());
  s.objective = inv.options["objective"].as<std::string>();
  s.element_cost = inv.options["element-cost"].as<double>();
  s.exhaustive = inv.options["exhaustive"].as<bool>();
  s.force = inv.options["force"].as<bool>();
  s.bootstrap = static_cast<int>(int_option(inv, "bootstrap", 0, 100000));
  s.budget = int_option(inv, "budget", 0, INT64_C(1) << 40);
  s.episodes_per_batch = static_cast<int>(int_option(inv, "episodes-per-batch", 1, 4096));
  s.seed = inv.options["seed"].as<std::uint64_t>();
  check_selection_settings(s);
  return s;
}

void print_summary(const SelectionSummary& r, const std::string& output) {
  const auto name_of = [&](std::uint32_t bits) {
    for (const ScoredSubset& x : r.subsets)
      if (x.bits == bits) return x.elements;
    return std::string("?");
  };
  std::cout << "best subset by net " << r.objective << " score: " << name_of(r.best_bits) << "\n";
  if (r.exhaustive) {
    std::cout << "exhaustive: " << r.lattice << " subsets scored; Shapley values (score units):\n";
    for (const SelectionElement& e : r.elements)
      std::cout << "  " << e.name << " (" << e.kind << "): " << fixed(e.shapley, 6)
                << (std::isnan(e.shapley_low95) ? "" : " [" + fixed(e.shapley_low95, 6) + ", " + fixed(e.shapley_high95, 6) + "]")
                << (e.in_best ? "  in the best subset" : "") << "\n";
  }
  std::cout << "RL search: " << r.rl_evaluations << " evaluations (" << fixed(100.0 * static_cast<double>(r.rl_evaluations) / static_cast<double>(r.lattice), 1)
            << "% of the lattice), " << r.rl_episodes << " episodes, stopped by " << r.rl_stop_reason << "; found "
            << name_of(r.rl_best_bits);
  if (!std::isnan(r.rl_regret)) std::cout << "; regret to the exhaustive best " << fixed(r.rl_regret, 6);
  std::cout << "\nwrote " << output << " in " << fixed(r.seconds, 1) << " s; read it with 'reinforcer report " << output << "'"
            << std::endl;
}

int select_run(const Invocation& inv, const Communicator& comm) {
  Provenance prov;
  prov.started_at = utc_now_iso8601();
  const int threads = static_cast<int>(int_option(inv, "threads", 1, 1024));
  const std::string progress_mode = progress_option(inv);
  std::unique_ptr<AtomicOutput> out;
  if (comm.is_root()) out = std::make_unique<AtomicOutput>(inv.output);
  const TrialInput input = read_trial_input(inv.input, comm);
  SelectionSettings s = selection_settings(inv, input);
  require_learnable_input(input, s.objective == "predictive");  // the predictive score is out of fold
  omp_set_num_threads(threads);
  ProgressLine progress(progress_mode, comm.is_root());
  std::string finished;  // the engine reports a job's end once more; say it once
  s.progress = [&](const std::string& what, std::int64_t done, std::int64_t total, double seconds) {
    if (done == total && finished == what) return;
    if (done == total) finished = what;
    const double eta = done > 0 ? seconds * static_cast<double>(total - done) / static_cast<double>(done) : 0.0;
    progress.status(what + ": " + std::to_string(done) + " of " + std::to_string(total) + " evaluations, " +
                        fixed(seconds, 1) + " s" + (done > 0 && done < total ? ", about " + fixed(eta, 0) + " s left" : ""),
                    done == total);
  };
  if (comm.is_root())
    progress.note("select-features: " + std::to_string(s.features.size()) + " features + " + std::to_string(s.actions.size()) +
                  " actions = " + std::to_string(std::int64_t{1} << (s.features.size() + s.actions.size())) +
                  " subsets; objective " + s.objective + (s.exhaustive ? ", exhaustive" : "") + " on " +
                  std::to_string(comm.size()) + " ranks x " + std::to_string(threads) + " threads");
  SelectionSummary r = select_features(input.table, s, comm);
  progress.finish();
  r.threads = threads;
  if (!comm.is_root()) return 0;
  prov.command_line = inv.command_line;
  prov.config_text = inv.config_text;
  prov.input_path = inv.input;
  prov.input_sha256 = input.sha256;
  write_selection_file(out->temp_path(), r, prov);
  out->commit();
  print_summary(r, inv.output);
  return 0;
}

int run_select(const Invocation& inv) {
  return run_with_communicator(inv, [&](const Communicator& comm) { return select_run(inv, comm); });
}

}  // namespace

CommandSpec select_features_command() {
  CommandSpec s;
  s.name = "select-features";
  s.summary = "which attributes and actions matter: exhaustive search with exact Shapley values, and RL over subsets";
  s.synopsis =
      "[mpirun -np R] reinforcer select-features prepared.h5 -o selection.h5 [--objective predictive|decision]\n"
      "       [--features LIST|all] [--actions LIST|none] [--element-cost C] [--exhaustive [--force]] [--bootstrap B]";
  s.description =
      "Scores subsets of the candidate elements -- features (cohort, country, education, month and\n"
      "the attributes prepare --attributes kept) and actions (wait is always available) -- and finds\n"
      "the best by net score (score minus --element-cost per element).\n"
      "  predictive (default): whom to contact -- the mean out-of-fold log-likelihood per held-out\n"
      "    customer of subscribing within its follow-up, under the status-quo model fitted with the\n"
      "    subset's features (AUC beside it); actions only cost.\n"
      "  decision: what to do -- the expected reward per prospect of the optimal policy that sees\n"
      "    only the subset's features and uses only its actions, judged in the model with every\n"
      "    candidate feature and action.\n"
      "The RL search (Q-learning over subsets: add an element or stop) always runs, within --budget\n"
      "evaluations. --exhaustive scores all 2^n subsets (over " + std::to_string(kExhaustiveLimit) +
      " elements only with --force) and\n"
      "gives each element's exact Shapley value and its marginal gain against the best subset, with\n"
      "95% intervals from --bootstrap B refits, and the RL search's regret against the optimum.\n"
      "Subsets are scored across MPI ranks as they free up, each on its OpenMP threads; the result is\n"
      "the same for any number of ranks. Definitions: docs/SELECTION.md. Then: reinforcer report selection.h5";
  s.runs_under_mpi = true;
  s.add_options = [](po::options_description& d) {
    d.add_options()("objective", po::value<std::string>()->default_value("predictive"), "predictive or decision")(
        "features", po::value<std::string>()->default_value("all"),
        "candidate features, comma-separated (cohort, country, education, month, declared attributes), all, or none")(
        "actions", po::value<std::string>()->default_value("message,call,demo,survey,signup,account_manager"),
        "candidate actions, comma-separated, or none")(
        "element-cost", po::value<double>()->default_value(0.0), "cost per element, in the score's units")(
        "exhaustive", po::bool_switch(), "score every subset; exact Shapley values")(
        "force", po::bool_switch(), "allow --exhaustive beyond the limit of elements (20)")(
        "bootstrap", po::value<int>()->default_value(0), "refits for the intervals of Shapley values and marginal gains (with --exhaustive)")(
        "budget", po::value<std::int64_t>()->default_value(0), "RL search: most evaluations (0: max(200, 5% of the subsets))")(
        "episodes-per-batch", po::value<int>()->default_value(32), "RL search: episodes stepped together (part of the algorithm)")(
        "seed", po::value<std::uint64_t>()->default_value(1), "seed of the RL search and the bootstrap")(
        "threads", po::value<int>()->default_value(default_threads()), "OpenMP threads per rank; default OMP_NUM_THREADS or 1");
    add_progress_option(d);
    for (const TrialOption& o : trial_options())
      if (is_model_option(o.key))
        d.add_options()(o.key.c_str(), po::value<std::string>()->default_value(o.default_text), o.help.c_str());
  };
  s.run = run_select;
  return s;
}

}  // namespace reinforcer
