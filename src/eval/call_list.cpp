#include "reinforcer/eval/call_list.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <numeric>
#include <stdexcept>

#include "reinforcer/core/errors.hpp"
#include "reinforcer/stats/bootstrap.hpp"

namespace reinforcer {
namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr auto kWait = static_cast<std::size_t>(Action::wait);

std::string percent(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, x < 0.1 ? "%.1f%%" : "%.0f%%", 100 * x);
  return buf;
}
}  // namespace

bool negative_stage(std::uint8_t stage) { return stage == 2 || stage == 3 || stage == 4; }

bool open_lead(const Customer& c) {
  return c.cohort != Cohort::undated && c.t0 != kNoDay && !c.subscribed && c.stage != 5 /* do not contact */;
}

LeadState lead_state_at(const Customer& c, Day export_date) {
  LeadState s;
  Day last = c.t0;
  for (std::size_t m = 0; m < kStepMilestones; ++m) {
    const Day d = c.milestone[m];
    if (d == kNoDay || d > export_date) continue;
    s.progress = static_cast<Progress>(s.progress | (1u << m));
    last = std::max(last, d);
  }
  if (c.last_contact != kNoDay && c.last_contact <= export_date) last = std::max(last, c.last_contact);
  const auto weeks = [&](Day from) { return static_cast<std::int32_t>(std::max<std::int64_t>(0, (static_cast<std::int64_t>(export_date) - from) / 7)); };
  s.weeks_since_t0 = weeks(c.t0);
  s.scored_week = std::min(s.weeks_since_t0, kLastBandWeek);
  s.weeks_since_activity = weeks(last);
  return s;
}

LeadScorer::LeadScorer(const FunnelModel& model, double gamma, int weeks) : model_(model), gamma_(gamma), weeks_(weeks) {}

LeadScore LeadScorer::score(std::int32_t segment, Progress p, int week) {
  auto it = windows_.find({segment, week});
  if (it == windows_.end()) it = windows_.emplace(std::make_pair(segment, week), window(segment, week)).first;
  const WindowSolution& w = it->second;
  LeadScore s;
  s.p_subscribe = w.subscribe_status_quo[p];
  s.next_action = w.policy[p];
  s.value = w.value[p];
  const std::size_t a = s.next_action;
  s.p_subscribe_acting = w.subscribe_after[p][a];
  auto break_even = [&](std::size_t action) {
    const double g = w.gain_per_success[p][action];
    return g > 0 ? model_.cost(static_cast<Action>(action)) / g : std::numeric_limits<double>::infinity();
  };
  if (a != kWait) {
    s.extra_subscriptions = w.subscribe_after[p][a] - w.subscribe_after[p][kWait];
    const double cost = model_.cost(static_cast<Action>(a));
    s.gain = cost > 0 ? s.extra_subscriptions / cost : s.extra_subscriptions;
    s.assumed_success = model_.config().success.probability[a];
    s.break_even_success = break_even(a);
    s.break_even_action = s.next_action;
  } else {
    for (std::size_t b = 0; b < kActions; ++b)
      if (b != kWait && break_even(b) < s.break_even_success)
        s.break_even_success = break_even(b), s.break_even_action = static_cast<std::uint8_t>(b);
  }
  return s;
}

double LeadScorer::p_subscribe(std::int32_t segment, Progress p, int week) {
  auto it = status_quo_.find({segment, week});
  if (it == status_quo_.end())
    it = status_quo_.emplace(std::make_pair(segment, week), status_quo_window(segment, week)).first;
  return it->second[p];
}

// A window's weeks run backward from its last, and those in the last week's band (one band, one
// set of rows) start every window that ends in that band alike: they are computed once per
// (segment, band), and a window adds only its weeks in earlier bands (about half the weeks of
// the call list's windows). To the bit what solving each window alone gives.
template <class Week, class Step>
Week LeadScorer::shared_window(std::int32_t segment, int week, bool keep_first_week,
                               std::map<std::pair<std::int32_t, std::size_t>, std::vector<Week>>& tails, Step step) const {
  const int last = week + weeks_ - 1;
  if (week < 0 || weeks_ < 1 || last >= model_.horizon() || segment < 0 || static_cast<std::size_t>(segment) >= model_.segments())
    throw std::logic_error("LeadScorer: weeks [" + std::to_string(week) + ", " + std::to_string(last + 1) + ") of segment " +
                           std::to_string(segment) + " outside the model");
  const std::size_t band = band_of_week(last);
  // The window's first week is left out of the shared weeks when it is the caller's to do.
  const int band_first = std::max(week + (keep_first_week ? 1 : 0), kBandFirstWeek[band]);
  const auto shared = static_cast<std::size_t>(std::max(0, last - band_first + 1));
  std::vector<Week>& tail = tails[{segment, band}];
  if (tail.empty()) tail.emplace_back();  // no week yet: zero
  while (tail.size() <= shared) tail.push_back(step(kBandFirstWeek[band], tail.size() == 1, tail.back()));
  Week v = tail[shared];
  for (int w = band_first - 1; w >= week + (keep_first_week ? 1 : 0); --w) v = step(w, w == last, v);
  return v;
}

std::array<double, kProgressStates> LeadScorer::status_quo_window(std::int32_t segment, int week) {
  return shared_window(segment, week, false, status_quo_tails_, [&](int w, bool, const std::array<double, kProgressStates>& next) {
    return status_quo_subscription_week(model_, segment, w, next);
  });
}

WindowSolution LeadScorer::window(std::int32_t segment, int week) {
  auto step = [&](int w, bool last, const WindowWeek& next) { return solve_window_week(model_, gamma_, segment, w, last, next); };
  const WindowWeek next = shared_window(segment, week, true, window_tails_, step);
  WindowSolution out;
  solve_window_week(model_, gamma_, segment, week, weeks_ == 1, next, &out);
  return out;
}

LeadSection lead_section(const Customer& c, const LeadState& state, const LeadScore& score, int stale_weeks) {
  if (negative_stage(c.stage)) return LeadSection::negative_stage;
  if (state.weeks_since_activity >= stale_weeks) return LeadSection::stale;
  return score.next_action != kWait ? LeadSection::act : LeadSection::wait;
}

std::string lead_reason(LeadSection section, const Customer& c, const LeadState& state, const LeadScore& score) {
  const std::string p26 = percent(score.p_subscribe) + " chance to subscribe in " + std::to_string(kCallListWeeks) + " weeks";
  switch (section) {
    case LeadSection::act:
    case LeadSection::beyond_capacity: {
      char buf[160];
      std::snprintf(buf, sizeof buf, "%s adds %.1f subscriptions per 1,000 leads (pays above %s success; assumed %s)",
                    std::string(kActionNames[score.next_action]).c_str(), 1000 * score.extra_subscriptions,
                    percent(score.break_even_success).c_str(), percent(score.assumed_success).c_str());
      return buf;
    }
    case LeadSection::wait: return "no action pays at the assumed success; " + p26;
    case LeadSection::negative_stage: return "Stage says '" + std::string(kStageValues[c.stage]) + "'; " + p26;
    case LeadSection::stale: return "no activity for " + std::to_string(state.weeks_since_activity) + " weeks; " + p26;
  }
  return "";
}

std::size_t CallListColumns::column_of(Text column) {
  for (std::size_t k = 0; k < kTexts.size(); ++k)
    if (kTexts[k].member == column) return k;
  throw std::logic_error("CallListColumns: not a text column");
}

void CallListColumns::reserve(std::size_t rows) {
  numbers_.reserve(rows);
  for (auto& codes : codes_) codes.reserve(rows);
}

void CallListColumns::add(const CallListRow& row) {
  std::array<std::string_view, kTexts.size()> texts;
  for (std::size_t k = 0; k < kTexts.size(); ++k) texts[k] = row.*kTexts[k].member;
  add(row, texts);
}

void CallListColumns::add(const CallListNumbers& numbers, const std::array<std::string_view, kTexts.size()>& texts) {
  numbers_.push_back(numbers);
  std::string key;
  for (std::size_t k = 0; k < kTexts.size(); ++k) {
    // Rows in list order repeat their neighbours' texts: the last code first, then the map.
    std::vector<std::uint32_t>& codes = codes_[k];
    if (!codes.empty() && texts_[k][codes.back()] == texts[k]) {
      codes.push_back(codes.back());
      continue;
    }
    key.assign(texts[k].data(), texts[k].size());
    const auto [at, added] = code_of_[k].try_emplace(key, static_cast<std::uint32_t>(texts_[k].size()));
    if (added) texts_[k].push_back(key);
    codes.push_back(at->second);
  }
}

std::string_view CallListColumns::text(Text column, std::size_t row) const {
  const std::size_t k = column_of(column);
  return texts_[k][codes_[k][row]];
}

CallListRow CallListColumns::row(std::size_t row) const {
  CallListRow r;
  static_cast<CallListNumbers&>(r) = numbers_[row];
  for (std::size_t k = 0; k < kTexts.size(); ++k) r.*kTexts[k].member = texts_[k][codes_[k][row]];
  return r;
}

RankBy rank_by_named(const std::string& name) {
  if (name == "gain") return RankBy::gain;
  if (name == "probability") return RankBy::probability;
  throw UsageError("--rank-by: '" + name + "' is not gain or probability");
}

PointInterval interval_holding(double estimate, std::vector<double> refits) {
  const Interval ci = percentile_interval(std::move(refits));
  PointInterval out{ci.low, ci.high, false};
  if (std::isnan(out.low) || std::isnan(out.high)) return PointInterval{estimate, estimate, false};
  if (estimate < out.low) out.low = estimate, out.widened = true;
  if (estimate > out.high) out.high = estimate, out.widened = true;
  return out;
}

RefitScores RefitScores::in_memory(std::size_t refits, std::vector<double> p_subscribe, std::vector<double> gain) {
  if (p_subscribe.size() != gain.size() || (refits > 0 && p_subscribe.size() % refits != 0))
    throw std::logic_error("RefitScores::in_memory: the matrices' sizes do not match");
  RefitScores out;
  out.refits = refits;
  out.leads = refits > 0 ? p_subscribe.size() / refits : 0;
  auto p = std::make_shared<std::vector<double>>(std::move(p_subscribe));
  auto g = std::make_shared<std::vector<double>>(std::move(gain));
  out.read_rows = [p, g, refits](std::size_t first, std::size_t count, std::vector<double>& ps, std::vector<double>& gs) {
    ps.assign(p->begin() + static_cast<std::ptrdiff_t>(first * refits), p->begin() + static_cast<std::ptrdiff_t>((first + count) * refits));
    gs.assign(g->begin() + static_cast<std::ptrdiff_t>(first * refits), g->begin() + static_cast<std::ptrdiff_t>((first + count) * refits));
  };
  return out;
}

ArrangedCallList arrange_call_list(const CallListColumns& rows, const RefitScores& refits, RankBy rank_by,
                                   std::int64_t capacity, std::int64_t top_k) {
  const std::size_t n = rows.size();
  const std::vector<CallListNumbers>& numbers = rows.numbers();
  if (refits.refits > 0 && (refits.leads != n || !refits.read_rows))
    throw InputError("the call list's refit scores do not match its rows");
  std::vector<std::size_t> section(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::string_view name = rows.text(&CallListRow::section, i);
    const auto it = std::find(kLeadSectionNames.begin(), kLeadSectionNames.end(), name);
    if (it == kLeadSectionNames.end())
      throw InputError("call list row " + std::to_string(i) + ": unknown section '" + std::string(name) + "'");
    section[i] = static_cast<std::size_t>(it - kLeadSectionNames.begin());
    if (section[i] == static_cast<std::size_t>(LeadSection::beyond_capacity)) section[i] = static_cast<std::size_t>(LeadSection::act);
  }
  const bool by_gain = rank_by == RankBy::gain;
  // A lead's ranking key under one set of scores: act by the chosen key, the others by
  // probability, ties by position.
  struct Key {
    double gain, p_subscribe;
    std::size_t lead;
  };
  auto before = [&](const Key& a, const Key& b) {
    const bool act = section[a.lead] == static_cast<std::size_t>(LeadSection::act);
    if (act && by_gain && a.gain != b.gain) return a.gain > b.gain;
    if (a.p_subscribe != b.p_subscribe) return a.p_subscribe > b.p_subscribe;
    return a.lead < b.lead;
  };
  auto estimate = [&](std::size_t i) {
    const CallListNumbers& row = numbers[i];
    return Key{row.gain, row.p_subscribe, i};
  };
  ArrangedCallList out;
  out.top_k = capacity > 0 ? capacity : top_k;
  std::vector<std::vector<std::size_t>> members(kLeadSectionNames.size());
  for (std::size_t i = 0; i < n; ++i) members[section[i]].push_back(i);
  for (auto& m : members) std::sort(m.begin(), m.end(), [&](std::size_t i, std::size_t j) { return before(estimate(i), estimate(j)); });
  // Rank stability: per section and refit, the top K leads by that refit's scores, kept as a
  // heap (its worst on top) while the scores stream past a block of leads at a time; a strict
  // order has one top K, so this is the set a sort of each refit's column would give.
  std::vector<double> in_top(n, 0.0);
  if (out.top_k > 0 && refits.refits > 0) {
    const std::size_t R = refits.refits;
    std::vector<std::vector<std::vector<Key>>> top(members.size(), std::vector<std::vector<Key>>(R));
    std::vector<std::size_t> k(members.size());
    for (std::size_t sec = 0; sec < members.size(); ++sec)
      k[sec] = static_cast<std::size_t>(std::min<std::int64_t>(out.top_k, static_cast<std::int64_t>(members[sec].size())));
    constexpr std::size_t kBlockLeads = 1 << 14;
    std::vector<double> p, g;
    for (std::size_t first = 0; first < n; first += kBlockLeads) {
      const std::size_t count = std::min(kBlockLeads, n - first);
      refits.read_rows(first, count, p, g);
      if (p.size() != count * R || g.size() != count * R) throw std::logic_error("arrange_call_list: a short block of refit scores");
      for (std::size_t j = 0; j < count; ++j) {
        const std::size_t i = first + j, sec = section[i];
        for (std::size_t r = 0; r < R; ++r) {
          std::vector<Key>& heap = top[sec][r];
          const Key key{g[j * R + r], p[j * R + r], i};
          if (heap.size() < k[sec]) {
            heap.push_back(key);
            std::push_heap(heap.begin(), heap.end(), before);
          } else if (before(key, heap.front())) {
            std::pop_heap(heap.begin(), heap.end(), before);
            heap.back() = key;
            std::push_heap(heap.begin(), heap.end(), before);
          }
        }
      }
    }
    for (const auto& per_refit : top)
      for (const auto& heap : per_refit)
        for (const Key& key : heap) in_top[key.lead] += 1;
  }
  for (std::size_t sec = 0; sec < members.size(); ++sec) {
    std::int64_t rank = 0;
    for (std::size_t i : members[sec]) {
      ++rank;
      LeadSection shown = static_cast<LeadSection>(sec);
      if (shown == LeadSection::act && capacity > 0 && rank > capacity) shown = LeadSection::beyond_capacity;
      const auto s = static_cast<std::size_t>(shown);
      out.order.push_back(i);
      out.section.push_back(std::string(kLeadSectionNames[s]));
      out.rank.push_back(rank);
      out.top_share.push_back(out.top_k > 0 && refits.refits > 0 ? in_top[i] / static_cast<double>(refits.refits) : kNaN);
      out.leads[s] += 1;
      out.extra[s] += numbers[i].extra_subscriptions;
    }
  }
  return out;
}

}  // namespace reinforcer
