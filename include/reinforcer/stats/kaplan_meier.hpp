#pragma once
// Kaplan-Meier (product-limit) survival estimate with a Greenwood "log-log" 95% interval.
#include <cstdint>
#include <vector>

namespace reinforcer {

// One row per distinct time with at least one event, in increasing time.
struct KmPoint {
  double time = 0.0;
  std::int64_t at_risk = 0;  // subjects with time >= this time (censored here included)
  std::int64_t events = 0;   // events at exactly this time
  double survival = 1.0;     // S(time) = product over event times t_j <= time of (1 - d_j / n_j)
  double low95 = 1.0;        // 95% interval for S(time), see below
  double high95 = 1.0;
};

// time[i] is when subject i had the event (event[i] != 0) or was censored (event[i] == 0).
// A subject censored at t is at risk at t: at equal times, events come before censorings.
//
// Interval: the "log-log" interval (R survival's conf.type = "log-log"). With Greenwood's
//   G = sum over event times t_j <= t of d_j / (n_j (n_j - d_j)),
// the standard error of log(-log S) is se = sqrt(G) / |log S|, and the interval is
//   [S^exp(+z se), S^exp(-z se)],  z = 1.959964 (95%),
// which always lies inside [0, 1]. When S reaches 0 (everyone at risk had the event) the
// interval is undefined: low95 = high95 = NaN on that row.
//
// time and event must have the same length; times must not be NaN (std::invalid_argument).
std::vector<KmPoint> kaplan_meier(const std::vector<double>& time, const std::vector<std::uint8_t>& event);

// Median survival time: the first event time with S <= 0.5 (S within 1e-12 of 0.5 counts as
// 0.5, so rounding in the product does not move the median); NaN when S never gets there.
double km_median(const std::vector<KmPoint>& curve);

}  // namespace reinforcer
