// The report of an evaluated file (evaluate -o): base rates, targeting against its baselines,
// calibration, break-even and the call list -- each figure with its n and interval.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "reinforcer/cli/evaluated_report.hpp"
#include "reinforcer/cli/text_writer.hpp"
#include "reinforcer/data/civil_date.hpp"
#include "reinforcer/data/raw_table.hpp"
#include "reinforcer/env/hazards.hpp"
#include "reinforcer/core/errors.hpp"
#include "reinforcer/eval/call_list.hpp"
#include "reinforcer/eval/evaluation.hpp"
#include "reinforcer/data/quality_report_text.hpp"
#include "reinforcer/eval/descriptive.hpp"
#include "reinforcer/results/evaluation_file.hpp"
#include "reinforcer/results/frame.hpp"
#include "reinforcer/results/run_file.hpp"
#include "reinforcer/results/selection_file.hpp"
#include "reinforcer/stats/bootstrap.hpp"

namespace reinforcer {
namespace {


std::string num(double v, int digits = 2) {
  if (std::isnan(v)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}
std::string pct(double v, int digits = 2) { return std::isnan(v) ? "n/a" : num(100 * v, digits) + "%"; }
// A lower bound as a percentage, rounded down so that "at least X%" stays true.
std::string pct_at_least(double v, int digits) {
  const double scale = std::pow(10.0, digits);
  return std::isnan(v) ? "n/a" : num(std::floor(100 * v * scale) / scale, digits) + "%";
}
std::string ci(double lo, double hi, int digits = 2, bool percent = false) {
  return "[" + (percent ? pct(lo, digits) : num(lo, digits)) + ", " + (percent ? pct(hi, digits) : num(hi, digits)) + "]";
}

// What actions pay, first: the break-even success probability per cohort x stage x action (it
// does not depend on the assumed ones), the flip points of the optimal policy over grids that
// span the break-evens, and the size of a randomised test for the most promising action.
void break_even_section(Writer& w, const h5::Group& ev, const std::string& path) {
  const Frame be = read_frame(ev, "break_even", path);
  const Frame share = read_frame(ev, "action_share", path);
  w.heading("Which actions pay: break-even answers (they do not depend on the assumed success)");
  w.line("An action's success (its chance to reach its milestone in the week it is taken, beyond the status quo) is an "
         "assumption: the export records events, not actions. s* is the chance above which acting this week (then "
         "waiting) beats waiting; R* the reward per subscription at which it pays at the assumed chance. Stages holding "
         ">= " + std::to_string(kBreakEvenMinCustomers) + " fitting customers, week 0:");
  std::vector<BreakEvenRow> rows;
  for (std::size_t r = 0; r < be.rows; ++r) {
    BreakEvenRow b;
    b.cohort = be.s("cohort")[r], b.stage = be.s("stage")[r], b.action = be.s("action")[r];
    b.customers = static_cast<std::int64_t>(be.d("customers")[r]);
    b.break_even_success = be.d("break_even_success")[r], b.configured_success = be.d("assumed_success")[r];
    b.break_even_reward = be.d("break_even_reward")[r];
    b.n_per_arm_milestone = be.d("n_per_arm_milestone")[r], b.n_per_arm_subscription = be.d("n_per_arm_subscription")[r];
    rows.push_back(b);
  }
  write_break_even_table(w, rows);
  auto bound = [](double v, int digits) { return std::isinf(v) || v > 1e12 ? std::string("never") : num(v, digits); };
  w.line("n/arm: customers per arm of a randomised test (two proportions, alpha 0.05, power 80%) that detects the lift "
         "of s*, on the milestone that week and on subscription within the horizon.");
  for (const std::string cohort : {"outbound", "inbound"}) {
    // The most promising action: the smallest break-even among stages with enough customers.
    std::size_t best = be.rows;
    for (std::size_t r : be.where({{"cohort", cohort}}))
      if (be.d("customers")[r] >= static_cast<double>(kBreakEvenMinCustomers) &&
          (best == be.rows || be.d("break_even_success")[r] < be.d("break_even_success")[best]))
        best = r;
    std::string line = cohort + ": ";
    if (best == be.rows || be.d("break_even_success")[best] > 1) {
      line += "no action pays at any success probability at these costs and this reward.";
    } else {
      line += "most promising: " + be.s("action")[best] + " at " + be.s("stage")[best] + " (s* = " +
              num(be.d("break_even_success")[best], 4) + "; a test needs " + bound(be.d("n_per_arm_milestone")[best], 0) +
              " customers per arm on the milestone, " + bound(be.d("n_per_arm_subscription")[best], 0) + " on subscription).";
    }
    // Flip points of the optimal policy over the grids, and whether the grids span the break-evens.
    for (const std::string axis : {"success", "reward"}) {
      const auto at = share.where({{"cohort", cohort}, {"axis", axis}});
      if (at.empty()) continue;
      double lo = share.d("value")[at.front()], hi = lo, flip = std::nan("");
      for (std::size_t r : at) {
        lo = std::min(lo, share.d("value")[r]), hi = std::max(hi, share.d("value")[r]);
        if (share.d("share_acting")[r] > 0 && !(share.d("value")[r] >= flip)) flip = share.d("value")[r];
      }
      const int digits = axis == "success" ? 4 : 0;
      std::string verdict;
      if (std::isnan(flip)) verdict = "waits at every point";
      else if (flip <= lo) verdict = "acts already at the lowest point";
      else verdict = "starts acting between " + num(flip / 2, digits) + " and " + num(flip, digits);
      line += std::string(" Optimal policy over ") + (axis == "success" ? "every action's success" : "the reward") + " " +
              num(lo, digits) + " .. " + num(hi, digits) + " (x2 steps): " + verdict + "; at the top it acts for " +
              pct_at_least(share.d("share_acting")[at.back()], 1) + " of the " +
              with_thousands(static_cast<std::int64_t>(share.d("customers")[at.back()])) + " " + cohort + " customers.";
    }
    w.line(line);
  }
  w.line("Grids: every action's success from a quarter of the smallest break-even below 1 to four times the largest "
         "(capped at 1); the reward from a quarter of the smallest finite R* (or the configured reward) to four times the "
         "largest -- each spans the finite break-evens of the table, so a flip point is read inside it.");
}

// Every calibration row: held-out customers at risk, expected and observed events, O/E with
// its exact Poisson interval and the verdict.
void calibration_table(Writer& w, const h5::Group& ev, const std::string& path) {
  const Frame cal = read_frame(ev, "calibration", path);
  const std::string split = ev.string_attribute("split");
  const std::string design = split == "cv" ? std::to_string(ev.int_attribute("folds")) + "-fold cross-validation"
                                           : "temporal " + split + " split";
  w.line("Calibration: observed (O) vs expected (E) events of the held-out customers (" + design +
         "), E from the fitted historical process within each customer's own follow-up; only events after t0 count.");
  std::vector<std::vector<std::string>> rows;
  for (std::size_t r = 0; r < cal.rows; ++r)
    rows.push_back({cal.s("cohort")[r], cal.s("event")[r], cal.cell("customers", r), num(cal.d("expected")[r], 1),
                    cal.cell("observed", r), num(cal.d("o_e")[r]) + " " + ci(cal.d("o_e_low95")[r], cal.d("o_e_high95")[r]),
                    cal.s("verdict")[r]});
  w.table({"cohort", "event", "at risk", "E", "O", "O/E [95% CI]", "verdict"}, rows);
  w.line("At risk: held-out customers who had not reached the event at t0 (demo and survey: only those with t0 on or after " +
         format_day(HazardOptions{}.demo_survey_recorded_from) + ", when they began to be recorded).");
  w.line("O/E interval: exact Poisson (Garwood) for O, divided by E. Verdict: consistent when it contains 1, "
         "miscalibrated when it excludes 1 (under-predicts above 1, over-predicts below); not judged when E < 10.");
  const Frame slope = read_frame(ev, "calibration_slope", path);
  rows.clear();
  for (std::size_t r = 0; r < slope.rows; ++r)
    rows.push_back({slope.s("cohort")[r], slope.s("event")[r], slope.cell("customers", r), slope.cell("events", r),
                    num(slope.d("slope")[r]) + " " + ci(slope.d("slope_low95")[r], slope.d("slope_high95")[r]),
                    slope.s("verdict")[r]});
  w.line("");
  w.table({"cohort", "event", "n", "events", "calibration slope [95% CI]", "verdict"}, rows);
  w.line("");
  w.line("Calibration slope: logistic regression of the outcome on the logit of the out-of-fold prediction (1 = as "
         "predicted; below 1 = predictions too spread). Wald interval; miscalibrated when it excludes 1.");
  const Frame rel = read_frame(ev, "reliability", path);
  rows.clear();
  for (std::size_t r : rel.where({{"cohort", "all"}, {"event", "subscribed"}}))
    rows.push_back({rel.cell("decile", r), rel.cell("customers", r), pct(rel.d("mean_predicted")[r], 2),
                    num(rel.d("expected")[r], 1), rel.cell("observed", r),
                    pct(rel.d("observed_rate")[r], 2) + " " + ci(rel.d("rate_low95")[r], rel.d("rate_high95")[r], 2, true),
                    num(rel.d("o_e")[r]) + " " + ci(rel.d("o_e_low95")[r], rel.d("o_e_high95")[r])});
  w.line("");
  w.line("Reliability by decile of the predicted P(subscribing within the follow-up), all held-out customers at risk:");
  w.line("");
  w.table({"decile", "n", "mean prediction", "E", "O", "observed rate [95% CI]", "O/E [95% CI]"}, rows);
}

// Whom to contact: the targeting score against its baselines out of fold, per cohort, and
// the paired differences (same resamples).
void targeting_section(Writer& w, const h5::Group& ev, const std::string& path) {
  const Frame tg = read_frame(ev, "targeting", path);
  const Frame td = read_frame(ev, "targeting_differences", path);
  w.heading("Whom to contact: targeting on real outcomes (out of fold)");
  std::vector<std::vector<std::string>> rows;
  // A cohort without a held-out subscriber (or with nobody else) has no AUC, lift or share:
  // said, not printed.
  auto without_subscribers = [&](const std::string& cohort) {
    const auto r = tg.where({{"scorer", "status_quo"}, {"cohort", cohort}, {"metric", "auc"}});
    return !r.empty() && (tg.d("subscribers")[r[0]] == 0 || tg.d("subscribers")[r[0]] == tg.d("customers")[r[0]]);
  };
  auto why_not = [&](const std::string& cohort) {
    const auto r = tg.where({{"scorer", "status_quo"}, {"cohort", cohort}, {"metric", "auc"}});
    return std::string(tg.d("subscribers")[r[0]] == 0 ? "no subscriber in this cohort" : "every customer of this cohort subscribed");
  };
  auto metric = [&](const std::string& scorer, const std::string& cohort, const std::string& m, int digits, bool percent) {
    const auto r = tg.where({{"scorer", scorer}, {"cohort", cohort}, {"metric", m}});
    if (r.empty()) return std::string();
    if (without_subscribers(cohort)) return "n/a (" + why_not(cohort) + ")";
    const double est = tg.d("estimate")[r[0]];
    return (percent ? pct(est, digits) : num(est, digits)) + " " + ci(tg.d("low95")[r[0]], tg.d("high95")[r[0]], digits, percent);
  };
  for (const std::string cohort : {"all", "outbound", "inbound"})
    for (const char* scorer : kScorers) {
      const auto r = tg.where({{"scorer", scorer}, {"cohort", cohort}, {"metric", "auc"}});
      if (r.empty()) continue;
      rows.push_back({cohort, scorer, tg.cell("customers", r[0]), tg.cell("subscribers", r[0]),
                      without_subscribers(cohort) ? "n/a (" + why_not(cohort) + ")"
                                                  : metric(scorer, cohort, "auc_fold", 3, false) + " (" + tg.cell("folds", r[0]) + ")",
                      metric(scorer, cohort, "auc", 3, false), metric(scorer, cohort, "lift@10", 2, false),
                      metric(scorer, cohort, "captured@20", 0, true)});
    }
  w.table({"cohort", "ranking", "n", "subscribers", "AUC within folds (folds)", "AUC pooled", "lift at top 10%",
           "subscribers in top 20%"},
          rows);
  w.line("");
  for (const std::string cohort : {"outbound", "inbound"}) {
    const auto r = tg.where({{"scorer", "status_quo"}, {"cohort", cohort}, {"metric", "auc"}});
    if (without_subscribers(cohort))
      w.line("The data cannot answer targeting for " + cohort + " customers here: " + why_not(cohort) +
             " (held out), so no ranking of them can be judged.");
    else if (!r.empty() && tg.d("subscribers")[r[0]] < 10)
      w.line("The data cannot answer targeting for " + cohort + " customers here: " + tg.cell("subscribers", r[0]) +
             (tg.d("subscribers")[r[0]] == 1 ? " subscriber" : " subscribers") +
             " among the held-out customers; the figures above are not informative.");
  }
  w.line("status_quo (the targeting score) = P(subscribe within the horizon) if nothing changes, exact in the funnel "
         "fitted without the customer's fold, from its decision-time state (segment, milestones at t0); call_list = the "
         "call list's own ranking at that state (acting-pays leads first by gain, then by P(subscribe in 26 weeks)); "
         "segment_rate = the subscription rate of the same segment and start milestones, shrunk toward its parent; "
         "cohort_rate = the cohort's rate alone; random = no information.");
  w.line("AUC within folds: the mean over folds of each fold's AUC (scores of different folds come from different fits "
         "and are not compared); AUC pooled ranks all folds' scores together.");
  rows.clear();
  for (const std::string cohort : {"all", "outbound", "inbound"})
    for (std::size_t sc = 0; sc < kFirstBaseline; ++sc)
      for (std::size_t base = kFirstBaseline; base < kScorers.size(); ++base) {
        const auto auc = td.where({{"scorer", kScorers[sc]}, {"baseline", kScorers[base]}, {"cohort", cohort}, {"metric", "auc_fold"}});
        const auto lift = td.where({{"scorer", kScorers[sc]}, {"baseline", kScorers[base]}, {"cohort", cohort}, {"metric", "lift@10"}});
        if (auc.empty() || lift.empty()) continue;
        auto cell = [&](std::size_t r, int digits) {
          if (without_subscribers(cohort)) return "n/a (" + why_not(cohort) + ")";
          const double lo = td.d("low95")[r], hi = td.d("high95")[r];
          if (std::isnan(td.d("difference")[r]) || std::isnan(lo) || std::isnan(hi)) return std::string("n/a (undefined on these data)");
          const std::string verdict = lo > 0 ? "better" : hi < 0 ? "worse" : "no clear difference";
          return signed_fixed(td.d("difference")[r], digits) + " [" + signed_fixed(lo, digits) + ", " + signed_fixed(hi, digits) +
                 "] " + verdict;
        };
        rows.push_back({cohort, std::string(kScorers[sc]) + " - " + kScorers[base], cell(auc[0], 3), cell(lift[0], 2)});
      }
  w.line("");
  w.table({"cohort", "paired difference", "AUC within folds [95% CI]", "lift at top 10% [95% CI]"}, rows);
  w.line("");
  w.line("Paired: both rankings scored on the same bootstrap resamples of the held-out customers (stratified by fold "
         "and cohort); 'better' or 'worse' only when the interval excludes 0.");
}

// The call list: its sections, the cut, how many leads an action pays for at the assumed
// success and at the break-evens, and the first rows.
void call_list_section(Writer& w, const h5::File& f, const std::string& path) {
  const CallList list = read_call_list(f, path);
  const ArrangedCallList a = arrange_call_list(list.rows, list.refits, RankBy::gain, 0, 100);
  w.heading("Call list (open leads at the export date)");
  // Each lead's break-even (its next action's, or for a wait lead its cheapest action's):
  // above 1, no success probability makes acting pay this week.
  std::vector<double> be;
  for (const CallListNumbers& r : list.rows.numbers()) be.push_back(r.break_even_success);
  std::sort(be.begin(), be.end());
  const std::int64_t paying = a.leads[static_cast<std::size_t>(LeadSection::act)];
  const auto n = static_cast<std::int64_t>(list.rows.size());
  const auto could = static_cast<std::int64_t>(std::upper_bound(be.begin(), be.end(), 1.0) - be.begin());
  std::string line = "An action pays for " + with_thousands(paying) + " of " + with_thousands(n) +
                     " open leads at the assumed success probabilities; at the break-even, some success probability "
                     "would make one pay for " + with_thousands(could) + " of them";
  for (double q : {0.1, 0.5}) {
    const auto k = static_cast<std::size_t>(std::ceil(q * static_cast<double>(n)));
    if (k >= 1 && k <= be.size() && be[k - 1] <= 1)
      line += "; for " + std::string(q == 0.5 ? "half" : "10%") + " of them from " + pct(be[k - 1], 1);
  }
  w.line(line + ".");
  w.line("");
  w.line(std::to_string(n) + " open leads (dated, not subscribed, Stage not 'do not contact'), each scored at its state on the "
         "export date: P(subscribe in the next 26 weeks) if nothing changes, with its 95% interval over " +
         std::to_string(list.refits.refits) + " refits (" + std::to_string(list.widened) +
         " widened to hold the estimate); the next action is the exact DP's at the assumed success. Sections: act " +
         with_thousands(paying) + ", wait " + with_thousands(a.leads[static_cast<std::size_t>(LeadSection::wait)]) +
         ", negative stage " + with_thousands(a.leads[static_cast<std::size_t>(LeadSection::negative_stage)]) + ", stale " +
         with_thousands(a.leads[static_cast<std::size_t>(LeadSection::stale)]) + ". 'reinforcer recommend' writes the list "
         "(CSV or xlsx, --rank-by, --capacity). First 10:");
  std::vector<std::vector<std::string>> rows;
  for (std::size_t pos = 0; pos < std::min<std::size_t>(10, a.order.size()); ++pos) {
    const CallListRow r = list.rows.row(a.order[pos]);
    rows.push_back({a.section[pos], std::to_string(r.id), r.cohort, r.country + " / " + r.education, r.milestones,
                    std::to_string(r.weeks_since_t0), pct(r.p_subscribe, 1) + " " + ci(r.low95, r.high95, 1, true),
                    r.next_action, r.break_even_success <= 1 ? pct(r.break_even_success, 1) + " (" + r.break_even_action + ")" : "> 100% (never)",
                    pct(a.top_share[pos], 0)});
  }
  w.line("");
  w.table({"section", "id", "cohort", "country / education", "milestones", "weeks since t0", "P(subscribe, 26 weeks) [95% CI]",
           "next action", "break-even success", "P(in top 100)"},
          rows);
}

}  // namespace

void write_evaluated_report(const h5::File& f, const std::string& path, std::ostream& out, bool markdown) {
  const h5::Group ev = f.open_group("evaluation");
  Writer w(out, markdown);
  const std::string split = ev.string_attribute("split");
  const auto bootstrap = ev.int_attribute("bootstrap");
  w.line(std::string(markdown ? "# " : "") + "SalesReinforcer report: " + path);
  // Too few replicates: the bootstrap intervals are no 95% intervals, and the report says so
  // where it states the level.
  const std::string level =
      enough_replicates_for_95(bootstrap)
          ? "intervals are 95% (" + std::to_string(bootstrap) +
                " bootstrap resamples or refits; Wilson for proportions; exact Poisson for observed/expected)."
          : "bootstrap intervals are rough ranges, not 95% intervals (only " + std::to_string(bootstrap) +
                " resamples or refits; a 95% percentile interval needs " + std::to_string(kMinReplicatesFor95) +
                "); the Wilson intervals of proportions and exact Poisson ones of observed/expected are 95%.";
  w.line("Evaluation: " + (split == "cv" ? std::to_string(ev.int_attribute("folds")) + "-fold cross-validation (out-of-fold scores)"
                                         : "temporal " + split + " split") +
         "; " + level);
  if (ev.exists("warnings")) {
    w.line("");
    for (const std::string& warning : ev.read_strings("warnings")) w.line("Warning: " + warning + ".");
  }

  // Base rates per cohort.
  const Frame splits = read_frame(f.open_group("summary"), "splits", path);
  w.heading("Base rates");
  std::vector<std::vector<std::string>> rows;
  for (std::size_t r : splits.where({{"split", "all"}}))
    rows.push_back({splits.s("cohort")[r], splits.cell("customers", r), splits.cell("subscribed", r),
                    pct(splits.d("base_rate")[r]), ci(splits.d("base_rate_low95")[r], splits.d("base_rate_high95")[r], 2, true)});
  w.table({"cohort", "customers", "subscribed", "rate", "95% CI"}, rows);
  w.line("Undated customers (no First Contact and no pipeline date) are set aside from every model and table below.");

  targeting_section(w, ev, path);

  const Frame seg = read_frame(ev.open_group("descriptive"), "segments", path);
  w.heading("Segments worth contacting (observed; ranked by the interval's lower bound)");
  w.line("Recommended: segments of at least the minimum size (--min-segment-size) with at least " +
         std::to_string(kMinSegmentSubscribers) + " subscribers and a known country and education; the best 5 per "
         "grouping and cohort.");
  w.line("");
  // A missing country or education is a data-quality matter, never a segment to contact.
  auto unknown = [&seg](std::size_t r) { return seg.s("country")[r] == "unknown" || seg.s("education")[r] == "unknown"; };
  rows.clear();
  std::vector<std::vector<std::string>> unknown_rows;
  for (const std::string grouping : {"country x education", "country"})
    for (const std::string cohort : {"outbound", "inbound"}) {
      int shown = 0;
      std::vector<std::size_t> missing;
      for (std::size_t r : seg.where({{"grouping", grouping}, {"cohort", cohort}})) {
        if (unknown(r)) {
          missing.push_back(r);
          continue;
        }
        if (seg.d("rank")[r] < 1 || shown >= 5) continue;
        ++shown;
        rows.push_back({grouping, cohort, seg.s("segment")[r], seg.cell("customers", r), seg.cell("subscribers", r),
                        pct(seg.d("rate")[r]) + " " + ci(seg.d("low95")[r], seg.d("high95")[r], 2, true),
                        num(seg.d("lift")[r]), pct(seg.d("share_of_subscribers")[r], 0)});
      }
      // The unknown segments with most subscribers (then customers), at most 5 per block.
      std::stable_sort(missing.begin(), missing.end(), [&seg](std::size_t a, std::size_t b) {
        if (seg.d("subscribers")[a] != seg.d("subscribers")[b]) return seg.d("subscribers")[a] > seg.d("subscribers")[b];
        return seg.d("customers")[a] > seg.d("customers")[b];
      });
      for (std::size_t i = 0; i < missing.size() && i < 5; ++i)
        unknown_rows.push_back({grouping, cohort, seg.s("segment")[missing[i]], seg.cell("customers", missing[i]),
                                seg.cell("subscribers", missing[i])});
    }
  w.table({"grouping", "cohort", "segment", "customers", "subscribers", "rate [95% CI]", "lift", "share of subscribers"}, rows);
  if (!unknown_rows.empty()) {
    w.line("");
    w.line("Data quality: customers whose country or education is missing (\"unknown\") are never recommended; "
           "their segments (at most 5 per grouping and cohort):");
    w.line("");
    w.table({"grouping", "cohort", "segment", "customers", "subscribers"}, unknown_rows);
  }

  break_even_section(w, ev, path);

  // Policies.
  const Frame pol = read_frame(ev, "policies", path);
  const Frame diff = read_frame(ev, "policy_differences", path);
  w.heading("Which actions pay: policies in the fitted funnel (model-based)");
  rows.clear();
  for (const std::string policy : {"learned", "optimal", "historical", "random", "always_wait", "always_message", "textbook"}) {
    std::vector<std::string> row = {policy};
    for (const std::string metric : {"subscriptions_per_1000", "first_calls_per_1000", "reward_per_customer"}) {
      const auto r = pol.where({{"policy", policy}, {"metric", metric}});
      row.push_back(r.empty() ? "" : num(pol.d("estimate")[r[0]]) + " " + ci(pol.d("low95")[r[0]], pol.d("high95")[r[0]]));
    }
    rows.push_back(row);
  }
  const auto n_pol = pol.where({{"policy", "learned"}, {"metric", "reward_per_customer"}});
  w.table({"policy", "subscriptions per 1,000", "first calls per 1,000", "reward per customer"}, rows);
  if (!n_pol.empty()) w.line("n = " + pol.cell("customers", n_pol[0]) + " customers' start states; intervals from " +
                             std::to_string(bootstrap) + " bootstrap refits of the model.");
  rows.clear();
  for (const std::string policy : {"random", "historical", "optimal", "always_wait"})
    for (const std::string metric : {"reward_per_customer", "subscriptions_per_1000"}) {
      const auto r = diff.where({{"policy", policy}, {"metric", metric}});
      if (r.empty()) continue;
      rows.push_back({"learned - " + policy, metric, num(diff.d("difference")[r[0]], 3) + " " +
                                                          ci(diff.d("low95")[r[0]], diff.d("high95")[r[0]], 3)});
    }
  w.line("");
  w.table({"paired difference", "metric", "estimate [95% CI]"}, rows);
  w.line("The historical process is the fitted hazards with no change of intervention; its action costs are unknown.");

  // Best actions by stage.
  const Frame mix = read_frame(ev, "action_mix", path);
  const Frame imp = read_frame(ev, "action_impact", path);
  w.heading("Best actions by stage (model-based)");
  std::map<std::string, std::size_t> best;  // milestones -> the action_mix row with the most weeks
  std::map<std::string, double> stage_share;
  for (std::size_t r = 0; r < mix.rows; ++r) {
    const std::string m = mix.s("milestones")[r];
    stage_share[m] += mix.d("share")[r];
    if (!best.count(m) || mix.d("share")[r] > mix.d("share")[best[m]]) best[m] = r;
  }
  rows.clear();
  for (const auto& [m, b] : best) {
    if (stage_share[m] < 0.001) continue;
    std::string top_action;
    double top = -1, lo = 0, hi = 0;
    for (std::size_t r : imp.where({{"milestones", m}}))
      if (imp.d("delta")[r] > top) top = imp.d("delta")[r], top_action = imp.s("action")[r], lo = imp.d("low95")[r], hi = imp.d("high95")[r];
    rows.push_back({m, pct(stage_share[m], 1), mix.s("action")[b],
                    pct(mix.d("share")[b], 1) + " " + ci(mix.d("low95")[b], mix.d("high95")[b], 1, true),
                    top_action + " " + pct(top, 3) + " " + ci(lo, hi, 3, true)});
  }
  w.table({"milestones reached", "weeks in the stage", "optimal action", "its share of all weeks [95% CI]",
           "largest gain in P(subscribe) vs waiting [95% CI]"},
          rows);
  w.line("Weeks: expected weeks of the " + (n_pol.empty() ? std::string("fitting") : pol.cell("customers", n_pol[0])) +
         " fitting customers to the horizon under the optimal policy, as shares of all their weeks; intervals from the " +
         std::to_string(bootstrap) + " refits.");
  const Frame ms = read_frame(ev.open_group("descriptive"), "milestones", path);
  rows.clear();
  for (std::size_t r : ms.where({{"cohort", "all"}}))
    rows.push_back({ms.s("milestone")[r], ms.cell("reached", r), ms.cell("subscribed", r),
                    pct(ms.d("rate")[r]) + " " + ci(ms.d("low95")[r], ms.d("high95")[r], 2, true)});
  w.line("\nObserved (descriptive, not causal): P(subscribed | milestone reached before subscribing)");
  w.table({"milestone", "reached", "subscribed", "rate [95% CI]"}, rows);

  // Verdicts.
  w.heading("How far to trust the simulator");
  calibration_table(w, ev, path);
  const Frame sens = read_frame(ev, "sensitivity", path);
  double min_wait = 1;
  for (double x : sens.d("share_wait")) min_wait = std::min(min_wait, x);
  w.line("");
  w.line("Sensitivity (" + ev.string_attribute("sensitivity_grid") + "): the optimal policy waits in at least " +
         pct_at_least(min_wait, 1) + " of weeks at every point of the grid.");
  w.line("Action success probabilities, costs and rewards are configuration, not data: the export records events, not actions.");

  call_list_section(w, f, path);
}

}  // namespace reinforcer
