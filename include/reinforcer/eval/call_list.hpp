#pragma once
// The call list: every open lead scored at its state on the export date (the milestones
// reached by then and its weeks since t0), with its chance of subscribing in the next
// kCallListWeeks under the status quo and the best next action at the assumed success
// probabilities; arranged in sections (acting pays, wait, negative stage, stale) and ranked.
#include <array>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "reinforcer/core/column_store.hpp"
#include "reinforcer/data/customer_table.hpp"
#include "reinforcer/env/funnel_model.hpp"
#include "reinforcer/rl/value_iteration.hpp"

namespace reinforcer {

inline constexpr int kCallListWeeks = 26;
// Weeks since t0 from the last band's first week on share its hazards, so a lead is scored at
// min(weeks since t0, that week) -- a state inside the model's bands -- and the model for the
// list reaches kCallListWeeks past it.
inline constexpr int kLastBandWeek = kBandFirstWeek[kBands - 1];
inline constexpr int kCallListHorizon = kLastBandWeek + kCallListWeeks;
// A lead without any activity (t0, Last Contact, a milestone) for this many weeks is stale.
inline constexpr int kDefaultStaleWeeks = 52;

// Stages that say the lead turned the company down: not interested, declined/canceled call,
// did not join the call.
bool negative_stage(std::uint8_t stage);
// A lead the list can hold: dated, not subscribed, Stage not "do not contact".
bool open_lead(const Customer& c);

struct LeadState {
  Progress progress = 0;                  // milestones dated on or before the export date
  std::int32_t weeks_since_t0 = 0;
  std::int32_t scored_week = 0;           // min(weeks_since_t0, kLastBandWeek)
  std::int32_t weeks_since_activity = 0;  // since the latest of t0, Last Contact, the milestones
};
LeadState lead_state_at(const Customer& c, Day export_date);

enum class LeadSection : std::uint8_t { act, beyond_capacity, wait, negative_stage, stale };
inline constexpr std::array<std::string_view, 5> kLeadSectionNames = {"act", "beyond capacity", "wait",
                                                                      "negative stage", "stale"};

// One lead's numbers from one fitted model, within kCallListWeeks.
struct LeadScore {
  double p_subscribe = 0;          // under the status quo
  std::uint8_t next_action = static_cast<std::uint8_t>(Action::wait);  // the DP's argmax
  double p_subscribe_acting = 0;   // the next action now, then the DP's policy
  double extra_subscriptions = 0;  // that minus waiting now (then the policy); 0 for wait
  double gain = 0;                 // extra subscriptions per unit cost; 0 for wait
  double assumed_success = 0;      // success.<next action>
  // The success probability above which acting beats waiting this week: of the next action;
  // for a "wait" lead, of the action that needs the least (break_even_action). inf: never.
  double break_even_success = std::numeric_limits<double>::infinity();
  std::uint8_t break_even_action = static_cast<std::uint8_t>(Action::wait);
  double value = 0;                // the DP's value of the state
};

// Scores states of one model over a window of `weeks` from the state's week (the model's
// horizon must reach the window's end), solving each (segment, week) once.
class LeadScorer {
 public:
  LeadScorer(const FunnelModel& model, double gamma, int weeks = kCallListWeeks);
  LeadScore score(std::int32_t segment, Progress p, int week);
  double p_subscribe(std::int32_t segment, Progress p, int week);  // status quo only (cheap)

 private:
  const FunnelModel& model_;
  double gamma_;
  int weeks_;
  std::map<std::pair<std::int32_t, int>, WindowSolution> windows_;
  std::map<std::pair<std::int32_t, int>, std::array<double, kProgressStates>> status_quo_;
  // Per (segment, band): a window's weeks in that band from its end, after 0, 1, 2, ... of them.
  std::map<std::pair<std::int32_t, std::size_t>, std::vector<std::array<double, kProgressStates>>> status_quo_tails_;
  std::map<std::pair<std::int32_t, std::size_t>, std::vector<WindowWeek>> window_tails_;
  template <class Week, class Step>
  Week shared_window(std::int32_t segment, int week, bool keep_first_week,
                     std::map<std::pair<std::int32_t, std::size_t>, std::vector<Week>>& tails, Step step) const;
  std::array<double, kProgressStates> status_quo_window(std::int32_t segment, int week);
  WindowSolution window(std::int32_t segment, int week);
};

// A row of the call list: its numbers, then its text.
struct CallListNumbers {
  std::int64_t id = 0;
  std::int32_t progress = 0, weeks_since_t0 = 0, scored_week = 0, band = 0, weeks_since_activity = 0;
  double p_subscribe = 0, low95 = 0, high95 = 0;  // interval over the refits, widened to hold the estimate
  double p_subscribe_acting = 0, extra_subscriptions = 0, gain = 0;
  double assumed_success = 0, break_even_success = 0, expected_value = 0;
};
struct CallListRow : CallListNumbers {
  std::string cohort, country, education, segment, stage, milestones, section, next_action, break_even_action, reason;
};

// The call list as the evaluation holds it until written: each row's numbers, and for each
// text a code into its column's distinct texts (a million leads hold a few thousand), about
// 130 bytes a row where a CallListRow takes 500 with its ten strings.
class CallListColumns {
 public:
  using Text = std::string CallListRow::*;
  struct TextColumn {
    const char* name;
    Text member;
  };
  // The text columns, named and in the order the evaluated file's call list stores them (its
  // writer and reader take this list).
  static constexpr std::array<TextColumn, 10> kTexts = {{{"section", &CallListRow::section},
                                                         {"cohort", &CallListRow::cohort},
                                                         {"country", &CallListRow::country},
                                                         {"education", &CallListRow::education},
                                                         {"stage", &CallListRow::stage},
                                                         {"milestones", &CallListRow::milestones},
                                                         {"next_action", &CallListRow::next_action},
                                                         {"break_even_action", &CallListRow::break_even_action},
                                                         {"segment", &CallListRow::segment},
                                                         {"reason", &CallListRow::reason}}};

  void add(const CallListRow& row);
  // The same from a row's numbers and its texts in kTexts order (a reader's row, not copied
  // into strings first).
  void add(const CallListNumbers& numbers, const std::array<std::string_view, kTexts.size()>& texts);
  void reserve(std::size_t rows);  // the number to come: no vector doubles and holds its old half
  std::size_t size() const { return numbers_.size(); }
  const std::vector<CallListNumbers>& numbers() const { return numbers_; }
  CallListNumbers& numbers(std::size_t row) { return numbers_[row]; }
  std::string_view text(Text column, std::size_t row) const;
  CallListRow row(std::size_t row) const;

 private:
  static std::size_t column_of(Text column);
  std::vector<CallListNumbers> numbers_;
  std::array<std::vector<std::uint32_t>, kTexts.size()> codes_;
  std::array<std::vector<std::string>, kTexts.size()> texts_;
  std::array<std::unordered_map<std::string, std::uint32_t>, kTexts.size()> code_of_;
};

// The section of a scored lead.
LeadSection lead_section(const Customer& c, const LeadState& state, const LeadScore& score, int stale_weeks);
// Why the lead is where it is, in one line.
std::string lead_reason(LeadSection section, const Customer& c, const LeadState& state, const LeadScore& score);

// Refit scores, leads x refits, in the order of the call list's rows, read a block of leads at a
// time (the whole matrices are 16 bytes per lead and refit: 0.76 GB at 1M leads and 50 refits).
struct RefitScores {
  using ReadRows = std::function<void(std::size_t first, std::size_t count, std::vector<double>& p_subscribe,
                                      std::vector<double>& gain)>;
  std::size_t refits = 0, leads = 0;
  // Leads [first, first + count): their scores, count x refits row-major, into the two vectors.
  ReadRows read_rows;
  // Scores already in memory (leads x refits row-major each).
  static RefitScores in_memory(std::size_t refits, std::vector<double> p_subscribe, std::vector<double> gain);
};

// The same scores as evaluate gathers them, a refit's column at a time: columns 0 .. refits-1
// hold p_subscribe, refits .. 2 refits-1 the gain; rows in the call list's order. In memory or
// in a scratch file (ColumnStore), so that they need never be resident whole.
struct RefitScoreColumns {
  std::size_t refits = 0;
  ColumnStore store;
};

enum class RankBy { gain, probability };
RankBy rank_by_named(const std::string& name);  // UsageError naming --rank-by

// The list in working order: the sections in LeadSection order; the "act" section ranked by
// `rank_by` (gain: extra subscriptions per unit cost, ties by probability) and cut at
// `capacity` (0: no cut; the rest become "beyond capacity"); the other sections by probability.
// top_share: P(in the top K of its section) over the refits, K = capacity, else `top_k`.
struct ArrangedCallList {
  std::vector<std::size_t> order;          // into the rows
  std::vector<std::string> section;        // per position in order
  std::vector<std::int64_t> rank;          // 1.. within its section
  std::vector<double> top_share;           // NaN without refits
  std::int64_t top_k = 0;
  std::array<std::int64_t, kLeadSectionNames.size()> leads{};  // per section
  std::array<double, kLeadSectionNames.size()> extra{};        // expected extra subscriptions per section
};
ArrangedCallList arrange_call_list(const CallListColumns& rows, const RefitScores& refits, RankBy rank_by,
                                   std::int64_t capacity, std::int64_t top_k);

// A lead's number: the point estimate and the refits' 95% percentile interval, widened to hold
// the estimate when every refit falls on one side of it (a biased statistic); `widened` says so.
struct PointInterval {
  double low = 0, high = 0;
  bool widened = false;
};
PointInterval interval_holding(double estimate, std::vector<double> refits);

}  // namespace reinforcer
