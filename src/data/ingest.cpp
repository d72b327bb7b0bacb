// CONTRACT.md, executed: every cell of the export is classified, nothing is dropped
// without being counted. Two passes: rows are read once into compact records, because
// the export date (and so the range check) and the countries' canonical spellings depend
// on the whole file.
#include "reinforcer/data/ingest.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "reinforcer/data/raw_table.hpp"
#include "reinforcer/core/errors.hpp"
#include "attribute_columns.hpp"
#include "text_domains.hpp"

namespace reinforcer {
namespace {

enum class Reason : std::uint8_t { none, impossible_date, out_of_range, text_in_date, error_cell, too_long };
const char* reason_text(Reason r) {
  switch (r) {
    case Reason::impossible_date: return "impossible date";
    case Reason::out_of_range: return "out of range";
    case Reason::text_in_date: return "text in a date column";
    case Reason::error_cell: return "error cell";
    case Reason::too_long: return "too long";
    default: return "";
  }
}

constexpr std::size_t kDateSlots = 8;  // First Contact, Last Contact, six pipeline steps
constexpr CrmColumn kDateColumns[kDateSlots] = {
    CrmColumn::first_contact, CrmColumn::last_contact, CrmColumn::first_call, CrmColumn::demo,
    CrmColumn::survey, CrmColumn::platform_signup, CrmColumn::account_manager, CrmColumn::subscribed};
constexpr std::size_t kFirstStepSlot = 2;

struct DateCell {
  Day day = kNoDay;
  CellClass cls = CellClass::empty;
  Reason reason = Reason::none;
  bool numeric = false;              // an xlsx serial (or, in CSV, yyyy-mm-dd text)
  std::uint32_t text_ref = UINT32_MAX;  // raw text, for cells that held text
};

constexpr std::size_t kTextSlots = 4;  // Country, Education, Status, Stage
constexpr CrmColumn kTextColumns[kTextSlots] = {CrmColumn::country, CrmColumn::education, CrmColumn::status,
                                                CrmColumn::stage};

struct RowRecord {
  std::int64_t id = 0;
  std::int64_t sheet_row = 0;
  bool id_repaired = false;
  // Interned raw text; -1 empty; -2 - k: too long, raw_texts_[k] its excerpt.
  std::array<std::int32_t, kTextSlots> text{-1, -1, -1, -1};
  std::array<DateCell, kDateSlots> date;
};

class Interner {
 public:
  std::int32_t intern(const std::string& s) {
    auto [it, added] = ids_.try_emplace(s, static_cast<std::int32_t>(strings_.size()));
    if (added) strings_.push_back(s), counts_.push_back(0);
    ++counts_[static_cast<std::size_t>(it->second)];
    return it->second;
  }
  const std::vector<std::string>& strings() const { return strings_; }
  const std::vector<std::int64_t>& counts() const { return counts_; }

 private:
  std::unordered_map<std::string, std::int32_t> ids_;
  std::vector<std::string> strings_;
  std::vector<std::int64_t> counts_;
};

bool space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

bool is_blank(const RawCell& c) {
  if (c.kind == RawKind::empty) return true;
  if (c.kind != RawKind::text) return false;
  for (char ch : c.text)
    if (!space(ch) && static_cast<unsigned char>(ch) != 0xA0) return false;
  return true;
}

std::string_view trimmed(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && space(s[b])) ++b;
  while (e > b && space(s[e - 1])) --e;
  return s.substr(b, e - b);
}

class Ingest {
 public:
  Ingest(const std::string& path, const IngestOptions& opt) : path_(path), opt_(opt) {}

  IngestResult run() {
    auto reader = open_raw_table(path_);
    csv_ = reader->dates_are_text();
    map_header(reader->header());
    records_.reserve(reader->rows_hint());
    RawRow row;
    std::unordered_map<std::int64_t, std::int64_t> seen_ids;
    while (reader->next(row)) {
      if (std::all_of(row.cells.begin(), row.cells.end(), is_blank)) {
        ++result_.report.blank_rows;
        continue;
      }
      RowRecord rec;
      rec.sheet_row = row.sheet_row;
      if (row.padded) padded_rows_.push_back(row.sheet_row);
      read_id(row, rec);
      if (auto [it, added] = seen_ids.emplace(rec.id, rec.sheet_row); !added)
        throw InputError(path_ + ": ID " + std::to_string(rec.id) + " appears twice, in rows " +
                         std::to_string(it->second) + " and " + std::to_string(rec.sheet_row) +
                         "; IDs must be unique");
      for (std::size_t t = 0; t < kTextSlots; ++t) {
        const RawCell& c = cell(row, kTextColumns[t]);
        if (is_blank(c)) continue;
        rec.text[t] = trimmed(c.text).size() > kMaxCellChars ? -2 - static_cast<std::int32_t>(keep_text(cell_excerpt(c.text)))
                                                             : text_[t].intern(c.text);
      }
      for (std::size_t d = 0; d < kDateSlots; ++d) rec.date[d] = read_date(cell(row, kDateColumns[d]), d);
      records_.push_back(rec);
      attributes_->read_row(row);
    }
    reader.reset();  // the CSV's bytes are not needed any more
    if (records_.empty()) throw InputError(path_ + ": no customer rows below the header");
    settle_dates();
    classify_texts();
    build_customers();
    attributes_->finish(result_.table, result_.report);
    return std::move(result_);
  }

 private:
  const RawCell& cell(const RawRow& row, CrmColumn c) const { return row.cells[column_at_[index_of(c)]]; }

  void map_header(const std::vector<std::string>& header) {
    QualityReport& rep = result_.report;
    rep.input_path = path_;
    rep.csv = csv_;
    rep.earliest_date = opt_.earliest_date;
    std::vector<bool> used(header.size(), false);
    std::string missing;
    for (std::size_t c = 0; c < kCrmColumns; ++c) {
      const std::string want = clean_spacing(std::string(kCrmColumnNames[c]), true);
      bool found = false;
      for (std::size_t h = 0; h < header.size(); ++h) {
        if (clean_spacing(header[h], true) != want) continue;
        if (found)
          throw InputError(path_ + ": header row: column '" + std::string(kCrmColumnNames[c]) +
                           "' appears twice; rename or delete one");
        column_at_[c] = h;
        used[h] = true;
        found = true;
      }
      if (!found) missing += (missing.empty() ? "'" : ", '") + std::string(kCrmColumnNames[c]) + "'";
    }
    if (!missing.empty())
      throw InputError(path_ + ": header row: missing required column " + missing +
                       " (columns are matched by name, ignoring case and spaces)");
    attributes_.emplace(opt_.attributes, header, used, opt_.attributes_option, path_);
    for (std::size_t h = 0; h < header.size(); ++h)
      if (!used[h] && !attributes_->declared(h) && !trimmed(header[h]).empty()) rep.extra_columns.push_back(header[h]);
    for (auto name : kCrmColumnNames) rep.columns.push_back(ColumnQuality{std::string(name), {}, {}, {}});
  }

  void read_id(const RawRow& row, RowRecord& rec) {
    const RawCell& c = cell(row, CrmColumn::id);
    const std::string where = path_ + ": row " + std::to_string(row.sheet_row) + ", column ID";
    if (is_blank(c)) throw InputError(where + ": the ID is missing; every customer row needs a whole-number ID");
    if (c.kind == RawKind::number) {
      if (c.number != std::floor(c.number) || std::fabs(c.number) > 9e15)
        throw InputError(where + ": '" + cell_excerpt(c.text) + "' is not a whole number");
      rec.id = static_cast<std::int64_t>(c.number);
      return;
    }
    const std::string_view t = trimmed(c.text);
    const bool negative = t.size() > 1 && t[0] == '-';
    bool digits = t.size() > (negative ? 1u : 0u) && t.size() <= 18;
    std::int64_t id = 0;
    for (std::size_t k = negative ? 1 : 0; k < t.size() && digits; ++k) {
      digits = t[k] >= '0' && t[k] <= '9';
      id = id * 10 + (t[k] - '0');
    }
    if (!digits || c.kind != RawKind::text) throw InputError(where + ": '" + cell_excerpt(c.text) + "' is not a whole number");
    rec.id = negative ? -id : id;
    rec.id_repaired = !csv_;  // a number stored as text in a spreadsheet
  }

  std::uint32_t keep_text(const std::string& s) {
    raw_texts_.push_back(s);
    return static_cast<std::uint32_t>(raw_texts_.size() - 1);
  }

  DateCell read_date(const RawCell& c, std::size_t slot) {
    DateCell d;
    if (is_blank(c)) return d;
    const bool step = slot >= kFirstStepSlot;
    auto reject = [&](Reason r) {
      d.cls = CellClass::rejected;
      d.reason = r;
      return d;
    };
    if (c.kind == RawKind::number && !csv_) {
      // Excel's dates run from serial 1 (1900-01-01) to 2,958,465 (9999-12-31); a larger one
      // cast to a day would wrap (4,295,010,865 became a 2019 date) or overflow (1e308, NaN).
      if (!(c.number >= 1 && c.number < kLastExcelSerial + 1)) return d.text_ref = keep_text(c.text), reject(Reason::out_of_range);
      d.numeric = true;
      d.cls = CellClass::ok;
      d.day = day_from_excel_serial(c.number);
      if (c.number != std::floor(c.number)) d.text_ref = keep_text(c.text);
      return d;
    }
    if (c.kind == RawKind::error) return d.text_ref = keep_text(c.text), reject(Reason::error_cell);
    if (trimmed(c.text).size() > kMaxCellChars) return d.text_ref = keep_text(cell_excerpt(c.text)), reject(Reason::too_long);
    if (c.kind != RawKind::text) return d.text_ref = keep_text(c.text), reject(Reason::text_in_date);
    const std::string_view t = trimmed(c.text);
    const ParsedDateText p = parse_date_text(t);
    // The raw text is kept for the report unless it is the date's own spelling (CSV dates).
    const bool own_spelling = csv_ && p.shape == DateTextShape::iso_padded && p.real && t.size() == c.text.size();
    if (!own_spelling) d.text_ref = keep_text(c.text);
    if (step && p.shape == DateTextShape::not_a_date && clean_spacing(std::string(t), true) == "no") {
      d.cls = CellClass::negative;
      return d;
    }
    if (p.shape == DateTextShape::not_a_date) return reject(Reason::text_in_date);
    if (!p.real) return reject(Reason::impossible_date);
    d.day = days_from_civil(p.year, p.month, p.day);
    d.numeric = csv_ && p.shape == DateTextShape::iso_padded;  // how CSV stores a date
    d.cls = d.numeric ? CellClass::ok : CellClass::repaired;
    return d;
  }

  // The export date (inferred unless given), then the range check on every date.
  void settle_dates() {
    QualityReport& rep = result_.report;
    if (opt_.export_date) {
      rep.export_date = *opt_.export_date;
      rep.export_date_inferred = false;
    } else {
      Day latest_first = kNoDay;
      for (const auto& r : records_)
        if (r.date[0].numeric) latest_first = std::max(latest_first, r.date[0].day);
      if (latest_first == kNoDay)
        throw InputError(path_ + ": cannot infer the export date: no First Contact is stored as a date; give --export-date");
      Day export_day = kNoDay;
      for (const auto& r : records_)
        for (std::size_t d = kFirstStepSlot; d < kDateSlots; ++d)
          if (r.date[d].numeric && r.date[d].day <= latest_first + 365) export_day = std::max(export_day, r.date[d].day);
      if (export_day == kNoDay)
        throw InputError(path_ + ": cannot infer the export date: no pipeline step is stored as a date; give --export-date");
      rep.export_date = export_day;
    }
    for (auto& r : records_)
      for (auto& d : r.date)
        if ((d.cls == CellClass::ok || d.cls == CellClass::repaired) &&
            (d.day < opt_.earliest_date || d.day > rep.export_date)) {
          d.cls = CellClass::rejected;
          d.reason = Reason::out_of_range;
        }
  }

  void classify_texts() {
    country_ = classify_countries(text_[0].strings(), text_[0].counts(), opt_.aliases, result_.table.countries);
    for (std::size_t t = 1; t < kTextSlots; ++t)
      domain_[t] = classify_domain(kTextColumns[t], text_[t].strings());
  }

  std::string raw_of(const DateCell& d) const {
    if (d.text_ref != UINT32_MAX) return raw_texts_[d.text_ref];
    if (csv_) return format_day(d.day);                                            // its own spelling
    return std::to_string(static_cast<std::int64_t>(d.day) + kExcelEpochOffset);  // the serial
  }

  // Counts a cell; describe() -> {raw, outcome} runs only while examples are still wanted.
  template <typename Describe>
  void note(CrmColumn col, CellClass cls, std::int64_t row, const Describe& describe, const char* reason = "") {
    ColumnQuality& q = result_.report.columns[index_of(col)];
    const auto k = static_cast<std::size_t>(cls);
    ++q.counts[k];
    if (cls == CellClass::rejected) q.count_rejection(reason);
    if (q.examples[k].size() < kExamplesPerClass) {
      auto [raw, outcome] = describe();
      q.examples[k].push_back(CellExample{row, std::move(raw), std::move(outcome)});
    }
  }
  using Described = std::pair<std::string, std::string>;

  void warn(std::size_t w, std::int64_t row, std::string found, std::string done) {
    RowWarning& rw = result_.report.warnings[w];
    ++rw.count;
    if (rw.examples.size() < kExamplesPerClass) rw.examples.push_back(CellExample{row, std::move(found), std::move(done)});
  }

  void build_customers() {
    QualityReport& rep = result_.report;
    rep.warnings = {RowWarning{"last contact before first contact", 0, {}},
                    RowWarning{"pipeline step dated before first contact", 0, {}},
                    RowWarning{"account manager assigned on or after subscription", 0, {}},
                    RowWarning{"subscribed on or before decision time t0", 0, {}}};
    auto& out = result_.table.customers;
    out.reserve(records_.size());
    std::vector<bool> country_used(result_.table.countries.size(), false);
    for (const RowRecord& r : records_) {
      Customer c;
      c.id = r.id;
      c.sheet_row = r.sheet_row;
      note(CrmColumn::id, r.id_repaired ? CellClass::repaired : CellClass::ok, r.sheet_row,
           [&] { return Described{std::to_string(r.id), std::to_string(r.id)}; });
      for (std::size_t t = 0; t < kTextSlots; ++t) {
        const CrmColumn col = kTextColumns[t];
        if (r.text[t] == -1) {
          note(col, CellClass::empty, r.sheet_row, [] { return Described{}; });
          continue;
        }
        if (r.text[t] < -1) {
          const std::string& excerpt = raw_texts_[static_cast<std::size_t>(-2 - r.text[t])];
          note(col, CellClass::rejected, r.sheet_row, [&] { return Described{excerpt, "rejected: too long"}; }, "too long");
          continue;
        }
        const auto id = static_cast<std::size_t>(r.text[t]);
        const TextOutcome& o = t == 0 ? country_[id] : domain_[t][id];
        note(col, o.cls, r.sheet_row, [&] { return Described{text_[t].strings()[id], o.outcome}; }, o.reason.c_str());
        if (o.code < 0) continue;
        if (t == 0) c.country = o.code, country_used[static_cast<std::size_t>(o.code)] = true;
        if (t == 1) c.education = static_cast<std::uint8_t>(o.code);
        if (t == 2) c.status = static_cast<std::uint8_t>(o.code);
        if (t == 3) c.stage = static_cast<std::uint8_t>(o.code);
      }
      std::array<Day, kDateSlots> valid;
      for (std::size_t d = 0; d < kDateSlots; ++d) {
        const DateCell& dc = r.date[d];
        const bool ok = dc.cls == CellClass::ok || dc.cls == CellClass::repaired;
        valid[d] = ok ? dc.day : kNoDay;
        note(kDateColumns[d], dc.cls, r.sheet_row, [&] {
          std::string outcome = ok ? format_day(dc.day)
                                : dc.cls == CellClass::negative ? "not reached"
                                : dc.cls == CellClass::rejected ? std::string("rejected: ") + reason_text(dc.reason)
                                                                : "";
          return Described{dc.cls == CellClass::empty ? "" : raw_of(dc), std::move(outcome)};
        }, reason_text(dc.reason));
      }
      c.first_contact = valid[0];
      c.last_contact = valid[1];
      for (std::size_t m = 0; m < kMilestones; ++m) c.milestone[m] = valid[kFirstStepSlot + m];
      c.platform_signup_declined = r.date[kFirstStepSlot + 3].cls == CellClass::negative;
      derive(c);
      out.push_back(c);
    }
    if (csv_) {
      rep.warnings.push_back(RowWarning{"CSV row with fewer fields than the header (padded with empty cells)", 0, {}});
      for (std::int64_t row : padded_rows_) warn(4, row, "short row", "missing trailing cells taken as empty");
    }
    rep.customers = static_cast<std::int64_t>(out.size());
    rep.distinct_countries = std::count(country_used.begin(), country_used.end(), true);
  }

  void derive(Customer& c) {
    const Day sub = c.milestone[static_cast<std::size_t>(Milestone::subscribed)];
    c.subscribed = sub != kNoDay || c.stage == kStageSubscribed;
    Day earliest_step = kNoDay;
    for (Day d : c.milestone)
      if (d != kNoDay && (earliest_step == kNoDay || d < earliest_step)) earliest_step = d;
    if (c.first_contact != kNoDay) {
      c.cohort = Cohort::outbound;
      c.t0 = c.first_contact;
    } else if (earliest_step != kNoDay) {
      c.cohort = Cohort::inbound;
      c.t0 = earliest_step;
    }
    if (c.first_contact != kNoDay && c.last_contact != kNoDay && c.last_contact < c.first_contact)
      warn(0, c.sheet_row, "Last Contact " + format_day(c.last_contact) + " < First Contact " + format_day(c.first_contact),
           "kept");
    if (c.first_contact != kNoDay && earliest_step != kNoDay && earliest_step < c.first_contact)
      warn(1, c.sheet_row, "step on " + format_day(earliest_step) + " < First Contact " + format_day(c.first_contact),
           "step counts as reached at t0");
    const Day am = c.milestone[static_cast<std::size_t>(Milestone::account_manager)];
    if (am != kNoDay && sub != kNoDay && am >= sub)
      warn(2, c.sheet_row, "Account Manager " + format_day(am) + " >= Subscribed " + format_day(sub),
           "not a cause of the subscription");
    if (subscribed_by_t0(c))
      warn(3, c.sheet_row, "Subscribed " + format_day(sub) + " <= t0 " + format_day(c.t0),
           "no prospect at decision time: kept as a subscriber, set aside from targeting, training starts and the call list");
  }

  std::string path_;
  const IngestOptions& opt_;
  bool csv_ = false;
  std::array<std::size_t, kCrmColumns> column_at_{};
  std::vector<RowRecord> records_;
  std::vector<std::int64_t> padded_rows_;
  std::optional<AttributeColumns> attributes_;
  std::vector<std::string> raw_texts_;
  std::array<Interner, kTextSlots> text_;
  std::vector<TextOutcome> country_;
  std::array<std::vector<TextOutcome>, kTextSlots> domain_;
  IngestResult result_;
};

}  // namespace

IngestResult ingest_crm(const std::string& path, const IngestOptions& options) { return Ingest(path, options).run(); }

}  // namespace reinforcer
