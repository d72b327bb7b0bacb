#include "reinforcer/cli/learned_report.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "reinforcer/eval/learner_quality.hpp"
#include "reinforcer/stats/bootstrap.hpp"

namespace reinforcer {
namespace {

}  // namespace

std::string refit_interval_text(double lo, double hi, std::int64_t refits, bool percent) {
  if (refits <= 0 || std::isnan(lo) || std::isnan(hi)) return "n/a";
  if (!enough_replicates_for_95(refits))
    return "n/a (" + std::to_string(refits) + " refits; a 95% interval needs " + std::to_string(kMinReplicatesFor95) + ")";
  return percent ? "[" + fixed(100 * lo, 2) + "%, " + fixed(100 * hi, 2) + "%]"
                 : "[" + signed_fixed(lo, 3) + ", " + signed_fixed(hi, 3) + "]";
}

void write_learned_section(Writer& w, const std::vector<StoredQuality>& runs) {
  w.heading("Learned policies against the DP optimum");
  w.line("Each run's learned policy is judged exactly in its fitted funnel against the optimum of that funnel (the DP):");
  w.line("regret = (V* - V) / max(|V*|, 1% of the subscription reward), V averaged over the fitting customers' start "
         "states (n). 0 is the optimum; a policy worse than waiting has a regret above waiting's. Intervals: 95% over "
         "bootstrap refits of the funnel, the policy against each refit's own optimum.");
  // One table per environment: regrets on different MDPs are not comparable row to row.
  std::vector<std::string> environments;
  for (const StoredQuality& r : runs)
    if (r.judged && std::find(environments.begin(), environments.end(), r.environment) == environments.end())
      environments.push_back(r.environment);
  std::vector<std::string> notes;
  for (const std::string& env : environments) {
    std::vector<std::vector<std::string>> rows;
    for (const StoredQuality& r : runs) {
      if (!r.judged || r.environment != env) continue;
      const std::string run = r.agent + " (" + r.path + ")";
      for (const RegretRow& row : r.quality.regret)
        rows.push_back({run, row.cohort, std::to_string(row.customers), fixed(row.optimum, 3), fixed(row.learned, 3),
                        fixed(100 * row.regret, 2) + "%",
                        refit_interval_text(row.regret_low95, row.regret_high95, r.judged ? r.quality.refits : 0, true)});
      const LearnerQuality& q = r.quality;
      const std::string budget = r.dqn_steps_per_worker > 0 ? std::to_string(r.dqn_steps_per_worker) + " steps"
                                                             : std::to_string(r.episodes_per_worker) + " episodes";
      notes.push_back(run + ": " + std::to_string(r.workers) + " workers x " + budget + ", features " + r.features +
                      "; learned minus the best constant policy (always " + q.best_constant +
                      "): " + signed_fixed(q.learned_minus_best_constant, 3) +
                      (q.refits > 0 ? " " + refit_interval_text(q.low95, q.high95, q.refits, false) +
                                          (enough_replicates_for_95(q.refits)
                                               ? " over " + std::to_string(q.refits) + " paired refits."
                                               : ".")
                                    : env == "engagement" ? " (a given model: no refits; exact values on the grid)."
                                                          : " (no refits: train --refits N gives the interval)."));
    }
    w.line(env == "engagement" ? "On the engagement funnel (configs/engagement.ini; n = start scores):"
                               : "On the funnel fitted from the export (n = fitting customers):");
    w.table({"run", "cohort", "n", "V* (DP)", "V learned", "regret", "95% refit interval"}, rows);
  }
  for (const StoredQuality& r : runs)
    if (!r.judged)
      notes.push_back(r.agent + " (" + r.path + "): environment " + r.environment + ", not judged against the DP (only the funnel is).");
  for (const std::string& n : notes) w.line(n);
}

}  // namespace reinforcer
