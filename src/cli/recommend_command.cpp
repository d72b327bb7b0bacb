// `reinforcer recommend`: the call list as CSV or as an xlsx working sheet.
#include <xlsxwriter.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <sstream>

#include "reinforcer/cli/command.hpp"
#include "reinforcer/cli/text_writer.hpp"
#include "reinforcer/data/quality_report_text.hpp"
#include "reinforcer/data/raw_table.hpp"
#include "reinforcer/core/errors.hpp"
#include "reinforcer/eval/call_list.hpp"
#include "reinforcer/core/atomic_output.hpp"
#include "reinforcer/results/evaluation_file.hpp"
#include "reinforcer/results/frame.hpp"

namespace reinforcer {
namespace {

enum class Kind { text, integer, percent, decimal };
struct Column {
  const char* name;
  Kind kind;
  const char* meaning;
};
// The columns of the list, in order, with what each means (the xlsx's explanation sheet).
const std::vector<Column> kColumns = {
    {"rank", Kind::integer, "Position within the lead's section (1 = work first)."},
    {"section", Kind::text,
     "act: an action pays at the assumed success probabilities (ranked by --rank-by); beyond capacity: the same, "
     "past --capacity; wait: no action pays, ranked by p_subscribe; negative stage: Stage says not interested, "
     "declined/canceled call or did not join the call; stale: no activity for the stale weeks (see below)."},
    {"id", Kind::integer, "Customer id as in the export."},
    {"cohort", Kind::text, "outbound or inbound (how the lead came in)."},
    {"country", Kind::text, "Country (cleaned); unknown when missing."},
    {"education", Kind::text, "Education level (B1..B30); unknown when missing."},
    {"stage", Kind::text, "Stage in the CRM at the export date."},
    {"milestones", Kind::text, "Milestones reached by the export date (first call, demo, survey, platform signup, account manager)."},
    {"weeks_since_t0", Kind::integer, "Weeks from the lead's decision time (first contact) to the export date."},
    {"weeks_since_activity", Kind::integer, "Weeks since the latest of first contact, last contact and any milestone."},
    {"p_subscribe", Kind::percent, "Chance to subscribe in the next weeks (see below) if nothing changes (the status quo of the fitted funnel)."},
    {"low95", Kind::percent, "Lower end of p_subscribe's 95% interval over the bootstrap refits."},
    {"high95", Kind::percent, "Upper end of p_subscribe's 95% interval over the bootstrap refits."},
    {"next_action", Kind::text, "The best action this week at the assumed success probabilities and costs (exact DP); wait when none pays."},
    {"extra_per_1000", Kind::decimal, "Expected extra subscriptions per 1,000 such leads from taking next_action this week rather than waiting."},
    {"gain_per_cost", Kind::decimal, "Expected extra subscriptions per unit cost of next_action (the act section's ranking key)."},
    {"assumed_success", Kind::percent, "The assumed chance that next_action reaches its milestone this week (an assumption, not data)."},
    {"break_even_action", Kind::text, "next_action; for a wait lead, the action whose break-even success is lowest."},
    {"break_even_success", Kind::percent,
     "The chance of success above which break_even_action beats waiting for this lead this week; above 100% or "
     "empty: no chance of success makes it pay."},
    {"top_share", Kind::percent, "Rank stability: share of the bootstrap refits in which the lead is in its section's top K (K below)."},
    {"reason", Kind::text, "Why the lead is listed where it is."},
    {"segment", Kind::text, "The model segment the lead is scored in."},
};

struct Listing {
  CallList list;
  ArrangedCallList arranged;
  std::size_t rows = 0;  // written
  RankBy rank_by = RankBy::gain;
  std::int64_t capacity = 0;
  std::string rank_by_text;
};

double number_of(const CallListRow& r, const ArrangedCallList& a, std::size_t pos, const std::string& name) {
  if (name == "rank") return static_cast<double>(a.rank[pos]);
  if (name == "id") return static_cast<double>(r.id);
  if (name == "weeks_since_t0") return r.weeks_since_t0;
  if (name == "weeks_since_activity") return r.weeks_since_activity;
  if (name == "p_subscribe") return r.p_subscribe;
  if (name == "low95") return r.low95;
  if (name == "high95") return r.high95;
  if (name == "extra_per_1000") return 1000 * r.extra_subscriptions;
  if (name == "gain_per_cost") return r.gain;
  if (name == "assumed_success") return r.next_action == "wait" ? std::nan("") : r.assumed_success;
  if (name == "break_even_success") return r.break_even_success;
  if (name == "top_share") return a.top_share[pos];
  throw std::logic_error("recommend: no number column " + name);
}
std::string text_of(const CallListRow& r, const ArrangedCallList& a, std::size_t pos, const std::string& name) {
  if (name == "section") return a.section[pos];
  if (name == "cohort") return r.cohort;
  if (name == "country") return r.country;
  if (name == "education") return r.education;
  if (name == "stage") return r.stage;
  if (name == "milestones") return r.milestones;
  if (name == "next_action") return r.next_action;
  if (name == "break_even_action") return r.break_even_action == "wait" ? "" : r.break_even_action;
  if (name == "reason") return r.reason;
  if (name == "segment") return r.segment;
  throw std::logic_error("recommend: no text column " + name);
}

// The one-line summary of the cut and the sections (printed and on the explanation sheet).
std::string summary(const Listing& l) {
  const auto& a = l.arranged;
  auto n = [&](LeadSection s) { return a.leads[static_cast<std::size_t>(s)]; };
  auto extra = [&](LeadSection s) { return a.extra[static_cast<std::size_t>(s)]; };
  std::ostringstream o;
  const std::int64_t paying = n(LeadSection::act) + n(LeadSection::beyond_capacity);
  o << with_thousands(paying) << " of " << with_thousands(static_cast<std::int64_t>(l.list.rows.size()))
    << " open leads have an action that pays at the assumed success probabilities (expected extra subscriptions "
    << fixed(extra(LeadSection::act) + extra(LeadSection::beyond_capacity), 2) << ")";
  if (l.capacity > 0)
    o << "; capacity " << with_thousands(l.capacity) << " contacts a week lists " << with_thousands(n(LeadSection::act))
      << " of them and leaves " << with_thousands(n(LeadSection::beyond_capacity)) << " (expected extra subscriptions "
      << fixed(extra(LeadSection::beyond_capacity), 2) << ") for later weeks";
  o << "; " << with_thousands(n(LeadSection::wait)) << " wait, " << with_thousands(n(LeadSection::negative_stage))
    << " negative stage, " << with_thousands(n(LeadSection::stale)) << " stale.";
  return o.str();
}

// The list as CSV, a row at a time (no table of every row's texts beside the list).
void write_csv(const Listing& l, const std::string& path) {
  std::ofstream o(path);
  for (std::size_t c = 0; c < kColumns.size(); ++c) o << (c ? "," : ""), write_csv_field(o, kColumns[c].name);
  o << "\n";
  for (std::size_t pos = 0; pos < l.rows; ++pos) {
    const CallListRow r = l.list.rows.row(l.arranged.order[pos]);
    for (std::size_t c = 0; c < kColumns.size(); ++c) {
      const Column& k = kColumns[c];
      o << (c ? "," : "");
      write_csv_field(o, k.kind == Kind::text ? text_of(r, l.arranged, pos, k.name) : number_cell(number_of(r, l.arranged, pos, k.name)));
    }
    o << "\n";
  }
  o.flush();
  if (!o) throw PathError(path + ": cannot write");
}

void write_xlsx(const Listing& l, const h5::Group& evaluation, const std::string& path) {
  lxw_workbook* wb = workbook_new(path.c_str());
  if (!wb) throw PathError(path + ": cannot create the xlsx");
  lxw_worksheet* ws = workbook_add_worksheet(wb, "Call list");
  lxw_format* header = workbook_add_format(wb);
  format_set_bold(header);
  format_set_text_wrap(header);
  format_set_bg_color(header, 0xDDEBF7);
  lxw_format* pct = workbook_add_format(wb);
  format_set_num_format(pct, "0.0%");
  lxw_format* dec = workbook_add_format(wb);
  format_set_num_format(dec, "0.00");
  lxw_format* integer = workbook_add_format(wb);
  format_set_num_format(integer, "0");
  std::vector<std::size_t> width(kColumns.size());
  for (std::size_t c = 0; c < kColumns.size(); ++c) {
    worksheet_write_string(ws, 0, static_cast<lxw_col_t>(c), kColumns[c].name, header);
    width[c] = std::string(kColumns[c].name).size();
  }
  for (std::size_t pos = 0; pos < l.rows; ++pos) {
    const CallListRow r = l.list.rows.row(l.arranged.order[pos]);
    const auto row = static_cast<lxw_row_t>(pos + 1);
    for (std::size_t c = 0; c < kColumns.size(); ++c) {
      const auto col = static_cast<lxw_col_t>(c);
      const Column& k = kColumns[c];
      if (k.kind == Kind::text) {
        const std::string v = text_of(r, l.arranged, pos, k.name);
        worksheet_write_string(ws, row, col, v.c_str(), nullptr);
        width[c] = std::max(width[c], v.size());
        continue;
      }
      const double v = number_of(r, l.arranged, pos, k.name);
      if (!std::isfinite(v)) {
        worksheet_write_string(ws, row, col, std::isinf(v) ? "never" : "", nullptr);
        continue;
      }
      worksheet_write_number(ws, row, col, v, k.kind == Kind::percent ? pct : k.kind == Kind::decimal ? dec : integer);
      width[c] = std::max<std::size_t>(width[c], 8);
    }
  }
  for (std::size_t c = 0; c < kColumns.size(); ++c)
    worksheet_set_column(ws, static_cast<lxw_col_t>(c), static_cast<lxw_col_t>(c),
                         static_cast<double>(std::min<std::size_t>(width[c], 60) + 2), nullptr);
  worksheet_freeze_panes(ws, 1, 0);
  worksheet_autofilter(ws, 0, 0, static_cast<lxw_row_t>(l.rows), static_cast<lxw_col_t>(kColumns.size() - 1));

  // The explanation sheet: every column, the assumptions, the cut.
  lxw_worksheet* about = workbook_add_worksheet(wb, "About");
  lxw_format* bold = workbook_add_format(wb);
  format_set_bold(bold);
  lxw_format* wrap = workbook_add_format(wb);
  format_set_text_wrap(wrap);
  format_set_align(wrap, LXW_ALIGN_VERTICAL_TOP);
  worksheet_set_column(about, 0, 0, 24, nullptr);
  worksheet_set_column(about, 1, 1, 110, wrap);
  lxw_row_t row = 0;
  auto put = [&](const std::string& key, const std::string& value) {
    worksheet_write_string(about, row, 0, key.c_str(), bold);
    worksheet_write_string(about, row, 1, value.c_str(), wrap);
    ++row;
  };
  const std::int64_t weeks = evaluation.int_attribute("call_list_weeks");
  put("What this is", "Open leads (not subscribed, Stage not 'do not contact') scored at their state on the export date " +
                          evaluation.string_attribute("export_date") + ", best first within each section.");
  put("Summary", summary(l));
  put("Ranked by", l.rank_by_text);
  put("Next weeks", "p_subscribe is the chance to subscribe in the next " + std::to_string(weeks) +
                        " weeks under the status quo, from the fitted funnel (milestones reached, weeks since first contact, segment).");
  put("Stale", "No activity for " + std::to_string(evaluation.int_attribute("stale_weeks")) + " weeks or more.");
  put("Top K", "top_share uses K = " + std::to_string(l.arranged.top_k) + " (--capacity, else --top, else 100).");
  put("Refits", std::to_string(l.list.refits.refits) + " bootstrap refits of the funnel give the intervals and top_share; " +
                    std::to_string(l.list.widened) + " intervals were widened to hold their estimate (all refits on one side).");
  std::ostringstream assumed;
  assumed << "Assumptions, not data: the chance each action reaches its milestone in the week it is taken -- ";
  for (std::size_t a = 0; a + 1 < kActions; ++a)
    assumed << (a ? ", " : "") << kActionNames[a] << " " << fixed(100 * evaluation.double_attribute("success_" + std::string(kActionNames[a])), 1)
            << "% at cost " << fixed(evaluation.double_attribute("cost_" + std::string(kActionNames[a])), 1);
  assumed << "; a subscription is worth " << fixed(evaluation.double_attribute("subscription_reward"), 0)
          << ". break_even_success shows how far each lead's decision hangs on them; a randomised test measures them.";
  put("Assumptions", assumed.str());
  ++row;
  worksheet_write_string(about, row, 0, "Column", header);
  worksheet_write_string(about, row, 1, "Meaning", header);
  ++row;
  for (const Column& c : kColumns) put(c.name, c.meaning);
  if (workbook_close(wb) != LXW_NO_ERROR) throw PathError(path + ": cannot write the xlsx");
}

int run_recommend(const Invocation& inv) {
  std::string ext = inv.output.substr(inv.output.find_last_of('.') == std::string::npos ? inv.output.size() : inv.output.find_last_of('.'));
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext != ".csv" && ext != ".xlsx") throw UsageError("-o: '" + inv.output + "' must end in .csv or .xlsx");
  Listing l;
  l.rank_by_text = inv.options["rank-by"].as<std::string>();
  l.rank_by = rank_by_named(l.rank_by_text);
  const std::int64_t top = int_option(inv, "top", 0, INT64_C(1) << 40);
  if (inv.options.count("capacity")) l.capacity = int_option(inv, "capacity", 1, INT64_C(1) << 40);
  require_readable_file(inv.input);
  const h5::File f = h5::File::open_read(inv.input);
  require_format(f, inv.input, kEvaluatedFormat, kEvaluatedFormatVersion);
  l.list = read_call_list(f, inv.input);
  l.arranged = arrange_call_list(l.list.rows, l.list.refits, l.rank_by, l.capacity, top > 0 ? top : 100);
  l.rows = top == 0 ? l.list.rows.size() : std::min<std::size_t>(l.list.rows.size(), static_cast<std::size_t>(top));
  l.rank_by_text = l.rank_by == RankBy::gain
                       ? "gain: the act section by expected extra subscriptions per unit cost (ties by p_subscribe); the other sections by p_subscribe"
                       : "probability: every section by p_subscribe";
  AtomicOutput out(inv.output, ext == ".csv" ? OutputTarget::stream : OutputTarget::regular_file);
  if (ext == ".csv") write_csv(l, out.temp_path());
  else write_xlsx(l, f.open_group("evaluation"), out.temp_path());
  out.commit();
  std::cout << "wrote " << inv.output << ": " << l.rows << " of " << l.list.rows.size() << " open leads\n"
            << summary(l) << std::endl;
  return 0;
}

}  // namespace

CommandSpec recommend_command() {
  CommandSpec s;
  s.name = "recommend";
  s.summary = "the call list: open leads at the export date, with the next best action, as CSV or xlsx";
  s.synopsis = "reinforcer recommend evaluated.h5 -o call-list.csv|call-list.xlsx [--rank-by gain|probability] [--capacity N] [--top N]";
  s.description =
      "Writes the open leads (dated, not subscribed, Stage not 'do not contact') scored at their state\n"
      "on the export date: the chance to subscribe in the next 26 weeks if nothing changes, with its\n"
      "95% interval over the evaluation's refits; the best next action at the assumed success\n"
      "probabilities, its expected extra subscriptions per unit cost and the break-even success\n"
      "beside it; why the lead is listed; and rank stability (share of refits in the top K).\n"
      "Sections, in order: act (an action pays), beyond capacity, wait, negative stage, stale.\n"
      "The xlsx is a working sheet: percent formats, a frozen header, a filter on every column\n"
      "and an About sheet that explains each column and the assumptions.\n"
      "Undated customers cannot be scored and are not listed.";
  s.add_options = [](po::options_description& d) {
    d.add_options()("rank-by", po::value<std::string>()->default_value("gain"),
                    "order of the act section: gain (expected extra subscriptions per unit cost) or probability")(
        "capacity", po::value<std::int64_t>(), "contacts a week: the act section is cut after N leads (N >= 1)")(
        "top", po::value<std::int64_t>()->default_value(0), "write only the first N rows (0: all)");
  };
  s.run = run_recommend;
  return s;
}

}  // namespace reinforcer
