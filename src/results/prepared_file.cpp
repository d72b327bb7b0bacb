#include "reinforcer/results/prepared_file.hpp"

#include <algorithm>
#include <cstring>
#include <deque>
#include <stdexcept>
#include <type_traits>
#include <string_view>
#include <unordered_map>

#include "reinforcer/stats/proportion.hpp"
#include "reinforcer/core/bytes.hpp"
#include "reinforcer/core/errors.hpp"
#include "customer_attributes.hpp"

namespace reinforcer {
namespace {

// /customers as declared once: the order, names and kinds of its members, which the writer
// follows and the reader's memory type is (docs/HDF5_SCHEMA.md).
enum Column : std::size_t {
  col_id, col_sheet_row, col_country, col_education, col_status, col_stage,
  col_first_contact, col_last_contact, col_first_milestone,  // then one per milestone
  col_declined = col_first_milestone + kMilestones, col_subscribed, col_cohort, col_t0, col_t0_month, col_split, col_fold,
  col_count
};

std::vector<h5::Member> customer_members() {
  using K = h5::MemberKind;
  std::vector<h5::Member> m = {{"id", K::int64},    {"sheet_row", K::int64}, {"country", K::text},
                               {"education", K::text}, {"status", K::text},  {"stage", K::text},
                               {"first_contact_day", K::int32}, {"last_contact_day", K::int32}};
  for (const char* d : {"first_call_day", "demo_day", "survey_day", "platform_signup_day", "account_manager_day",
                        "subscribed_day"})
    m.push_back({d, K::int32});
  for (h5::Member x : std::vector<h5::Member>{{"platform_signup_declined", K::int8}, {"subscribed", K::int8},
                                              {"cohort", K::text}, {"t0_day", K::int32}, {"t0_month", K::int8},
                                              {"split", K::text}, {"fold", K::int8}})
    m.push_back(x);
  return m;
}
static_assert(kMilestones == 6, "customer_members() names one date per milestone");

Day date_field(const Customer& c, std::size_t f) {
  if (f == 0) return c.first_contact;
  if (f == 1) return c.last_contact;
  return c.milestone[f - 2];
}

void write_customers(const h5::Group& root, const CustomerTable& t) {
  const auto& cs = t.customers;
  const std::size_t n = cs.size();
  const std::vector<h5::Member> members = customer_members();
  auto name = [&](Column c) { return members[c].name; };
  h5::Table table(n);
  std::vector<std::int64_t> id(n), row(n);
  std::vector<std::int8_t> declined(n), label(n), month(n), fold(n);
  std::vector<std::int32_t> t0(n);
  std::vector<std::string> educations(kEducationLevels + 1);
  for (std::uint8_t b = 0; b <= kEducationLevels; ++b) educations[b] = education_name(b);
  for (std::size_t i = 0; i < n; ++i) {
    const Customer& c = cs[i];
    id[i] = c.id, row[i] = c.sheet_row;
    declined[i] = c.platform_signup_declined;
    label[i] = c.subscribed;
    t0[i] = c.t0;
    month[i] = static_cast<std::int8_t>(c.t0 == kNoDay ? 0 : civil_from_days(c.t0).month);
    fold[i] = c.fold;
  }
  table.add(name(col_id), id).add(name(col_sheet_row), row);
  table.add_strings(name(col_country), [&](std::size_t i) {
    return cs[i].country < 0 ? std::string_view() : std::string_view(t.countries[static_cast<std::size_t>(cs[i].country)]);
  });
  table.add_strings(name(col_education), [&](std::size_t i) { return std::string_view(educations[cs[i].education]); });
  table.add_strings(name(col_status), [&](std::size_t i) { return kStatusValues[cs[i].status]; });
  table.add_strings(name(col_stage), [&](std::size_t i) { return kStageValues[cs[i].stage]; });
  for (std::size_t f = 0; f < kMilestones + 2; ++f) {
    std::vector<std::int32_t> d(n);
    for (std::size_t i = 0; i < n; ++i) d[i] = date_field(cs[i], f);
    table.add(members[col_first_contact + f].name, d);
  }
  table.add(name(col_declined), declined).add(name(col_subscribed), label);
  table.add_strings(name(col_cohort), [&](std::size_t i) { return kCohortNames[static_cast<std::size_t>(cs[i].cohort)]; });
  table.add(name(col_t0), t0).add(name(col_t0_month), month);
  table.add_strings(name(col_split), [&](std::size_t i) { return kSplitNames[static_cast<std::size_t>(cs[i].split)]; });
  table.add(name(col_fold), fold);
  root.write_table("customers", table);
}

void write_quality(const h5::Group& root, const QualityReport& q) {
  const h5::Group g = root.create_group("quality");
  g.set_attribute("customers", q.customers);
  g.set_attribute("blank_rows_skipped", q.blank_rows);
  g.set_attribute("distinct_countries", q.distinct_countries);
  g.set_attribute("export_date", format_day(q.export_date));
  g.set_attribute("export_date_inferred", static_cast<std::int64_t>(q.export_date_inferred));
  g.set_attribute("earliest_date", format_day(q.earliest_date));
  std::string extra;
  for (const auto& e : q.extra_columns) extra += (extra.empty() ? "" : "\n") + e;
  g.set_attribute("extra_columns", extra);

  std::vector<std::string> col, cls, ex_col, ex_cls, ex_raw, ex_out, rej_col, rej_reason;
  std::vector<std::int64_t> count, ex_row, rej_count;
  for (const auto& c : q.columns) {
    for (std::size_t k = 0; k < kCellClasses; ++k) {
      col.push_back(c.column), cls.push_back(kCellClassNames[k]), count.push_back(c.counts[k]);
      for (const auto& e : c.examples[k]) {
        ex_col.push_back(c.column), ex_cls.push_back(kCellClassNames[k]);
        ex_row.push_back(e.sheet_row), ex_raw.push_back(e.raw), ex_out.push_back(e.outcome);
      }
    }
    for (const auto& [reason, n] : c.rejected_by_reason)
      rej_col.push_back(c.column), rej_reason.push_back(reason), rej_count.push_back(n);
  }
  g.write_table("cells", h5::Table(col.size()).add("column", col).add("class", cls).add("count", count));
  g.write_table("rejections",
                h5::Table(rej_col.size()).add("column", rej_col).add("reason", rej_reason).add("count", rej_count));
  g.write_table("examples", h5::Table(ex_col.size())
                                .add("column", ex_col).add("class", ex_cls).add("sheet_row", ex_row)
                                .add("raw", ex_raw).add("outcome", ex_out));
  std::vector<std::string> wk, wx_kind, wx_found, wx_action;
  std::vector<std::int64_t> wn, wx_row;
  for (const auto& w : q.warnings) {
    wk.push_back(w.kind), wn.push_back(w.count);
    for (const auto& e : w.examples)
      wx_kind.push_back(w.kind), wx_row.push_back(e.sheet_row), wx_found.push_back(e.raw), wx_action.push_back(e.outcome);
  }
  g.write_table("row_warnings", h5::Table(wk.size()).add("kind", wk).add("count", wn));
  g.write_table("row_warning_examples", h5::Table(wx_kind.size())
                                            .add("kind", wx_kind).add("sheet_row", wx_row)
                                            .add("found", wx_found).add("action", wx_action));
}

void write_summary(const h5::Group& root, const PreparedData& d) {
  const h5::Group g = root.create_group("summary");
  g.set_attribute("train_end", format_day(d.cutoffs.train_end));
  g.set_attribute("val_end", format_day(d.cutoffs.val_end));
  const auto rows = summarize_splits(d.ingest.table, d.split_options.folds);
  const std::size_t n = rows.size();
  std::vector<std::string> split(n), cohort(n);
  std::vector<std::int64_t> customers(n), subscribed(n);
  std::vector<double> rate(n), lo(n), hi(n);
  for (std::size_t i = 0; i < n; ++i) {
    split[i] = rows[i].split, cohort[i] = rows[i].cohort;
    customers[i] = rows[i].customers, subscribed[i] = rows[i].subscribed;
    rate[i] = customers[i] ? static_cast<double>(subscribed[i]) / static_cast<double>(customers[i]) : 0.0;
    const Interval w = wilson_interval(subscribed[i], customers[i]);
    lo[i] = w.low, hi[i] = w.high;
  }
  g.write_table("splits", h5::Table(n).add("split", split).add("cohort", cohort).add("customers", customers)
                              .add("subscribed", subscribed).add("base_rate", rate)
                              .add("base_rate_low95", lo).add("base_rate_high95", hi));
}

}  // namespace

void write_prepared_file(const std::string& path, const PreparedData& data, const Provenance& provenance) {
  h5::File f = h5::File::create(path);
  write_provenance(f, kPreparedFormat, kPreparedFormatVersion, provenance);
  f.set_attribute("folds", static_cast<std::int64_t>(data.split_options.folds));
  f.set_attribute("seed", static_cast<std::int64_t>(data.split_options.seed));
  const auto& s = data.split_options.shares;
  f.set_attribute("split_shares", std::to_string(s[0]) + "," + std::to_string(s[1]) + "," + std::to_string(s[2]));
  f.set_attribute("missing_day", static_cast<std::int64_t>(kNoDay));
  write_customers(f, data.ingest.table);
  write_customer_attributes(f, data.ingest.table, data.ingest.report.attributes);
  write_quality(f, data.ingest.report);
  write_summary(f, data);
  if (!data.warnings.empty()) f.write_strings("warnings", data.warnings);
  f.flush();
  f.close();  // sealed: readers can tell a damaged copy
}

Day read_prepared_export_date(const std::string& path) {
  const h5::File f = h5::File::open_read(path);
  require_format(f, path, kPreparedFormat, kPreparedFormatVersion);
  const std::string d = f.open_group("quality").string_attribute("export_date");
  if (auto day = parse_iso_day(d)) return *day;
  throw InputError(path + ": quality/export_date '" + d + "' is not a date");
}

CustomerTable read_prepared_customers(const std::string& path) {
  const h5::File f = h5::File::open_read(path);
  require_format(f, path, kPreparedFormat, kPreparedFormatVersion);
  return read_customer_table(f, path);
}

namespace {

template <typename T>
T load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// A text member's value -> the index of its value in a small domain. Fixed-length members
// compare whole NUL-padded widths (most rows repeat the last match, tried first); a
// variable-length member compares the characters.
class TextCodes {
 public:
  template <typename Domain>
  TextCodes(const Domain& domain, const h5::Member& member) : member_(member) {
    const std::size_t width = member.variable ? 0 : member.width;
    for (std::string_view v : domain) {
      values_.emplace_back(v);
      std::string key(width, '\0');
      fits_.push_back(member.variable || v.size() <= width);  // a longer value cannot be stored here
      key.replace(0, std::min(v.size(), width), v.substr(0, width));
      keys_.push_back(std::move(key));
    }
  }
  // -1: not a value of the domain.
  int find(const char* p) {
    if (member_.variable) {
      const std::string_view v = h5::text_member(p, member_);
      for (std::size_t k = 0; k < values_.size(); ++k)
        if (values_[k] == v) return static_cast<int>(k);
      return -1;
    }
    const std::size_t width = member_.width;
    if (fits_[last_] && std::memcmp(p, keys_[last_].data(), width) == 0) return static_cast<int>(last_);
    for (std::size_t k = 0; k < keys_.size(); ++k)
      if (fits_[k] && std::memcmp(p, keys_[k].data(), width) == 0) return static_cast<int>(last_ = k);
    return -1;
  }

 private:
  h5::Member member_;
  std::vector<std::string> values_, keys_;
  std::vector<bool> fits_;
  std::size_t last_ = 0;
};

}  // namespace

CustomerTable read_customer_table(const h5::Group& f, const std::string& path) {
  const std::string tab = "customers";
  const h5::Compound layout = f.table_layout(tab, customer_members());
  const std::size_t size = layout.row_size();
  const std::size_t n = f.table_rows(tab);
  std::array<std::size_t, col_count> at{};
  for (std::size_t k = 0; k < col_count; ++k) at[k] = layout.offset(k);
  const auto& member = layout.members();
  auto text = [&](const char* p, Column c) { return h5::text_member(p + at[c], member[c]); };
  TextCodes status(kStatusValues, member[col_status]), stage(kStageValues, member[col_stage]),
      cohort(kCohortNames, member[col_cohort]), split(kSplitNames, member[col_split]);
  auto code_in = [&](TextCodes& codes, const char* p, Column c) {
    const int k = codes.find(p + at[c]);
    if (k >= 0) return static_cast<std::size_t>(k);
    throw InputError(path + ": customers." + layout.members()[c].name + " holds '" +
                     std::string(text(p, c)) + "', which is not a known value");
  };
  CustomerTable t;
  // Keys view the names kept in the table (a deque: they do not move).
  std::deque<std::string> names;
  std::unordered_map<std::string_view, std::int32_t> country_code;
  std::string_view last_country;
  std::int32_t last_country_code = -1;
  t.customers.resize(n);
  // Blocks of whole chunks (16,384 rows each), so each is inflated once and the row buffer
  // (125 bytes a row) stays small; up to a million rows this is a single read.
  constexpr std::size_t kBlockRows = std::size_t{1} << 20;
  std::vector<char> rows;
  for (std::size_t i = 0; i < n; ++i) {
    if (i % kBlockRows == 0) f.read_rows(tab, layout, i, std::min(kBlockRows, n - i), rows);
    const char* p = rows.data() + (i % kBlockRows) * size;
    Customer& c = t.customers[i];
    c.id = load<std::int64_t>(p + at[col_id]);
    c.sheet_row = load<std::int64_t>(p + at[col_sheet_row]);
    const std::string_view country = text(p, col_country);
    if (country == last_country) {
      c.country = last_country_code;
    } else if (!country.empty()) {
      auto it = country_code.find(country);
      if (it == country_code.end())
        it = country_code.emplace(names.emplace_back(country), static_cast<std::int32_t>(t.countries.size())).first,
        t.countries.emplace_back(country);
      c.country = it->second;
      last_country = it->first, last_country_code = it->second;
    }
    const std::string_view education = text(p, col_education);
    c.education = 0;
    if (!education.empty()) {
      unsigned level = 0;
      bool digits = education.size() >= 2 && education.size() <= 3 && education[0] == 'B';
      for (std::size_t k = 1; digits && k < education.size(); ++k) {
        digits = education[k] >= '0' && education[k] <= '9';
        level = level * 10 + static_cast<unsigned>(education[k] - '0');
      }
      if (!digits || level < 1 || level > kEducationLevels)
        throw InputError(path + ": customers.education holds '" + std::string(education) +
                         "', which is not B1..B" + std::to_string(kEducationLevels));
      c.education = static_cast<std::uint8_t>(level);
    }
    c.status = static_cast<std::uint8_t>(code_in(status, p, col_status));
    c.stage = static_cast<std::uint8_t>(code_in(stage, p, col_stage));
    c.first_contact = load<std::int32_t>(p + at[col_first_contact]);
    c.last_contact = load<std::int32_t>(p + at[col_last_contact]);
    for (std::size_t m = 0; m < kMilestones; ++m) c.milestone[m] = load<std::int32_t>(p + at[col_first_milestone + m]);
    c.platform_signup_declined = load<std::int8_t>(p + at[col_declined]) != 0;
    c.subscribed = load<std::int8_t>(p + at[col_subscribed]) != 0;
    c.cohort = static_cast<Cohort>(code_in(cohort, p, col_cohort));
    c.t0 = load<std::int32_t>(p + at[col_t0]);
    c.split = static_cast<Split>(code_in(split, p, col_split));
    c.fold = load<std::int8_t>(p + at[col_fold]);
  }
  read_customer_attributes(f, path, t);
  return t;
}

namespace {

constexpr std::uint32_t kTableBytesMagic = 0x52435432;  // "RCT2": layout below, version 2 (attributes)
constexpr std::size_t kCustomerBytes = 64;

}  // namespace

std::string customer_table_bytes(const CustomerTable& table) {
  std::string out;
  std::size_t names = 0;
  for (const auto& c : table.countries) names += 4 + c.size();
  for (const Attribute& a : table.attributes) {
    names += 12 + a.name.size();
    for (const auto& l : a.levels) names += 4 + l.size();
  }
  out.reserve(4 + 8 + 8 + 8 + names + table.customers.size() * (kCustomerBytes + 4 * table.attributes.size()));
  ByteWriter w(out);
  w.put(kTableBytesMagic);
  w.put(static_cast<std::uint64_t>(table.countries.size()));
  for (const auto& c : table.countries) w.put_text(c);
  // The attributes' names and levels before the rows, so the row count checks the length.
  w.put(static_cast<std::uint64_t>(table.attributes.size()));
  for (const Attribute& a : table.attributes) {
    w.put_text(a.name);
    w.put(static_cast<std::uint64_t>(a.levels.size()));
    for (const auto& l : a.levels) w.put_text(l);
  }
  w.put(static_cast<std::uint64_t>(table.customers.size()));
  for (std::size_t i = 0; i < table.customers.size(); ++i) {
    const Customer& c = table.customers[i];
    w.put(c.id), w.put(c.sheet_row), w.put(c.country);
    w.put(c.education), w.put(c.status), w.put(c.stage), w.put(static_cast<std::uint8_t>(c.platform_signup_declined));
    w.put(c.first_contact), w.put(c.last_contact);
    for (Day d : c.milestone) w.put(d);
    w.put(static_cast<std::uint8_t>(c.subscribed)), w.put(static_cast<std::uint8_t>(c.cohort));
    w.put(c.t0);
    w.put(static_cast<std::int8_t>(c.split)), w.put(c.fold);
    for (const Attribute& a : table.attributes) w.put(a.code[i]);
  }
  return out;
}

CustomerTable customer_table_from_bytes(std::string_view bytes) {
  ByteReader r(bytes, "customer table bytes");
  if (r.get<std::uint32_t>() != kTableBytesMagic) throw std::invalid_argument("customer table bytes: unknown layout");
  CustomerTable t;
  const auto countries = r.get<std::uint64_t>();
  if (countries > r.left() / 4) throw std::invalid_argument("customer table bytes: truncated");
  t.countries.reserve(countries);
  for (std::uint64_t k = 0; k < countries; ++k) t.countries.push_back(r.get_text());
  const auto attributes = r.get<std::uint64_t>();
  if (attributes > r.left() / 4) throw std::invalid_argument("customer table bytes: truncated");
  t.attributes.resize(attributes);
  for (Attribute& a : t.attributes) {
    a.name = r.get_text();
    const auto levels = r.get<std::uint64_t>();
    if (levels > r.left() / 4) throw std::invalid_argument("customer table bytes: truncated");
    for (std::uint64_t l = 0; l < levels; ++l) a.levels.push_back(r.get_text());
  }
  const std::size_t row_bytes = kCustomerBytes + 4 * attributes;
  const auto n = r.get<std::uint64_t>();
  if (n != r.left() / row_bytes || r.left() % row_bytes != 0)
    throw std::invalid_argument("customer table bytes: " + std::to_string(n) + " customers but " +
                                std::to_string(r.left()) + " bytes");
  t.customers.resize(n);
  for (Attribute& a : t.attributes) a.code.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    Customer& c = t.customers[i];
    c.id = r.get<std::int64_t>(), c.sheet_row = r.get<std::int64_t>(), c.country = r.get<std::int32_t>();
    c.education = r.get<std::uint8_t>(), c.status = r.get<std::uint8_t>(), c.stage = r.get<std::uint8_t>();
    c.platform_signup_declined = r.get<std::uint8_t>() != 0;
    c.first_contact = r.get<Day>(), c.last_contact = r.get<Day>();
    for (Day& d : c.milestone) d = r.get<Day>();
    c.subscribed = r.get<std::uint8_t>() != 0;
    c.cohort = static_cast<Cohort>(r.get<std::uint8_t>());
    c.t0 = r.get<Day>();
    c.split = static_cast<Split>(r.get<std::int8_t>());
    c.fold = r.get<std::int8_t>();
    for (Attribute& a : t.attributes) {
      a.code[i] = r.get<std::int32_t>();
      if (a.code[i] < -1 || a.code[i] >= static_cast<std::int32_t>(a.levels.size()))
        throw std::invalid_argument("customer table bytes: attribute code out of range");
    }
  }
  return t;
}

}  // namespace reinforcer
