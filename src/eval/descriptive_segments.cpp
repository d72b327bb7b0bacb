// Segment and Status tables, the entry point, and the HDF5 writer.
#include <algorithm>
#include <map>
#include <tuple>
#include <utility>

#include "descriptive_internal.hpp"
#include "reinforcer/eval/descriptive.hpp"

namespace reinforcer {

using namespace descriptive_detail;

namespace {

enum class Grouping { country_x_education, country, education };
struct GroupingSpec {
  Grouping kind;
  std::string_view name;
};
inline constexpr std::array<GroupingSpec, 3> kGroupings = {{{Grouping::country_x_education, "country x education"},
                                                             {Grouping::country, "country"},
                                                             {Grouping::education, "education"}}};

struct Counts {
  std::int64_t customers = 0, first_calls = 0, subscribers = 0;
};

std::string country_label(const CustomerTable& table, std::int32_t country) {
  return country >= 0 ? table.countries.at(static_cast<std::size_t>(country)) : std::string("unknown");
}
std::string education_label(std::int32_t education) {
  return education > 0 ? education_name(static_cast<std::uint8_t>(education)) : std::string("unknown");
}

// Notes why each row of one (grouping, cohort) block is not recommended, ranks the others and
// puts the block in table order: ranked rows by rank, then the other rows by name, the
// data-quality (unknown) rows last. Rows of an unknown country or education come noted.
void rank_and_sort(std::vector<SegmentRow>& block, std::int64_t min_segment_size) {
  std::vector<SegmentRow*> eligible;
  for (SegmentRow& r : block) {
    if (r.note.empty() && r.customers < min_segment_size) r.note = kSegmentTooSmall;
    if (r.note.empty() && r.subscribers < kMinSegmentSubscribers) r.note = kSegmentFewSubscribers;
    if (r.note.empty()) eligible.push_back(&r);
  }
  std::sort(eligible.begin(), eligible.end(), [](const SegmentRow* a, const SegmentRow* b) {
    if (a->low95 != b->low95) return a->low95 > b->low95;
    if (a->customers != b->customers) return a->customers > b->customers;
    return a->segment < b->segment;
  });
  for (std::size_t i = 0; i < eligible.size(); ++i) eligible[i]->rank = static_cast<std::int32_t>(i + 1);
  auto order = [](const SegmentRow& r) { return r.rank > 0 ? 0 : r.note == kSegmentUnknown ? 2 : 1; };
  std::sort(block.begin(), block.end(), [&order](const SegmentRow& a, const SegmentRow& b) {
    if (order(a) != order(b)) return order(a) < order(b);
    if (a.rank != b.rank) return a.rank < b.rank;
    return a.segment < b.segment;
  });
}

void add_segments(const CustomerTable& table, std::int64_t min_segment_size, DescriptiveTables& out) {
  for (const GroupingSpec& g : kGroupings) {
    for (std::size_t k = 0; k < kTableCohorts.size(); ++k) {
      // (country or -2 when not grouped by it, education or -2) -> counts
      std::map<std::pair<std::int32_t, std::int32_t>, Counts> cells;
      Counts cohort_total;
      for (const Customer& c : table.customers) {
        if (!in_cohort(c, k)) continue;
        const std::int32_t country = g.kind == Grouping::education ? -2 : c.country;
        const std::int32_t education = g.kind == Grouping::country ? -2 : static_cast<std::int32_t>(c.education);
        const bool called = c.milestone[static_cast<std::size_t>(Milestone::first_call)] != kNoDay;
        for (Counts* x : {&cells[{country, education}], &cohort_total}) {
          ++x->customers;
          x->first_calls += called;
          x->subscribers += c.subscribed;
        }
      }
      const double base_rate = ratio(cohort_total.subscribers, cohort_total.customers);
      std::vector<SegmentRow> block;
      for (const auto& [key, n] : cells) {
        SegmentRow r;
        r.grouping = std::string(g.name);
        r.cohort = std::string(kTableCohorts[k]);
        if (key.first != -2) r.country = country_label(table, key.first);
        if (key.second != -2) r.education = education_label(key.second);
        r.segment = g.kind == Grouping::country_x_education ? r.country + " x " + r.education
                    : g.kind == Grouping::country           ? r.country
                                                            : r.education;
        const bool unknown_country = key.first != -2 && key.first < 0;
        const bool unknown_education = key.second != -2 && key.second <= 0;
        if (unknown_country || unknown_education) r.note = kSegmentUnknown;
        r.customers = n.customers;
        r.first_calls = n.first_calls;
        r.subscribers = n.subscribers;
        const Proportion p = proportion(n.subscribers, n.customers);
        r.rate = p.rate;
        r.low95 = p.low95;
        r.high95 = p.high95;
        r.lift = base_rate > 0.0 ? r.rate / base_rate : kNaN;
        r.share_of_subscribers = ratio(n.subscribers, cohort_total.subscribers);
        block.push_back(std::move(r));
      }
      rank_and_sort(block, min_segment_size);
      for (SegmentRow& r : block) out.segments.push_back(std::move(r));
    }
  }
}

void add_status(const CustomerTable& table, DescriptiveTables& out) {
  // Status values in their natural order, the missing value last.
  const std::array<std::size_t, kStatusValues.size()> order = {1, 2, 3, 0};
  for (std::size_t k = 0; k < kTableCohorts.size(); ++k) {
    std::array<Counts, kStatusValues.size()> n{};
    for (const Customer& c : table.customers) {
      if (!in_cohort(c, k)) continue;
      Counts& x = n.at(c.status);
      ++x.customers;
      x.subscribers += c.subscribed;
    }
    for (std::size_t s : order) {
      if (n[s].customers == 0) continue;
      const Proportion p = proportion(n[s].subscribers, n[s].customers);
      out.status.push_back(StatusRow{s == 0 ? std::string("missing") : std::string(kStatusValues[s]),
                                     std::string(kTableCohorts[k]), n[s].customers, n[s].subscribers, p.rate,
                                     p.low95, p.high95});
    }
  }
}

Day latest_date(const CustomerTable& table) {
  Day latest = kNoDay;
  for (const Customer& c : table.customers) {
    if (!dated(c)) continue;
    latest = std::max(latest, c.first_contact);
    for (Day d : c.milestone) latest = std::max(latest, d);
  }
  return latest;
}

}  // namespace

DescriptiveTables describe_customers(const CustomerTable& table, const DescriptiveOptions& options) {
  DescriptiveTables out;
  add_segments(table, options.min_segment_size, out);
  add_status(table, out);
  const Day export_date = options.export_date != kNoDay ? options.export_date : latest_date(table);
  add_funnel(table, export_date, out);
  add_milestones(table, out);
  return out;
}

}  // namespace reinforcer
