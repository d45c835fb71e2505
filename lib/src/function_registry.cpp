#include <algorithm>
#include <mutex>
#include <unordered_map>

#include <caf/actor_system_config.hpp>

#include "rustyray/internal/demangle.hpp"
#include "rustyray/internal/function_registry.hpp"
#include "rustyray/error.hpp"
#include "rustyray/remote.hpp"

namespace rustyray {

namespace {

struct registry {
  std::mutex mtx;
  std::unordered_map<std::string, detail::remote_function> by_name; // guarded by mtx
  std::unordered_map<std::string, std::string> name_by_identity;    // guarded by mtx
  std::vector<std::string> duplicates;                              // guarded by mtx
  /// The types registered functions ship, by RTTI.
  std::unordered_map<std::type_index, detail::wire_type> types; // guarded by mtx
};

/// Function-local: registrations run during static initialization.
registry& functions() {
  static registry instance;
  return instance;
}

std::string trim(const std::string& s) {
  auto begin = s.find_first_not_of(" \t\n\r");
  if (begin == std::string::npos)
    return {};
  auto end = s.find_last_not_of(" \t\n\r");
  return s.substr(begin, end - begin + 1);
}

std::string normalize(std::string name) {
  name = trim(name);
  if (!name.empty() && name[0] == '&')
    name = trim(name.substr(1));
  const std::string func = "RUSTYRAY_FUNC(";
  if (name.rfind(func, 0) == 0 && name.back() == ')') {
    auto inner = name.substr(func.size(), name.size() - func.size() - 1);
    auto comma = inner.find(',');
    auto fn = normalize(comma == std::string::npos ? inner : inner.substr(0, comma));
    auto args = comma == std::string::npos ? std::string{} : trim(inner.substr(comma + 1));
    return fn + "(" + args + ")";
  }
  return name;
}

caf::error not_registered(const std::string& name) {
  return make_error(errc::function_not_registered,
                    "no function named \"" + name
                      + "\" is registered in this process; register it with "
                        "RUSTYRAY_REMOTE("
                      + name
                      + ") at namespace scope in every "
                        "process of the cluster");
}

} // namespace

namespace detail {

std::vector<std::string> split_remote_names(const char* text) {
  std::vector<std::string> names;
  std::string current;
  int depth = 0;
  for (const char* c = text; *c != '\0'; ++c) {
    if (*c == '(' || *c == '<')
      ++depth;
    else if (*c == ')' || *c == '>')
      --depth;
    if (*c == ',' && depth == 0) {
      names.push_back(normalize(current));
      current.clear();
    } else {
      current += *c;
    }
  }
  names.push_back(normalize(current));
  return names;
}

void add_remote_function(remote_function fn) {
  auto& r = functions();
  std::lock_guard<std::mutex> guard{r.mtx};
  auto name = fn.name;
  auto key = std::string{fn.type.name()} + fn.identity.bytes();
  for (const auto& t : fn.types)
    r.types.emplace(t.type, t);
  if (!r.by_name.emplace(name, std::move(fn)).second)
    r.duplicates.push_back(name);
  else
    r.name_by_identity.emplace(std::move(key), name);
}

std::string remote_name_of(std::type_index type, const function_identity& identity) {
  auto& r = functions();
  std::lock_guard<std::mutex> guard{r.mtx};
  auto i = r.name_by_identity.find(std::string{type.name()} + identity.bytes());
  return i == r.name_by_identity.end() ? std::string{} : i->second;
}

caf::error argument_mismatch(const std::string& function, const caf::message& args,
                             std::initializer_list<caf::rtti_pair> params) {
  std::string taken;
  for (auto type : params)
    taken += (taken.empty() ? "" : ", ") + internal::type_name(type);
  std::string given;
  for (std::size_t i = 0; i < args.size(); ++i)
    given += (i == 0 ? "" : ", ") + internal::type_name(args.type(i));
  return make_error(errc::type_mismatch,
                    function + " takes (" + taken + ") but got (" + given
                      + "); send exactly these types (numbers convert where no value is lost, "
                        "such as int32_t to int64_t or float to double)");
}

caf::expected<caf::message> invoke_remote(const std::string& name, const caf::message& args) {
  remote_invoker invoke;
  {
    auto& r = functions();
    std::lock_guard<std::mutex> guard{r.mtx};
    auto i = r.by_name.find(name);
    if (i != r.by_name.end())
      invoke = i->second.invoke;
  }
  if (!invoke)
    return not_registered(name);
  return invoke(args);
}

caf::expected<actor_factory> find_actor_factory(const std::string& name) {
  auto& r = functions();
  std::lock_guard<std::mutex> guard{r.mtx};
  auto i = r.by_name.find(name);
  if (i == r.by_name.end() || !i->second.build)
    return not_registered(name);
  const auto& fn = i->second;
  return actor_factory{fn.builds, fn.build, fn.on_start, fn.on_stop};
}

caf::expected<member_invoker> find_member_invoker(const std::string& name,
                                                  const std::type_info& cls) {
  auto& r = functions();
  std::lock_guard<std::mutex> guard{r.mtx};
  auto i = r.by_name.find(name);
  if (i == r.by_name.end() || !i->second.invoke_member)
    return not_registered(name);
  if (i->second.owner != std::type_index(cls))
    return make_error(errc::type_mismatch, "\"" + name + "\" is a method of "
                                             + internal::demangle(i->second.owner.name())
                                             + ", not of the actor's class "
                                             + internal::demangle(cls.name()));
  return i->second.invoke_member;
}

} // namespace detail

namespace internal {

std::vector<std::string> remote_names() {
  auto& r = functions();
  std::lock_guard<std::mutex> guard{r.mtx};
  std::vector<std::string> names;
  names.reserve(r.by_name.size());
  for (const auto& [name, fn] : r.by_name)
    names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

void add_remote_types(caf::actor_system_config& cfg) {
  auto& r = functions();
  std::lock_guard<std::mutex> guard{r.mtx};
  for (const auto& [type, t] : r.types) {
    // A type the program announced itself keeps its name.
    if (cfg.type_names_by_rtti.count(type) != 0)
      continue;
    // Every node runs the same build: the mangled name is the same there.
    auto name = std::string{"rustyray:"} + type.name();
    cfg.type_names_by_rtti.emplace(type, name);
    cfg.value_factories_by_name.emplace(name, t.make);
    cfg.value_factories_by_rtti.emplace(type, t.make);
  }
}

void check_remote_registrations() {
  auto& r = functions();
  std::lock_guard<std::mutex> guard{r.mtx};
  if (r.duplicates.empty())
    return;
  std::string names;
  for (const auto& name : r.duplicates)
    names += (names.empty() ? "\"" : ", \"") + name + "\"";
  throw error{errc::invalid_argument,
              "RUSTYRAY_REMOTE registered " + names
                + " more than once; every name must be unique in the program: rename "
                  "one, or pick overloads with RUSTYRAY_FUNC(f, Args...)"};
}

} // namespace internal

} // namespace rustyray
