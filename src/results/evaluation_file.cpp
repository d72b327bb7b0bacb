#include "reinforcer/results/evaluation_file.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "reinforcer/core/errors.hpp"

#include "reinforcer/h5/hdf5.hpp"

namespace reinforcer {

void write_break_even_table(const h5::Group& g, const std::vector<BreakEvenRow>& r) {
  using B = BreakEvenRow;
  g.write_table("break_even", h5::Table(r.size())
                                  .add("cohort", h5::column(r, &B::cohort)).add("progress", h5::column(r, &B::progress))
                                  .add("stage", h5::column(r, &B::stage)).add("action", h5::column(r, &B::action))
                                  .add("customers", h5::column(r, &B::customers))
                                  .add("gain_per_success", h5::column(r, &B::gain_per_success))
                                  .add("assumed_success", h5::column(r, &B::configured_success))
                                  .add("break_even_success", h5::column(r, &B::break_even_success))
                                  .add("break_even_reward", h5::column(r, &B::break_even_reward))
                                  .add("break_even_cost", h5::column(r, &B::break_even_cost))
                                  .add("milestone_base", h5::column(r, &B::milestone_base))
                                  .add("subscription_base", h5::column(r, &B::subscription_base))
                                  .add("n_per_arm_milestone", h5::column(r, &B::n_per_arm_milestone))
                                  .add("n_per_arm_subscription", h5::column(r, &B::n_per_arm_subscription)));
}

namespace {

// The call list's columns, declared once for writing and reading.
using K = CallListRow;
using N = CallListNumbers;
const std::vector<std::pair<const char*, std::int32_t N::*>> kListInts = {
    {"weeks_since_t0", &K::weeks_since_t0}, {"weeks_since_activity", &K::weeks_since_activity},
    {"scored_week", &K::scored_week}, {"band", &K::band}, {"progress", &K::progress}};
const std::vector<std::pair<const char*, double N::*>> kListNumbers = {
    {"p_subscribe", &K::p_subscribe}, {"low95", &K::low95}, {"high95", &K::high95},
    {"extra_subscriptions", &K::extra_subscriptions}, {"gain", &K::gain}, {"assumed_success", &K::assumed_success},
    {"break_even_success", &K::break_even_success}, {"p_subscribe_acting", &K::p_subscribe_acting},
    {"expected_value", &K::expected_value}};

}  // namespace

void write_call_list(const h5::Group& g, const CallListColumns& rows, const RefitScoreColumns& refits, std::int64_t widened) {
  h5::Table t(rows.size());
  t.add_member("id", rows.numbers(), &N::id);
  for (const auto& [name, member] : CallListColumns::kTexts)
    t.add_text_view(name, [&rows, m = member](std::size_t i) { return rows.text(m, i); });
  for (const auto& [name, member] : kListInts) t.add_member(name, rows.numbers(), member);
  for (const auto& [name, member] : kListNumbers) t.add_member(name, rows.numbers(), member);
  g.write_table("call_list", t);
  const h5::Group r = g.create_group("call_list_refits");
  r.set_attribute("refits", static_cast<std::int64_t>(refits.refits));
  r.set_attribute("widened_intervals", widened);
  // [lead, refit] matrices, a chunk of leads at a time out of the refits' columns.
  const std::size_t B = refits.refits, leads = B ? rows.size() : 0;
  if (B && refits.store.rows() != leads) throw std::logic_error("write_call_list: the refit scores do not match the list");
  for (std::size_t half = 0; half < 2; ++half)
    r.write_matrix_rows(half == 0 ? "p_subscribe" : "gain", leads, B, [&refits, B, half](std::size_t first, std::size_t count, double* out) {
      refits.store.get_rows(first, count, half * B, B, out);
    });
}

CallList read_call_list(const h5::File& f, const std::string& path) {
  if (!f.exists("evaluation") || !f.open_group("evaluation").exists("call_list") ||
      !f.open_group("evaluation").exists("call_list_refits"))
    throw InputError(path + ": no call list (/evaluation/call_list); make one with 'reinforcer evaluate run.h5 -o " +
                     "evaluated.h5' and pass that file");
  const h5::Group g = f.open_group("evaluation");
  CallList out;
  const std::size_t n = g.table_rows("call_list");
  out.rows.reserve(n);
  // Every column in one pass over the table (a read per column inflated the whole table each
  // time: 25 times at a million leads).
  using Kind = h5::MemberKind;
  std::vector<h5::Member> declared = {{"id", Kind::int64}};
  for (const auto& text : CallListColumns::kTexts) declared.push_back({text.name, Kind::text});
  for (const auto& column : kListInts) declared.push_back({column.first, Kind::int32});
  for (const auto& column : kListNumbers) declared.push_back({column.first, Kind::float64});
  const h5::Compound layout = g.table_layout("call_list", declared);
  const auto& member = layout.members();
  auto number = [](const char* at, auto& into) { std::memcpy(&into, at, sizeof into); };
  constexpr std::size_t kBlockRows = std::size_t{1} << 16;  // whole chunks: each inflated once
  std::vector<char> block;
  for (std::size_t first = 0; first < n; first += kBlockRows) {
    const std::size_t count = std::min(kBlockRows, n - first);
    g.read_rows("call_list", layout, first, count, block);
    std::array<std::string_view, CallListColumns::kTexts.size()> texts;
    for (std::size_t j = 0; j < count; ++j) {
      const char* row = block.data() + j * layout.row_size();
      CallListNumbers numbers;
      std::size_t m = 0;
      number(row + layout.offset(m++), numbers.id);
      for (std::string_view& text : texts) {
        text = h5::text_member(row + layout.offset(m), member[m]);
        ++m;
      }
      for (const auto& column : kListInts) number(row + layout.offset(m++), numbers.*column.second);
      for (const auto& column : kListNumbers) number(row + layout.offset(m++), numbers.*column.second);
      out.rows.add(numbers, texts);
    }
  }
  const h5::Group r = g.open_group("call_list_refits");
  out.refits.refits = static_cast<std::size_t>(r.int_attribute("refits"));
  out.widened = r.int_attribute("widened_intervals");
  for (const char* name : {"p_subscribe", "gain"}) {
    const auto [rows, cols] = r.matrix_shape(name);
    if (out.refits.refits > 0 && (rows != n || cols != out.refits.refits))
      throw InputError(path + ": /evaluation/call_list_refits/" + name + " does not match /evaluation/call_list (" +
                       std::to_string(rows) + " x " + std::to_string(cols) + " for " + std::to_string(n) + " leads and " +
                       std::to_string(out.refits.refits) + " refits)");
  }
  // The [lead, refit] matrices are read a block of leads at a time when the list is arranged,
  // through a handle of their group's own (it keeps the file open as long as it lives).
  out.refits.leads = n;
  const auto matrices = std::make_shared<const h5::Group>(g.open_group("call_list_refits"));
  const std::size_t refits = out.refits.refits;
  out.refits.read_rows = [matrices, refits](std::size_t first, std::size_t count, std::vector<double>& p, std::vector<double>& gain) {
    matrices->read_matrix_rows("p_subscribe", first, count, refits, p);
    matrices->read_matrix_rows("gain", first, count, refits, gain);
  };
  out.bootstrap = g.has_attribute("bootstrap") ? g.int_attribute("bootstrap") : 0;
  return out;
}

// The descriptive tables (/evaluation/descriptive/*).
void write_descriptive(const h5::Group& evaluation_group, const DescriptiveTables& t) {
  const h5::Group g = evaluation_group.create_group("descriptive");
  using S = SegmentRow;
  g.write_table("segments", h5::Table(t.segments.size())
                                .add("grouping", h5::column(t.segments, &S::grouping))
                                .add("cohort", h5::column(t.segments, &S::cohort))
                                .add("segment", h5::column(t.segments, &S::segment))
                                .add("country", h5::column(t.segments, &S::country))
                                .add("education", h5::column(t.segments, &S::education))
                                .add("customers", h5::column(t.segments, &S::customers))
                                .add("first_calls", h5::column(t.segments, &S::first_calls))
                                .add("subscribers", h5::column(t.segments, &S::subscribers))
                                .add("rate", h5::column(t.segments, &S::rate))
                                .add("low95", h5::column(t.segments, &S::low95))
                                .add("high95", h5::column(t.segments, &S::high95))
                                .add("lift", h5::column(t.segments, &S::lift))
                                .add("share_of_subscribers", h5::column(t.segments, &S::share_of_subscribers))
                                .add("rank", h5::column(t.segments, &S::rank))
                                .add("note", h5::column(t.segments, &S::note)));
  using St = StatusRow;
  g.write_table("status", h5::Table(t.status.size())
                              .add("status", h5::column(t.status, &St::status))
                              .add("cohort", h5::column(t.status, &St::cohort))
                              .add("customers", h5::column(t.status, &St::customers))
                              .add("subscribers", h5::column(t.status, &St::subscribers))
                              .add("rate", h5::column(t.status, &St::rate))
                              .add("low95", h5::column(t.status, &St::low95))
                              .add("high95", h5::column(t.status, &St::high95)));
  using F = FunnelRow;
  g.write_table("funnel", h5::Table(t.funnel.size())
                              .add("cohort", h5::column(t.funnel, &F::cohort))
                              .add("from", h5::column(t.funnel, &F::from))
                              .add("to", h5::column(t.funnel, &F::to))
                              .add("reached_from", h5::column(t.funnel, &F::reached_from))
                              .add("reached_to", h5::column(t.funnel, &F::reached_to))
                              .add("conversion", h5::column(t.funnel, &F::conversion))
                              .add("low95", h5::column(t.funnel, &F::low95))
                              .add("high95", h5::column(t.funnel, &F::high95))
                              .add("median_weeks", h5::column(t.funnel, &F::median_weeks)));
  using T = TimeToNextRow;
  g.write_table("time_to_next", h5::Table(t.time_to_next.size())
                                    .add("cohort", h5::column(t.time_to_next, &T::cohort))
                                    .add("transition", h5::column(t.time_to_next, &T::transition))
                                    .add("week", h5::column(t.time_to_next, &T::week))
                                    .add("at_risk", h5::column(t.time_to_next, &T::at_risk))
                                    .add("events", h5::column(t.time_to_next, &T::events))
                                    .add("survival", h5::column(t.time_to_next, &T::survival))
                                    .add("low95", h5::column(t.time_to_next, &T::low95))
                                    .add("high95", h5::column(t.time_to_next, &T::high95)));
  using M = MilestoneRow;
  g.write_table("milestones", h5::Table(t.milestones.size())
                                  .add("milestone", h5::column(t.milestones, &M::milestone))
                                  .add("cohort", h5::column(t.milestones, &M::cohort))
                                  .add("reached", h5::column(t.milestones, &M::reached))
                                  .add("subscribed", h5::column(t.milestones, &M::subscribed))
                                  .add("rate", h5::column(t.milestones, &M::rate))
                                  .add("low95", h5::column(t.milestones, &M::low95))
                                  .add("high95", h5::column(t.milestones, &M::high95)));
}

namespace {

void write_tables(const h5::Group& g, const EvaluationResult& r) {
  write_break_even_table(g, r.break_even);
  using AS = ActionShareRow;
  g.write_table("action_share", h5::Table(r.action_share.size())
                                    .add("cohort", h5::column(r.action_share, &AS::cohort))
                                    .add("axis", h5::column(r.action_share, &AS::axis))
                                    .add("value", h5::column(r.action_share, &AS::value))
                                    .add("share_acting", h5::column(r.action_share, &AS::share_acting))
                                    .add("customers", h5::column(r.action_share, &AS::customers)));
  using S = ScoreRow;
  // The out-of-fold scores (a row per held-out customer) read in place as they are written.
  g.write_table("scores", h5::Table(r.scores.size())
                              .add_member("id", r.scores, &S::id).add_member("fold", r.scores, &S::fold)
                              .add_text_view("cohort", [&r](std::size_t i) { return std::string_view(r.scores[i].cohort); })
                              .add_member("subscribed", r.scores, &S::subscribed)
                              .add_member("status_quo", r.scores, &S::status_quo).add_member("call_list", r.scores, &S::call_list)
                              .add_member("segment_rate", r.scores, &S::segment_rate)
                              .add_member("cohort_rate", r.scores, &S::cohort_rate).add_member("random", r.scores, &S::random));
  using T = TargetingRow;
  g.write_table("targeting", h5::Table(r.targeting.size())
                                 .add("scorer", h5::column(r.targeting, &T::scorer)).add("cohort", h5::column(r.targeting, &T::cohort))
                                 .add("metric", h5::column(r.targeting, &T::metric)).add("estimate", h5::column(r.targeting, &T::estimate))
                                 .add("low95", h5::column(r.targeting, &T::low95)).add("high95", h5::column(r.targeting, &T::high95))
                                 .add("customers", h5::column(r.targeting, &T::customers))
                                 .add("subscribers", h5::column(r.targeting, &T::subscribers))
                                 .add("folds", h5::column(r.targeting, &T::folds)));
  using TD = TargetingDifferenceRow;
  const auto& td = r.targeting_differences;
  g.write_table("targeting_differences", h5::Table(td.size())
                                             .add("scorer", h5::column(td, &TD::scorer)).add("baseline", h5::column(td, &TD::baseline))
                                             .add("cohort", h5::column(td, &TD::cohort)).add("metric", h5::column(td, &TD::metric))
                                             .add("difference", h5::column(td, &TD::difference))
                                             .add("low95", h5::column(td, &TD::low95)).add("high95", h5::column(td, &TD::high95)));
  using L = LiftPoint;
  g.write_table("lift_curve", h5::Table(r.lift_curve.size())
                                  .add("scorer", h5::column(r.lift_curve, &L::scorer)).add("cohort", h5::column(r.lift_curve, &L::cohort))
                                  .add("fraction", h5::column(r.lift_curve, &L::fraction))
                                  .add("captured", h5::column(r.lift_curve, &L::captured)));
  using P = PolicyRow;
  g.write_table("policies", h5::Table(r.policies.size())
                                .add("policy", h5::column(r.policies, &P::policy)).add("metric", h5::column(r.policies, &P::metric))
                                .add("estimate", h5::column(r.policies, &P::estimate)).add("low95", h5::column(r.policies, &P::low95))
                                .add("high95", h5::column(r.policies, &P::high95)).add("customers", h5::column(r.policies, &P::customers)));
  using D = PolicyDifferenceRow;
  g.write_table("policy_differences", h5::Table(r.policy_differences.size())
                                          .add("policy", h5::column(r.policy_differences, &D::policy))
                                          .add("metric", h5::column(r.policy_differences, &D::metric))
                                          .add("difference", h5::column(r.policy_differences, &D::difference))
                                          .add("low95", h5::column(r.policy_differences, &D::low95))
                                          .add("high95", h5::column(r.policy_differences, &D::high95)));
  using C = CalibrationRow;
  g.write_table("calibration", h5::Table(r.calibration.size())
                                   .add("cohort", h5::column(r.calibration, &C::cohort)).add("event", h5::column(r.calibration, &C::event))
                                   .add("customers", h5::column(r.calibration, &C::customers))
                                   .add("expected", h5::column(r.calibration, &C::expected))
                                   .add("observed", h5::column(r.calibration, &C::observed))
                                   .add("o_e", h5::column(r.calibration, &C::o_e))
                                   .add("o_e_low95", h5::column(r.calibration, &C::o_e_low95))
                                   .add("o_e_high95", h5::column(r.calibration, &C::o_e_high95))
                                   .add("verdict", h5::column(r.calibration, &C::verdict)));
  {
    const auto& cs = r.calibration_slopes;
    auto fit = [&](auto member) {
      std::vector<std::decay_t<decltype(CalibrationSlope{}.*member)>> v;
      for (const auto& row : cs) v.push_back(row.fit.*member);
      return v;
    };
    g.write_table("calibration_slope", h5::Table(cs.size())
                                           .add("cohort", h5::column(cs, &CalibrationSlopeRow::cohort))
                                           .add("event", h5::column(cs, &CalibrationSlopeRow::event))
                                           .add("customers", fit(&CalibrationSlope::n)).add("events", fit(&CalibrationSlope::events))
                                           .add("slope", fit(&CalibrationSlope::slope))
                                           .add("slope_low95", fit(&CalibrationSlope::slope_low95))
                                           .add("slope_high95", fit(&CalibrationSlope::slope_high95))
                                           .add("intercept", fit(&CalibrationSlope::intercept))
                                           .add("intercept_low95", fit(&CalibrationSlope::intercept_low95))
                                           .add("intercept_high95", fit(&CalibrationSlope::intercept_high95))
                                           .add("verdict", fit(&CalibrationSlope::verdict)));
    const auto& rb = r.reliability;
    auto bin = [&](auto member) {
      std::vector<std::decay_t<decltype(ReliabilityBin{}.*member)>> v;
      for (const auto& row : rb) v.push_back(row.bin.*member);
      return v;
    };
    std::vector<std::int32_t> index;
    for (const auto& row : rb) index.push_back(row.bin.index);
    g.write_table("reliability", h5::Table(rb.size())
                                     .add("cohort", h5::column(rb, &ReliabilityRow::cohort))
                                     .add("event", h5::column(rb, &ReliabilityRow::event)).add("decile", index)
                                     .add("customers", bin(&ReliabilityBin::n))
                                     .add("mean_predicted", bin(&ReliabilityBin::mean_predicted))
                                     .add("min_predicted", bin(&ReliabilityBin::min_predicted))
                                     .add("max_predicted", bin(&ReliabilityBin::max_predicted))
                                     .add("expected", bin(&ReliabilityBin::expected)).add("observed", bin(&ReliabilityBin::observed))
                                     .add("observed_rate", bin(&ReliabilityBin::observed_rate))
                                     .add("rate_low95", bin(&ReliabilityBin::rate_low95))
                                     .add("rate_high95", bin(&ReliabilityBin::rate_high95)).add("o_e", bin(&ReliabilityBin::o_e))
                                     .add("o_e_low95", bin(&ReliabilityBin::o_e_low95))
                                     .add("o_e_high95", bin(&ReliabilityBin::o_e_high95)));
  }
  using V = SensitivityRow;
  h5::Table sens(r.sensitivity.size());
  sens.add("success_scale", h5::column(r.sensitivity, &V::success_scale)).add("reward_scale", h5::column(r.sensitivity, &V::reward_scale))
      .add("reward_per_customer", h5::column(r.sensitivity, &V::reward_per_customer))
      .add("subscriptions_per_1000", h5::column(r.sensitivity, &V::subscriptions_per_1000));
  for (std::size_t a = 0; a < kActions; ++a) {
    std::vector<double> share;
    for (const auto& row : r.sensitivity) share.push_back(row.share[a]);
    sens.add("share_" + std::string(kActionNames[a]), share);
  }
  g.write_table("sensitivity", sens);
  using A = ActionImpactRow;
  g.write_table("action_impact", h5::Table(r.action_impact.size())
                                     .add("progress", h5::column(r.action_impact, &A::progress))
                                     .add("milestones", h5::column(r.action_impact, &A::milestones))
                                     .add("action", h5::column(r.action_impact, &A::action)).add("delta", h5::column(r.action_impact, &A::delta))
                                     .add("low95", h5::column(r.action_impact, &A::low95)).add("high95", h5::column(r.action_impact, &A::high95))
                                     .add("sensitivity_low", h5::column(r.action_impact, &A::sensitivity_low))
                                     .add("sensitivity_high", h5::column(r.action_impact, &A::sensitivity_high)));
  using M = ActionMixRow;
  g.write_table("action_mix", h5::Table(r.action_mix.size())
                                  .add("progress", h5::column(r.action_mix, &M::progress))
                                  .add("milestones", h5::column(r.action_mix, &M::milestones))
                                  .add("action", h5::column(r.action_mix, &M::action)).add("share", h5::column(r.action_mix, &M::share))
                                  .add("low95", h5::column(r.action_mix, &M::low95)).add("high95", h5::column(r.action_mix, &M::high95)));
  write_call_list(g, r.call_list, r.call_list_refits, r.call_list_widened);
  write_descriptive(g, r.descriptive);
}

}  // namespace

void write_evaluated_file(const std::string& path, const std::string& run_path, const EvaluationResult& result,
                          const EvaluationSettings& settings, const Provenance& provenance) {
  h5::File f = h5::File::create(path);
  {
    const h5::File run = h5::File::open_read(run_path);
    for (const std::string& name : run.member_names()) f.copy_from(run, name);
    f.copy_attributes_from(run);
    // The training run's own provenance stays, under names of its own.
    for (const char* key : {"command_line", "config", "started_at", "finished_at", "input_path", "input_sha256"})
      if (run.has_attribute(key)) f.set_attribute(std::string("train_") + key, run.string_attribute(key));
  }
  for (const char* key : {"format", "format_version", "reinforcer_version", "command_line", "config", "input_path",
                          "input_sha256", "started_at", "finished_at"})
    if (f.has_attribute(key)) f.remove_attribute(key);
  write_provenance(f, kEvaluatedFormat, kEvaluatedFormatVersion, provenance);
  const h5::Group g = f.create_group("evaluation");
  g.set_attribute("folds", result.folds);
  g.set_attribute("bootstrap", static_cast<std::int64_t>(settings.bootstrap));
  g.set_attribute("seed", static_cast<std::int64_t>(settings.seed));
  g.set_attribute("split", settings.split);
  if (!result.warnings.empty()) g.write_strings("warnings", result.warnings);
  auto list = [](const std::vector<double>& v) {
    std::string out;
    for (double x : v) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%g", x);
      out += (out.empty() ? "" : ",") + std::string(buf);
    }
    return out;
  };
  const std::string grid = "every success.* times " + list(settings.grid_success) + " x reward.subscription times " +
                           list(settings.grid_reward);
  g.set_attribute("sensitivity_grid", grid);
  g.set_attribute("undated_set_aside", result.undated_set_aside);
  // The call list's assumptions, for the list's explanation sheet.
  g.set_attribute("call_list_weeks", static_cast<std::int64_t>(kCallListWeeks));
  g.set_attribute("stale_weeks", static_cast<std::int64_t>(settings.stale_weeks));
  g.set_attribute("export_date", format_day(settings.hazards.export_date));
  g.set_attribute("subscription_reward", settings.funnel.subscription_reward);
  for (std::size_t a = 0; a < kActions; ++a) {
    g.set_attribute("success_" + std::string(kActionNames[a]), settings.funnel.success.probability[a]);
    g.set_attribute("cost_" + std::string(kActionNames[a]), settings.funnel.costs.cost[a]);
  }
  write_tables(g, result);
  f.flush();
  f.close();  // sealed: readers can tell a damaged copy
}

}  // namespace reinforcer
