// The call list's plan: every open lead scored by the fit on all fitting customers, one node's
// model at a time; the refits score the same leads (evaluation_internal.hpp).
#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>

#include "evaluation_internal.hpp"
#include "reinforcer/core/bytes.hpp"
#include "reinforcer/core/memory.hpp"
#include "reinforcer/data/quality_report_text.hpp"

namespace reinforcer {
namespace evaluation {

CallListPlan plan_call_list(const CustomerTable& table, const std::vector<std::size_t>& fitting,
                            const SegmentEncoder& encoder, const EvaluationSettings& s, const Communicator& comm,
                            bool keep_leads) {
  // Held only while the leads are scored (released before the scores travel).
  std::optional<HazardEstimates> est(estimate_hazards(table, fitting, encoder, s.hazards));
  CallListPlan plan;
  std::vector<PlannedLead>& leads = plan.leads;
  std::size_t open = 0;  // counted first: a growing vector would hold its old half beside the new
  for (const Customer& c : table.customers) open += open_lead(c);
  leads.reserve(open);
  for (const Customer& c : table.customers)
    if (open_lead(c)) leads.push_back(PlannedLead{&c, encoder.node_of(c, table), lead_state_at(c, s.hazards.export_date), {}});
  plan.row_of_key.resize(leads.size());
  for (std::size_t k = 0; k < leads.size(); ++k) plan.row_of_key[k] = static_cast<std::uint32_t>(k);
  std::stable_sort(plan.row_of_key.begin(), plan.row_of_key.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return leads[a].node < leads[b].node; });
  // The call list's model (horizon kCallListHorizon) one node at a time: a lead is scored in
  // its node's segment alone.
  FunnelConfig listed = s.funnel;
  listed.horizon_weeks = kCallListHorizon;
  // Each rank scores an equal run of the keys (a node whose leads a run boundary splits is
  // built on both ranks, to the same bits); then every rank gets every score.
  const std::size_t n = leads.size(), ranks = static_cast<std::size_t>(comm.size());
  auto run_start = [&](std::size_t r) { return n * r / ranks; };
  const std::size_t begin = run_start(static_cast<std::size_t>(comm.rank())), end = run_start(static_cast<std::size_t>(comm.rank()) + 1);
  FunnelModel one(0, {}, FunnelConfig{});
  for (std::size_t k = begin; k < end;) {
    const std::int32_t node = leads[plan.row_of_key[k]].node;
    one.assign_segment(*est, static_cast<std::size_t>(node), listed);
    LeadScorer scorer(one, s.q.gamma);
    for (; k < end && leads[plan.row_of_key[k]].node == node; ++k) {
      PlannedLead& l = leads[plan.row_of_key[k]];
      l.score = scorer.score(0, l.state.progress, l.state.scored_week);
    }
  }
  est.reset();
  release_freed_memory();
  // Every rank gets every score: each rank's run is broadcast from it in turn and placed as it
  // comes, so no rank holds all the scores' bytes at once (LeadScore is plain numbers: its
  // bytes travel as they are).
  for (std::size_t from = 0; ranks > 1 && from < ranks; ++from) {
    const bool mine = from == static_cast<std::size_t>(comm.rank());
    const std::size_t first = run_start(from), last = run_start(from + 1);
    std::string bytes;
    if (mine) {
      bytes.reserve((last - first) * sizeof(LeadScore));
      ByteWriter w(bytes);
      for (std::size_t k = first; k < last; ++k) w.put(leads[plan.row_of_key[k]].score);
    }
    comm.broadcast(bytes, static_cast<int>(from));
    if (bytes.size() != (last - first) * sizeof(LeadScore))
      throw std::logic_error("plan_call_list: a rank scored a different number of leads");
    if (mine) continue;
    ByteReader in(bytes, "the call list's lead scores");
    for (std::size_t k = first; k < last; ++k) leads[plan.row_of_key[k]].score = in.get<LeadScore>();
  }
  std::vector<std::uint8_t> act(leads.size());
  for (std::size_t i = 0; i < leads.size(); ++i)
    act[i] = lead_section(*leads[i].customer, leads[i].state, leads[i].score, s.stale_weeks) == LeadSection::act;
  plan.keys.reserve(leads.size());
  for (std::uint32_t i : plan.row_of_key) {
    const PlannedLead& l = leads[i];
    plan.keys.push_back(LeadKey{l.node, l.state.progress, l.state.scored_week, act[i] != 0});
  }
  if (!keep_leads) std::vector<PlannedLead>().swap(plan.leads);
  return plan;
}

CallListRow CallListRowMaker::operator()(const PlannedLead& lead) {
  const CustomerTable& table = table_;
  const EvaluationSettings& s = s_;
  const Customer& c = *lead.customer;
  const LeadState& st = lead.state;
  const LeadScore& sc = lead.score;
  const LeadSection section = lead_section(c, st, sc, s.stale_weeks);
  CallListRow r;
  r.id = c.id;
  r.cohort = std::string(kCohortNames[static_cast<std::size_t>(c.cohort)]);
  r.country = c.country >= 0 ? table.countries.at(static_cast<std::size_t>(c.country)) : "unknown";
  r.education = c.education > 0 ? education_name(c.education) : "unknown";
  auto segment = segment_of_node_.find(lead.node);
  if (segment == segment_of_node_.end()) segment = segment_of_node_.emplace(lead.node, encoder_.describe(lead.node)).first;
  r.segment = segment->second;
  r.stage = c.stage > 0 ? std::string(kStageValues[c.stage]) : "unknown";
  r.milestones = milestones_text(st.progress);
  r.section = std::string(kLeadSectionNames[static_cast<std::size_t>(section)]);
  r.next_action = std::string(kActionNames[sc.next_action]);
  r.break_even_action = std::string(kActionNames[sc.break_even_action]);
  r.reason = lead_reason(section, c, st, sc);
  r.progress = st.progress;
  r.weeks_since_t0 = st.weeks_since_t0;
  r.scored_week = st.scored_week;
  r.band = static_cast<std::int32_t>(band_of_week(st.scored_week));
  r.weeks_since_activity = st.weeks_since_activity;
  r.p_subscribe = r.low95 = r.high95 = sc.p_subscribe;
  r.p_subscribe_acting = sc.p_subscribe_acting;
  r.extra_subscriptions = sc.extra_subscriptions;
  r.gain = sc.gain;
  r.assumed_success = sc.assumed_success;
  r.break_even_success = sc.break_even_success;
  r.expected_value = sc.value;
  return r;
}

}  // namespace evaluation

std::vector<CallListRow> call_list_at_export(const CustomerTable& table, const EvaluationSettings& s) {
  const std::vector<std::size_t> fitting = select_fitting(table, s.fit_on);
  const SegmentEncoder encoder(table, fitting, s.features);
  const evaluation::CallListPlan plan = evaluation::plan_call_list(table, fitting, encoder, s, local_communicator());
  std::vector<CallListRow> rows;
  evaluation::CallListRowMaker row_of(table, encoder, s);
  for (const evaluation::PlannedLead& lead : plan.leads) rows.push_back(row_of(lead));
  return rows;
}

}  // namespace reinforcer
