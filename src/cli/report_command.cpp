// `reinforcer report`: the answers first, every figure with its n and interval.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "reinforcer/cli/command.hpp"
#include "reinforcer/cli/text_writer.hpp"
#include "reinforcer/data/civil_date.hpp"
#include "reinforcer/data/raw_table.hpp"
#include "reinforcer/env/hazards.hpp"
#include "reinforcer/errors.hpp"
#include "reinforcer/eval/descriptive.hpp"
#include "reinforcer/io/atomic_output.hpp"
#include "reinforcer/io/evaluation_file.hpp"
#include "reinforcer/io/frame.hpp"

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
              pct_at_least(share.d("share_acting")[at.back()], 1) + " of " + cohort + " customers.";
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
         "under-predicts when it lies above 1, over-predicts when below; not judged when E < 10.");
}

void report(const h5::File& f, const std::string& path, std::ostream& out, bool markdown) {
  const h5::Group ev = f.open_group("evaluation");
  Writer w(out, markdown);
  const std::string split = ev.string_attribute("split");
  const auto bootstrap = ev.int_attribute("bootstrap");
  w.line(std::string(markdown ? "# " : "") + "SalesReinforcer report: " + path);
  w.line("Evaluation: " + (split == "cv" ? std::to_string(ev.int_attribute("folds")) + "-fold cross-validation (out-of-fold scores)"
                                         : "temporal " + split + " split") +
         "; intervals are 95% (" + std::to_string(bootstrap) +
         " bootstrap resamples or refits; Wilson for proportions; exact Poisson for observed/expected).");

  // Base rates per cohort.
  const Frame splits = read_frame(f.open_group("summary"), "splits", path);
  w.heading("Base rates");
  std::vector<std::vector<std::string>> rows;
  for (std::size_t r : splits.where({{"split", "all"}}))
    rows.push_back({splits.s("cohort")[r], splits.cell("customers", r), splits.cell("subscribed", r),
                    pct(splits.d("base_rate")[r]), ci(splits.d("base_rate_low95")[r], splits.d("base_rate_high95")[r], 2, true)});
  w.table({"cohort", "customers", "subscribed", "rate", "95% CI"}, rows);
  w.line("Undated customers (no First Contact and no pipeline date) are set aside from every model and table below.");

  // Whom to contact.
  const Frame tg = read_frame(ev, "targeting", path);
  w.heading("Whom to contact: targeting on real outcomes");
  rows.clear();
  for (const std::string cohort : {"all", "outbound", "inbound"})
    for (const std::string scorer : {"learned", "segment_rate", "cohort_rate", "random"}) {
      const auto auc = tg.where({{"scorer", scorer}, {"cohort", cohort}, {"metric", "auc"}});
      const auto lift = tg.where({{"scorer", scorer}, {"cohort", cohort}, {"metric", "lift@20"}});
      const auto cap = tg.where({{"scorer", scorer}, {"cohort", cohort}, {"metric", "captured@20"}});
      if (auc.empty()) continue;
      const auto a = auc[0], l = lift[0], c = cap[0];
      rows.push_back({cohort, scorer, tg.cell("customers", a), tg.cell("subscribers", a),
                      num(tg.d("estimate")[a]) + " " + ci(tg.d("low95")[a], tg.d("high95")[a]),
                      num(tg.d("estimate")[l]) + " " + ci(tg.d("low95")[l], tg.d("high95")[l]),
                      pct(tg.d("estimate")[c], 0) + " " + ci(tg.d("low95")[c], tg.d("high95")[c], 0, true)});
    }
  w.table({"cohort", "ranking", "n", "subscribers", "ROC AUC", "lift at top 20%", "subscribers in top 20%"}, rows);
  for (const std::string cohort : {"outbound", "inbound"}) {
    const auto r = tg.where({{"scorer", "learned"}, {"cohort", cohort}, {"metric", "auc"}});
    if (!r.empty() && tg.d("subscribers")[r[0]] < 10)
      w.line("The data cannot answer targeting for " + cohort + " customers here: " + tg.cell("subscribers", r[0]) +
             " subscribers among the held-out customers; the figures above are not informative.");
  }
  w.line("learned = P(subscribe) under the learned policy from the decision-time state (features, milestones at t0);");
  w.line("segment_rate = the subscription rate of the same segment and start milestones, shrunk toward its parent;");
  w.line("cohort_rate = the cohort's rate alone; random = no information.");

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
    rows.push_back({m, mix.s("action")[b], pct(mix.d("share")[b], 1) + " " + ci(mix.d("low95")[b], mix.d("high95")[b], 1, true),
                    top_action + " " + pct(top, 3) + " " + ci(lo, hi, 3, true)});
  }
  w.table({"milestones reached", "optimal action", "its share of all weeks [95% CI]",
           "largest gain in P(subscribe) vs waiting [95% CI]"},
          rows);
  w.line("Weeks: expected weeks of the fitting customers to the horizon under the optimal policy; intervals from the " +
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

  const Frame calls = read_frame(ev, "call_list", path);
  w.heading("Call list");
  w.line(std::to_string(calls.rows) + " open leads (not subscribed, not 'do not contact'), ranked by out-of-sample P(subscribe); "
         "'reinforcer recommend' writes them to CSV or xlsx. Top 10:");
  rows.clear();
  for (std::size_t r = 0; r < std::min<std::size_t>(10, calls.rows); ++r)
    rows.push_back({calls.cell("id", r), calls.s("cohort")[r], calls.s("segment")[r], calls.s("flag")[r],
                    pct(calls.d("p_subscribe")[r], 1) + " " + ci(calls.d("low95")[r], calls.d("high95")[r], 1, true),
                    calls.s("next_action")[r]});
  w.table({"id", "cohort", "segment", "flag", "P(subscribe) [95% CI]", "next action"}, rows);
}

void write_csvs(const h5::File& f, const std::string& path, const std::string& dir) {
  if (!std::filesystem::is_directory(dir)) throw PathError(dir + ": not a directory (with --format csv, -o names a directory)");
  const h5::Group ev = f.open_group("evaluation");
  std::vector<std::pair<const h5::Group*, std::string>> tables;
  const h5::Group desc = ev.open_group("descriptive");
  for (const auto& name : ev.member_names())
    if (name != "descriptive") tables.emplace_back(&ev, name);
  for (const auto& name : desc.member_names()) tables.emplace_back(&desc, name);
  for (const auto& [g, name] : tables) {
    const Frame fr = read_frame(*g, name, path);
    AtomicOutput out(dir + "/" + name + ".csv");
    write_frame_csv(fr, {}, fr.rows, out.temp_path());
    out.commit();
    std::cout << "wrote " << dir << "/" << name << ".csv" << std::endl;
  }
}

int run_report(const Invocation& inv) {
  const std::string format = inv.options["format"].as<std::string>();
  if (format != "text" && format != "markdown" && format != "csv")
    throw UsageError("--format: '" + format + "' is not text, markdown or csv");
  require_readable_file(inv.input);
  const h5::File f = h5::File::open_read(inv.input);
  require_format(f, inv.input, kEvaluatedFormat, kEvaluatedFormatVersion);
  if (format == "csv") {
    if (inv.output.empty()) throw UsageError("--format csv writes one file per table: give -o DIRECTORY");
    write_csvs(f, inv.input, inv.output);
    return 0;
  }
  std::ostringstream text;
  report(f, inv.input, text, format == "markdown");
  if (inv.output.empty()) {
    std::cout << text.str();
    return 0;
  }
  AtomicOutput out(inv.output);
  {
    std::ofstream o(out.temp_path());
    o << text.str();
    if (!o) throw PathError(inv.output + ": cannot write");
  }
  out.commit();
  std::cout << "wrote " << inv.output << std::endl;
  return 0;
}

}  // namespace

CommandSpec report_command() {
  CommandSpec s;
  s.name = "report";
  s.summary = "the answers, with n and intervals: whom to contact, which actions pay, how far to trust it";
  s.synopsis = "reinforcer report evaluated.h5 [--format text|markdown|csv] [-o PATH]";
  s.description =
      "Reads the output of 'reinforcer evaluate' and writes the answers first: base rates, targeting\n"
      "(AUC, lift) of the learned ranking against its baselines, the best segments, policies against\n"
      "baselines with paired differences, best actions by stage, then the simulator's calibration\n"
      "(observed/expected per cohort and event), the sensitivity verdict and the top of the call\n"
      "list. Every figure carries its n and a 95% interval. Text (default; to the terminal unless\n"
      "-o), Markdown, or one CSV per table (-o DIR).";
  s.output_required = false;
  s.output_help = "output file (default: the terminal); with --format csv, a directory";
  s.add_options = [](po::options_description& d) {
    d.add_options()("format", po::value<std::string>()->default_value("text"), "text, markdown or csv");
  };
  s.run = run_report;
  return s;
}

}  // namespace reinforcer
