// The dirt of --dirty: every kind CONTRACT.md describes, in roughly the real export's
// proportions (counts per 11,032 customers), each at least once. Dirt goes only where it
// leaves the customer's label and cohort as they were: impossible dates in Last Contact, or
// in Subscribed only when Stage "subscribed already" labels the customer anyway; text and
// "No" only in empty step cells; never in First Contact. The Valid record follows every
// change, so the truth is what ingest will derive.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "reinforcer/core/rng.hpp"
#include "synth_internal.hpp"

namespace reinforcer::synth {
namespace {

enum Kind : int {
  lc_repaired,         // Last Contact as d.m.yyyy text: repaired
  lc_impossible,       // Last Contact "2021-13-12" / "0000-00-00": rejected, impossible date
  lc_before_fc,        // row warning: Last Contact before First Contact
  text_in_date,        // "tbd" in an empty First Call: rejected, text in a date column
  sub_impossible,      // impossible Subscribed date on a customer Stage labels anyway
  manager_after_sub,   // row warning: Account Manager on or after the subscription
  step_before_fc,      // row warning: First Call before First Contact
  sub_before_fc,       // row warning: subscribed on or before t0 (no prospect at decision time)
  platform_no,         // "No" in an empty platform signup: negative
  huge_serial,         // xlsx only: serial 6,691,845 (Excel's #VALUE!): out of range
  country_normalised,  // "Usa", "usa", "uSA", "USA "
  country_aliased,     // "California", "England", "Dubai", ...
  country_rejected,    // "-", "CA", "Full time", ...
  kKinds
};

constexpr double kRealCustomers = 11032;
struct Spec {
  double per_real_file;  // count in the real export
  std::int64_t at_least;
};
constexpr Spec kSpec[kKinds] = {{31, 1}, {2, 2},  {3, 1}, {3, 1},  {1, 1},  {14, 1}, {14, 1},
                                {1, 1},  {127, 1}, {0, 1}, {44, 4}, {15, 3}, {16, 3}};
constexpr double kFillDownPerRealFile = 42;
constexpr std::int64_t kFillRunLength = 20;
constexpr double kBlankPerRealFile = 778;

constexpr std::size_t kCountry = index_of(CrmColumn::country);
constexpr std::size_t kFirst = index_of(CrmColumn::first_contact);
constexpr std::size_t kLast = index_of(CrmColumn::last_contact);
constexpr std::size_t kCall = index_of(CrmColumn::first_call);
constexpr std::size_t kPlatform = index_of(CrmColumn::platform_signup);
constexpr std::size_t kManager = index_of(CrmColumn::account_manager);
constexpr std::size_t kSubscribed = index_of(CrmColumn::subscribed);
// Valid::day slots: First Contact, Last Contact, then the six steps.
constexpr std::size_t slot_of(std::size_t column) { return column == kFirst ? 0 : column == kLast ? 1 : column - kCall + 2; }

std::int64_t scaled(double per_real_file, std::int64_t customers, std::int64_t at_least) {
  return std::max<std::int64_t>(at_least, std::llround(per_real_file * static_cast<double>(customers) / kRealCustomers));
}

template <std::size_t N>
const char* cycle(const char* const (&list)[N], std::int64_t i) {
  return list[static_cast<std::size_t>(i) % N];
}

void set_text(Cell& c, const char* text) {
  c.kind = CellKind::text;
  c.text = text;
  c.size = static_cast<std::uint32_t>(std::char_traits<char>::length(text));
}
void set_date(Cell& c, Day d) {
  c.kind = CellKind::date;
  c.day = d;
}

// d.m.yyyy, day and month padded or not, into a NUL-terminated scratch buffer.
void set_day_first(Cell& c, Day d, bool padded, std::array<char, 24>& buf) {
  const CivilDate cd = civil_from_days(d);
  char* p = buf.data();
  auto two = [&](int v) {
    if (padded || v >= 10) *p++ = static_cast<char>('0' + v / 10);
    *p++ = static_cast<char>('0' + v % 10);
  };
  two(cd.day);
  *p++ = '.';
  two(cd.month);
  *p++ = '.';
  for (int div = 1000; div > 0; div /= 10) *p++ = static_cast<char>('0' + cd.year / div % 10);
  *p = '\0';
  c.kind = CellKind::text;
  c.text = buf.data();
  c.size = static_cast<std::uint32_t>(p - buf.data());
}

}  // namespace

struct DirtPlan::State {
  struct Quota {
    std::int64_t count = 0, next = 0, pending = 0, applied = 0;
    double spacing = 1;
    std::int64_t offset = 0;  // staggers the kinds so that no row collects them all
  };
  std::uint64_t seed = 0;
  std::int64_t customers = 0;
  bool xlsx = false;
  std::array<Quota, kKinds> quota;
  int usa = -1, uk = -1, uae = -1;
  std::int64_t fill_runs = 0, fill_length = 0, next_run = 0, run_pos = -1;
  Day run_base = 0;

  void advance(std::int64_t index) {
    for (Quota& q : quota)
      while (q.next < q.count && q.offset + static_cast<std::int64_t>(static_cast<double>(q.next) * q.spacing) <= index)
        ++q.next, ++q.pending;
  }
};

std::int64_t DirtPlan::blank_rows(const SynthOptions& o, bool xlsx) {
  if (!o.dirty) return 0;
  const std::int64_t n = scaled(kBlankPerRealFile, o.customers, 1);
  return xlsx ? std::min(n, kXlsxMaxCustomers - o.customers) : n;  // Excel's row limit
}

DirtPlan::DirtPlan(const SynthOptions& o, bool xlsx) : s_(std::make_unique<State>()) {
  State& s = *s_;
  s.seed = o.seed;
  s.customers = o.customers;
  s.xlsx = xlsx;
  for (int k = 0; k < kKinds; ++k) {
    State::Quota& q = s.quota[static_cast<std::size_t>(k)];
    q.count = k == huge_serial ? (xlsx ? 1 : 0) : scaled(kSpec[k].per_real_file, o.customers, kSpec[k].at_least);
    q.spacing = q.count > 0 ? static_cast<double>(o.customers) / static_cast<double>(q.count) : 1;
    // Early, so that even the rarest kind finds an eligible row after its first due row.
    q.offset = std::min<std::int64_t>(static_cast<std::int64_t>(q.spacing / 2), 23 * k + 3);
    static_assert(23 * (kKinds - 1) + 3 < kDirtFirstDueBy, "first due rows must come before kDirtFirstDueBy");
  }
  s.usa = country_index("USA");
  s.uk = country_index("UK");
  s.uae = country_index("United Arab Emirates");
  const std::int64_t fill = scaled(kFillDownPerRealFile, o.customers, 1);
  s.fill_length = std::min(kFillRunLength, fill);
  s.fill_runs = (fill + s.fill_length - 1) / s.fill_length;
}

DirtPlan::~DirtPlan() = default;

void DirtPlan::apply(std::int64_t index, const Record& rec, Row& row, Valid& valid) {
  State& s = *s_;
  s.advance(index);
  // A fill-down series: consecutive rows whose Last Contact runs a year further each row.
  if (s.run_pos < 0 && s.next_run < s.fill_runs &&
      index >= static_cast<std::int64_t>((static_cast<double>(s.next_run) + 0.5) *
                                         static_cast<double>(s.customers) / static_cast<double>(s.fill_runs))) {
    s.run_pos = 0;
    s.run_base = static_cast<Day>(5 + s.next_run % 6);  // the month the series starts in
    ++s.next_run;
  }
  if (index == s.customers - 1) return;  // the anchor of the export date stays clean
  std::uint32_t taken = 0;
  auto is_free = [&](std::size_t col) { return (taken & (1u << col)) == 0; };
  auto take = [&](std::size_t col) { taken |= 1u << col; };
  if (s.run_pos >= 0) {
    set_date(row.cells[kLast], days_from_civil(2022 + static_cast<int>(s.run_pos), static_cast<int>(s.run_base), 28));
    valid.day[1] = kNoDay;
    take(kLast);
    if (++s.run_pos == s.fill_length) s.run_pos = -1;
  }
  RandomStream rng(s.seed ^ 0xD1B54A32D192ED03ULL, static_cast<std::uint64_t>(index));
  const Day fc = valid.day[0];
  const Day sub = valid.day[slot_of(kSubscribed)];
  static const char* const kImpossible[] = {"2021-13-12", "0000-00-00"};
  static const char* const kText[] = {"tbd", "call back", "?", "next week"};
  static const char* const kNo[] = {"No", "No", "no", "NO"};
  static const char* const kUsa[] = {"Usa", "usa", "uSA", "USA "};
  static const char* const kRejected[] = {"-", "CA", "Full time", "Russia&Ukraine", "Chuang", "Bulgaria & UK"};
  // Kinds not yet applied at all go first, so a rare eligible row serves a kind that still
  // needs its first instance.
  std::array<int, kKinds> order;
  std::iota(order.begin(), order.end(), 0);
  std::stable_partition(order.begin(), order.end(), [&](int k) { return s.quota[static_cast<std::size_t>(k)].applied == 0; });
  for (int k : order) {
    State::Quota& q = s.quota[static_cast<std::size_t>(k)];
    if (q.pending == 0) continue;
    bool done = false;
    switch (k) {
      case lc_repaired:
        if ((done = is_free(kLast) && valid.day[1] != kNoDay))
          set_day_first(row.cells[kLast], valid.day[1], q.applied % 3 == 0, row.scratch[0]);
        if (done) take(kLast);
        break;
      case lc_impossible:
        if ((done = is_free(kLast) && rec.cohort != Cohort::undated)) {
          set_text(row.cells[kLast], cycle(kImpossible, q.applied));
          valid.day[1] = kNoDay;
          take(kLast);
        }
        break;
      case lc_before_fc:
        if ((done = is_free(kLast) && fc != kNoDay)) {
          valid.day[1] = fc - 1 - static_cast<Day>(rng.below(30));
          set_date(row.cells[kLast], valid.day[1]);
          take(kLast);
        }
        break;
      case text_in_date:
        if ((done = is_free(kCall) && row.cells[kCall].kind == CellKind::empty && rec.cohort == Cohort::outbound)) {
          set_text(row.cells[kCall], cycle(kText, q.applied));
          take(kCall);
        }
        break;
      case sub_impossible:
        if ((done = is_free(kSubscribed) && sub != kNoDay && valid.stage == kStageSubscribed)) {
          set_text(row.cells[kSubscribed], cycle(kImpossible, q.applied + 1));
          valid.day[slot_of(kSubscribed)] = kNoDay;
          take(kSubscribed);
        }
        break;
      case manager_after_sub:
        if ((done = is_free(kSubscribed) && is_free(kManager) && sub != kNoDay)) {
          const Day am = std::min(sub + static_cast<Day>(rng.below(10)), export_day());
          valid.day[slot_of(kManager)] = am;
          set_date(row.cells[kManager], am);
          take(kSubscribed), take(kManager);
        }
        break;
      case step_before_fc:
        if ((done = is_free(kCall) && fc != kNoDay && valid.day[slot_of(kCall)] != kNoDay)) {
          valid.day[slot_of(kCall)] = fc - 1 - static_cast<Day>(rng.below(20));
          set_date(row.cells[kCall], valid.day[slot_of(kCall)]);
          take(kCall);
        }
        break;
      case sub_before_fc:
        if ((done = is_free(kSubscribed) && sub != kNoDay && fc != kNoDay && rec.cohort == Cohort::outbound)) {
          valid.day[slot_of(kSubscribed)] = fc - static_cast<Day>(rng.below(20));
          set_date(row.cells[kSubscribed], valid.day[slot_of(kSubscribed)]);
          take(kSubscribed);
        }
        break;
      case platform_no:
        if ((done = is_free(kPlatform) && row.cells[kPlatform].kind == CellKind::empty &&
                    std::any_of(valid.day.begin() + 2, valid.day.end(), [](Day d) { return d != kNoDay; }))) {
          set_text(row.cells[kPlatform], cycle(kNo, q.applied));
          take(kPlatform);
        }
        break;
      case huge_serial:
        if ((done = is_free(kPlatform) && row.cells[kPlatform].kind == CellKind::empty &&
                    rec.cohort == Cohort::outbound)) {
          row.cells[kPlatform].kind = CellKind::number;
          row.cells[kPlatform].number = 6691845;
          take(kPlatform);
        }
        break;
      case country_normalised:
        if ((done = is_free(kCountry) && rec.country == s.usa)) set_text(row.cells[kCountry], cycle(kUsa, q.applied));
        if (done) take(kCountry);
        break;
      case country_aliased: {
        const std::int64_t turn = q.applied % 3;
        const int want = turn == 0 ? s.usa : turn == 1 ? s.uk : s.uae;
        if ((done = is_free(kCountry) && rec.country == want)) {
          const bool other = (q.applied / 3) % 2 == 1;
          set_text(row.cells[kCountry], turn == 0 ? (other ? "Philadelphia" : "California")
                                        : turn == 1 ? (other ? "Nottingham" : "England")
                                                    : "Dubai");
          take(kCountry);
        }
        break;
      }
      case country_rejected:
        if ((done = is_free(kCountry))) set_text(row.cells[kCountry], cycle(kRejected, q.applied));
        if (done) take(kCountry);
        break;
      default:
        break;
    }
    if (done) --q.pending, ++q.applied;
  }
}

}  // namespace reinforcer::synth
