#pragma once
// Descriptive tables of the customers: who subscribes (segments, status), how far they get
// through the pipeline (funnel, time to the next step) and what each milestone says about
// subscribing. Only dated customers (cohort outbound or inbound) are described; undated ones
// are set aside (CONTRACT.md). Every table has rows for the cohorts "all" (every dated
// customer), "outbound" and "inbound". Layouts: docs/HDF5_SCHEMA.md,
// /evaluation/descriptive/*.
#include <cstdint>
#include <string>
#include <vector>

#include "reinforcer/data/civil_date.hpp"
#include "reinforcer/data/customer_table.hpp"

namespace reinforcer {

// Segment recommendation: the minimum subscribers, and the notes of segments not recommended.
inline constexpr std::int64_t kMinSegmentSubscribers = 2;
inline constexpr const char* kSegmentUnknown = "unknown country/education (data quality)";
inline constexpr const char* kSegmentTooSmall = "too small";
inline constexpr const char* kSegmentFewSubscribers = "fewer than 2 subscribers";

struct DescriptiveOptions {
  // A segment is recommended (ranked) only with at least min_segment_size customers and at
  // least kMinSegmentSubscribers subscribers, and never when its country or education is
  // unknown (missing in the data): those are listed apart as a data-quality note.
  std::int64_t min_segment_size = 30;
  // Censoring date for the time to the next step; kNoDay: the latest milestone or First
  // Contact date of any dated customer.
  Day export_date = kNoDay;
};

// Subscription by segment. grouping is "country x education", "country" or "education";
// segment is "USA x B27", "USA" or "B27" ("unknown" for a missing country or education);
// country / education hold the segment's parts ("" for the part a grouping does not use).
struct SegmentRow {
  std::string grouping, cohort, segment, country, education;
  std::int64_t customers = 0;
  std::int64_t first_calls = 0;  // customers with a valid First Call date
  std::int64_t subscribers = 0;
  double rate = 0.0, low95 = 0.0, high95 = 1.0;  // subscribers / customers, Wilson 95%
  double lift = 0.0;                  // rate / the cohort's base rate (NaN if that is 0)
  double share_of_subscribers = 0.0;  // of the cohort's subscribers (NaN if it has none)
  std::int32_t rank = 0;  // 1.. by low95 among the recommended segments; 0 not recommended
  // Why a segment is not recommended ("" when it is), the first that applies:
  // kSegmentUnknown, kSegmentTooSmall, kSegmentFewSubscribers.
  std::string note;
};


// Subscription by Status ("1st message", ..., "missing"): an outcome of outreach, never a
// feature.
struct StatusRow {
  std::string status, cohort;
  std::int64_t customers = 0, subscribers = 0;
  double rate = 0.0, low95 = 0.0, high95 = 1.0;
};

// One pipeline transition: of the customers with a valid `from` date, those with a valid
// `to` date on or after it. median_weeks: Kaplan-Meier median of the time from `from` to
// `to`, censored at the export date (NaN when the curve never reaches 0.5).
struct FunnelRow {
  std::string cohort, from, to;
  std::int64_t reached_from = 0, reached_to = 0;
  double conversion = 0.0, low95 = 0.0, high95 = 1.0, median_weeks = 0.0;
};

// The Kaplan-Meier curve behind a funnel row, one row per event time (transition is
// "from->to", e.g. "first_call->demo"); survival = share not yet at `to` after `week` weeks.
struct TimeToNextRow {
  std::string cohort, transition;
  double week = 0.0;
  std::int64_t at_risk = 0, events = 0;
  double survival = 1.0, low95 = 1.0, high95 = 1.0;
};

// P(subscribed | the milestone was reached before subscribing), for the five steps before
// the subscription.
struct MilestoneRow {
  std::string milestone, cohort;
  std::int64_t reached = 0, subscribed = 0;
  double rate = 0.0, low95 = 0.0, high95 = 1.0;
};

struct DescriptiveTables {
  std::vector<SegmentRow> segments;
  std::vector<StatusRow> status;
  std::vector<FunnelRow> funnel;
  std::vector<TimeToNextRow> time_to_next;
  std::vector<MilestoneRow> milestones;
};

DescriptiveTables describe_customers(const CustomerTable& table, const DescriptiveOptions& options);

}  // namespace reinforcer
