// Fuzz target: rustyray::config::from_json on any JSON text, as read from a
// config file (`config::from_file`) or handed over by another program.
//
// Properties: parsing and reading return a config or throw rustyray::error
// with code invalid_config (never another exception, a crash or a hang); an
// accepted config passes `validate`, writes itself back with `to_json` and
// reads back equal; and its values stay inside the ranges `init` computes
// with (resource totals in thousandths of a unit, as 64-bit integers; the
// slow-get deadline in nanoseconds).

#include "fuzz_support.hpp"

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

using namespace rustyray;

namespace {

bool same(const config& x, const config& y) {
  return x.num_workers == y.num_workers && x.object_store_capacity == y.object_store_capacity
         && x.buffer_pool_capacity == y.buffer_pool_capacity
         && x.scheduler_policy == y.scheduler_policy && x.resources == y.resources
         && x.timeline_capacity == y.timeline_capacity && x.actor_threads == y.actor_threads
         && x.max_actor_threads == y.max_actor_threads && x.slow_get_warning == y.slow_get_warning;
}

/// `amount` units in thousandths fit an int64 (how init and the scheduler
/// count resources).
bool fits_in_thousandths(double amount) {
  return std::isfinite(amount) && amount >= 0
         && amount * 1000 + 0.5 < static_cast<double>(std::numeric_limits<std::int64_t>::max());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto json = nlohmann::json::parse(data, data + size, nullptr, false);
  if (json.is_discarded())
    return 0;
  config cfg;
  try {
    cfg = config::from_json(json);
  } catch (const rustyray::error& e) {
    RUSTYRAY_FUZZ_CHECK(e.code() == errc::invalid_config);
    return 0;
  }
  cfg.validate();
  RUSTYRAY_FUZZ_CHECK(fits_in_thousandths(static_cast<double>(cfg.num_workers)));
  for (const auto& [name, amount] : cfg.resources)
    RUSTYRAY_FUZZ_CHECK(fits_in_thousandths(amount));
  // A get's warning deadline is steady_clock::now() + slow_get_warning in
  // nanoseconds: a century keeps it far from overflowing.
  RUSTYRAY_FUZZ_CHECK(cfg.slow_get_warning <= std::chrono::hours(24 * 365 * 100));
  auto written = cfg.to_json();
  auto back = config::from_json(nlohmann::json::parse(written.dump()));
  RUSTYRAY_FUZZ_CHECK(same(cfg, back));
  return 0;
}
