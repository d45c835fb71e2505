#include "rustyray/config.hpp"

#include "rustyray/log.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "rustyray/error.hpp"
#include "rustyray/internal/host_port.hpp"

namespace rustyray {

namespace {

[[noreturn]] void invalid(const std::string& what) {
  throw error{errc::invalid_config, what};
}

/// Where a value came from, for error messages: a JSON key or an environment
/// variable.
struct origin {
  std::string key;
  std::string variable; // empty for JSON

  /// `config key "resources.GPU"`, `environment variable RUSTYRAY_RESOURCES (key "GPU")`.
  std::string name(const std::string& sub = {}) const {
    if (variable.empty())
      return "config key \"" + (sub.empty() ? key : key + "." + sub) + "\"";
    return "environment variable " + variable + (sub.empty() ? "" : " (key \"" + sub + "\")");
  }
};

template <class T>
void read_unsigned(const nlohmann::json& value, const origin& from, T& out) {
  // JSON parsers give non-negative literals as signed integers: accept both.
  if (!value.is_number_integer() || value.get<std::int64_t>() < 0
      || value.get<std::uint64_t>() > std::numeric_limits<T>::max())
    invalid(from.name() + " must be a non-negative integer, got " + value.dump());
  out = value.get<T>();
}

template <class T>
void read_positive(const nlohmann::json& value, const origin& from, T& out) {
  read_unsigned(value, from, out);
  if (out == 0)
    invalid(from.name() + " must be positive, got 0");
}

/// More workers than this is a mistake (each is a thread), such as -1 cast
/// to an unsigned number.
constexpr std::size_t max_workers = 65536;

/// The scheduler counts resources in thousandths of a unit as 64-bit
/// integers: this limit keeps every total far from overflowing.
constexpr double max_resource_amount = 1e15;

void read_workers(const nlohmann::json& value, const origin& from, std::size_t& out) {
  read_unsigned(value, from, out);
  if (out > max_workers)
    invalid(from.name() + " must be at most " + std::to_string(max_workers)
            + " (each worker is a thread; 0 means one per hardware thread), got " + value.dump());
}

void read_actor_threads(const nlohmann::json& value, const origin& from, std::size_t& out,
                        bool zero_allowed) {
  read_unsigned(value, from, out);
  if (out > max_workers || (!zero_allowed && out == 0))
    invalid(from.name() + " must be " + (zero_allowed ? "0 (one per hardware thread) to " : "1 to ")
            + std::to_string(max_workers) + " (each is a thread), got " + value.dump());
}

void read_resources(const nlohmann::json& value, const origin& from,
                    std::map<std::string, double>& out) {
  if (!value.is_object())
    invalid(from.name() + " must be an object of names to amounts, got " + value.dump());
  // A later source replaces the whole map: RUSTYRAY_RESOURCES='{"GPU":1}'
  // means exactly that, not a file's map plus GPU.
  out.clear();
  for (const auto& [name, amount] : value.items()) {
    // Infinite or absurd amounts would overflow the scheduler's thousandths.
    if (!amount.is_number() || !(amount.get<double>() >= 0)
        || !(amount.get<double>() <= max_resource_amount))
      invalid(from.name(name) + " must be a number from 0 to 1e15, got " + amount.dump());
    out[name] = amount.get<double>();
  }
}

/// `{"certificate": ..., "key": ..., "ca_file": ...}`: all three readable
/// files, or an empty object (no TLS).
void read_tls(const nlohmann::json& value, const origin& from, config::tls_files& out) {
  if (!value.is_object())
    invalid(from.name()
            + " must be an object {\"certificate\", \"key\", \"ca_file\"} of PEM "
              "file paths (or {} for no TLS), got "
            + value.dump());
  config::tls_files read;
  std::string* slots[] = {&read.certificate, &read.key, &read.ca_file};
  const char* names[] = {"certificate", "key", "ca_file"};
  for (const auto& [name, path] : value.items()) {
    auto i = std::find(std::begin(names), std::end(names), name) - std::begin(names);
    if (i == 3)
      invalid(from.name(name)
              + " is no TLS setting; the settings are certificate, key and ca_file");
    if (!path.is_string() || path.get<std::string>().empty())
      invalid(from.name(name) + " must be a file path, got " + path.dump());
    *slots[i] = path.get<std::string>();
  }
  int given = 0;
  for (auto* slot : slots)
    given += slot->empty() ? 0 : 1;
  if (given != 0 && given != 3)
    invalid(from.name() + " needs all three of certificate, key and ca_file (or none), got "
            + value.dump());
  for (int i = 0; i < 3 && given == 3; ++i)
    if (!std::ifstream{*slots[i]})
      invalid(from.name(names[i]) + ": cannot read \"" + *slots[i] + "\"; check the path");
  out = std::move(read);
}

void read_namespace(const nlohmann::json& value, const origin& from, std::string& out) {
  if (!value.is_string())
    invalid(from.name() + " must be a string (empty: a namespace of its own for this runtime), got "
            + value.dump());
  auto text = value.get<std::string>();
  if (std::any_of(text.begin(), text.end(),
                  [](char c) { return std::iscntrl(static_cast<unsigned char>(c)) != 0; }))
    invalid(from.name() + " must not contain control characters, got " + value.dump());
  out = std::move(text);
}

/// "host:port" (empty: none): a host and a port from 1 (0 too for a
/// listening address: any free port) to 65535.
void read_address(const nlohmann::json& value, const origin& from, std::string& out,
                  bool any_port) {
  auto bad = [&] {
    invalid(from.name() + " must be \"host:port\" (e.g. \"127.0.0.1:" + (any_port ? "0" : "6379")
            + "\")" + (any_port ? "" : " or empty") + ", got " + value.dump());
  };
  if (!value.is_string())
    bad();
  auto text = value.get<std::string>();
  if (text.empty() && !any_port) {
    out.clear();
    return;
  }
  if (!internal::parse_host_port(text, any_port))
    bad();
  out = std::move(text);
}

void read_policy(const nlohmann::json& value, const origin& from, std::string& out) {
  if (!value.is_string() || (value != "sharing" && value != "stealing"))
    invalid(from.name() + " must be \"sharing\" or \"stealing\", got " + value.dump());
  out = value.get<std::string>();
}

void read_log_level(const nlohmann::json& value, const origin& from, std::string& out) {
  log_level parsed;
  if (!value.is_string() || (value != "" && !parse_log_level(value.get<std::string>(), parsed)))
    invalid(from.name() + R"( must be "debug", "info", "warning", "error" or empty, got )"
            + value.dump());
  out = value.get<std::string>();
}

/// `true` or `false`, nothing else (a number or a string is refused).
void read_bool(const nlohmann::json& v, const origin& o, bool& out) {
  if (!v.is_boolean())
    invalid(o.name() + " must be true or false, got " + v.dump());
  out = v.get<bool>();
}

/// Milliseconds as a number, or a string with a unit: "250ms", "10s", "2min".
void read_duration(const nlohmann::json& value, const origin& from,
                   std::chrono::milliseconds& out) {
  auto bad = [&] {
    invalid(from.name()
            + " must be a duration: milliseconds as a non-negative integer, or a string "
              "like \"500ms\", \"10s\" or \"2min\"; got "
            + value.dump());
  };
  // Longer than a century would overflow the clock arithmetic of a waiting
  // get (the same cap as timeouts: rustyray::forever), and means never: 0.
  constexpr std::chrono::milliseconds longest = std::chrono::hours(24 * 365 * 100);
  auto too_long = [&] {
    invalid(from.name() + " must be at most 100 years (0 turns the warning off); got "
            + value.dump());
  };
  if (value.is_number_integer()) {
    if (value.get<std::int64_t>() < 0)
      bad();
    if (value.get<std::uint64_t>() > static_cast<std::uint64_t>(longest.count()))
      too_long();
    out = std::chrono::milliseconds{value.get<std::int64_t>()};
    return;
  }
  if (!value.is_string())
    bad();
  const auto& text = value.get_ref<const std::string&>();
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits])))
    ++digits;
  if (digits == 0 || digits > 12)
    bad();
  auto amount = std::stoll(text.substr(0, digits));
  auto unit = text.substr(digits);
  if (unit == "ms")
    out = std::chrono::milliseconds{amount};
  else if (unit == "s")
    out = std::chrono::seconds{amount};
  else if (unit == "min")
    out = std::chrono::minutes{amount};
  else
    bad();
  if (out > longest)
    too_long();
}

/// One field of `config`: its key, how to read it (checking its range) and
/// how to write it. The one list of fields and rules: JSON keys, environment
/// variables, `validate`, `to_json` and the unknown-key message all use it.
struct field {
  const char* key;
  void (*read)(const nlohmann::json& value, const origin& from, config& out);
  nlohmann::json (*write)(const config& in);
  /// The environment variable, where it is not `RUSTYRAY_` and the key in
  /// capitals (`RUSTYRAY_NAMESPACE`, as Ray's `RAY_NAMESPACE`).
  const char* variable = nullptr;
  /// A secret: `to_json` (and so `state()`) leaves it out.
  bool secret = false;
};

const field fields[] = {
  {"num_workers",
   [](const nlohmann::json& v, const origin& o, config& c) { read_workers(v, o, c.num_workers); },
   [](const config& c) -> nlohmann::json { return c.num_workers; }},
  {"actor_threads",
   [](const nlohmann::json& v, const origin& o, config& c) {
     read_actor_threads(v, o, c.actor_threads, true);
   },
   [](const config& c) -> nlohmann::json { return c.actor_threads; }},
  {"max_actor_threads",
   [](const nlohmann::json& v, const origin& o, config& c) {
     read_actor_threads(v, o, c.max_actor_threads, false);
   },
   [](const config& c) -> nlohmann::json { return c.max_actor_threads; }},
  {"object_store_capacity",
   [](const nlohmann::json& v, const origin& o, config& c) {
     read_positive(v, o, c.object_store_capacity);
   },
   [](const config& c) -> nlohmann::json { return c.object_store_capacity; }},
  {"buffer_pool_capacity",
   [](const nlohmann::json& v, const origin& o, config& c) {
     read_unsigned(v, o, c.buffer_pool_capacity);
   },
   [](const config& c) -> nlohmann::json { return c.buffer_pool_capacity; }},
  {"scheduler_policy",
   [](const nlohmann::json& v, const origin& o, config& c) {
     read_policy(v, o, c.scheduler_policy);
   },
   [](const config& c) -> nlohmann::json { return c.scheduler_policy; }},
  {"resources",
   [](const nlohmann::json& v, const origin& o, config& c) { read_resources(v, o, c.resources); },
   [](const config& c) -> nlohmann::json { return c.resources; }},
  {"timeline_capacity",
   [](const nlohmann::json& v, const origin& o, config& c) {
     read_unsigned(v, o, c.timeline_capacity);
   },
   [](const config& c) -> nlohmann::json { return c.timeline_capacity; }},
  {"slow_get_warning",
   [](const nlohmann::json& v, const origin& o, config& c) {
     read_duration(v, o, c.slow_get_warning);
   },
   [](const config& c) -> nlohmann::json { return c.slow_get_warning.count(); }},
  {"log_level",
   [](const nlohmann::json& v, const origin& o, config& c) { read_log_level(v, o, c.log_level); },
   [](const config& c) -> nlohmann::json { return c.log_level; }},
  {"ray_namespace",
   [](const nlohmann::json& v, const origin& o, config& c) {
     read_namespace(v, o, c.ray_namespace);
   },
   [](const config& c) -> nlohmann::json { return c.ray_namespace; }, "RUSTYRAY_NAMESPACE"},
  {"head_address",
   [](const nlohmann::json& v, const origin& o, config& c) {
     read_address(v, o, c.head_address, false);
   },
   [](const config& c) -> nlohmann::json { return c.head_address; }, "RUSTYRAY_ADDRESS"},
  {"listen",
   [](const nlohmann::json& v, const origin& o, config& c) { read_address(v, o, c.listen, true); },
   [](const config& c) -> nlohmann::json { return c.listen; }},
  {"is_head",
   [](const nlohmann::json& v, const origin& o, config& c) { read_bool(v, o, c.is_head); },
   [](const config& c) -> nlohmann::json { return c.is_head; }},
  {"worker", [](const nlohmann::json& v, const origin& o, config& c) { read_bool(v, o, c.worker); },
   [](const config& c) -> nlohmann::json { return c.worker; }},
  {"cluster_token",
   [](const nlohmann::json& v, const origin& o, config& c) {
     if (!v.is_string())
       invalid(o.name() + " must be a string");
     c.cluster_token = v.get<std::string>();
   },
   [](const config& c) -> nlohmann::json { return c.cluster_token; }, nullptr, true},
  {"heartbeat_timeout",
   [](const nlohmann::json& v, const origin& o, config& c) {
     read_duration(v, o, c.heartbeat_timeout);
     if (c.heartbeat_timeout.count() <= 0)
       invalid(o.name() + " must be positive");
   },
   [](const config& c) -> nlohmann::json { return c.heartbeat_timeout.count(); }},
  {"head_grace",
   [](const nlohmann::json& v, const origin& o, config& c) {
     read_duration(v, o, c.head_grace);
     if (c.head_grace.count() < 0)
       invalid(o.name() + " must not be negative");
   },
   [](const config& c) -> nlohmann::json { return c.head_grace.count(); }},
  {"tls", [](const nlohmann::json& v, const origin& o, config& c) { read_tls(v, o, c.tls); },
   [](const config& c) -> nlohmann::json {
     auto files = nlohmann::json::object();
     for (auto [name, path] : {std::pair{"certificate", &c.tls.certificate},
                               std::pair{"key", &c.tls.key}, std::pair{"ca_file", &c.tls.ca_file}})
       if (!path->empty())
         files[name] = *path;
     return files;
   }},
};

std::string known_keys() {
  std::string result;
  for (const auto& f : fields)
    result += (result.empty() ? "" : ", ") + std::string{f.key};
  return result;
}

/// `RUSTYRAY_NUM_WORKERS` for `num_workers`.
std::string variable_of(const field& f) {
  if (f.variable != nullptr)
    return f.variable;
  std::string name = "RUSTYRAY_";
  for (const char* c = f.key; *c != '\0'; ++c)
    name += static_cast<char>(std::toupper(static_cast<unsigned char>(*c)));
  return name;
}

/// An environment value as JSON: numbers and objects as written, anything
/// that is not JSON (a bare word like `stealing` or `10s`) as a string.
nlohmann::json env_value(const char* text) {
  auto parsed = nlohmann::json::parse(text, nullptr, false);
  if (parsed.is_discarded())
    return std::string{text};
  return parsed;
}

/// Variables with RustyRay's prefix that are no config field but are read
/// by RustyRay's own tools (the soak tests' share of their full run and the
/// cluster soak's minutes, the
/// `rustyray` command's state directory).
const char* const tool_variables[] = {"RUSTYRAY_SOAK_PERCENT", "RUSTYRAY_SOAK_MINUTES",
                                      "RUSTYRAY_STATE_DIR"};

/// Edits that turn `a` into `b` (Levenshtein), for "did you mean".
std::size_t distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    auto diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      auto above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

/// Warns once per process and name about a `RUSTYRAY_*` variable that no
/// field reads: a typo would otherwise be ignored in silence, where an
/// unknown JSON key is an error.
void warn_unknown_variables() {
  static std::mutex mtx;
  static std::set<std::string> warned; // guarded by mtx
  std::lock_guard<std::mutex> guard{mtx};
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string name{*entry, std::strcspn(*entry, "=")};
    if (name.rfind("RUSTYRAY_", 0) != 0 || warned.count(name) != 0)
      continue;
    bool known = std::any_of(std::begin(tool_variables), std::end(tool_variables),
                             [&](const char* v) { return name == v; });
    std::string closest;
    auto best = std::numeric_limits<std::size_t>::max();
    for (const auto& f : fields) {
      auto variable = variable_of(f);
      known = known || variable == name;
      if (auto d = distance(name, variable); d < best) {
        best = d;
        closest = variable;
      }
    }
    if (known)
      continue;
    warned.insert(name);
    auto hint = best <= 3 ? "did you mean " + closest + "? " : std::string{};
    rustyray::log(rustyray::log_level::warning,
                  "the environment variable " + name + " is not a RustyRay setting and is ignored; "
                    + hint + "the settings are RUSTYRAY_ and a config key in capitals ("
                    + known_keys() + ")");
  }
}

void apply_environment(config& cfg) {
  warn_unknown_variables();
  for (const auto& f : fields) {
    auto variable = variable_of(f);
    const char* text = std::getenv(variable.c_str());
    if (text == nullptr || *text == '\0')
      continue;
    // A text field takes the text as written: RUSTYRAY_NAMESPACE=2024 is
    // the namespace "2024", not a number.
    auto value = f.write(config{}).is_string() ? nlohmann::json(text) : env_value(text);
    f.read(value, origin{f.key, variable}, cfg);
  }
}

} // namespace

config config::from_json(const nlohmann::json& json) {
  if (!json.is_object())
    invalid("a config must be a JSON object of field names to values, got " + json.dump());
  config result;
  for (const auto& [key, value] : json.items()) {
    const field* match = nullptr;
    for (const auto& f : fields)
      if (key == f.key)
        match = &f;
    if (match == nullptr)
      invalid("unknown config key \"" + key + "\"; known keys: " + known_keys());
    match->read(value, origin{key, {}}, result);
  }
  apply_environment(result);
  return result;
}

config config::from_file(const std::string& path) {
  std::ifstream in{path};
  if (!in)
    invalid("cannot read config file \"" + path + "\": check the path");
  auto json = nlohmann::json::parse(in, nullptr, false);
  if (json.is_discarded())
    invalid("config file \"" + path + "\" is not valid JSON");
  return from_json(json);
}

config config::from_env() {
  config result;
  apply_environment(result);
  return result;
}

void config::validate() const {
  // The readers hold the rules: run each field's value through its reader.
  config scratch;
  for (const auto& f : fields)
    f.read(f.write(*this), origin{f.key, {}}, scratch);
}

nlohmann::json config::to_json() const {
  auto result = nlohmann::json::object();
  for (const auto& f : fields)
    if (!f.secret)
      result[f.key] = f.write(*this);
  return result;
}

} // namespace rustyray
