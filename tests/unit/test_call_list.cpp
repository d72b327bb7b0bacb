// The call list and the targeting metrics it is judged by: fold-stratified AUC, the leads'
// state at the export date, the DP behind each next action, intervals and arrangement.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "reinforcer/core/rng.hpp"
#include "reinforcer/data/split.hpp"
#include "reinforcer/env/segment_encoder.hpp"
#include "reinforcer/eval/call_list.hpp"
#include "reinforcer/eval/evaluation.hpp"
#include "reinforcer/eval/policy_outcomes.hpp"
#include "reinforcer/stats/ranking_metrics.hpp"
#include "reinforcer/rl/funnel_fit.hpp"
#include "reinforcer/rl/value_iteration.hpp"
#include "test_support.hpp"

using namespace reinforcer;
using Catch::Matchers::WithinAbs;

TEST_CASE("a score constant within each fold has fold-stratified AUC 0.5, where pooling does not", "[targeting]") {
  // Three folds, each scored by one constant (as a cohort-rate baseline is within a cohort);
  // the fold with the highest constant also has the highest subscription rate.
  std::vector<double> score;
  std::vector<std::uint8_t> label;
  std::vector<std::int32_t> fold;
  const std::array<double, 3> constant = {0.01, 0.02, 0.03};
  const std::array<int, 3> positives = {2, 5, 12};
  for (int f = 0; f < 3; ++f)
    for (int i = 0; i < 200; ++i) {
      score.push_back(constant[static_cast<std::size_t>(f)]);
      label.push_back(i < positives[static_cast<std::size_t>(f)]);
      fold.push_back(f);
    }
  const FoldAuc within = fold_stratified_auc(score, label, fold);
  CHECK(within.folds == 3);
  CHECK_THAT(within.mean, WithinAbs(0.5, 1e-12));
  CHECK(roc_auc(score, label) > 0.6);  // pooling rewards the fold-level constant
  // A fold with one class only does not count; an informative score still counts.
  label[0] = label[1] = 0;  // fold 0 has no subscriber left
  CHECK(fold_stratified_auc(score, label, fold).folds == 2);
  for (std::size_t i = 0; i < score.size(); ++i) score[i] = label[i] ? 1.0 : 0.0;
  CHECK_THAT(fold_stratified_auc(score, label, fold).mean, WithinAbs(1.0, 1e-12));
}

TEST_CASE("an interval is widened to hold its estimate, and says so", "[call_list]") {
  const PointInterval inside = interval_holding(0.5, {0.4, 0.45, 0.5, 0.55, 0.6});
  CHECK(!inside.widened);
  CHECK((inside.low <= 0.5 && 0.5 <= inside.high));
  const PointInterval below = interval_holding(0.1, {0.4, 0.45, 0.5, 0.55, 0.6});  // every refit above
  CHECK(below.widened);
  CHECK(below.low == 0.1);
  CHECK(below.high < 0.6);
}

namespace {

// A synthetic evaluation setting where acting pays for some leads: every success x 4.
struct ListFixture {
  test::EvaluableTable evaluable{3000, 11, "cohort,country"};
  CustomerTable& table = evaluable.table;
  EvaluationSettings& s = evaluable.settings;
  ListFixture() {
    for (std::size_t a = 0; a + 1 < kActions; ++a) s.funnel.success.probability[a] *= 4;
  }
};

// The list as its readers hold it.
CallListColumns columns_of(const std::vector<CallListRow>& rows) {
  CallListColumns out;
  for (const CallListRow& r : rows) out.add(r);
  return out;
}

}  // namespace

TEST_CASE("every call-list lead is open, scored at its export-date state, and acts as the DP says", "[call_list]") {
  ListFixture fx;
  const std::vector<CallListRow> rows = call_list_at_export(fx.table, fx.s);
  REQUIRE(!rows.empty());
  std::map<std::int64_t, const Customer*> by_id;
  for (const Customer& c : fx.table.customers) by_id[c.id] = &c;
  // The independent referee: the funnel fitted the same way, cut at horizon week + 26 and
  // solved by plain backward induction over the whole state space.
  const std::vector<std::size_t> fitting = select_fitting(fx.table, fx.s.fit_on);
  const SegmentEncoder encoder(fx.table, fitting, fx.s.features);
  const HazardEstimates est = estimate_hazards(fx.table, fitting, encoder, fx.s.hazards);
  std::map<int, std::pair<FunnelModel, DpSolution>> cut;
  std::map<int, OutcomeTables> status_quo;
  const Day export_date = fx.s.hazards.export_date;
  std::size_t acting = 0, open_leads = 0;
  for (const Customer& c : fx.table.customers) open_leads += open_lead(c);
  CHECK(rows.size() == open_leads);
  for (const CallListRow& r : rows) {
    INFO("lead " << r.id);
    const Customer& c = *by_id.at(r.id);
    CHECK(open_lead(c));
    CHECK(!subscribed_by_t0(c));
    // The state at the export date.
    const std::int32_t weeks = static_cast<std::int32_t>((export_date - c.t0) / 7);
    CHECK(r.weeks_since_t0 == weeks);
    CHECK(r.scored_week == std::min(weeks, kBandFirstWeek[kBands - 1]));
    CHECK(static_cast<std::size_t>(r.band) == band_of_week(weeks));  // the week's own band
    CHECK(r.scored_week + kCallListWeeks <= kCallListHorizon);
    Progress reached = 0;
    for (std::size_t m = 0; m < kStepMilestones; ++m)
      if (c.milestone[m] != kNoDay && c.milestone[m] <= export_date) reached = static_cast<Progress>(reached | (1u << m));
    CHECK(r.progress == reached);
    CHECK(r.section == std::string(negative_stage(c.stage)                          ? "negative stage"
                                   : r.weeks_since_activity >= kDefaultStaleWeeks ? "stale"
                                   : r.next_action != "wait"                      ? "act"
                                                                                  : "wait"));
    // The DP's argmax and the status quo's P(subscribe within 26 weeks) at that state.
    auto it = cut.find(r.scored_week);
    if (it == cut.end()) {
      FunnelConfig cfg = fx.s.funnel;
      cfg.horizon_weeks = r.scored_week + kCallListWeeks;
      FunnelModel m = FunnelModel::from_estimates(encoder, est, cfg, true);
      DpSolution dp = solve_funnel(m, fx.s.q.gamma);
      status_quo.emplace(r.scored_week, evaluate_outcomes(m, fx.s.q.gamma, always(Action::wait)));
      it = cut.emplace(r.scored_week, std::make_pair(std::move(m), std::move(dp))).first;
    }
    const FunnelModel& m = it->second.first;
    const std::uint32_t st = m.state_index(m.segment_of_node(encoder.node_of(c, fx.table)), r.progress, r.scored_week);
    CHECK(r.next_action == std::string(kActionNames[it->second.second.policy[st]]));
    CHECK_THAT(r.p_subscribe, WithinAbs(status_quo.at(r.scored_week).subscribe[st], 1e-12));
    CHECK_THAT(r.expected_value, WithinAbs(it->second.second.value[st], 1e-9));
    if (r.next_action != "wait") {
      ++acting;
      CHECK(r.extra_subscriptions > 0);
      CHECK(r.break_even_success < r.assumed_success);  // it pays, so the assumed chance is above break-even
    } else {
      CHECK(r.gain == 0.0);
    }
  }
  CHECK(acting > 0);  // the check above had something to check
}

TEST_CASE("the list is arranged by section, ranked, and cut at capacity", "[call_list]") {
  std::vector<CallListRow> rows(6);
  const std::array<const char*, 6> section = {"wait", "act", "negative stage", "act", "stale", "act"};
  const std::array<double, 6> p = {0.9, 0.1, 0.95, 0.2, 0.99, 0.3}, gain = {0, 0.03, 0, 0.01, 0, 0.02};
  for (std::size_t i = 0; i < rows.size(); ++i) {
    rows[i].id = static_cast<std::int64_t>(i);
    rows[i].section = section[i], rows[i].p_subscribe = p[i], rows[i].gain = gain[i];
    rows[i].extra_subscriptions = gain[i];
  }
  std::vector<double> refit_p, refit_gain;
  for (std::size_t i = 0; i < rows.size(); ++i) {  // refit 0 as the estimate; refit 1 reverses the act gains
    refit_p.insert(refit_p.end(), {p[i], p[i]});
    refit_gain.insert(refit_gain.end(), {gain[i], gain[i] > 0 ? 0.1 - gain[i] : 0.0});
  }
  const RefitScores refits = RefitScores::in_memory(2, refit_p, refit_gain);
  const ArrangedCallList byGain = arrange_call_list(columns_of(rows), refits, RankBy::gain, 2, 100);
  CHECK(byGain.order == std::vector<std::size_t>{1, 5, 3, 0, 2, 4});
  CHECK(byGain.section == std::vector<std::string>{"act", "act", "beyond capacity", "wait", "negative stage", "stale"});
  CHECK(byGain.rank == std::vector<std::int64_t>{1, 2, 3, 1, 1, 1});
  CHECK(byGain.top_k == 2);
  CHECK(byGain.top_share[0] == 0.5);  // lead 1: top 2 in refit 0, last in refit 1
  CHECK(byGain.top_share[1] == 1.0);  // lead 5: second in both
  CHECK(byGain.leads[static_cast<std::size_t>(LeadSection::beyond_capacity)] == 1);
  const ArrangedCallList byP = arrange_call_list(columns_of(rows), refits, RankBy::probability, 0, 100);
  CHECK(byP.order == std::vector<std::size_t>{5, 3, 1, 0, 2, 4});
  CHECK_THROWS(rank_by_named("luck"));
}

TEST_CASE("call list columns: rows kept as numbers and text codes come back whole", "[call_list]") {
  std::vector<CallListRow> rows(3);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    CallListRow& r = rows[i];
    r.id = 100 + static_cast<std::int64_t>(i);
    r.cohort = i == 1 ? "inbound" : "outbound";
    r.country = "country " + std::to_string(i % 2);
    r.reason = std::string(40, static_cast<char>('a' + i));  // longer than a short string's buffer
    r.section = "act";
    r.p_subscribe = 0.1 * static_cast<double>(i), r.progress = static_cast<std::int32_t>(i);
  }
  CallListColumns cols;
  for (const CallListRow& r : rows) cols.add(r);
  REQUIRE(cols.size() == 3);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const CallListRow back = cols.row(i);
    CHECK(back.id == rows[i].id);
    CHECK(back.p_subscribe == rows[i].p_subscribe);
    CHECK(back.progress == rows[i].progress);
    for (const auto& [name, t] : CallListColumns::kTexts) {
      INFO(name);
      CHECK(back.*t == rows[i].*t);
      CHECK(cols.text(t, i) == rows[i].*t);
    }
  }
  cols.numbers(2).low95 = 0.05;  // the evaluation fills the intervals in place
  CHECK(cols.row(2).low95 == 0.05);
  CHECK(cols.numbers()[2].low95 == 0.05);
}

TEST_CASE("a lead's scores, its window's weeks shared by band, equal the window solved alone, to the bit",
          "[call_list]") {
  const test::EvaluableTable evaluable(2000, 4, "cohort,country");
  const CustomerTable& t = evaluable.table;
  const EvaluationSettings& s = evaluable.settings;
  const std::vector<std::size_t> fitting = select_fitting(t, "all");
  const SegmentEncoder encoder(t, fitting, s.features);
  FunnelConfig config = s.funnel;
  config.horizon_weeks = kCallListHorizon;
  const FunnelModel m = FunnelModel::from_estimates(encoder, estimate_hazards(t, fitting, encoder, s.hazards), config, true);
  REQUIRE(m.segments() > 2);
  LeadScorer scorer(m, s.q.gamma);
  std::size_t differing_weeks = 0;
  for (std::int32_t sg = 0; sg < static_cast<std::int32_t>(m.segments()); ++sg)
    for (int week : {kLastBandWeek, 0, 30, 13, 51, 4, 27, 26, 12, 3, 40}) {  // out of order: the shared weeks are reused
      const std::array<double, kProgressStates> alone = status_quo_subscription(m, sg, week, kCallListWeeks);
      const WindowSolution solved = solve_window(m, s.q.gamma, sg, week, kCallListWeeks);
      for (std::size_t p = 0; p < kProgressStates; ++p) {
        INFO("segment " << sg << " week " << week << " progress " << p);
        CHECK(scorer.p_subscribe(sg, static_cast<Progress>(p), week) == alone[p]);
        const LeadScore score = scorer.score(sg, static_cast<Progress>(p), week);
        CHECK(score.p_subscribe == solved.subscribe_status_quo[p]);
        CHECK(score.value == solved.value[p]);
        CHECK(score.next_action == solved.policy[p]);
        CHECK(score.p_subscribe_acting == solved.subscribe_after[p][solved.policy[p]]);
        // The break-even success: of the next action, or for a wait, the least over the actions.
        auto break_even = [&](std::size_t a) {
          const double g = solved.gain_per_success[p][a];
          return g > 0 ? m.cost(static_cast<Action>(a)) / g : std::numeric_limits<double>::infinity();
        };
        double expected = std::numeric_limits<double>::infinity();
        if (solved.policy[p] != static_cast<std::uint8_t>(Action::wait)) {
          expected = break_even(solved.policy[p]);
        } else {
          for (std::size_t a = 0; a < kActions; ++a)
            if (a != static_cast<std::size_t>(Action::wait)) expected = std::min(expected, break_even(a));
        }
        CHECK(score.break_even_success == expected);
      }
      differing_weeks += alone != status_quo_subscription(m, sg, 0, kCallListWeeks);
    }
  CHECK(differing_weeks > 0);  // the windows differ by week, so a wrong week would show
}

TEST_CASE("rank stability from refit scores streamed in blocks equals sorting each refit's column", "[call_list]") {
  // More leads than one block of the stream, in every section, with ties in the scores.
  const std::size_t n = 40000, refits = 3;
  const std::array<const char*, 4> sections = {"act", "wait", "stale", "negative stage"};
  std::vector<CallListRow> rows(n);
  std::vector<double> p(n * refits), gain(n * refits);
  for (std::size_t i = 0; i < n; ++i) {
    rows[i].section = sections[splitmix64(i) % sections.size()];
    rows[i].p_subscribe = static_cast<double>(splitmix64(i + n) % 1000) / 1000;
    rows[i].gain = static_cast<double>(splitmix64(i + 2 * n) % 100) / 1000;
    for (std::size_t r = 0; r < refits; ++r) {
      p[i * refits + r] = static_cast<double>(splitmix64(i * 7 + r) % 500) / 500;  // ties: 500 values
      gain[i * refits + r] = static_cast<double>(splitmix64(i * 13 + r) % 50) / 1000;
    }
  }
  const std::int64_t k = 700;
  const ArrangedCallList a = arrange_call_list(columns_of(rows), RefitScores::in_memory(refits, p, gain), RankBy::gain, 0, k);
  // The referee: each refit's column of each section sorted whole.
  std::vector<double> expected(n, 0.0);
  for (const char* sec : sections) {
    std::vector<std::size_t> members;
    for (std::size_t i = 0; i < n; ++i)
      if (rows[i].section == sec) members.push_back(i);
    REQUIRE(members.size() > static_cast<std::size_t>(k));
    const bool act = std::string(sec) == "act";
    for (std::size_t r = 0; r < refits; ++r) {
      std::sort(members.begin(), members.end(), [&](std::size_t x, std::size_t y) {
        const double gx = gain[x * refits + r], gy = gain[y * refits + r], px = p[x * refits + r], py = p[y * refits + r];
        if (act && gx != gy) return gx > gy;
        if (px != py) return px > py;
        return x < y;
      });
      for (std::int64_t j = 0; j < k; ++j) expected[members[static_cast<std::size_t>(j)]] += 1;
    }
  }
  std::size_t in_some_top = 0;
  for (std::size_t pos = 0; pos < a.order.size(); ++pos) {
    INFO("lead " << a.order[pos]);
    CHECK(a.top_share[pos] == expected[a.order[pos]] / static_cast<double>(refits));
    in_some_top += a.top_share[pos] > 0;
  }
  CHECK(in_some_top >= static_cast<std::size_t>(k) * sections.size());
}

TEST_CASE("the call list held as text codes gives back its rows and arranges as the rows do", "[call_list]") {
  const std::size_t n = 3000, refits = 2;
  const std::array<const char*, 4> sections = {"act", "wait", "stale", "negative stage"};
  std::vector<CallListRow> rows(n);
  std::vector<double> p(n * refits), gain(n * refits);
  CallListColumns from_rows, from_views;
  for (std::size_t i = 0; i < n; ++i) {
    CallListRow& r = rows[i];
    r.id = static_cast<std::int64_t>(i) * 3 + 1;
    r.section = sections[splitmix64(i) % sections.size()];
    r.country = i % 5 == 0 ? "" : "country " + std::to_string(splitmix64(i + 1) % 40);  // runs and repeats
    r.reason = "reason " + std::to_string(i / 7) + (i % 3 ? " with a long tail that is not a small string" : "");
    r.segment = "segment " + std::to_string(splitmix64(i + 2) % 90);
    r.p_subscribe = static_cast<double>(splitmix64(i + n) % 1000) / 1000;
    r.gain = static_cast<double>(splitmix64(i + 2 * n) % 100) / 1000;
    r.extra_subscriptions = r.gain / 3, r.weeks_since_t0 = static_cast<std::int32_t>(i % 60);
    for (std::size_t k = 0; k < refits; ++k)
      p[i * refits + k] = static_cast<double>(splitmix64(i * 7 + k) % 500) / 500, gain[i * refits + k] = r.gain * static_cast<double>(k);
    from_rows.add(r);
    std::array<std::string_view, CallListColumns::kTexts.size()> texts;
    for (std::size_t k = 0; k < texts.size(); ++k) texts[k] = r.*CallListColumns::kTexts[k].member;
    from_views.add(r, texts);
  }
  REQUIRE(from_views.size() == n);
  for (std::size_t i = 0; i < n; ++i) {
    INFO("row " << i);
    const CallListRow a = from_views.row(i), b = from_rows.row(i);
    for (const auto& text : CallListColumns::kTexts) CHECK(a.*text.member == rows[i].*text.member);
    CHECK(a.id == rows[i].id);
    CHECK(a.p_subscribe == rows[i].p_subscribe);
    CHECK(a.weeks_since_t0 == rows[i].weeks_since_t0);
    CHECK(b.reason == rows[i].reason);
  }
  for (RankBy by : {RankBy::gain, RankBy::probability}) {
    const ArrangedCallList x = arrange_call_list(from_rows, RefitScores::in_memory(refits, p, gain), by, 300, 100);
    const ArrangedCallList y = arrange_call_list(from_views, RefitScores::in_memory(refits, p, gain), by, 300, 100);
    CHECK(x.order == y.order);
    CHECK(x.section == y.section);
    CHECK(x.rank == y.rank);
    CHECK(x.top_share == y.top_share);
    CHECK(x.leads == y.leads);
    CHECK(x.extra == y.extra);
  }
  CallListColumns bad;
  CallListRow r;
  r.section = "call";
  bad.add(r);
  CHECK_THROWS_AS(arrange_call_list(bad, RefitScores{}, RankBy::gain, 0, 10), InputError);
}
