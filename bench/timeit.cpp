#include "timeit.hpp"

#include <chrono>
#include <cmath>
#include <numeric>
#include <vector>

namespace bench {

double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

result timeit(const schedule& s, const std::function<void()>& fn, double multiplier) {
  double start = now_s();
  long count = 0;
  while (now_s() - start < s.warmup_s) {
    fn();
    ++count;
  }
  // Ray times batches of a tenth of the warm-up's count, so the clock is read
  // rarely for fast operations.
  long step = count / 10 + 1;
  std::vector<double> rates;
  for (int r = 0; r < s.runs; ++r) {
    start = now_s();
    count = 0;
    while (now_s() - start < s.run_s) {
      for (long i = 0; i < step; ++i)
        fn();
      count += step;
    }
    rates.push_back(multiplier * static_cast<double>(count) / (now_s() - start));
  }
  return summarize(std::move(rates));
}

result summarize(std::vector<double> rates) {
  result res;
  if (rates.empty())
    return res;
  res.mean = std::accumulate(rates.begin(), rates.end(), 0.0) / static_cast<double>(rates.size());
  for (auto x : rates)
    res.sd += (x - res.mean) * (x - res.mean);
  res.sd = std::sqrt(res.sd / static_cast<double>(rates.size()));
  res.rates = std::move(rates);
  return res;
}

} // namespace bench
