#pragma once
// The CRM export's columns and value domains (CONTRACT.md), named once for every reader.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace reinforcer {

enum class CrmColumn : std::uint8_t {
  id, country, education, first_contact, last_contact, status, stage,
  first_call, demo, survey, platform_signup, account_manager, subscribed
};
inline constexpr std::size_t kCrmColumns = 13;

inline constexpr std::array<std::string_view, kCrmColumns> kCrmColumnNames = {
    "ID", "Country", "Education", "First Contact", "Last Contact", "Status", "Stage",
    "First Call", "Signed up for a demo", "Filled in customer survey",
    "Did sign up to the platform", "Account Manager assigned", "Subscribed"};

// A cell longer than this (after trimming) is rejected as "too long" and not stored: every
// column holds a short value (a name, a level, a date), and one stray paragraph must not
// size what is kept for every customer.
inline constexpr std::size_t kMaxCellChars = 100;
// What a report or message shows of a cell: the cell itself, or for a long one its first
// characters and its length ("Lorem ipsum dolor... (10,000,000 characters)").
std::string cell_excerpt(std::string_view cell);

inline constexpr std::size_t index_of(CrmColumn c) { return static_cast<std::size_t>(c); }
inline constexpr bool is_date_column(CrmColumn c) {
  return c == CrmColumn::first_contact || c == CrmColumn::last_contact || index_of(c) >= index_of(CrmColumn::first_call);
}
inline constexpr bool is_pipeline_step(CrmColumn c) { return index_of(c) >= index_of(CrmColumn::first_call); }

// Pipeline milestones in funnel order; the last is the subscription itself.
enum class Milestone : std::uint8_t { first_call, demo, survey, platform_signup, account_manager, subscribed };
inline constexpr std::size_t kMilestones = 6;
inline constexpr std::array<std::string_view, kMilestones> kMilestoneKeys = {
    "first_call", "demo", "survey", "platform_signup", "account_manager", "subscribed"};
inline constexpr CrmColumn column_of(Milestone m) {
  return static_cast<CrmColumn>(index_of(CrmColumn::first_call) + static_cast<std::size_t>(m));
}

// Value domains; code 0 means missing ("unknown").
inline constexpr std::array<std::string_view, 4> kStatusValues = {"", "1st message", "2nd message", "3rd message"};
inline constexpr std::array<std::string_view, 7> kStageValues = {
    "", "interested", "not interested", "declined/canceled call", "did not join the call",
    "do not contact", "subscribed already"};
inline constexpr std::uint8_t kStageSubscribed = 6;
inline constexpr int kEducationLevels = 30;  // B1..B30

enum class Cohort : std::uint8_t { outbound, inbound, undated };
inline constexpr std::array<std::string_view, 3> kCohortNames = {"outbound", "inbound", "undated"};

// Temporal split; `none` for undated customers, who are set aside.
enum class Split : std::int8_t { train, val, test, none };
inline constexpr std::array<std::string_view, 4> kSplitNames = {"train", "val", "test", "none"};

}  // namespace reinforcer
