#include "reinforcer/rl/engagement_dp.hpp"

#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>

#include "reinforcer/core/errors.hpp"
#include "reinforcer/rl/worker_table.hpp"

namespace reinforcer {
namespace {

constexpr std::int64_t kMaxSweeps = 100000;
constexpr double kTolerance = 1e-13;

// One action's backup at cell i split into what does not depend on V(i) (`moved`: the cost
// and the outcomes that leave the cell) and the chance it stays (`stay`).
struct Backup {
  double moved = 0, stay = 0;
};
Backup backup(const EngagementEnvironment& env, const std::vector<double>& v, std::uint32_t i, std::size_t a) {
  const double gamma = env.config().gamma;
  const auto& o = env.outcomes(env.stage(i), a);
  Backup b;
  b.moved = -env.cost(a);
  for (std::size_t k = 0; k < o.size(); ++k) {
    const double p = EngagementEnvironment::probability(o, k);
    const std::uint32_t j = env.next_cell(i, o[k].step);
    if (j == i) b.stay += p;
    else b.moved += p * (env.score(j) - env.score(i) + gamma * v[j]);
  }
  return b;
}
// V(i) = moved + gamma stay V(i), solved for V(i).
double fixed_point(double moved, double stay, double gamma) {
  const double keep = 1 - gamma * stay;
  if (keep > 1e-15) return moved / keep;
  // Stays for ever: worth nothing, or -infinity if each try costs.
  return moved < 0 ? -std::numeric_limits<double>::infinity() : 0.0;
}

bool any_negative_step(const EngagementEnvironment& env) {
  for (std::size_t s = 0; s < kEngagementStages; ++s)
    for (std::size_t a = 0; a < kEngagementActions; ++a)
      for (const auto& o : env.outcomes(static_cast<EngagementStage>(s), a))
        if (o.step < 0) return true;
  return false;
}

// Sweeps cells from the top down, each set by `update(i, v)`, until no value moves.
template <typename Update>
std::int64_t sweep_until_stable(const EngagementEnvironment& env, std::vector<double>& v, const Update& update) {
  const std::size_t cells = env.states();
  v.assign(cells, 0.0);
  const bool one_sweep = !any_negative_step(env);  // then every cell depends only on cells above it
  for (std::int64_t sweep = 1; sweep <= kMaxSweeps; ++sweep) {
    double change = 0;
    for (std::size_t n = cells - 1; n-- > 0;) {
      const auto i = static_cast<std::uint32_t>(n);
      const double x = update(i, v);
      const double d = std::isinf(x) && std::isinf(v[i]) ? 0.0 : std::fabs(x - v[i]);
      change = std::max(change, std::isnan(d) ? std::numeric_limits<double>::infinity() : d / (1 + std::fabs(x)));
      v[i] = x;
    }
    if (one_sweep || change <= kTolerance) return sweep;
  }
  throw InputError(env.config().name + ": the values did not settle in " + std::to_string(kMaxSweeps) +
                   " sweeps; with gamma = 1 and negative gains give the actions larger costs or gamma < 1");
}

std::vector<double> evaluate_mixture(const EngagementEnvironment& env,
                                     const std::function<std::array<double, kEngagementActions>(std::uint32_t)>& weights) {
  std::vector<double> v;
  const double gamma = env.config().gamma;
  sweep_until_stable(env, v, [&](std::uint32_t i, const std::vector<double>& now) {
    const auto w = weights(i);
    double moved = 0, stay = 0;
    for (std::size_t a = 0; a < kEngagementActions; ++a) {
      if (w[a] == 0) continue;
      const Backup b = backup(env, now, i, a);
      moved += w[a] * b.moved;
      stay += w[a] * b.stay;
    }
    return fixed_point(moved, stay, gamma);
  });
  return v;
}

}  // namespace

EngagementSolution solve_engagement(const EngagementEnvironment& env) {
  EngagementSolution s;
  const double gamma = env.config().gamma;
  s.sweeps = sweep_until_stable(env, s.value, [&](std::uint32_t i, const std::vector<double>& now) {
    // The best fixed point over the actions is the fixed point of the max (each keep > 0).
    double best = -std::numeric_limits<double>::infinity();
    for (std::size_t a = 0; a < kEngagementActions; ++a) {
      const Backup b = backup(env, now, i, a);
      best = std::max(best, fixed_point(b.moved, b.stay, gamma));
    }
    return best;
  });
  const std::size_t cells = env.states();
  s.q.assign(cells * kEngagementActions, 0.0);
  s.policy.assign(cells, 0);
  for (std::uint32_t i = 0; i + 1 < cells; ++i) {
    for (std::size_t a = 0; a < kEngagementActions; ++a) {
      const Backup b = backup(env, s.value, i, a);
      s.q[i * kEngagementActions + a] = b.moved + gamma * b.stay * s.value[i];
      if (s.q[i * kEngagementActions + a] > s.q[i * kEngagementActions + s.policy[i]]) s.policy[i] = static_cast<std::uint8_t>(a);
    }
  }
  return s;
}

EngagementSolution solve_engagement(const EngagementConfig& cfg) { return solve_engagement(EngagementEnvironment(cfg)); }

std::vector<double> evaluate_engagement_policy(const EngagementEnvironment& env, const std::vector<std::uint8_t>& policy) {
  if (policy.size() != env.states())
    throw std::invalid_argument("evaluate_engagement_policy: a policy of " + std::to_string(policy.size()) + " cells for " +
                                std::to_string(env.states()));
  return evaluate_mixture(env, [&](std::uint32_t i) {
    std::array<double, kEngagementActions> w{};
    w[policy[i] < kEngagementActions ? policy[i] : 0] = 1;
    return w;
  });
}
std::vector<double> evaluate_engagement_policy(const EngagementConfig& cfg, const std::vector<std::uint8_t>& policy) {
  return evaluate_engagement_policy(EngagementEnvironment(cfg), policy);
}

std::vector<double> evaluate_uniform_random_policy(const EngagementEnvironment& env) {
  return evaluate_mixture(env, [](std::uint32_t) {
    std::array<double, kEngagementActions> w;
    w.fill(1.0 / kEngagementActions);
    return w;
  });
}
std::vector<double> evaluate_uniform_random_policy(const EngagementConfig& cfg) {
  return evaluate_uniform_random_policy(EngagementEnvironment(cfg));
}

double mean_start_value(const EngagementEnvironment& env, const std::vector<double>& value) {
  double sum = 0;
  for (std::uint32_t c : env.start_cells()) sum += value[c];
  return sum / static_cast<double>(env.start_cells().size());
}

double engagement_regret(const EngagementEnvironment& env, const std::vector<double>& optimum, const std::vector<double>& value) {
  const double best = mean_start_value(env, optimum);
  return (best - mean_start_value(env, value)) / std::fabs(best);
}

std::vector<std::uint8_t> greedy_engagement_policy(const EngagementEnvironment& env, const std::vector<double>& q_table) {
  std::vector<std::uint8_t> policy(env.states(), 0);
  for (std::size_t i = 0; i < env.states(); ++i) {
    const double* row = q_table.data() + i * kQStride;
    for (std::size_t a = 1; a < kEngagementActions; ++a)
      if (row[static_cast<std::size_t>(kEngagementActionOf[a])] > row[static_cast<std::size_t>(kEngagementActionOf[policy[i]])])
        policy[i] = static_cast<std::uint8_t>(a);
  }
  return policy;
}

std::vector<EngagementBaseline> engagement_baselines(const EngagementEnvironment& env, const EngagementSolution& optimum) {
  std::vector<EngagementBaseline> out;
  for (std::size_t a = 0; a < kEngagementActions; ++a) {
    EngagementBaseline b;
    b.policy = "always_" + std::string(kEngagementActionNames[a]);
    b.value = evaluate_engagement_policy(env, std::vector<std::uint8_t>(env.states(), static_cast<std::uint8_t>(a)));
    out.push_back(std::move(b));
  }
  EngagementBaseline r;
  r.policy = "random";
  r.value = evaluate_uniform_random_policy(env);
  out.push_back(std::move(r));
  for (auto& b : out) {
    b.start_value = mean_start_value(env, b.value);
    b.regret = engagement_regret(env, optimum.value, b.value);
  }
  return out;
}

}  // namespace reinforcer
