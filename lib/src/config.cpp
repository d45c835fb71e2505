#include "rustyray/config.hpp"

#include <fstream>
#include <limits>

#include <nlohmann/json.hpp>

#include "rustyray/error.hpp"

namespace rustyray {

namespace {

[[noreturn]] void invalid(const std::string& what) {
  throw error{errc::invalid_config, what};
}

template <class T>
void read_unsigned(const nlohmann::json& value, const std::string& key, T& out) {
  // JSON parsers give non-negative literals as signed integers: accept both.
  if (!value.is_number_integer() || value.get<std::int64_t>() < 0
      || value.get<std::uint64_t>() > std::numeric_limits<T>::max())
    invalid("config key \"" + key + "\" must be a non-negative integer, got " + value.dump());
  out = value.get<T>();
}

void read_resources(const nlohmann::json& value, std::map<std::string, double>& out) {
  if (!value.is_object())
    invalid("config key \"resources\" must be an object of names to amounts, got "
            + value.dump());
  for (const auto& [name, amount] : value.items()) {
    if (!amount.is_number() || amount.get<double>() < 0)
      invalid("config key \"resources." + name + "\" must be a non-negative number, got "
              + amount.dump());
    out[name] = amount.get<double>();
  }
}

} // namespace

config config::from_json(const nlohmann::json& json) {
  if (!json.is_object())
    invalid("a config must be a JSON object of field names to values, got " + json.dump());
  config result;
  for (const auto& [key, value] : json.items()) {
    if (key == "num_workers")
      read_unsigned(value, key, result.num_workers);
    else if (key == "object_store_capacity")
      read_unsigned(value, key, result.object_store_capacity);
    else if (key == "buffer_pool_capacity")
      read_unsigned(value, key, result.buffer_pool_capacity);
    else if (key == "resources")
      read_resources(value, result.resources);
    else if (key == "scheduler_policy") {
      if (!value.is_string())
        invalid("config key \"scheduler_policy\" must be \"sharing\" or \"stealing\", got "
                + value.dump());
      result.scheduler_policy = value.get<std::string>();
    }
    else
      invalid("unknown config key \"" + key
              + "\"; known keys: num_workers, object_store_capacity, buffer_pool_capacity, resources, "
              "scheduler_policy");
  }
  result.validate();
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

void config::validate() const {
  if (object_store_capacity == 0)
    invalid("config key \"object_store_capacity\" must be positive (bytes the store may hold)");
  if (scheduler_policy != "sharing" && scheduler_policy != "stealing")
    invalid("config key \"scheduler_policy\" must be \"sharing\" or \"stealing\", got \""
            + scheduler_policy + "\"");
  for (const auto& [name, amount] : resources)
    if (!(amount >= 0))
      invalid("config key \"resources." + name + "\" must be a non-negative number");
}

} // namespace rustyray
