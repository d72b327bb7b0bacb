// The synthetic CRM export's entry point and row stream: model -> cells -> dirt -> truth,
// one customer at a time, so any size streams through constant memory.
#include <algorithm>
#include <cctype>

#include "reinforcer/data/synth.hpp"
#include "reinforcer/core/errors.hpp"
#include "synth_internal.hpp"

namespace reinforcer {
namespace synth {
namespace {

void set_text(Cell& c, std::string_view text) {
  c.kind = text.empty() ? CellKind::empty : CellKind::text;
  c.text = text.data();  // the model's tables hold NUL-terminated literals
  c.size = static_cast<std::uint32_t>(text.size());
}

constexpr std::size_t kDateColumn[8] = {
    index_of(CrmColumn::first_contact), index_of(CrmColumn::last_contact), index_of(CrmColumn::first_call),
    index_of(CrmColumn::demo),          index_of(CrmColumn::survey),       index_of(CrmColumn::platform_signup),
    index_of(CrmColumn::account_manager), index_of(CrmColumn::subscribed)};

}  // namespace

RowStream::RowStream(const SynthOptions& o, bool xlsx)
    : model_(o),
      dirt_(o.dirty ? std::make_unique<DirtPlan>(o, xlsx) : nullptr),
      customers_(o.customers),
      extra_(o.extra_attributes),
      blank_total_(DirtPlan::blank_rows(o, xlsx)) {
  truth_.customers = customers_;
  truth_.blank_rows = blank_total_;
}

RowStream::~RowStream() = default;

std::vector<std::string> RowStream::header() const {
  std::vector<std::string> h(kCrmColumnNames.begin(), kCrmColumnNames.end());
  for (int a = 1; a <= extra_; ++a) h.push_back("Attribute " + std::to_string(a));
  return h;
}

void RowStream::fill(const Record& rec, Row& row, Valid& valid) const {
  for (Cell& c : row.cells) c.kind = CellKind::empty;
  set_text(row.cells[index_of(CrmColumn::country)], rec.country < 0 ? std::string_view() : country_name(rec.country));
  set_text(row.cells[index_of(CrmColumn::education)], education_name_of(rec.education));
  set_text(row.cells[index_of(CrmColumn::status)], kStatusValues[static_cast<std::size_t>(rec.status)]);
  set_text(row.cells[index_of(CrmColumn::stage)], kStageValues[static_cast<std::size_t>(rec.stage)]);
  valid.day[0] = rec.first_contact;
  valid.day[1] = rec.last_contact;
  for (std::size_t k = 0; k < kMilestones; ++k) valid.day[2 + k] = rec.step[k];
  for (std::size_t d = 0; d < 8; ++d)
    if (valid.day[d] != kNoDay) {
      row.cells[kDateColumn[d]].kind = CellKind::date;
      row.cells[kDateColumn[d]].day = valid.day[d];
    }
  valid.stage = rec.stage;
  for (std::size_t a = 0; a < rec.attributes.size(); ++a)
    set_text(row.cells[kCrmColumns + a], attribute_level_name(rec.attributes[a]));
}

// The contract's derivations (CONTRACT.md "Derived fields") on what ingest will find valid.
void RowStream::count(const Valid& v) {
  const bool any_step = std::any_of(v.day.begin() + 2, v.day.end(), [](Day d) { return d != kNoDay; });
  if (v.day[0] != kNoDay)
    ++truth_.outbound;
  else if (any_step)
    ++truth_.inbound;
  else
    ++truth_.undated;
  if (v.day[7] != kNoDay || v.stage == kStageSubscribed) ++truth_.subscribed;
}

bool RowStream::next(Row& row) {
  row.cells.resize(columns());
  if (index_ < customers_) {
    // The dirt on Subscribed and on Account Manager needs two dated, Stage-labelled
    // subscribers after its first due row; a file of kDirtPromisedFrom customers lacks them
    // about once in 500 seeds. Then the two rows before the anchor are made such subscribers,
    // decided on clean records alone, so clean and dirty files keep the same labels.
    const bool force = customers_ >= kDirtPromisedFrom && index_ >= customers_ - 3 && index_ < customers_ - 1 &&
                       showcase_ < 2;
    model_.make(index_, rec_, force);
    if (index_ >= kDirtFirstDueBy && rec_.step[5] != kNoDay && rec_.stage == kStageSubscribed) ++showcase_;
    Valid valid;
    fill(rec_, row, valid);
    if (dirt_) dirt_->apply(index_, rec_, row, valid);
    count(valid);
    row.id = ++index_;
    return true;
  }
  if (blanks_done_ < blank_total_) {
    ++blanks_done_;
    row.id = 0;
    for (Cell& c : row.cells) c.kind = CellKind::empty;
    return true;
  }
  return false;
}

}  // namespace synth

SynthTruth write_synthetic_crm(const SynthOptions& options, const std::string& path) {
  std::string ext = path.size() >= 5 ? path.substr(path.size() - 5) : path;
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const bool xlsx = ext == ".xlsx";
  if (!xlsx && ext.substr(ext.size() >= 4 ? ext.size() - 4 : 0) != ".csv")
    throw UsageError("synthetic data: the output '" + path + "' must end in .csv or .xlsx (the format is chosen by the extension)");
  if (options.customers < 1)
    throw UsageError("synthetic data: the number of customers must be at least 1 (got " +
                     std::to_string(options.customers) + ")");
  if (xlsx && options.customers > kXlsxMaxCustomers)
    throw UsageError("synthetic data: an xlsx holds at most " + std::to_string(kXlsxMaxCustomers) +
                     " customers (Excel's limit of 1,048,576 rows, one of them the header); got " +
                     std::to_string(options.customers) + "; write a .csv for more");
  if (options.extra_attributes < 0 || options.extra_attributes > kMaxExtraAttributes)
    throw UsageError("synthetic data: extra attributes must be between 0 and " + std::to_string(kMaxExtraAttributes) +
                     " (got " + std::to_string(options.extra_attributes) + ")");
  synth::RowStream rows(options, xlsx);
  if (xlsx)
    synth::write_xlsx(rows, options, path);
  else
    synth::write_csv(rows, path);
  return rows.truth();
}

}  // namespace reinforcer
