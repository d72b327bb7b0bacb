// Q-learning over the lattice of subsets (the reasons for its choices are in the header).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <unordered_map>

#include "reinforcer/core/rng.hpp"
#include "reinforcer/pipeline/subset_search.hpp"

namespace reinforcer {

void QSearchSettings::check() const {
  const auto fail = [](const std::string& what) { throw std::invalid_argument("Q-learning subset search: " + what); };
  if (budget < 1) fail("the budget of evaluations must be at least 1");
  if (max_episodes < 1) fail("max_episodes must be at least 1");
  if (episodes_per_batch < 1) fail("episodes_per_batch must be at least 1");
  if (!(alpha > 0.0 && alpha <= 1.0)) fail("alpha must be in (0, 1]");
  if (!(epsilon_start >= 0.0 && epsilon_start <= 1.0 && epsilon_end >= 0.0 && epsilon_end <= 1.0))
    fail("epsilon_start and epsilon_end must be in [0, 1]");
  if (!(epsilon_halflife > 0.0)) fail("epsilon_halflife must be positive");
  if (stable_batches < 1) fail("stable_batches must be at least 1");
}

namespace {

// Q(S, add e) for the adds tried at least once; an untried add counts as 0, stopping's value.
struct StateRow {
  std::vector<double> q;
  ElementSet tried = 0;
};

class QTable {
 public:
  explicit QTable(int elements) : elements_(elements) {}
  StateRow& row(ElementSet s) {
    StateRow& r = rows_[s];
    if (r.q.empty()) r.q.assign(static_cast<std::size_t>(elements_), 0.0);
    return r;
  }
  // max(stop, every add) = max(0, the tried adds).
  double value(ElementSet s) const {
    const auto it = rows_.find(s);
    if (it == rows_.end()) return 0.0;
    double v = 0.0;
    for (int e = 0; e < elements_; ++e)
      if (it->second.tried >> e & 1U) v = std::max(v, it->second.q[static_cast<std::size_t>(e)]);
    return v;
  }
  // The tried add with the highest Q if it is above 0 (lowest element on ties), else -1.
  int best_positive_add(ElementSet s) const {
    const auto it = rows_.find(s);
    if (it == rows_.end()) return -1;
    int best = -1;
    double best_q = 0.0;
    for (int e = 0; e < elements_; ++e)
      if ((it->second.tried >> e & 1U) && it->second.q[static_cast<std::size_t>(e)] > best_q) {
        best = e;
        best_q = it->second.q[static_cast<std::size_t>(e)];
      }
    return best;
  }
  const StateRow* find(ElementSet s) const {
    const auto it = rows_.find(s);
    return it == rows_.end() ? nullptr : &it->second;
  }

 private:
  int elements_;
  std::unordered_map<ElementSet, StateRow> rows_;
};

constexpr int kProbes = 1;

struct Transition {
  ElementSet from;
  int element;
};

struct Episode {
  std::int64_t id = 0;
  ElementSet state = 0;
  int step = 0;
  bool done = false;
  int probes = 0;  // untried adds taken where it would have stopped
  int action = -1;  // this step: the element to add, or -1 to stop
  std::vector<Transition> path;
};

// The k-th (from 0) set bit of `set`.
int nth_element(ElementSet set, std::uint64_t k) {
  for (int e = 0; e < kMaxSearchElements; ++e)
    if (set >> e & 1U) {
      if (k == 0) return e;
      --k;
    }
  throw std::logic_error("nth_element: fewer elements than asked for");
}

// a ranks before b: higher net score, then the smaller subset, then the lower bitmask.
bool ranks_before(double net_a, ElementSet a, double net_b, ElementSet b) {
  if (net_a != net_b) return net_a > net_b;
  if (subset_size(a) != subset_size(b)) return subset_size(a) < subset_size(b);
  return a < b;
}

}  // namespace

QSearchResult search_q_learning(const Communicator& comm, const SearchSpace& space, const BatchScorer& scorer,
                                const QSearchSettings& settings) {
  space.check();
  settings.check();
  const int n = space.elements;
  const ElementSet full = space.all();
  const auto started = std::chrono::steady_clock::now();
  FarmSettings farm;
  farm.chunk = settings.farm.chunk;

  QSearchResult result;
  ScoreMemo& memo = result.memo;
  QTable table(n);
  const std::uint64_t seed_hash = splitmix64(settings.seed ^ 0x51B5E7A3C0FFEE11ULL);
  const auto epsilon = [&](std::int64_t episode) {
    return settings.epsilon_end + (settings.epsilon_start - settings.epsilon_end) *
                                      std::pow(0.5, static_cast<double>(episode) / settings.epsilon_halflife);
  };
  const auto net_of = [&](ElementSet s) { return space.net(s, memo.at(s)); };
  // Each element's prior: its mean reward over the distinct (state, element) adds tried so far,
  // in every state (as "all moves as first" in game-tree search); 0 before it is first added.
  std::vector<double> reward_sum(static_cast<std::size_t>(n), 0.0);
  std::vector<std::int64_t> reward_count(static_cast<std::size_t>(n), 0);
  const auto prior = [&](int e) {
    const auto k = static_cast<std::size_t>(e);
    return reward_count[k] == 0 ? 0.0 : reward_sum[k] / static_cast<double>(reward_count[k]);
  };
  // The behaviour's choice when not exploring at random: (1) the tried add of highest Q if above
  // 0 (stopping's value), unless an untried add's prior beats that add's own reward here (it is
  // then valued as its prior plus the same continuation, and tried); (2) else an untried add
  // with a positive prior; (3) else, once per episode, the untried add of highest prior (the
  // probe that scores the adds to where the walk would stop); (4) else stop (-1). Ties among
  // untried adds are drawn at random, ties among tried ones go to the lowest element.
  const auto behaviour = [&](Episode& ep, ElementSet absent, RandomStream& rng) {
    const StateRow* row = table.find(ep.state);
    const ElementSet tried = row ? row->tried : 0;
    int best = -1;
    double best_value = -std::numeric_limits<double>::infinity();
    for (int e = 0; e < n; ++e)
      if ((absent >> e & 1U) && (tried >> e & 1U) && row->q[static_cast<std::size_t>(e)] > best_value) {
        best = e;
        best_value = row->q[static_cast<std::size_t>(e)];
      }
    const ElementSet untried = absent & ~tried;
    double best_prior = -std::numeric_limits<double>::infinity();
    for (int e = 0; e < n; ++e)
      if (untried >> e & 1U) best_prior = std::max(best_prior, prior(e));
    const auto draw_untried = [&] {
      ElementSet ties = 0;
      for (int e = 0; e < n; ++e)
        if ((untried >> e & 1U) && prior(e) == best_prior) ties |= ElementSet{1} << e;
      return nth_element(ties, rng.below(static_cast<std::uint64_t>(subset_size(ties))));
    };
    if (best >= 0 && best_value > 0.0) {
      // An untried add is valued as its prior plus the continuation the best tried add has:
      // it beats that add when its prior beats the add's own reward here.
      const double best_reward = net_of(ep.state | (ElementSet{1} << best)) - net_of(ep.state);
      if (untried != 0 && best_prior > best_reward) return draw_untried();
      return best;
    }
    if (untried != 0 && best_prior > 0.0) return draw_untried();
    if (untried != 0 && ep.probes < kProbes) {
      ++ep.probes;
      return draw_untried();
    }
    return -1;
  };
  const auto update = [&](const Transition& t) {
    const ElementSet to = t.from | (ElementSet{1} << t.element);
    const double target = net_of(to) - net_of(t.from) + table.value(to);
    StateRow& row = table.row(t.from);
    double& q = row.q[static_cast<std::size_t>(t.element)];
    q = (row.tried >> t.element & 1U) ? q + settings.alpha * (target - q) : settings.alpha * target;
    row.tried |= ElementSet{1} << t.element;
  };
  const auto consider_best = [&](ElementSet s) {
    if (ranks_before(net_of(s), s, result.best_net, result.best)) {
      result.best = s;
      result.best_net = net_of(s);
    }
  };
  const auto greedy_walk = [&] {
    std::vector<int> path;
    ElementSet s = 0;
    for (int e = table.best_positive_add(s); e >= 0; e = table.best_positive_add(s)) {
      path.push_back(e);
      s |= ElementSet{1} << e;
    }
    return path;
  };

  memo.score_missing(comm, {0}, scorer, farm);
  result.best = 0;
  result.best_net = net_of(0);
  std::vector<int> previous_walk;
  int stable = 0;
  while (result.stopped_by.empty()) {
    if (result.episodes >= settings.max_episodes) {
      result.stopped_by = "max_episodes";
      break;
    }
    const std::int64_t first = result.episodes;
    const std::int64_t size = std::min<std::int64_t>(settings.episodes_per_batch, settings.max_episodes - first);
    std::vector<Episode> batch(static_cast<std::size_t>(size));
    for (std::int64_t k = 0; k < size; ++k) batch[static_cast<std::size_t>(k)].id = first + k;
    result.episodes += size;

    for (bool active = true; active;) {
      // Choose every episode's action under the Q of the previous step.
      std::vector<ElementSet> needed;
      for (Episode& ep : batch) {
        if (ep.done) continue;
        ep.action = -1;
        if (ep.state != full) {
          RandomStream rng = RandomStream::keyed(seed_hash, static_cast<std::uint64_t>(ep.id) * 32 + static_cast<std::uint64_t>(ep.step));
          const ElementSet absent = full & ~ep.state;
          if (rng.uniform() < epsilon(ep.id)) {
            ep.action = nth_element(absent, rng.below(static_cast<std::uint64_t>(subset_size(absent))));
          } else {
            ep.action = behaviour(ep, absent, rng);
          }
        }
        if (ep.action >= 0) needed.push_back(ep.state | (ElementSet{1} << ep.action));
      }
      std::int64_t missing = 0;
      {
        std::vector<ElementSet> unique;
        for (ElementSet s : needed)
          if (!memo.contains(s) && std::find(unique.begin(), unique.end(), s) == unique.end()) unique.push_back(s);
        missing = static_cast<std::int64_t>(unique.size());
      }
      if (memo.evaluations() + missing > settings.budget) {
        result.stopped_by = "budget";
        for (Episode& ep : batch) ep.action = -1;  // end every episode where it stands
      } else {
        memo.score_missing(comm, needed, scorer, farm);
      }
      // Apply the step in episode order; a finished episode is replayed backwards.
      active = false;
      for (Episode& ep : batch) {
        if (ep.done) continue;
        if (ep.action >= 0) {
          const Transition t{ep.state, ep.action};
          const StateRow* row = table.find(ep.state);
          if (!row || !(row->tried >> ep.action & 1U)) {  // each (state, element) counts once
            const auto k = static_cast<std::size_t>(ep.action);
            reward_sum[k] += net_of(ep.state | (ElementSet{1} << ep.action)) - net_of(ep.state);
            ++reward_count[k];
          }
          update(t);
          ep.path.push_back(t);
          ep.state |= ElementSet{1} << ep.action;
          ++ep.step;
          consider_best(ep.state);
          active = true;
        } else {
          ep.done = true;
          for (auto it = ep.path.rbegin(); it != ep.path.rend(); ++it) update(*it);
        }
      }
    }
    ++result.batches;

    const std::vector<int> walk = greedy_walk();
    stable = walk == previous_walk ? stable + 1 : 0;
    previous_walk = walk;
    ElementSet end = 0;
    for (int e : walk) end |= ElementSet{1} << e;
    QSearchCurveRow row;
    row.batch = result.batches - 1;
    row.episodes = result.episodes;
    row.evaluations = memo.evaluations();
    row.best_net = result.best_net;
    row.epsilon = epsilon(first);
    row.greedy_end = end;
    result.curve.push_back(row);
    if (comm.is_root() && settings.farm.progress)
      settings.farm.progress({memo.evaluations(), settings.budget,
                              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()});
    if (!result.stopped_by.empty()) break;
    if (stable >= settings.stable_batches) {
      bool improvable = false;
      for (int e = 0; e < n && !improvable; ++e) {
        const ElementSet child = end | (ElementSet{1} << e);
        if (child == end) continue;
        improvable = !memo.contains(child) || net_of(child) > net_of(end);
      }
      if (!improvable) result.stopped_by = "converged";
    }
  }

  result.greedy_path = previous_walk;
  for (int e : previous_walk) result.greedy_end |= ElementSet{1} << e;
  result.best_score = memo.at(result.best);
  result.evaluations = memo.evaluations();
  return result;
}

}  // namespace reinforcer
