#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "reinforcer/core/errors.hpp"
#include "reinforcer/env/engagement_env.hpp"
#include "reinforcer/rl/engagement_agents.hpp"
#include "reinforcer/rl/engagement_dp.hpp"
#include "test_support.hpp"

using namespace reinforcer;

namespace {

// A model in INI text: every stage gets the same effects; `extra` is appended as is.
std::string model_text(const std::string& model, const std::string& cost, const std::string& effects) {
  std::string t = "[model]\n" + model + "\n[cost]\n" + cost + "\n";
  for (const char* s : {"cold", "warm", "hot"}) t += "[" + std::string(s) + "]\n" + effects + "\n";
  return t;
}

// Three grid scores 0, 0.5, 1; gamma 1/2. email: +0.5 surely, free; webinar: +1 surely, costs
// 0.1; call: +1 with probability 1/2, free. By hand, always-X at 0.5: email 0.5, webinar 0.4,
// call 0.25/(1 - 1/4) = 1/3; at 0: email then email 0.5 + 0.5 x 0.5 = 0.75, webinar 0.9,
// call 0.5/(1 - 1/4) = 2/3. So V* = 0.9 at 0 (webinar), 0.5 at 0.5 (email).
const std::string kTiny = model_text(
    "gamma = 0.5\nhorizon = 50\ngrid = 3\nwarm_at = 0.33\nhot_at = 0.66\nstart_low = 0\nstart_high = 0",
    "email = 0\nwebinar = 0.1\ncall = 0",
    "email.success = 1\nemail.gain = 0.5\nemail.spread = 0\n"
    "webinar.success = 1\nwebinar.gain = 1\nwebinar.spread = 0\n"
    "call.success = 0.5\ncall.gain = 1\ncall.spread = 0");

std::string usage_error(const std::string& text) {
  try {
    parse_engagement_config(text, "m.ini");
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("engagement config: the shipped file parses with its values", "[engagement]") {
  const EngagementConfig c = shipped_engagement_config();
  CHECK(c.gamma == 0.95);
  CHECK(c.grid == 201);
  CHECK(c.warm_at == 0.33);
  CHECK(c.hot_at == 0.66);
  CHECK(c.cost[2] == 0.03);
  CHECK(c.effect[static_cast<std::size_t>(EngagementStage::hot)][2].success == 0.7);
  CHECK(c.effect[static_cast<std::size_t>(EngagementStage::cold)][1].gain == 0.10);
  CHECK(c.text == shipped_engagement_config_text());
}

TEST_CASE("engagement config: each mistake is one line naming the file, the line or key, and the fix", "[engagement]") {
  const std::string shipped = shipped_engagement_config_text();
  struct Case {
    std::string text, expect;
  };
  const std::vector<Case> cases = {
      {replaced(shipped, "gamma = 0.95", "gamma = 1.5"), "[model] gamma = 1.5 is out of range; give a value in (0, 1]"},
      {replaced(shipped, "gamma = 0.95", "gamma = high"), "[model] gamma = 'high': not a number"},
      {replaced(shipped, "grid = 201", "grid = 20.5"), "give a whole number in [3, 2001]"},
      {replaced(shipped, "email.gain = 0.05", "email.gian = 0.05"), "[cold] email.gian: unknown key; the keys of [cold] are"},
      {replaced(shipped, "[cost]", "[costs]"), "unknown section [costs]; the sections are [model], [cost]"},
      {replaced(shipped, "call = 0.03", ""), "[cost] lacks call; every key must be given"},
      {replaced(shipped, "email = 0.002", "email = 0.002\nemail = 0.003"), "email is given twice in [cost] (first at line"},
      {replaced(shipped, "hot_at = 0.66", "hot_at = 0.2"), "hot_at = 0.2 must be above warm_at = 0.33"},
      {replaced(shipped, "start_high = 0.3", "start_high = 1"), "start_high = 1 must be below 1"},
      {replaced(replaced(shipped, "gamma = 0.95", "gamma = 1"), "email = 0.002", "email = 0"), "with gamma = 1"},
      {replaced(shipped, "call.spread = 0.10", "call.spread = 0.95"), "leaves [-1, 1]; give a smaller spread"},
  };
  for (const Case& c : cases) {
    const std::string message = usage_error(c.text);
    INFO(message);
    CHECK(message.rfind("m.ini", 0) == 0);
    CHECK(message.find(c.expect) != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
  }
  CHECK(usage_error(replaced(shipped, "gamma = 0.95", "gamma = 1.5")).find("m.ini line 11:") == 0);
}

TEST_CASE("engagement config: a file is read from its path, a missing one is a path error", "[engagement]") {
  const test::TempDir dir;
  const std::string path = dir.write("e.ini", kTiny);
  CHECK(load_engagement_config(path).grid == 3);
  CHECK(load_engagement_config(path).name == path);
  CHECK_THROWS_AS(load_engagement_config(dir.file("missing.ini")), PathError);
}

TEST_CASE("engagement DP: a three-cell model solved by hand", "[engagement]") {
  const EngagementConfig c = parse_engagement_config(kTiny, "tiny");
  const EngagementEnvironment env(c);
  REQUIRE(env.states() == 3);
  CHECK(env.stage(0) == EngagementStage::cold);
  CHECK(env.stage(1) == EngagementStage::warm);
  const EngagementSolution s = solve_engagement(c);
  CHECK(s.value[2] == 0.0);
  CHECK(s.value[1] == Approx(0.5).epsilon(1e-12));
  CHECK(s.value[0] == Approx(0.9).epsilon(1e-12));
  CHECK(s.policy[1] == 0);  // email
  CHECK(s.policy[0] == 1);  // webinar
  CHECK(s.q[0 * 3 + 0] == Approx(0.75).epsilon(1e-12));
  // Q*: a call now, the optimum after it (a failed call leaves the score, worth V* there).
  CHECK(s.q[0 * 3 + 2] == Approx(0.5 + 0.25 * 0.9).epsilon(1e-12));
  CHECK(s.q[1 * 3 + 2] == Approx(0.25 + 0.25 * 0.5).epsilon(1e-12));
  // Random at 0.5: (0.5 + 0.4 + 0.25 + 1/2 x 1/2 x V)/3 = V, so V = 13.8/33.
  const std::vector<double> random = evaluate_uniform_random_policy(c);
  CHECK(random[1] == Approx(13.8 / 33).epsilon(1e-12));
  CHECK(mean_start_value(env, s.value) == Approx(0.9));
  const std::vector<double> always_call = evaluate_engagement_policy(c, {2, 2, 2});
  CHECK(engagement_regret(env, s.value, always_call) == Approx((0.9 - 2.0 / 3) / 0.9));
  const auto baselines = engagement_baselines(env, s);
  REQUIRE(baselines.size() == 4);
  CHECK(baselines[1].policy == "always_webinar");
  CHECK(baselines[1].regret == Approx(0.0).margin(1e-12));
  CHECK(baselines[3].policy == "random");
}

TEST_CASE("engagement DP: the optimal policy's exact value is V*, and no baseline beats it", "[engagement]") {
  // The shipped model, and one where a cold call can lower the score (values then settle over
  // several sweeps instead of one).
  const std::string shipped = shipped_engagement_config_text();
  for (const std::string& text : {shipped, replaced(shipped, "call.gain = 0.08", "call.gain = -0.02")}) {
    const EngagementConfig c = parse_engagement_config(text, "model");
    const EngagementEnvironment env(c);
    const EngagementSolution s = solve_engagement(env);
    const std::vector<double> v = evaluate_engagement_policy(env, s.policy);
    for (std::size_t i = 0; i < env.states(); ++i) REQUIRE(v[i] == Approx(s.value[i]).margin(1e-10));
    for (const auto& b : engagement_baselines(env, s)) {
      INFO(b.policy);
      CHECK(b.regret > 0.01);
      for (std::size_t i = 0; i < env.states(); ++i) REQUIRE(b.value[i] <= s.value[i] + 1e-10);
    }
  }
}

TEST_CASE("engagement environment: same seed same episodes, other seed other episodes; returns match the DP",
          "[engagement]") {
  const EngagementEnvironment env(shipped_engagement_config());
  const EngagementShard shard = env.shard();
  auto episode = [&](std::uint64_t seed, std::uint64_t n) {
    RandomStream rng(seed, n);
    EpisodeState e;
    env.start(e, shard, rng);
    std::vector<std::uint32_t> cells{e.state};
    while (!e.done) {
      env.step(e, Action::message, rng);
      cells.push_back(e.state);
    }
    return cells;
  };
  CHECK(episode(1, 7) == episode(1, 7));
  CHECK(episode(1, 7) != episode(2, 7));
  // Monte Carlo discounted returns of always-email and always-call (a cold call can lower the
  // score, a hot one overshoot 1.0: both clamped) from the start cells agree with their exact
  // values: the environment draws from the DP's own probabilities.
  RandomStream rng(3, 0);
  for (std::size_t k = 0; k < 3; k += 2) {
    const std::vector<double> exact = evaluate_engagement_policy(env, std::vector<std::uint8_t>(env.states(), static_cast<std::uint8_t>(k)));
    double sum = 0, sum2 = 0;
    const int n = 20000;
    for (int i = 0; i < n; ++i) {
      EpisodeState e;
      env.start(e, shard, rng);
      double g = 0, discount = 1;
      while (!e.done) {
        g += discount * env.step(e, kEngagementActionOf[k], rng).reward;
        discount *= env.config().gamma;
      }
      sum += g, sum2 += g * g;
    }
    const double mean = sum / n, se = std::sqrt((sum2 / n - mean * mean) / n);
    INFO(kEngagementActionNames[k] << ": simulated " << mean << " +- " << se << ", exact " << mean_start_value(env, exact));
    CHECK(std::fabs(mean - mean_start_value(env, exact)) < 4 * se);
  }
  // An unavailable sales action costs the penalty and leaves the score.
  EpisodeState e;
  env.start(e, shard, rng);
  const std::uint32_t before = e.state;
  CHECK(env.step(e, Action::wait, rng).reward == -EngagementEnvironment::kUnavailablePenalty);
  CHECK(e.state == before);
  // A network's inputs: the score and the stage one-hot.
  e.state = 100;  // score 0.5: warm
  float in[EngagementEnvironment::kInputs];
  env.features(e, in);
  CHECK(in[0] == 0.5f);
  CHECK((in[1] == 0.0f && in[2] == 1.0f && in[3] == 0.0f));
}

TEST_CASE("engagement: the tabular agent comes close to the DP optimum, far closer than the baselines", "[engagement]") {
  const EngagementEnvironment env(shipped_engagement_config());
  const EngagementSolution s = solve_engagement(env);
  EngagementTraining t;
  t.episodes_per_worker = 20000;
  t.sync_every = 2000;
  t.threads = 2;
  t.seed = 5;
  const TrainedAgent a = train_agent("tabular", env, s, t, local_communicator());
  const double regret = engagement_regret(env, s.value, evaluate_engagement_policy(env, a.policy));
  INFO("regret " << regret);
  CHECK(regret >= 0);
  CHECK(regret < 0.01);
  double best_baseline = 1e9;
  for (const auto& b : engagement_baselines(env, s)) best_baseline = std::min(best_baseline, b.regret);
  CHECK(best_baseline > 10 * regret);
  REQUIRE(a.curve.size() == 10);
  CHECK(a.curve.back().regret == Approx(regret));
  CHECK_THROWS_AS(train_agent("dqm", env, s, t, local_communicator()), UsageError);
}

TEST_CASE("engagement: the shipped horizon does not bind (the DP ignores it)", "[engagement]") {
  // The chance an episode of the optimal (and of the slowest constant) policy is still running
  // after `horizon` actions, by propagating the start distribution through the grid.
  const EngagementEnvironment env(shipped_engagement_config());
  const EngagementSolution s = solve_engagement(env);
  auto running_after_horizon = [&](const std::vector<std::uint8_t>& policy) {
    std::vector<double> p(env.states(), 0.0);
    for (std::uint32_t c : env.start_cells()) p[c] += 1.0 / static_cast<double>(env.start_cells().size());
    for (int t = 0; t < env.config().horizon; ++t) {
      std::vector<double> next(env.states(), 0.0);
      for (std::uint32_t i = 0; i < env.terminal(); ++i) {
        if (p[i] == 0) continue;
        const auto& o = env.outcomes(env.stage(i), policy[i]);
        for (std::size_t k = 0; k < o.size(); ++k) next[env.next_cell(i, o[k].step)] += p[i] * EngagementEnvironment::probability(o, k);
      }
      next[env.terminal()] = 0;  // ended
      p = next;
    }
    double running = 0;
    for (double x : p) running += x;
    return running;
  };
  // Measured: 1.4e-26 (optimal), 1.0e-13 (always email), 3.9e-11 (always call, the slowest).
  CHECK(running_after_horizon(s.policy) < 1e-20);
  for (std::uint8_t a = 0; a < kEngagementActions; ++a)
    CHECK(running_after_horizon(std::vector<std::uint8_t>(env.states(), a)) < 1e-9);
}
