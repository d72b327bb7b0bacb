// The clean synthetic customer: who they are (country, education, attributes), which cohort
// they belong to, and how far they went down the funnel, with dates. Proportions follow the
// real export (CONTRACT.md): 93.5% outbound converting at ~0.22%, 2.5% inbound converting
// at ~10%, 4% undated; USA ~60%, Canada ~7% and a long tail of countries.
#include <cstdio>
#include <algorithm>
#include <cmath>

#include "reinforcer/core/rng.hpp"
#include "synth_internal.hpp"

namespace reinforcer::synth {
namespace {

struct CountryInfo {
  const char* name;
  double weight;  // share among customers with a country
  double effect;  // multiplies the odds of subscribing
};

// Names avoid the alias table's keys (configs/country_aliases.csv): "South Korea", not
// "Korea"; "UK", not "England".
constexpr CountryInfo kCountries[] = {
    {"USA", 652, 1.0}, {"Canada", 76, 1.3}, {"France", 30, 0.8}, {"UK", 30, 1.2},
    {"Germany", 22, 0.9}, {"Australia", 20, 1.4}, {"Saudi Arabia", 15, 0.6}, {"India", 12, 0.7},
    {"Netherlands", 10, 1.1}, {"Spain", 9, 0.9}, {"Italy", 8, 0.9}, {"Brazil", 8, 0.8},
    {"Mexico", 7, 0.8}, {"Ireland", 6, 1.2}, {"Switzerland", 6, 1.3}, {"Sweden", 5, 1.1},
    {"United Arab Emirates", 5, 0.9}, {"Singapore", 4, 1.2}, {"New Zealand", 4, 1.3},
    {"Belgium", 4, 1.0}, {"South Africa", 4, 0.8}, {"Japan", 3, 0.7}, {"South Korea", 3, 0.8},
    {"Israel", 3, 1.1}, {"Poland", 3, 0.9}, {"Austria", 3, 1.0}, {"Norway", 3, 1.2},
    {"Denmark", 3, 1.1}, {"Finland", 2, 1.0}, {"Portugal", 2, 0.9}, {"Greece", 2, 0.8},
    {"Turkey", 2, 0.7}, {"Egypt", 2, 0.6}, {"Nigeria", 2, 0.6}, {"Kenya", 2, 0.7},
    {"Philippines", 2, 0.8}, {"Vietnam", 2, 0.7}, {"China", 2, 0.6}, {"Hong Kong", 2, 1.0},
    {"Argentina", 2, 0.8}, {"Chile", 2, 0.9}, {"Colombia", 2, 0.8}, {"Peru", 1, 0.8},
    {"Czechia", 1, 0.9}, {"Romania", 1, 0.8}, {"Hungary", 1, 0.8}, {"Ukraine", 1, 0.7},
    {"Russia", 1, 0.6}, {"Bulgaria", 1, 0.8}, {"Croatia", 1, 0.9}, {"Serbia", 1, 0.8},
    {"Qatar", 1, 0.9}, {"Kuwait", 1, 0.8}, {"Jordan", 1, 0.8}, {"Lebanon", 1, 0.8},
    {"Pakistan", 1, 0.6}, {"Bangladesh", 1, 0.6}, {"Malaysia", 1, 0.9}, {"Indonesia", 1, 0.8},
    {"Thailand", 1, 0.8}, {"Taiwan", 1, 0.9}, {"Morocco", 1, 0.7}, {"Ghana", 1, 0.7},
    {"Ethiopia", 0.5, 0.6}, {"Uruguay", 0.5, 0.9}, {"Costa Rica", 0.5, 0.9},
    {"Puerto Rico", 0.5, 1.0}, {"Iceland", 0.5, 1.1}, {"Luxembourg", 0.5, 1.2},
    {"Estonia", 0.5, 1.0}, {"Latvia", 0.5, 0.9}, {"Lithuania", 0.5, 0.9}, {"Slovakia", 0.5, 0.9},
    {"Slovenia", 0.5, 0.9}, {"Cyprus", 0.5, 1.0}, {"Malta", 0.5, 1.0}};
constexpr int kCountryCount = static_cast<int>(sizeof kCountries / sizeof kCountries[0]);

constexpr const char* kEducation[kEducationLevels + 1] = {
    "",    "B1",  "B2",  "B3",  "B4",  "B5",  "B6",  "B7",  "B8",  "B9",  "B10",
    "B11", "B12", "B13", "B14", "B15", "B16", "B17", "B18", "B19", "B20", "B21",
    "B22", "B23", "B24", "B25", "B26", "B27", "B28", "B29", "B30"};
// B1..B30; B27 the most common, its neighbours next, a thin tail below.
constexpr double kEducationWeight[kEducationLevels] = {2,  2,  3,  3,  4,  4,  5,  5,  6,  7,
                                                       8,  9,  10, 11, 12, 14, 16, 18, 20, 22,
                                                       25, 30, 40, 50, 60, 90, 250, 80, 45, 35};
constexpr const char* kLevels[4] = {"A", "B", "C", "D"};
constexpr double kLevelEffect[4] = {0.2, 0.4, 1.0, 2.4};  // mean 1: the base rate holds; top / bottom = 12

// Funnel steps before the subscription: call, demo, survey, platform signup, manager.
struct Funnel {
  double cont[5];  // reached, given the previous step was
  double skip[5];  // reached, given the previous step was not
};
// [cohort outbound / inbound][subscribes]
constexpr Funnel kFunnel[2][2] = {
    {{{0.020, 0.65, 0.65, 0.55, 0.10}, {0, 0.003, 0.001, 0.004, 0.0004}},
     {{0.80, 0.70, 0.60, 0.80, 0.50}, {0, 0.20, 0.20, 0.50, 0.30}}},
    {{{0.70, 0.70, 0.60, 0.55, 0.06}, {0, 0.60, 0.25, 0.40, 0.03}},
     {{0.85, 0.75, 0.65, 0.90, 0.60}, {0, 0.60, 0.40, 0.70, 0.40}}}};
constexpr double kStepDelayMean[5] = {12, 7, 4, 6, 10};  // days after the previous step
constexpr double kSubscribeDelayMean = 14;
constexpr double kBaseRate[2] = {0.0026, 0.115};  // before censoring at the export date

struct Tables {
  double country_cdf[kCountryCount];
  double education_cdf[kEducationLevels];
  Tables() {
    double s = 0, total = 0;
    for (const auto& c : kCountries) total += c.weight;
    for (int i = 0; i < kCountryCount; ++i) country_cdf[i] = (s += kCountries[i].weight) / total;
    s = total = 0;
    for (double w : kEducationWeight) total += w;
    for (int i = 0; i < kEducationLevels; ++i) education_cdf[i] = (s += kEducationWeight[i]) / total;
  }
};
const Tables& tables() {
  static const Tables t;
  return t;
}

template <std::size_t N>
int pick(const double (&cdf)[N], double u) {
  for (std::size_t i = 0; i < N; ++i)
    if (u < cdf[i]) return static_cast<int>(i);
  return static_cast<int>(N - 1);
}

double education_effect(int code) { return code == 0 ? 0.8 : 0.7 + 0.06 * ((code * 37) % 11); }

int exp_days(RandomStream& rng, double mean) {
  return static_cast<int>(-mean * std::log(1.0 - rng.uniform()));
}

// First Contact by position in the file: IDs run roughly in time. Quantiles as in the real
// export's temporal split: 70% by 2021-06-23, 85% by 2021-12-23.
Day first_contact_at(double q) {
  static const Day knots[4] = {campaign_start(), days_from_civil(2021, 6, 23), days_from_civil(2021, 12, 23),
                               export_day() - 1};
  static const double at[4] = {0, 0.70, 0.85, 1.0};
  int k = q < at[1] ? 0 : q < at[2] ? 1 : 2;
  const double f = (q - at[k]) / (at[k + 1] - at[k]);
  return knots[k] + static_cast<Day>(f * (knots[k + 1] - knots[k]));
}

int pick_status(RandomStream& rng) {
  const double u = rng.uniform();
  return u < 0.08 ? 0 : u < 0.50 ? 1 : u < 0.79 ? 2 : 3;
}

// Stage for a customer who did not subscribe; those with pipeline activity say more.
int pick_stage(RandomStream& rng, bool active) {
  const double u = rng.uniform();
  if (active) return u < 0.55 ? 0 : u < 0.75 ? 1 : u < 0.85 ? 2 : u < 0.92 ? 4 : 3;
  return u < 0.935 ? 0 : u < 0.967 ? 2 : u < 0.975 ? 1 : u < 0.981 ? 3 : u < 0.99 ? 4 : 5;
}

}  // namespace

std::string_view country_name(int index) { return kCountries[index].name; }
int country_index(std::string_view name) {
  for (int i = 0; i < kCountryCount; ++i)
    if (name == kCountries[i].name) return i;
  return -1;
}
std::string_view education_name_of(int code) { return kEducation[code]; }
std::string_view attribute_level_name(int level) { return kLevels[level]; }

}  // namespace reinforcer::synth

namespace reinforcer {

std::vector<SynthAttributeTruth> synthetic_attribute_truth(const SynthOptions& o) {
  std::vector<SynthAttributeTruth> out;
  const int informative = (o.extra_attributes + 1) / 2;  // as Model numbers them
  for (int a = 0; a < o.extra_attributes; ++a) {
    SynthAttributeTruth t;
    t.column = "Attribute " + std::to_string(a + 1);
    t.informative = a < informative;
    for (int l = 0; l < 4; ++l)
      t.levels.emplace_back(synth::kLevels[l]), t.factor.push_back(t.informative ? synth::kLevelEffect[l] : 1.0);
    out.push_back(std::move(t));
  }
  return out;
}

std::string synthetic_attribute_json(const SynthOptions& o) {
  std::string s = "{\"effect\": \"each level multiplies the customer's chance of subscribing (capped at 0.95) by its "
                  "factor; levels are drawn uniformly, independently of everything else\",\n \"attributes\": [";
  bool first = true;
  for (const SynthAttributeTruth& t : synthetic_attribute_truth(o)) {
    s += std::string(first ? "\n" : ",\n") + "  {\"column\": \"" + t.column + "\", \"informative\": " +
         (t.informative ? "true" : "false") + ", \"factors\": {";
    for (std::size_t l = 0; l < t.levels.size(); ++l) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.2f", t.factor[l]);
      s += (l ? ", \"" : "\"") + t.levels[l] + "\": " + buf;
    }
    s += "}}";
    first = false;
  }
  return s + "\n ]}\n";
}

}  // namespace reinforcer

namespace reinforcer::synth {

Model::Model(const SynthOptions& o)
    : seed_(o.seed), customers_(o.customers), extra_(o.extra_attributes), informative_((o.extra_attributes + 1) / 2) {}

void Model::make(std::int64_t index, Record& r, bool force_subscriber) const {
  const Tables& t = tables();
  RandomStream rng(seed_, static_cast<std::uint64_t>(index));
  const Day end = export_day();
  // The last customer anchors the export date: first call on the export day itself.
  const bool anchor = index == customers_ - 1;
  const double uc = rng.uniform();
  r.cohort = (anchor || force_subscriber || uc < 0.935) ? Cohort::outbound : uc < 0.96 ? Cohort::inbound : Cohort::undated;
  r.country = rng.uniform() < 0.08 ? -1 : pick(t.country_cdf, rng.uniform());
  r.education = rng.uniform() < 0.33 ? 0 : 1 + pick(t.education_cdf, rng.uniform());
  double odds = (r.country < 0 ? 0.7 : kCountries[r.country].effect) * education_effect(r.education);
  r.attributes.resize(static_cast<std::size_t>(extra_));
  for (int a = 0; a < extra_; ++a) {
    const auto level = static_cast<std::uint8_t>(rng.below(4));
    r.attributes[static_cast<std::size_t>(a)] = level;
    if (a < informative_) odds *= kLevelEffect[level];
  }
  r.status = pick_status(rng);
  r.first_contact = r.last_contact = kNoDay;
  r.step.fill(kNoDay);
  if (r.cohort == Cohort::undated) {  // no dates at all, never subscribed
    r.stage = rng.uniform() < 0.9 ? 0 : 2 + static_cast<int>(rng.below(4));
    return;
  }
  if (anchor) {
    r.first_contact = end - 10;
    r.step[0] = r.last_contact = end;
    r.status = 2;
    r.stage = 1;
    return;
  }
  const int c = r.cohort == Cohort::outbound ? 0 : 1;
  const bool subscribes = rng.uniform() < std::min(0.95, kBaseRate[c] * odds) || force_subscriber;
  const Funnel& f = kFunnel[c][subscribes ? 1 : 0];
  bool reached[5];
  bool prev = true;
  for (int k = 0; k < 5; ++k) prev = reached[k] = rng.uniform() < (prev ? f.cont[k] : f.skip[k]);
  Day cur;
  bool first = false;  // an inbound customer's first recorded step is its entry date
  if (c == 0) {
    const double q = (static_cast<double>(index) + rng.uniform()) / static_cast<double>(customers_);
    cur = r.first_contact = std::clamp<Day>(first_contact_at(q) + static_cast<Day>(rng.below(11)) - 5,
                                            campaign_start(), end - (force_subscriber ? 120 : 1));
  } else {
    if (!std::any_of(reached, reached + 5, [](bool b) { return b; })) reached[rng.uniform() < 0.7 ? 0 : 3] = true;
    // Inbound leads arrived late: most after mid-2021.
    cur = rng.uniform() < 0.05 ? days_from_civil(2020, 9, 1) + static_cast<Day>(rng.below(280))
                               : days_from_civil(2021, 6, 15) + static_cast<Day>(rng.below(
                                     static_cast<std::uint64_t>(end - days_from_civil(2021, 6, 15) + 1)));
    first = true;
  }
  const Day entry = cur;
  const bool manager_after = subscribes && reached[4] && rng.uniform() < 0.3;
  for (int k = 0; k < 5; ++k) {
    if (!reached[k] || (k == 4 && manager_after)) continue;
    cur += first ? 0 : (k == 0 ? 0 : 1) + exp_days(rng, kStepDelayMean[k]);
    first = false;
    r.step[static_cast<std::size_t>(k)] = cur;
  }
  if (subscribes) r.step[5] = cur + 1 + exp_days(rng, kSubscribeDelayMean);
  if (manager_after) r.step[4] = r.step[5] + exp_days(rng, 5);  // on or after subscribing
  // Demo and survey were recorded only from 2021-08-31; nothing after the export date exists.
  for (std::size_t k = 0; k < kMilestones; ++k) {
    const bool unrecorded = (k == 1 || k == 2) && r.step[k] < demo_survey_recorded_from();
    if (r.step[k] != kNoDay && (unrecorded || r.step[k] > end)) r.step[k] = kNoDay;
  }
  if (force_subscriber && r.step[5] == kNoDay) r.step[5] = end;  // subscribed by the export at the latest
  const bool active = std::any_of(r.step.begin(), r.step.begin() + 5, [](Day d) { return d != kNoDay; });
  if (r.step[5] != kNoDay) {
    const double u = rng.uniform();
    if (u < 0.06 && !force_subscriber) {
      r.step[5] = kNoDay;  // labelled by Stage alone
      r.stage = kStageSubscribed;
    } else {
      r.stage = (u < 0.82 || force_subscriber) ? kStageSubscribed : u < 0.92 ? 1 : 0;
    }
  } else {
    r.stage = pick_stage(rng, active);
  }
  // Inbound means recorded activity: keep the entry step if nothing else survived.
  if (c == 1 && std::all_of(r.step.begin(), r.step.end(), [](Day d) { return d == kNoDay; })) r.step[0] = entry;
  Day latest = kNoDay;
  for (std::size_t k = 0; k < 4; ++k) latest = std::max(latest, r.step[k]);
  if (c == 0 && rng.uniform() < 0.97) {
    static const int span[4][2] = {{0, 10}, {0, 2}, {3, 12}, {10, 30}};
    const int* s = span[r.status];
    Day lc = r.first_contact + s[0] + static_cast<Day>(rng.below(static_cast<std::uint64_t>(s[1] - s[0] + 1)));
    r.last_contact = std::min(std::max(lc, latest), end);
  } else if (c == 1 && rng.uniform() < 0.9) {
    r.last_contact = std::min(std::max(latest, entry) + static_cast<Day>(rng.below(5)), end);
  }
}

}  // namespace reinforcer::synth
