// Funnel, time to the next step (Kaplan-Meier) and milestone tables.
#include <algorithm>
#include <utility>

#include "descriptive_internal.hpp"
#include "reinforcer/stats/kaplan_meier.hpp"

namespace reinforcer::descriptive_detail {

namespace {

// The pipeline's consecutive steps, then the whole way from first call to subscription.
constexpr std::array<std::pair<Milestone, Milestone>, 6> kTransitions = {{
    {Milestone::first_call, Milestone::demo},
    {Milestone::demo, Milestone::survey},
    {Milestone::survey, Milestone::platform_signup},
    {Milestone::platform_signup, Milestone::account_manager},
    {Milestone::account_manager, Milestone::subscribed},
    {Milestone::first_call, Milestone::subscribed},
}};

std::size_t at(Milestone m) { return static_cast<std::size_t>(m); }
double weeks(Day from, Day to) {
  return static_cast<double>(static_cast<std::int64_t>(to) - static_cast<std::int64_t>(from)) / 7.0;
}

}  // namespace

void add_funnel(const CustomerTable& table, Day export_date, DescriptiveTables& out) {
  for (std::size_t k = 0; k < kTableCohorts.size(); ++k) {
    for (const auto& [from, to] : kTransitions) {
      FunnelRow row;
      row.cohort = std::string(kTableCohorts[k]);
      row.from = std::string(kMilestoneKeys[at(from)]);
      row.to = std::string(kMilestoneKeys[at(to)]);
      std::vector<double> time;
      std::vector<std::uint8_t> event;
      for (const Customer& c : table.customers) {
        if (!in_cohort(c, k)) continue;
        const Day a = c.milestone[at(from)];
        if (a == kNoDay) continue;
        ++row.reached_from;
        const Day b = c.milestone[at(to)];
        if (b != kNoDay && b >= a) {
          ++row.reached_to;
          time.push_back(weeks(a, b));
          event.push_back(1);
        } else {
          // Not (yet) at the next step: censored at the export date (never before `from`).
          time.push_back(std::max(0.0, weeks(a, export_date)));
          event.push_back(0);
        }
      }
      const Proportion p = proportion(row.reached_to, row.reached_from);
      row.conversion = p.rate;
      row.low95 = p.low95;
      row.high95 = p.high95;
      const std::vector<KmPoint> curve = kaplan_meier(time, event);
      row.median_weeks = km_median(curve);
      const std::string transition = row.from + "->" + row.to;
      for (const KmPoint& q : curve)
        out.time_to_next.push_back(
            TimeToNextRow{row.cohort, transition, q.time, q.at_risk, q.events, q.survival, q.low95, q.high95});
      out.funnel.push_back(std::move(row));
    }
  }
}

void add_milestones(const CustomerTable& table, DescriptiveTables& out) {
  for (std::size_t m = 0; m < at(Milestone::subscribed); ++m) {
    for (std::size_t k = 0; k < kTableCohorts.size(); ++k) {
      MilestoneRow row;
      row.milestone = std::string(kMilestoneKeys[m]);
      row.cohort = std::string(kTableCohorts[k]);
      for (const Customer& c : table.customers) {
        if (!in_cohort(c, k)) continue;
        const Day d = c.milestone[m];
        const Day subscribed_on = c.milestone[at(Milestone::subscribed)];
        // Reached before subscribing; without a subscription date (not subscribed, or
        // subscribed by Stage alone) any valid date counts.
        if (d == kNoDay || (subscribed_on != kNoDay && d >= subscribed_on)) continue;
        ++row.reached;
        row.subscribed += c.subscribed;
      }
      const Proportion p = proportion(row.subscribed, row.reached);
      row.rate = p.rate;
      row.low95 = p.low95;
      row.high95 = p.high95;
      out.milestones.push_back(std::move(row));
    }
  }
}

}  // namespace reinforcer::descriptive_detail
