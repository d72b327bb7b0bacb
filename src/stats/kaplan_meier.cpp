#include "reinforcer/stats/kaplan_meier.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

namespace reinforcer {

std::vector<KmPoint> kaplan_meier(const std::vector<double>& time, const std::vector<std::uint8_t>& event) {
  if (time.size() != event.size())
    throw std::invalid_argument("kaplan_meier: " + std::to_string(time.size()) + " times but " +
                                std::to_string(event.size()) + " event flags");
  std::vector<std::pair<double, bool>> v(time.size());
  for (std::size_t i = 0; i < time.size(); ++i) {
    if (std::isnan(time[i])) throw std::invalid_argument("kaplan_meier: time " + std::to_string(i) + " is NaN");
    v[i] = {time[i], event[i] != 0};
  }
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.first < b.first; });

  constexpr double z = 1.959963984540054;
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<KmPoint> curve;
  double s = 1.0, greenwood = 0.0;
  auto at_risk = static_cast<std::int64_t>(v.size());
  std::size_t i = 0;
  while (i < v.size()) {
    std::size_t j = i;
    std::int64_t d = 0;
    for (; j < v.size() && v[j].first == v[i].first; ++j) d += v[j].second;
    if (d > 0) {
      KmPoint p;
      p.time = v[i].first;
      p.at_risk = at_risk;
      p.events = d;
      const auto n = static_cast<double>(at_risk), dd = static_cast<double>(d);
      s *= 1.0 - dd / n;
      p.survival = s;
      if (d < at_risk) {
        greenwood += dd / (n * (n - dd));
        const double se = std::sqrt(greenwood) / std::abs(std::log(s));
        p.low95 = std::pow(s, std::exp(z * se));
        p.high95 = std::pow(s, std::exp(-z * se));
      } else {
        s = 0.0;
        p.survival = 0.0;
        p.low95 = p.high95 = nan;
      }
      curve.push_back(p);
    }
    at_risk -= static_cast<std::int64_t>(j - i);
    i = j;
  }
  return curve;
}

double km_median(const std::vector<KmPoint>& curve) {
  for (const KmPoint& p : curve)
    if (p.survival <= 0.5 + 1e-12) return p.time;
  return std::numeric_limits<double>::quiet_NaN();
}

}  // namespace reinforcer
