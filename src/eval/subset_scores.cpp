#include "reinforcer/eval/subset_scores.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <string>
#include <unordered_map>

#include "evaluation_internal.hpp"
#include "reinforcer/core/errors.hpp"
#include "reinforcer/data/data_support.hpp"
#include "reinforcer/core/rng.hpp"
#include "reinforcer/eval/policy_outcomes.hpp"
#include "reinforcer/rl/funnel_fit.hpp"
#include "reinforcer/rl/value_iteration.hpp"
#include "reinforcer/stats/bootstrap.hpp"
#include "reinforcer/stats/ranking_metrics.hpp"

namespace reinforcer {
namespace {

// A predicted probability of exactly 0 or 1 would make one surprising outcome -infinity.
constexpr double kProbabilityFloor = 1e-9;

// Customers grouped by their leaf segment of the reference model and decision-time progress,
// each group's weight the customers in it (a replicate's multiplicities).
struct StartGroup {
  std::int32_t segment;
  Progress progress;
  double weight;
};

}  // namespace

// The model every decision score is judged in: all candidate features, all actions.
struct SubsetScorer::Reference {
  FunnelModel model;
  std::vector<std::size_t> prospect;          // positions in fitting of the dated prospects
  std::vector<std::int32_t> prospect_segment; // their leaf segments
  std::vector<StartGroup> groups;             // by (segment, progress), segments ascending
  double weight = 0;                          // sum of the groups' weights
  // Per (segment, progress) at week 0 under the status quo (wait every week).
  std::vector<double> status_quo_value;
};

// What the predictive score needs of a held-out customer, whatever the subset: its
// decision-time progress, the last week of its follow-up and whether it subscribed by then.
struct HeldOutFacts {
  Progress start;
  int last_week;
  std::uint8_t observed;
};

struct SubsetScorer::Folds {
  std::vector<evaluation::FoldPlan> plans;
  std::vector<std::vector<HeldOutFacts>> held_out_facts;  // per fold, as plan.held_out
  // Per fold: positions in fitting_ of plan.fitting and of plan.held_out (a replicate's
  // multiplicities are indexed by them).
  std::vector<std::vector<std::size_t>> fitting_position, held_out_position;
};

SubsetScorer::SubsetScorer(const CustomerTable& table, SubsetScoreSettings settings)
    : table_(table), settings_(std::move(settings)), folds_(std::make_unique<Folds>()) {
  for (Action a : settings_.actions)
    if (a == Action::wait) throw std::logic_error("SubsetScorer: wait is no candidate (it is always available)");
  for (std::size_t i = 0; i < table.customers.size(); ++i)
    if (table.customers[i].cohort != Cohort::undated) fitting_.push_back(i);
  if (fitting_.empty()) throw InputError("the customers hold no dated customer: no subset can be scored");
  for (std::size_t i : fitting_) stratum_.push_back(static_cast<std::uint8_t>(table.customers[i].cohort));
  std::vector<std::size_t> position(table.customers.size(), 0);
  for (std::size_t k = 0; k < fitting_.size(); ++k) position[fitting_[k]] = k;
  require_fold_subscribers(table, "the customers");  // select-features names its file first
  folds_->plans = evaluation::plan_folds(table, "cv");
  if (folds_->plans.empty())
    throw InputError("the customers have no cross-validation folds, which the predictive score needs; prepare with --folds 5");
  for (std::size_t f = 0; f < folds_->plans.size(); ++f) {
    const auto& plan = folds_->plans[f];
    std::vector<std::size_t> fit, held;
    for (std::size_t i : plan.fitting) fit.push_back(position[i]);
    for (std::size_t i : plan.held_out) held.push_back(position[i]);
    folds_->fitting_position.push_back(std::move(fit));
    folds_->held_out_position.push_back(std::move(held));
    std::vector<HeldOutFacts> facts;
    for (std::size_t i : plan.held_out) {
      const Customer& c = table.customers[i];
      const int last_week = evaluation::follow_up_last_week(c, settings_.hazards, settings_.funnel.horizon_weeks);
      const std::int32_t week = history_of(c, 0, settings_.hazards).subscribed_week;  // the node does not enter it
      facts.push_back(HeldOutFacts{decision_progress(c), last_week, static_cast<std::uint8_t>(week >= 0 && week <= last_week)});
    }
    folds_->held_out_facts.push_back(std::move(facts));
  }
}

SubsetScorer::~SubsetScorer() = default;

std::size_t SubsetScorer::prospects() const { return reference(-1).prospect.size(); }

FeatureMask SubsetScorer::mask_of(std::uint32_t bits) const {
  FeatureMask m;
  m.attribute_names = attribute_names(table_);  // the candidates index this table's attributes
  for (std::size_t i = 0; i < settings_.features.size(); ++i)
    if (bits >> i & 1u) m.order.push_back(settings_.features[i]);
  return m;
}

std::vector<std::uint32_t> SubsetScorer::multiplicity(int replicate) const {
  std::vector<std::uint32_t> counts;
  if (replicate < 0) return counts;
  const StratifiedResampler resampler(stratum_);
  resampler.counts(splitmix64(settings_.seed ^ 0x5E1EC7ULL), static_cast<std::uint64_t>(replicate), counts);
  return counts;
}

const SubsetScorer::Reference& SubsetScorer::reference(int replicate) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = references_.find(replicate);
  if (it != references_.end()) return *it->second;
  const std::vector<std::uint32_t> counts = multiplicity(replicate);
  FeatureMask all = mask_of((std::uint32_t{1} << settings_.features.size()) - 1);
  const SegmentEncoder encoder(table_, fitting_, all);
  const HazardEstimates h = estimate_hazards(table_, fitting_, counts, encoder, settings_.hazards);
  auto ref = std::make_shared<Reference>(Reference{FunnelModel::from_estimates(encoder, h, settings_.funnel), {}, {}, {}, 0, {}});
  std::map<std::pair<std::int32_t, Progress>, double> weight;
  for (std::size_t k = 0; k < fitting_.size(); ++k) {
    const Customer& c = table_.customers[fitting_[k]];
    if (subscribed_by_t0(c)) continue;  // no prospect at decision time
    const std::int32_t segment = ref->model.segment_of_node(encoder.node_of(c, table_));
    ref->prospect.push_back(k);
    ref->prospect_segment.push_back(segment);
    const double w = counts.empty() ? 1.0 : counts[k];
    if (w > 0) weight[{segment, decision_progress(c)}] += w;
  }
  if (ref->prospect.empty()) throw InputError("no dated customer is a prospect at decision time: no decision score");
  for (const auto& [key, w] : weight) ref->groups.push_back(StartGroup{key.first, key.second, w}), ref->weight += w;
  const std::vector<std::uint8_t> wait(kProgressStates * static_cast<std::size_t>(ref->model.horizon()),
                                       static_cast<std::uint8_t>(Action::wait));
  ref->status_quo_value.assign(ref->model.segments() * kProgressStates, 0.0);
  for (std::size_t s = 0; s < ref->model.segments(); ++s) {
    const auto v = evaluate_segment_policy(ref->model, settings_.gamma, static_cast<std::int32_t>(s), wait.data());
    std::copy(v.begin(), v.end(), ref->status_quo_value.begin() + static_cast<std::ptrdiff_t>(s * kProgressStates));
  }
  return *references_.emplace(replicate, std::move(ref)).first->second;
}

namespace {

// One feature subset's fit, and where each reference leaf lies in it; the decision score of
// each action subset is then a DP over those actions and a judgement in the reference model.
class CoarseDecision {
 public:
  CoarseDecision(const CustomerTable& table, const std::vector<std::size_t>& fitting,
                 const std::vector<std::uint32_t>& counts, const FeatureMask& mask, const SubsetScoreSettings& s,
                 const SubsetScorer::Reference& ref)
      : s_(s), ref_(ref) {
    const SegmentEncoder encoder(table, fitting, mask);
    const HazardEstimates h = estimate_hazards(table, fitting, counts, encoder, s.hazards);
    model_ = std::make_unique<FunnelModel>(FunnelModel::from_estimates(encoder, h, s.funnel));
    // The customers of one reference leaf share every candidate feature, so one coarse leaf.
    coarse_of_ref_.assign(ref.model.segments(), -1);
    for (std::size_t j = 0; j < ref.prospect.size(); ++j) {
      std::int32_t& g = coarse_of_ref_[static_cast<std::size_t>(ref.prospect_segment[j])];
      if (g < 0) g = model_->segment_of_node(encoder.node_of(table.customers[fitting[ref.prospect[j]]], table));
    }
    block_ = kProgressStates * static_cast<std::size_t>(model_->horizon());
  }

  double score(std::uint32_t action_bits) {
    unsigned allowed = 0;
    for (std::size_t j = 0; j < s_.actions.size(); ++j)
      if (action_bits >> j & 1u) allowed |= 1u << static_cast<unsigned>(s_.actions[j]);
    solve_funnel_values(*model_, s_.gamma, dp_, allowed);
    // Action subsets whose optimum is the same policy score the same: judge each policy once.
    std::string key(reinterpret_cast<const char*>(dp_.policy.data()), dp_.policy.size());
    auto memo = by_policy_.find(key);
    if (memo != by_policy_.end()) return memo->second;
    std::vector<std::uint8_t> acts(model_->segments(), 0);
    for (std::size_t g = 0; g < acts.size(); ++g)
      for (std::size_t i = 0; i < block_ && !acts[g]; ++i) acts[g] = dp_.policy[g * block_ + i] != static_cast<std::uint8_t>(Action::wait);
    double total = 0;
    std::int32_t evaluated = -1;
    std::array<double, kProgressStates> value{};
    for (const StartGroup& grp : ref_.groups) {
      const std::int32_t g = coarse_of_ref_[static_cast<std::size_t>(grp.segment)];
      if (!acts[static_cast<std::size_t>(g)]) {  // waits throughout: the status quo's value
        total += grp.weight * ref_.status_quo_value[static_cast<std::size_t>(grp.segment) * kProgressStates + grp.progress];
        continue;
      }
      if (evaluated != grp.segment) {
        value = evaluate_segment_policy(ref_.model, s_.gamma, grp.segment, dp_.policy.data() + static_cast<std::size_t>(g) * block_);
        evaluated = grp.segment;
      }
      total += grp.weight * value[grp.progress];
    }
    const double score = total / ref_.weight;
    by_policy_.emplace(std::move(key), score);
    return score;
  }

 private:
  const SubsetScoreSettings& s_;
  const SubsetScorer::Reference& ref_;
  std::unique_ptr<FunnelModel> model_;
  std::vector<std::int32_t> coarse_of_ref_;
  std::size_t block_ = 0;
  DpSolution dp_;
  std::unordered_map<std::string, double> by_policy_;
};

// Groups positions of a batch by a key (first appearance order).
template <typename Key>
std::vector<std::vector<std::size_t>> group_by(const std::vector<Key>& keys) {
  std::map<Key, std::size_t> index;
  std::vector<std::vector<std::size_t>> groups;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    auto [it, fresh] = index.emplace(keys[i], groups.size());
    if (fresh) groups.emplace_back();
    groups[it->second].push_back(i);
  }
  return groups;
}

}  // namespace

double SubsetScorer::decision(std::uint32_t feature_bits, std::uint32_t action_bits, int replicate) const {
  return decision_batch({{feature_bits, action_bits}}, replicate).front();
}

std::vector<double> SubsetScorer::decision_batch(const std::vector<std::pair<std::uint32_t, std::uint32_t>>& subsets,
                                                 int replicate) const {
  const Reference& ref = reference(replicate);
  const std::vector<std::uint32_t> counts = multiplicity(replicate);
  std::vector<std::uint32_t> features;
  for (const auto& s : subsets) features.push_back(s.first);
  const auto groups = group_by(features);
  std::vector<double> out(subsets.size(), 0.0);
  const auto n = static_cast<std::int64_t>(groups.size());
  std::exception_ptr failure;
#pragma omp parallel for schedule(dynamic, 1)
  for (std::int64_t gi = 0; gi < n; ++gi) {
    try {
      const auto& members = groups[static_cast<std::size_t>(gi)];
      CoarseDecision coarse(table_, fitting_, counts, mask_of(subsets[members.front()].first), settings_, ref);
      for (std::size_t i : members) out[i] = coarse.score(subsets[i].second);
    } catch (...) {  // the first failure is rethrown on the calling thread
#pragma omp critical(subset_scores_failure)
      if (!failure) failure = std::current_exception();
    }
  }
  if (failure) std::rethrow_exception(failure);
  return out;
}

PredictiveScore SubsetScorer::predictive(std::uint32_t feature_bits, int replicate) const {
  return predictive_batch({feature_bits}, replicate).front();
}

namespace {

struct HeldOutOutcome {
  double probability, weight;
  std::uint8_t observed;
  std::int32_t fold;
};

// The status-quo model's probability, fitted on a fold's other customers, that each held-out
// customer subscribes within its own follow-up, and whether it did.
void predict_fold(const CustomerTable& table, const evaluation::FoldPlan& plan, const std::vector<HeldOutFacts>& facts,
                  const std::vector<std::uint32_t>& fit_counts, const std::vector<std::uint32_t>& held_counts,
                  const FeatureMask& mask, const SubsetScoreSettings& s, int fold, std::vector<HeldOutOutcome>& out) {
  const SegmentEncoder encoder(table, plan.fitting, mask);
  // Only the nodes held-out customers reach are estimated (the rest of the tree counts through
  // the cells it holds exposure in) and built, one at a time in one model (as from_estimates
  // with all nodes would make them), not the whole tree.
  std::map<std::int32_t, std::vector<std::size_t>> by_node;
  for (std::size_t j = 0; j < plan.held_out.size(); ++j)
    if (held_counts.empty() || held_counts[j] > 0) by_node[encoder.node_of(table.customers[plan.held_out[j]], table)].push_back(j);
  std::vector<std::int32_t> wanted;
  for (const auto& entry : by_node) wanted.push_back(entry.first);
  const HazardEstimates h = estimate_hazards_at(table, plan.fitting, fit_counts, encoder, s.hazards, wanted);
  FunnelModel model{0, {}, FunnelConfig{}};
  std::size_t slot = 0;
  for (const auto& [node, members] : by_node) {
    model.assign_segment(h, slot++, s.funnel, /*rows=*/false);
    // One curve per start, as long as its customers' longest follow-up needs.
    std::map<Progress, int> weeks_needed;
    for (std::size_t j : members) {
      int& w = weeks_needed[facts[j].start];
      w = std::max(w, facts[j].last_week + 1);
    }
    std::map<Progress, std::vector<double>> forward;
    for (const auto& [start, weeks] : weeks_needed) forward.emplace(start, model.status_quo_subscription_curve(0, start, weeks));
    for (std::size_t j : members)
      out.push_back(HeldOutOutcome{forward.at(facts[j].start).at(static_cast<std::size_t>(facts[j].last_week)),
                                   held_counts.empty() ? 1.0 : held_counts[j], facts[j].observed, fold});
  }
}

}  // namespace

std::vector<PredictiveScore> SubsetScorer::predictive_batch(const std::vector<std::uint32_t>& feature_bits,
                                                            int replicate) const {
  std::vector<PredictiveScore> out(feature_bits.size());
  std::vector<std::uint32_t> todo;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (std::uint32_t b : feature_bits)
      if (!predictive_memo_.count({b, replicate})) todo.push_back(b);
  }
  std::sort(todo.begin(), todo.end());
  todo.erase(std::unique(todo.begin(), todo.end()), todo.end());
  const std::vector<std::uint32_t> counts = multiplicity(replicate);
  const auto n = static_cast<std::int64_t>(todo.size());
  std::exception_ptr failure;
#pragma omp parallel for schedule(dynamic, 1)
  for (std::int64_t t = 0; t < n; ++t) {
    try {
      const FeatureMask mask = mask_of(todo[static_cast<std::size_t>(t)]);
      std::vector<HeldOutOutcome> outcomes;
      for (std::size_t f = 0; f < folds_->plans.size(); ++f) {
        std::vector<std::uint32_t> fit_counts, held_counts;
        if (!counts.empty()) {
          for (std::size_t k : folds_->fitting_position[f]) fit_counts.push_back(counts[k]);
          for (std::size_t k : folds_->held_out_position[f]) held_counts.push_back(counts[k]);
        }
        predict_fold(table_, folds_->plans[f], folds_->held_out_facts[f], fit_counts, held_counts, mask, settings_,
                     static_cast<int>(f), outcomes);
      }
      PredictiveScore p;
      double sum = 0;
      for (const HeldOutOutcome& o : outcomes) {
        const double q = std::clamp(o.probability, kProbabilityFloor, 1 - kProbabilityFloor);
        sum += o.weight * (o.observed ? std::log(q) : std::log1p(-q));
        p.customers += o.weight, p.subscribers += o.weight * o.observed;
      }
      p.log_likelihood = p.customers > 0 ? sum / p.customers : std::numeric_limits<double>::quiet_NaN();
      p.auc = std::numeric_limits<double>::quiet_NaN();
      if (replicate < 0) {
        std::vector<double> score;
        std::vector<std::uint8_t> label;
        std::vector<std::int32_t> fold;
        for (const HeldOutOutcome& o : outcomes) score.push_back(o.probability), label.push_back(o.observed), fold.push_back(o.fold);
        p.auc = fold_stratified_auc(score, label, fold).mean;
      }
      std::lock_guard<std::mutex> lock(mutex_);
      predictive_memo_[{todo[static_cast<std::size_t>(t)], replicate}] = p;
    } catch (...) {  // the first failure is rethrown on the calling thread
#pragma omp critical(subset_scores_failure)
      if (!failure) failure = std::current_exception();
    }
  }
  if (failure) std::rethrow_exception(failure);
  std::lock_guard<std::mutex> lock(mutex_);
  for (std::size_t i = 0; i < feature_bits.size(); ++i) out[i] = predictive_memo_.at({feature_bits[i], replicate});
  return out;
}

}  // namespace reinforcer
