// Declared decision-time attributes: ingest keeps, classifies and pools them; they travel with
// the table (HDF5, broadcast bytes); feature masks name them; the encoder codes them; and the
// synthetic data's informative attributes shift the subscription rate while noise does not.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include "reinforcer/core/errors.hpp"
#include "reinforcer/data/attributes.hpp"
#include "reinforcer/data/ingest.hpp"
#include "reinforcer/data/synth.hpp"
#include "reinforcer/env/funnel_model.hpp"
#include "reinforcer/env/hazards.hpp"
#include "reinforcer/env/segment_encoder.hpp"
#include "reinforcer/h5/hdf5.hpp"
#include "reinforcer/results/prepared_file.hpp"
#include "reinforcer/rl/value_iteration.hpp"
#include "test_support.hpp"

using namespace reinforcer;

namespace {

std::string synth_csv(const test::TempDir& dir, std::int64_t n, int extra, std::uint64_t seed = 3) {
  SynthOptions o;
  o.customers = n;
  o.seed = seed;
  o.extra_attributes = extra;
  write_synthetic_crm(o, dir.file("s.csv"));
  return dir.file("s.csv");
}

IngestResult ingest_with(const std::string& path, std::vector<std::string> attributes) {
  IngestOptions o;
  o.attributes = std::move(attributes);
  return ingest_crm(path, o);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const UsageError& e) {
    return e.what();
  }
  return "no UsageError";
}

std::vector<std::size_t> dated(const CustomerTable& t) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < t.customers.size(); ++i)
    if (t.customers[i].t0 != kNoDay) out.push_back(i);
  return out;
}

}  // namespace

TEST_CASE("attributes: declared columns are kept per customer and counted in the quality report", "[attributes]") {
  test::TempDir dir;
  const auto r = ingest_with(synth_csv(dir, 3000, 3), {"Attribute 2", "attribute  1"});
  REQUIRE(r.table.attributes.size() == 2);
  CHECK(r.table.attributes[0].name == "Attribute 2");  // the header's spelling, in the order declared
  CHECK(r.table.attributes[1].name == "Attribute 1");
  CHECK(r.table.attributes[0].levels == std::vector<std::string>{"A", "B", "C", "D"});
  CHECK(r.table.attributes[0].code.size() == r.table.customers.size());
  CHECK(r.report.column("Attribute 2").counts[static_cast<std::size_t>(CellClass::ok)] == 3000);
  CHECK(r.report.extra_columns == std::vector<std::string>{"Attribute 3"});  // declared ones are used
  CHECK(attribute_names(r.table) == std::vector<std::string>{"Attribute 2", "Attribute 1"});
  // Without --attributes nothing is kept, as before.
  CHECK(ingest_with(dir.file("s.csv"), {}).table.attributes.empty());
}

TEST_CASE("attributes: spellings are normalised, long cells rejected, rare levels pooled into other", "[attributes]") {
  test::TempDir dir;
  std::ifstream in(synth_csv(dir, 3000, 1));
  std::string line, out;
  int row = 0;
  while (std::getline(in, line)) {
    const std::size_t comma = line.rfind(',');
    if (row >= 1 && row <= 3) line = line.substr(0, comma + 1) + "Rare";
    if (row == 4) line = line.substr(0, comma + 1) + "  a ";
    if (row == 5) line = line.substr(0, comma + 1) + std::string(kMaxAttributeCellChars + 1, 'x');
    if (row == 6) line = line.substr(0, comma + 1);
    out += line + "\n";
    ++row;
  }
  const std::string path = dir.write("edited.csv", out);
  const auto r = ingest_with(path, {"Attribute 1"});
  const Attribute& a = r.table.attributes[0];
  const auto& q = r.report.column("Attribute 1");
  CHECK(q.counts[static_cast<std::size_t>(CellClass::normalised)] == 1);
  CHECK(q.rejected("too long") == 1);
  CHECK(q.counts[static_cast<std::size_t>(CellClass::empty)] == 1);
  CHECK(a.levels == std::vector<std::string>{"A", "B", "C", "D", "other"});
  // Rows 1..3 (customers 0..2) held "Rare": 3 < max(10, 0.5% of dated) customers, so pooled.
  for (std::size_t i = 0; i < 3; ++i) CHECK(a.levels[static_cast<std::size_t>(a.code[i])] == "other");
  CHECK(a.levels[static_cast<std::size_t>(a.code[3])] == "A");
  CHECK(a.code[4] == -1);
  CHECK(a.code[5] == -1);
  REQUIRE(r.report.attributes.size() == 1);
  CHECK(r.report.attributes[0].levels_pooled == 1);
  CHECK(r.report.attributes[0].threshold == pooling_threshold(static_cast<std::int64_t>(dated(r.table).size())));
  CHECK(pooling_threshold(1000) == 10);
  CHECK(pooling_threshold(100000) == 500);
}

TEST_CASE("attributes: bad declarations are usage errors naming the option", "[attributes]") {
  test::TempDir dir;
  const std::string path = synth_csv(dir, 500, 2);
  const std::string missing = error_of([&] { ingest_with(path, {"Col A"}); });
  CHECK_THAT(missing, Catch::Contains("--attributes: 'Col A' is not a column"));
  CHECK_THAT(missing, Catch::Contains("'Attribute 1', 'Attribute 2'"));
  CHECK_THAT(error_of([&] { ingest_with(path, {"Stage"}); }), Catch::Contains("not known at decision time"));
  CHECK_THAT(error_of([&] { ingest_with(path, {"first contact"}); }), Catch::Contains("not known at decision time"));
  CHECK_THAT(error_of([&] { ingest_with(path, {"Subscribed"}); }), Catch::Contains("not known at decision time"));
  CHECK_THAT(error_of([&] { ingest_with(path, {"Country"}); }), Catch::Contains("already the built-in feature 'country'"));
  CHECK_THAT(error_of([&] { parse_attribute_list("Attribute 1,,Attribute 2"); }), Catch::Contains("is empty"));
  CHECK_THAT(error_of([&] { parse_attribute_list("Attribute 1, attribute 1"); }), Catch::Contains("given twice"));
  CHECK(parse_attribute_list(" Attribute 1 ,Attribute 2") == std::vector<std::string>{"Attribute 1", "Attribute 2"});
}

TEST_CASE("attributes: feature masks name them and their text parses back", "[attributes][features]") {
  const std::vector<std::string> names = {"Col A", "Col B"};
  const FeatureMask m = parse_feature_mask("cohort, Col B,education", "--features", names);
  REQUIRE(m.order.size() == 3);
  CHECK(is_attribute(m.order[1]));
  CHECK(attribute_index(m.order[1]) == 1);
  CHECK(m.order[1] == attribute_feature(1));
  CHECK(!is_attribute(Feature::month));
  CHECK(feature_name(m.order[1], names) == "Col B");
  CHECK(m.text() == "cohort,Col B,education");
  CHECK(parse_feature_mask(m.text(), "--features", names).order == m.order);
  const std::string unknown = error_of([&] { parse_feature_mask("cohort,Col C", "--features", names); });
  CHECK_THAT(unknown, Catch::Contains("'Col C' is not a decision-time feature"));
  CHECK_THAT(unknown, Catch::Contains("cohort, country, education, month"));
  CHECK_THAT(unknown, Catch::Contains("'Col A' 'Col B'"));
  CHECK_THAT(error_of([&] { parse_feature_mask("Col A,Col A", "--features", names); }), Catch::Contains("given twice"));
  CHECK_THAT(error_of([&] { parse_feature_mask("Stage", "--features", names); }), Catch::Contains("after the"));
  // Before the table is known, names are kept and matched to the table's attributes later.
  const FeatureMask pending = parse_feature_names("Col B,cohort");
  CHECK(pending.text() == "Col B,cohort");
  const FeatureMask resolved = resolve_feature_mask(pending, names);
  CHECK(resolved.order == std::vector<Feature>{attribute_feature(1), Feature::cohort});
  CHECK_THAT(error_of([&] { resolve_feature_mask(parse_feature_names("Col Z"), names); }),
             Catch::Contains("'Col Z' is not a decision-time feature"));
}

TEST_CASE("attributes: the encoder codes an attribute like country", "[attributes][features]") {
  test::TempDir dir;
  auto r = ingest_with(synth_csv(dir, 2000, 1), {"Attribute 1"});
  CustomerTable& t = r.table;
  Attribute& a = t.attributes[0];
  const std::vector<std::size_t> all = dated(t);
  // Fit on customers without level D: D becomes "unseen"; a missing value is "unknown".
  std::vector<std::size_t> fitting;
  for (std::size_t i : all)
    if (a.levels[static_cast<std::size_t>(a.code[i])] != "D") fitting.push_back(i);
  a.code[fitting[0]] = -1;
  const SegmentEncoder enc(t, fitting, parse_feature_mask("Attribute 1,cohort", "--features", attribute_names(t)));
  std::size_t d_customer = 0;
  while (a.code[all[d_customer]] < 0 || a.levels[static_cast<std::size_t>(a.code[all[d_customer]])] != "D") ++d_customer;
  CHECK(enc.codes_of(t.customers[all[d_customer]], t)[0] == kUnseenCode);
  CHECK(enc.codes_of(t.customers[fitting[0]], t)[0] == kUnknownCode);
  const Customer& b = t.customers[fitting[1]];
  const std::int32_t node = enc.node_of(b, t);
  CHECK(enc.nodes()[static_cast<std::size_t>(node)].leaf);
  CHECK(enc.describe(node) == "Attribute 1=" + a.levels[static_cast<std::size_t>(a.code[fitting[1]])] + " cohort=" +
                                  std::string(kCohortNames[static_cast<std::size_t>(b.cohort)]));
  // An unseen level stops at the root (no fitted node below it).
  CHECK(enc.node_of(t.customers[all[d_customer]], t) == 0);
  // Depth-1 nodes: A, B, C and unknown.
  int depth1 = 0;
  for (const auto& n : enc.nodes()) depth1 += n.depth == 1;
  CHECK(depth1 == 4);
}

TEST_CASE("attributes: an empty mask is the root alone and equals the one-segment pooled model", "[attributes][features]") {
  const auto r = test::synthetic_ingest(4000, 5);
  std::vector<std::size_t> outbound;
  for (std::size_t i : dated(r.table))
    if (r.table.customers[i].cohort == Cohort::outbound) outbound.push_back(i);
  HazardOptions h;
  h.export_date = r.report.export_date;
  const SegmentEncoder empty(r.table, outbound, FeatureMask{});
  REQUIRE(empty.nodes().size() == 1);
  CHECK(empty.describe(0) == "all");
  for (std::size_t i : outbound) REQUIRE(empty.node_of(r.table.customers[i], r.table) == 0);
  // "cohort" on outbound customers only is one leaf holding exactly the root's customers.
  const SegmentEncoder one(r.table, outbound, parse_feature_mask("cohort"));
  REQUIRE(one.nodes().size() == 2);
  const HazardEstimates h0 = estimate_hazards(r.table, outbound, empty, h);
  const HazardEstimates h1 = estimate_hazards(r.table, outbound, one, h);
  // The root pools the same customers in both trees: the same counts and the same root rates.
  REQUIRE(h0.nodes == 1);
  for (std::size_t k = 0; k < kProgressStates * kEvents; ++k) {
    REQUIRE(h0.events[k] == h1.events[k]);
    REQUIRE(h0.exposure[k] == h1.exposure[k]);
    REQUIRE(h0.rate[k] == Approx(h1.rate[k]).epsilon(1e-12));
  }
  const FunnelModel m0 = FunnelModel::from_estimates(empty, h0, FunnelConfig{});
  const FunnelModel m1 = FunnelModel::from_estimates(one, h1, FunnelConfig{});
  REQUIRE(m0.segments() == 1);
  REQUIRE(m1.segments() == 1);
  // The single leaf is shrunk toward the root, whose rate is itself shrunk toward its prior:
  // the two models differ only by that second shrinkage of identical data (well under 1e-5).
  const DpSolution s0 = solve_funnel(m0, 0.99), s1 = solve_funnel(m1, 0.99);
  REQUIRE(s0.value.size() == s1.value.size());
  for (std::size_t k = 0; k < s0.value.size(); ++k) REQUIRE(s0.value[k] == Approx(s1.value[k]).epsilon(1e-5).margin(1e-12));
  CHECK(s0.policy == s1.policy);
}

TEST_CASE("attributes: they travel with the table through prepared.h5 and the broadcast bytes", "[attributes][hdf5]") {
  test::TempDir dir;
  PreparedData d;
  d.ingest = ingest_with(synth_csv(dir, 1500, 2), {"Attribute 1", "Attribute 2"});
  d.ingest.table.attributes[1].levels[0] = std::string(300, 'L');  // a long level name stays whole
  d.cutoffs = assign_temporal_split(d.ingest.table, d.split_options.shares);
  write_prepared_file(dir.file("p.h5"), d, Provenance{});
  for (const CustomerTable& back : {read_prepared_customers(dir.file("p.h5")),
                                    customer_table_from_bytes(customer_table_bytes(d.ingest.table))}) {
    REQUIRE(back.attributes.size() == 2);
    for (std::size_t k = 0; k < 2; ++k) {
      CHECK(back.attributes[k].name == d.ingest.table.attributes[k].name);
      CHECK(back.attributes[k].levels == d.ingest.table.attributes[k].levels);
      CHECK(back.attributes[k].code == d.ingest.table.attributes[k].code);
    }
  }
  // A file without attributes reads back with none.
  PreparedData plain;
  plain.ingest = ingest_with(dir.file("s.csv"), {});
  plain.cutoffs = assign_temporal_split(plain.ingest.table, plain.split_options.shares);
  write_prepared_file(dir.file("q.h5"), plain, Provenance{});
  CHECK(read_prepared_customers(dir.file("q.h5")).attributes.empty());
}

TEST_CASE("synthetic attributes: informative ones shift the subscription rate, noise ones do not", "[attributes][synth]") {
  test::TempDir dir;
  SynthOptions o;
  o.customers = 20000;
  o.seed = 11;
  o.extra_attributes = 4;
  const auto truth = synthetic_attribute_truth(o);
  REQUIRE(truth.size() == 4);
  CHECK(truth[0].informative);
  CHECK(truth[1].informative);
  CHECK(!truth[2].informative);
  CHECK(truth[2].factor == std::vector<double>{1, 1, 1, 1});
  const auto r = ingest_with(synth_csv(dir, o.customers, o.extra_attributes, o.seed),
                             {"Attribute 1", "Attribute 2", "Attribute 3", "Attribute 4"});
  for (std::size_t k = 0; k < 4; ++k) {
    const Attribute& a = r.table.attributes[k];
    REQUIRE(a.levels == truth[k].levels);
    // Rate of the level with the largest factor over the one with the smallest (noise: A over D).
    std::array<double, 4> n{}, s{};
    for (std::size_t i = 0; i < r.table.customers.size(); ++i)
      if (a.code[i] >= 0) n[static_cast<std::size_t>(a.code[i])] += 1, s[static_cast<std::size_t>(a.code[i])] += r.table.customers[i].subscribed;
    const double ratio = (s[3] / n[3]) / (s[0] / n[0]);
    INFO(a.name << " top/bottom rate ratio " << ratio);
    if (truth[k].informative)
      CHECK(ratio > 6);  // the factors' ratio is 2.4 / 0.2 = 12
    else
      CHECK(std::fabs(std::log(ratio)) < std::log(1.6));
  }
  const std::string json = synthetic_attribute_json(o);
  CHECK_THAT(json, Catch::Contains("{\"column\": \"Attribute 1\", \"informative\": true, \"factors\": {\"A\": 0.20"));
  CHECK_THAT(json, Catch::Contains("{\"column\": \"Attribute 4\", \"informative\": false"));
}

// The sparse estimate of some nodes (what the predictive score fits per fold) must be the
// dense estimate of those nodes to the bit, in deep trees of small segments, with a bootstrap's
// multiplicities, a fixed prior strength, and in the one-node tree.
TEST_CASE("estimate_hazards_at equals estimate_hazards at the wanted nodes, to the bit", "[hazards][attributes]") {
  const test::TempDir dir;
  const IngestResult r = ingest_with(synth_csv(dir, 4000, 6, 11), {"Attribute 1", "Attribute 2", "Attribute 3", "Attribute 4",
                                                                  "Attribute 5", "Attribute 6"});
  const std::vector<std::size_t> fitting = dated(r.table);
  HazardOptions h;
  h.export_date = r.report.export_date;
  std::vector<std::uint32_t> counts(fitting.size());
  for (std::size_t k = 0; k < counts.size(); ++k) counts[k] = static_cast<std::uint32_t>((k * 2654435761u) >> 7) % 3;  // 0, 1 or 2
  struct Case {
    std::string features;
    bool resample;
    double strength;
  };
  const std::vector<Case> cases = {{"cohort,country,education,month,Attribute 1,Attribute 2,Attribute 3,Attribute 4,Attribute 5,Attribute 6", false, -1},
                                   {"cohort,Attribute 2,Attribute 5,education", true, -1},
                                   {"Attribute 3,country,Attribute 1", false, 2.5},
                                   {"", true, -1}};
  for (const Case& c : cases) {
    INFO(c.features);
    FeatureMask mask;
    if (!c.features.empty()) mask = parse_feature_mask(c.features, "--features", attribute_names(r.table));
    mask.attribute_names = attribute_names(r.table);
    const SegmentEncoder encoder(r.table, fitting, mask);
    HazardOptions o = h;
    o.shrinkage_strength = c.strength;
    const std::vector<std::uint32_t> mult = c.resample ? counts : std::vector<std::uint32_t>{};
    const HazardEstimates dense = estimate_hazards(r.table, fitting, mult, encoder, o);
    // Every node, in an order that is not the tree's.
    std::vector<std::int32_t> wanted;
    for (std::size_t n = 0; n < encoder.nodes().size(); ++n) wanted.push_back(static_cast<std::int32_t>(n));
    std::reverse(wanted.begin(), wanted.end());
    if (wanted.size() > 2) std::swap(wanted[0], wanted[wanted.size() / 2]);
    const HazardEstimates sparse = estimate_hazards_at(r.table, fitting, mult, encoder, o, wanted);
    REQUIRE(sparse.nodes == wanted.size());
    if (c.features.size() > 60) CHECK(encoder.nodes().size() > 3000);  // a deep tree of small segments
    std::size_t differing = 0;
    for (std::size_t k = 0; k < wanted.size(); ++k) {
      const auto n = static_cast<std::size_t>(wanted[k]);
      auto same = [](const double* a, const double* b, std::size_t len) { return std::memcmp(a, b, len * sizeof(double)) == 0; };
      const bool ok = same(&sparse.rate[HazardEstimates::index(k, 0, 0)], &dense.rate[HazardEstimates::index(n, 0, 0)],
                           kProgressStates * kEvents) &&
                      same(&sparse.jump_rate[k * kJumpCells], &dense.jump_rate[n * kJumpCells], kJumpCells) &&
                      same(&sparse.band_factor[HazardEstimates::band_index(k, 0, 0)],
                           &dense.band_factor[HazardEstimates::band_index(n, 0, 0)], kBands * kEvents) &&
                      same(&sparse.jump_band_factor[k * kBands], &dense.jump_band_factor[n * kBands], kBands);
      differing += ok ? 0 : 1;
    }
    CHECK(differing == 0);
  }
  // A node outside the tree is refused.
  const SegmentEncoder encoder(r.table, fitting, parse_feature_mask("cohort", "--features", attribute_names(r.table)));
  CHECK_THROWS_AS(estimate_hazards_at(r.table, fitting, {}, encoder, h, {static_cast<std::int32_t>(encoder.nodes().size())}),
                  std::invalid_argument);
}
