#include "reinforcer/results/prepared_file.hpp"

#include <unordered_map>

#include "reinforcer/stats/proportion.hpp"
#include "reinforcer/core/errors.hpp"

namespace reinforcer {
namespace {

const std::array<std::string, kMilestones + 2> kDateFields = {
    "first_contact_day", "last_contact_day", "first_call_day", "demo_day", "survey_day",
    "platform_signup_day", "account_manager_day", "subscribed_day"};

Day date_field(const Customer& c, std::size_t f) {
  if (f == 0) return c.first_contact;
  if (f == 1) return c.last_contact;
  return c.milestone[f - 2];
}

void write_customers(const h5::Group& root, const CustomerTable& t) {
  const auto& cs = t.customers;
  const std::size_t n = cs.size();
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
  table.add("id", id).add("sheet_row", row);
  table.add_strings("country", [&](std::size_t i) {
    return cs[i].country < 0 ? std::string_view() : std::string_view(t.countries[static_cast<std::size_t>(cs[i].country)]);
  });
  table.add_strings("education", [&](std::size_t i) { return std::string_view(educations[cs[i].education]); });
  table.add_strings("status", [&](std::size_t i) { return kStatusValues[cs[i].status]; });
  table.add_strings("stage", [&](std::size_t i) { return kStageValues[cs[i].stage]; });
  for (std::size_t f = 0; f < kDateFields.size(); ++f) {
    std::vector<std::int32_t> d(n);
    for (std::size_t i = 0; i < n; ++i) d[i] = date_field(cs[i], f);
    table.add(kDateFields[f], d);
  }
  table.add("platform_signup_declined", declined).add("subscribed", label);
  table.add_strings("cohort", [&](std::size_t i) { return kCohortNames[static_cast<std::size_t>(cs[i].cohort)]; });
  table.add("t0_day", t0).add("t0_month", month);
  table.add_strings("split", [&](std::size_t i) { return kSplitNames[static_cast<std::size_t>(cs[i].split)]; });
  table.add("fold", fold);
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
  const h5::File f = h5::File::create(path);
  write_provenance(f, kPreparedFormat, kPreparedFormatVersion, provenance);
  f.set_attribute("folds", static_cast<std::int64_t>(data.split_options.folds));
  f.set_attribute("seed", static_cast<std::int64_t>(data.split_options.seed));
  const auto& s = data.split_options.shares;
  f.set_attribute("split_shares", std::to_string(s[0]) + "," + std::to_string(s[1]) + "," + std::to_string(s[2]));
  f.set_attribute("missing_day", static_cast<std::int64_t>(kNoDay));
  write_customers(f, data.ingest.table);
  write_quality(f, data.ingest.report);
  write_summary(f, data);
  f.flush();
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

CustomerTable read_customer_table(const h5::Group& f, const std::string& path) {
  CustomerTable t;
  const std::string tab = "customers";
  const auto id = f.read_int_column(tab, "id");
  const auto row = f.read_int_column(tab, "sheet_row");
  const auto country = f.read_string_column(tab, "country");
  const auto education = f.read_string_column(tab, "education");
  const auto status = f.read_string_column(tab, "status");
  const auto stage = f.read_string_column(tab, "stage");
  std::array<std::vector<std::int64_t>, kDateFields.size()> dates;
  for (std::size_t k = 0; k < kDateFields.size(); ++k) dates[k] = f.read_int_column(tab, kDateFields[k]);
  const auto declined = f.read_int_column(tab, "platform_signup_declined");
  const auto label = f.read_int_column(tab, "subscribed");
  const auto cohort = f.read_string_column(tab, "cohort");
  const auto t0 = f.read_int_column(tab, "t0_day");
  const auto split = f.read_string_column(tab, "split");
  const auto fold = f.read_int_column(tab, "fold");
  auto code_in = [&](const auto& domain, const std::string& value, const char* what) {
    for (std::size_t k = 0; k < domain.size(); ++k)
      if (domain[k] == value) return k;
    throw InputError(path + ": customers." + what + " holds '" + value + "', which is not a known value");
  };
  std::unordered_map<std::string, std::int32_t> country_code;
  t.customers.resize(id.size());
  for (std::size_t i = 0; i < id.size(); ++i) {
    Customer& c = t.customers[i];
    c.id = id[i], c.sheet_row = row[i];
    if (!country[i].empty()) {
      auto [it, added] = country_code.try_emplace(country[i], static_cast<std::int32_t>(t.countries.size()));
      if (added) t.countries.push_back(country[i]);
      c.country = it->second;
    }
    c.education = education[i].empty() ? 0 : static_cast<std::uint8_t>(std::stoi(education[i].substr(1)));
    c.status = static_cast<std::uint8_t>(code_in(kStatusValues, status[i], "status"));
    c.stage = static_cast<std::uint8_t>(code_in(kStageValues, stage[i], "stage"));
    c.first_contact = static_cast<Day>(dates[0][i]);
    c.last_contact = static_cast<Day>(dates[1][i]);
    for (std::size_t m = 0; m < kMilestones; ++m) c.milestone[m] = static_cast<Day>(dates[m + 2][i]);
    c.platform_signup_declined = declined[i] != 0;
    c.subscribed = label[i] != 0;
    c.cohort = static_cast<Cohort>(code_in(kCohortNames, cohort[i], "cohort"));
    c.t0 = static_cast<Day>(t0[i]);
    c.split = static_cast<Split>(code_in(kSplitNames, split[i], "split"));
    c.fold = static_cast<std::int8_t>(fold[i]);
  }
  return t;
}

}  // namespace reinforcer
