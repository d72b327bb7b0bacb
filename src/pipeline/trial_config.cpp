#include "reinforcer/pipeline/trial_config.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>

#include "reinforcer/core/errors.hpp"

namespace reinforcer {
namespace {

// What is wrong with a value, without where it came from (the caller adds that).
struct BadValue {
  std::string reason;
};

// The shortest text that reads back as the same double.
std::string number_text(double v) {
  char buf[40];
  for (int digits = 6; digits <= 17; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

double read_double(const std::string& text, double lo, double hi) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v))
    throw BadValue{"'" + text + "' is not a number"};
  if (!(v >= lo && v <= hi))
    throw BadValue{text + " is out of range; give a value from " + number_text(lo) + " to " + number_text(hi)};
  return v;
}

std::int64_t read_int(const std::string& text, std::int64_t lo, std::int64_t hi) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE)
    throw BadValue{"'" + text + "' is not a whole number"};
  if (v < lo || v > hi)
    throw BadValue{text + " is out of range; give a value from " + std::to_string(lo) + " to " + std::to_string(hi)};
  return v;
}

std::string read_choice(const std::string& text, const std::vector<std::string>& choices) {
  for (const auto& c : choices)
    if (text == c) return text;
  std::string list;
  for (std::size_t i = 0; i < choices.size(); ++i) list += (i ? (i + 1 == choices.size() ? " or " : ", ") : "") + choices[i];
  throw BadValue{"'" + text + "' is not " + list};
}

struct OptionRule {
  TrialOption option;
  std::function<void(TrialConfig&, const std::string&)> read;
  std::function<std::string(const TrialConfig&)> write;
};

template <typename Field>
OptionRule number(std::string key, double dflt, std::string help, bool model, double lo, double hi, Field field) {
  return {{std::move(key), number_text(dflt), std::move(help), model},
          [=](TrialConfig& c, const std::string& t) { field(c) = read_double(t, lo, hi); },
          [=](const TrialConfig& c) { return number_text(field(const_cast<TrialConfig&>(c))); }};
}

template <typename Field>
OptionRule whole(std::string key, std::int64_t dflt, std::string help, bool model, std::int64_t lo, std::int64_t hi,
                 Field field) {
  return {{std::move(key), std::to_string(dflt), std::move(help), model},
          [=](TrialConfig& c, const std::string& t) { field(c) = static_cast<std::decay_t<decltype(field(c))>>(read_int(t, lo, hi)); },
          [=](const TrialConfig& c) { return std::to_string(field(const_cast<TrialConfig&>(c))); }};
}

std::vector<OptionRule> make_rules() {
  std::vector<OptionRule> r;
  r.push_back({{"env", "funnel", "environment: funnel (fitted, actions change outcomes) or replay (records, for comparison)", true},
               [](TrialConfig& c, const std::string& t) { c.environment = read_choice(t, {"funnel", "replay"}); },
               [](const TrialConfig& c) { return c.environment; }});
  r.push_back({{"fit-on", "all", "customers the funnel is fitted on: all, train, or except-fold:I", true},
               [](TrialConfig& c, const std::string& t) {
                 const bool fold = t.rfind("except-fold:", 0) == 0 && t.size() > 12 &&
                                   t.find_first_not_of("0123456789", 12) == std::string::npos;
                 if (t != "all" && t != "train" && !fold) throw BadValue{"'" + t + "' is not all, train or except-fold:I"};
                 c.fit_on = t;
               },
               [](const TrialConfig& c) { return c.fit_on; }});
  r.push_back({{"features", std::string(kDefaultFeatures),
                "decision-time features of the segment, in shrinkage order: cohort, country, education, month, "
                "or attributes declared at prepare --attributes (by column name)", true},
               [](TrialConfig& c, const std::string& t) {
                 try {
                   c.features = parse_feature_names(t, "");  // attributes are matched to the table's once it is read
                 } catch (const Error& e) {
                   std::string m = e.what();
                   throw BadValue{m.rfind(": ", 0) == 0 ? m.substr(2) : m};
                 }
               },
               [](const TrialConfig& c) { return c.features.text(); }});
  r.push_back(whole("episodes", kDefaultEpisodesPerWorker, "episodes per worker", false, 1, INT64_C(1) << 40,
                    [](TrialConfig& c) -> std::int64_t& { return c.schedule.episodes_per_worker; }));
  r.push_back({{"seed", "1", "random seed", false},
               [](TrialConfig& c, const std::string& t) {
                 char* end = nullptr;
                 errno = 0;
                 const unsigned long long v = std::strtoull(t.c_str(), &end, 10);
                 if (t.empty() || t[0] == '-' || end != t.c_str() + t.size() || errno == ERANGE)
                   throw BadValue{"'" + t + "' is not a whole number >= 0"};
                 c.schedule.seed = v;
               },
               [](const TrialConfig& c) { return std::to_string(c.schedule.seed); }});
  r.push_back(whole("sync-every", kDefaultSyncEvery, "episodes per worker between Q-table averages (a sync round)", false, 1,
                    INT64_C(1) << 40, [](TrialConfig& c) -> std::int64_t& { return c.schedule.sync_every; }));
  r.push_back(whole("horizon", 52,
                    "episode horizon in weeks (funnel); hazards change over bands of weeks since t0 (0-3, 4-12, 13-25, 26-51, 52+)",
                    true, 1, 156, [](TrialConfig& c) -> int& { return c.funnel.horizon_weeks; }));
  r.push_back({{"shrinkage", "auto",
                "prior strength of the hazard shrinkage toward the parent segment: auto (empirical Bayes) or a number >= 0", true},
               [](TrialConfig& c, const std::string& t) {
                 if (t == "auto") {
                   c.shrinkage = -1;
                   return;
                 }
                 try {
                   c.shrinkage = read_double(t, 0, 1e12);
                 } catch (const BadValue&) {
                   throw BadValue{"'" + t + "' is not auto or a number >= 0"};
                 }
               },
               [](const TrialConfig& c) { return c.shrinkage < 0 ? std::string("auto") : number_text(c.shrinkage); }});
  r.push_back(number("reward.subscription", 100.0, "reward for a subscription", true, 0.0, 1e9,
                     [](TrialConfig& c) -> double& { return c.funnel.subscription_reward; }));
  r.push_back(number("oversample", kDefaultOversample,
                     "share of episodes that start at a subscriber's start state (the same for any number of workers)", false,
                     0.0, 1.0, [](TrialConfig& c) -> double& { return c.oversample; }));
  r.push_back({{"step-size", "visits",
                "Q-learning step size: visits (1/(1+N(s,a))^omega, N the cell's visits so far) or constant (--alpha)", false},
               [](TrialConfig& c, const std::string& t) { c.step_size = read_choice(t, {"visits", "constant"}); },
               [](const TrialConfig& c) { return c.step_size; }});
  r.push_back(number("omega", 0.6, "exponent of the visit-count step size (0.5 < omega <= 1 converges)", false, 0.5, 1.0,
                     [](TrialConfig& c) -> double& { return c.schedule.q.omega; }));
  r.push_back(number("alpha", 0.1, "the constant step size (with --step-size constant)", false, 1e-9, 1.0,
                     [](TrialConfig& c) -> double& { return c.schedule.q.alpha; }));
  r.push_back(number("gamma", 1.0, "discount per week (1: the finite horizon is the only limit)", true, 0.0, 1.0,
                     [](TrialConfig& c) -> double& { return c.schedule.q.gamma; }));
  r.push_back(whole("refits", 50,
                    "bootstrap refits of the funnel for the interval of the learned policy minus the best constant policy (funnel)",
                    false, 0, 10000, [](TrialConfig& c) -> int& { return c.refits; }));
  r.push_back(number("epsilon-start", 1.0, "exploration at the start", false, 0.0, 1.0,
                     [](TrialConfig& c) -> double& { return c.schedule.q.epsilon_start; }));
  r.push_back(number("epsilon-end", 0.01, "exploration floor", false, 0.0, 1.0,
                     [](TrialConfig& c) -> double& { return c.schedule.q.epsilon_end; }));
  r.push_back(number("epsilon-decay", 0.0, "decay per global episode (0: reach the floor at half the episode budget)", false,
                     0.0, 1.0, [](TrialConfig& c) -> double& { return c.schedule.q.epsilon_decay; }));
  r.push_back(whole("interleave", 8, "episodes run in lockstep per worker (part of the algorithm)", false, 1, 64,
                    [](TrialConfig& c) -> int& { return c.schedule.q.interleave; }));
  r.push_back(whole("replay-steps", 10, "steps per replay episode", false, 1, 255,
                    [](TrialConfig& c) -> int& { return c.replay.max_steps; }));
  r.push_back({{"replay-rewards", "plain",
                "replay reward table: plain (+100 subscription) or legacy (+15 first call, +12 demo, once each)", false},
               [](TrialConfig& c, const std::string& t) { c.replay_rewards = read_choice(t, {"plain", "legacy"}); },
               [](const TrialConfig& c) { return c.replay_rewards; }});
  r.push_back({{"agent", "tabular",
                "the learner: tabular (a Q-table per state) or dqn (a neural network on the funnel's features, "
                "gradients summed over every worker each step; docs/DQN.md)", false},
               [](TrialConfig& c, const std::string& t) { c.agent = read_choice(t, {"tabular", "dqn"}); },
               [](const TrialConfig& c) { return c.agent; }});
  r.push_back(whole("dqn.steps", 200000, "dqn: environment steps per worker", false, 1, INT64_C(1) << 40,
                    [](TrialConfig& c) -> std::int64_t& { return c.dqn.steps; }));
  r.push_back({{"dqn.hidden", "64,64", "dqn: hidden layer widths, comma-separated", false},
               [](TrialConfig& c, const std::string& t) {
                 std::vector<int> widths;
                 std::stringstream items(t);
                 for (std::string item; std::getline(items, item, ',');) widths.push_back(static_cast<int>(read_int(item, 1, 4096)));
                 if (widths.empty() || widths.size() > 8) throw BadValue{"'" + t + "': give 1 to 8 widths, e.g. 64,64"};
                 c.dqn.hidden = widths;
               },
               [](const TrialConfig& c) {
                 std::string t;
                 for (int w : c.dqn.hidden) t += (t.empty() ? "" : ",") + std::to_string(w);
                 return t;
               }});
  r.push_back(number("dqn.learning-rate", 1e-3, "dqn: Adam's step size", false, 1e-9, 1.0,
                     [](TrialConfig& c) -> double& { return c.dqn.adam.learning_rate; }));
  r.push_back(whole("dqn.batch", 64, "dqn: transitions per worker per gradient step", false, 1, 65536,
                    [](TrialConfig& c) -> int& { return c.dqn.batch; }));
  r.push_back(whole("dqn.target-every", 1000, "dqn: gradient steps between copies to the target network", false, 1,
                    INT64_C(1) << 30, [](TrialConfig& c) -> int& { return c.dqn.target_update_every; }));
  r.push_back(number("dqn.huber-delta", 10.0, "dqn: where the Huber loss turns linear, in reward units", false, 1e-9, 1e12,
                     [](TrialConfig& c) -> double& { return c.dqn.huber_delta; }));
  const ActionCosts costs;
  for (std::size_t a = 0; a < kActions; ++a)
    r.push_back(number("cost." + std::string(kActionNames[a]), costs.cost[a],
                       "cost of the action " + std::string(kActionNames[a]), true, 0.0, 1e12,
                       [a](TrialConfig& c) -> double& { return c.funnel.costs.cost[a]; }));
  const ActionSuccess success;
  for (std::size_t a = 0; a < kActions; ++a) {
    if (static_cast<Action>(a) == Action::wait) continue;  // wait is the status quo
    const auto target = target_of(static_cast<Action>(a));
    r.push_back(number("success." + std::string(kActionNames[a]), success.probability[a],
                       "ASSUMED chance that " + std::string(kActionNames[a]) + " reaches " +
                           std::string(kMilestoneKeys[static_cast<std::size_t>(*target)]) +
                           " in the week it is taken, beyond the status quo (a placeholder: see the break-even table)",
                       true, 0.0, 1.0, [a](TrialConfig& c) -> double& { return c.funnel.success.probability[a]; }));
  }
  return r;
}

const std::vector<OptionRule>& rules() {
  static const std::vector<OptionRule> r = make_rules();
  return r;
}

const OptionRule* rule_of(const std::string& key) {
  for (const OptionRule& r : rules())
    if (r.option.key == key) return &r;
  return nullptr;
}

}  // namespace

const std::vector<TrialOption>& trial_options() {
  static const std::vector<TrialOption> out = [] {
    std::vector<TrialOption> v;
    for (const OptionRule& r : rules()) v.push_back(r.option);
    return v;
  }();
  return out;
}

bool is_trial_option(const std::string& key) { return rule_of(key) != nullptr; }

std::string explain_unknown_trial_option(const std::string& key) {
  for (const std::string prefix : {"cost.", "success."})
    if (key.rfind(prefix, 0) == 0)
      return "unknown action '" + key.substr(prefix.size()) + "' in '" + key + "' (actions: " + action_list() +
             (prefix == "success." ? "; wait has no success: it is the status quo" : "") + ")";
  if (key.rfind("effect.", 0) == 0)
    return "'" + key + "': effect multipliers were replaced by success.<action> probabilities";
  return "";
}

TrialConfig parse_trial_config(const OptionValues& values,
                               const std::function<std::string(const std::string& key)>& where) {
  TrialConfig c;
  for (const OptionRule& r : rules()) r.read(c, r.option.default_text);
  for (const auto& [key, text] : values) {
    const OptionRule* r = rule_of(key);
    if (!r) {
      const std::string why = explain_unknown_trial_option(key);
      throw UsageError(where(key) + ": " + (why.empty() ? "unknown option" : why));
    }
    try {
      r->read(c, text);
    } catch (const BadValue& b) {
      throw UsageError(where(key) + ": " + b.reason);
    }
  }
  // Checks that involve two options, named by the later one.
  TrainSchedule& t = c.schedule;
  if (t.q.epsilon_end > t.q.epsilon_start)
    throw UsageError(where("epsilon-end") + ": " + number_text(t.q.epsilon_end) + " is above epsilon-start " +
                     number_text(t.q.epsilon_start));
  if (t.q.epsilon_end <= 0 && t.q.epsilon_decay <= 0)
    throw UsageError(where("epsilon-end") + ": 0 needs an explicit epsilon-decay");
  if (c.agent == "dqn" && c.environment != "funnel")
    throw UsageError(where("agent") + ": dqn trains on the funnel environment only (its features); use --env funnel");
  fit_dqn_schedule_to_steps(c.dqn);
  c.replay.rewards = *ReplayRewards::named(c.replay_rewards);
  c.replay.rewards.subscription = c.funnel.subscription_reward;
  c.replay.costs = c.funnel.costs;
  return c;
}

TrialConfig parse_trial_config(const OptionValues& values) {
  return parse_trial_config(values, [](const std::string& key) { return "--" + key; });
}

OptionValues trial_option_values(const TrialConfig& config) {
  OptionValues v;
  for (const OptionRule& r : rules()) v[r.option.key] = r.write(config);
  return v;
}

OptionValues non_default_values(const TrialConfig& config) {
  OptionValues v;
  for (const OptionRule& r : rules()) {
    const std::string text = r.write(config);
    if (text != r.option.default_text) v[r.option.key] = text;
  }
  return v;
}

std::string canonical_text(const TrialConfig& config) {
  std::string out;
  for (const OptionRule& r : rules()) out += r.option.key + " = " + r.write(config) + "\n";
  return out;
}

std::string model_key(const TrialConfig& config) {
  std::string out;
  for (const OptionRule& r : rules())
    if (r.option.changes_model) out += r.option.key + " = " + r.write(config) + "\n";
  return out;
}

OptionValues trial_values_in(const std::string& config_lines) {
  OptionValues v;
  std::istringstream lines(config_lines);
  std::string line;
  while (std::getline(lines, line)) {
    const auto eq = line.find(" = ");
    if (eq == std::string::npos || line.empty() || line[0] == '[') continue;
    const std::string key = line.substr(0, eq);
    if (is_trial_option(key)) v[key] = line.substr(eq + 3);
  }
  return v;
}

}  // namespace reinforcer
