#include "reinforcer/cli/selection_report.hpp"

#include <algorithm>
#include <cmath>

namespace reinforcer {
namespace {

std::string value(double v, int digits) { return std::isnan(v) ? "n/a" : signed_fixed(v, digits); }
std::string interval(double lo, double hi, int digits) {
  return std::isnan(lo) || std::isnan(hi) ? "" : "[" + signed_fixed(lo, digits) + ", " + signed_fixed(hi, digits) + "]";
}

}  // namespace

void write_selection_section(Writer& w, const SelectionSummary& r) {
  const bool predictive = r.objective == "predictive";
  const int digits = 5;  // scores differ in the 4th-6th decimal (per customer)
  const auto subset = [&](std::uint32_t bits) -> const ScoredSubset* {
    for (const ScoredSubset& x : r.subsets)
      if (x.bits == bits) return &x;
    return nullptr;
  };
  w.heading("Which attributes and actions matter");
  w.line(predictive ? "Score: predictive -- the mean out-of-fold log-likelihood per held-out customer of subscribing within "
                      "its follow-up (0 is a perfect forecast; higher is better), n = " + std::to_string(r.customers) +
                          " held-out customers. Actions do not change it; each only costs."
                    : "Score: decision -- expected reward per prospect of the optimal policy that sees only the subset's "
                      "features and uses only its actions, judged in the model with every candidate, n = " +
                          std::to_string(r.customers) + " prospects. It rests on the assumed action success probabilities.");
  w.line("Net score = score - " + fixed(r.element_cost, 6) + " per element. " +
         (r.exhaustive ? "All " + std::to_string(r.lattice) + " subsets were scored." :
                         "Only the RL search ran (" + std::to_string(r.rl_evaluations) + " of " + std::to_string(r.lattice) +
                             " subsets scored): no Shapley values."));
  if (const ScoredSubset* b = subset(r.best_bits))
    w.line("Best subset: " + b->elements + " (score " + fixed(b->score, digits + 1) + ", net " + fixed(b->net, digits + 1) +
           (predictive && !std::isnan(b->auc) ? ", AUC " + fixed(b->auc, 3) : "") + ").");
  if (!std::isnan(r.score_empty) && !std::isnan(r.score_all))
    w.line("No element: " + fixed(r.score_empty, digits + 1) + "; every element: " + fixed(r.score_all, digits + 1) +
           " (the Shapley values share out the difference, " + signed_fixed(r.score_all - r.score_empty, digits + 1) + ").");
  if (r.exhaustive) {
    std::vector<SelectionElement> e = r.elements;
    std::stable_sort(e.begin(), e.end(), [](const SelectionElement& a, const SelectionElement& b) { return a.shapley > b.shapley; });
    std::vector<std::vector<std::string>> rows;
    for (const SelectionElement& x : e)
      rows.push_back({x.name, x.kind, value(x.shapley, digits + 1), interval(x.shapley_low95, x.shapley_high95, digits + 1),
                      value(x.marginal, digits + 1), interval(x.marginal_low95, x.marginal_high95, digits + 1),
                      x.in_best ? "yes" : ""});
    w.line("");
    w.table({"element", "kind", "Shapley", "95% CI", "marginal vs best", "95% CI", "in best"}, rows);
    w.line(r.bootstrap > 0 ? "Intervals: 95% percentile over " + std::to_string(r.bootstrap) +
                                 " bootstrap refits (resampled customers, stratified by cohort). Marginal: the score gained "
                                 "by adding the element to the best subset (for a member: lost by removing it)."
                           : "No intervals: rerun with --bootstrap B (e.g. 20) for refit intervals.");
  }
  if (r.rl_ran) {
    const ScoredSubset* found = subset(r.rl_best_bits);
    w.line("");
    w.line("RL search (Q-learning over subsets): " + std::to_string(r.rl_evaluations) + " evaluations (" +
           fixed(100.0 * static_cast<double>(r.rl_evaluations) / static_cast<double>(r.lattice), 1) + "% of the lattice), " +
           std::to_string(r.rl_episodes) + " episodes, stopped by " + r.rl_stop_reason + "; found " +
           (found ? found->elements : std::string("?")) + " (net " + fixed(r.rl_best_net, digits + 1) + ")" +
           (std::isnan(r.rl_regret) ? "." : "; regret to the exhaustive best " + fixed(r.rl_regret, digits + 1) +
                                                (r.rl_regret == 0 ? " (it found the optimum)." : ".")));
  }
  std::vector<ScoredSubset> top = r.subsets;
  std::stable_sort(top.begin(), top.end(), [](const ScoredSubset& a, const ScoredSubset& b) { return a.net > b.net; });
  if (top.size() > 10) top.resize(10);
  std::vector<std::vector<std::string>> rows;
  for (const ScoredSubset& x : top)
    rows.push_back({x.elements, std::to_string(x.size), fixed(x.score, digits + 1), fixed(x.net, digits + 1),
                    predictive && !std::isnan(x.auc) ? fixed(x.auc, 3) : ""});
  w.line("");
  w.line("The best subsets by net score:");
  if (!predictive)
    for (auto& row : rows) row.pop_back();
  if (predictive) w.table({"subset", "size", "score", "net", "AUC"}, rows);
  else w.table({"subset", "size", "score", "net"}, rows);
}

}  // namespace reinforcer
