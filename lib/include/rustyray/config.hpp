#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace rustyray {

/// Settings of a runtime, passed to `init`. Every field has a default that
/// suits a single machine; JSON files use the field names as keys, and an
/// environment variable `RUSTYRAY_<FIELD>` (the field name in upper case,
/// e.g. `RUSTYRAY_NUM_WORKERS=4`) overrides a file's value.
///
/// Where the environment applies: `from_json`, `from_file`, `from_env` and
/// `init()` without a config. A config built field by field in code and passed
/// to `init(cfg)` is taken as it is.
///
/// ~~~
/// auto cfg = rustyray::config::from_json({{"object_store_capacity", 64 << 20}});
/// rustyray::init(cfg);
/// ~~~
struct config {
  /// Worker actors that run tasks in parallel; 0 means one per hardware thread.
  /// At most 65536 (each is a thread).
  std::size_t num_workers = 0;

  /// Threads that run actor calls at once; 0 means one per hardware thread.
  /// An idle actor holds none. While calls block (in `get`, `wait`, a lock
  /// or a sleep), more start, up to `max_actor_threads`, and end again once
  /// idle. At most 65536.
  std::size_t actor_threads = 0;

  /// The most actor threads, blocked ones included (default 4096, at most
  /// 65536). Once that many calls block at once, further calls wait for one
  /// to return. An actor built with `.dedicated_thread()` has its own
  /// thread besides these.
  std::size_t max_actor_threads = 4096;

  /// Bytes the object store may hold before it evicts (default 1 GiB).
  /// Must be positive.
  std::uint64_t object_store_capacity = std::uint64_t{1} << 30;

  /// Bytes of large freed buffers (4 MiB and up) kept for reuse, so copying
  /// into them skips the kernel's page faults (default 1 GiB, never more than
  /// the store's capacity; 0 turns reuse off).
  std::uint64_t buffer_pool_capacity = std::uint64_t{1} << 30;

  /// CAF's scheduler policy for a runtime with its own actor system:
  /// "sharing" (default: lowest latency for calls from outside CAF) or
  /// "stealing" (CAF's default). An embedding application's system keeps its
  /// own setting.
  std::string scheduler_policy = "sharing";

  /// What this node offers to tasks, by name: `{"CPU": 4, "GPU": 1}`. CPU
  /// defaults to `num_workers`; a task's `num_cpus` and `resources` must fit.
  /// Amounts are numbers from 0 to 1e15.
  std::map<std::string, double> resources;

  /// Task runs and actor calls the timeline keeps (the most recent ones, about
  /// 130 bytes each; see `rustyray::timeline`); 0 turns recording off.
  std::size_t timeline_capacity = 100000;

  /// How long a `get` may wait before it logs one warning (see
  /// `rustyray/log.hpp`) naming the object and what would produce it; 0
  /// never warns. In JSON and the
  /// environment: milliseconds as a number, or a string with a unit such as
  /// `"500ms"`, `"10s"` or `"2min"`.
  std::chrono::milliseconds slow_get_warning = std::chrono::seconds(10);

  /// RustyRay's log lines below this level are dropped: "debug", "info",
  /// "warning" or "error", set at `init` (see `rustyray/log.hpp`). Empty
  /// keeps the threshold as it is: "info", unless `set_log_level` changed it.
  std::string log_level;

  /// The namespace named actors are created in and looked up in (see
  /// `get_actor` and `get_namespace`). Empty (the default, as in Ray): a
  /// namespace of this runtime's own, `anonymous-<node ID>`; in a cluster
  /// the cluster's, `anonymous-<head's node ID>`, so that every node finds
  /// the names given on any node. The environment variable is
  /// `RUSTYRAY_NAMESPACE`.
  std::string ray_namespace;

  /// The cluster to join, `"host:port"` of its head (environment:
  /// `RUSTYRAY_ADDRESS`); empty (the default): a single node on its own,
  /// listening on no port.
  std::string head_address;

  /// Where a head listens for nodes, `"host:port"`; port 0 (the default,
  /// `"127.0.0.1:0"`) takes any free one.
  std::string listen = "127.0.0.1:0";

  /// This runtime is a cluster's head: it listens on `listen` and keeps the
  /// node table.
  bool is_head = false;

  /// The secret every node and driver presents to join (environment:
  /// `RUSTYRAY_CLUSTER_TOKEN`). Never written by `to_json`, `state()` or a
  /// log line.
  std::string cluster_token;

  /// This process is a worker node (environment: `RUSTYRAY_WORKER=true`,
  /// as `rustyray up` and `rustyray worker` start a copy of the program):
  /// `init` joins the cluster at `head_address`, runs what the cluster sends
  /// until the head goes away (or a signal's `shutdown`), then ends the
  /// process with exit code 0; the program's code after `init` never runs
  /// there. (`serve()` is the same for a program that decides itself.)
  bool worker = false;

  /// A node that sends no heartbeat for this long is dead for the cluster
  /// (default 5 s).
  std::chrono::milliseconds heartbeat_timeout = std::chrono::seconds(5);

  /// How long a worker whose head is gone keeps running what it has (the
  /// tasks and calls of drivers it still reaches) before it ends (default
  /// 10 s). Whatever needs the head fails with `node_lost` at once.
  std::chrono::milliseconds head_grace = std::chrono::seconds(10);

  /// TLS between the cluster's processes, through CAF's OpenSSL module: PEM
  /// files of this node's certificate and private key, and of the
  /// certificate authority that signed every node's certificate. All three
  /// or none (the default: plain TCP; the token is checked either way).
  /// With TLS on, a node accepts and reaches only nodes whose certificate
  /// that CA signed, and the drivers, workers and `rustyray status` of the
  /// cluster need the files too. Environment: `RUSTYRAY_TLS` as a JSON
  /// object, e.g. `{"certificate": "node.pem", "key": "node.key", "ca_file":
  /// "ca.pem"}`.
  struct tls_files {
    std::string certificate;
    std::string key;
    std::string ca_file;

    [[nodiscard]] bool enabled() const noexcept {
      return !certificate.empty();
    }
  };
  tls_files tls;

  /// Reads a config from a JSON object whose keys are field names, then
  /// applies the `RUSTYRAY_<FIELD>` environment variables. An unknown key, a
  /// wrong type or an out-of-range value throws `error` with code
  /// `invalid_config` naming the key or the variable.
  static config from_json(const nlohmann::json& json);

  /// Reads a JSON file as `from_json` does; a missing or malformed file also
  /// throws `invalid_config`.
  static config from_file(const std::string& path);

  /// The defaults with the `RUSTYRAY_<FIELD>` environment variables applied
  /// (what `init()` without a config uses). A variable that is set but empty
  /// counts as unset.
  static config from_env();

  /// Throws `invalid_config` if a field is out of range.
  void validate() const;

  /// The fields as `from_json` reads them (durations in milliseconds),
  /// without `cluster_token`.
  [[nodiscard]] nlohmann::json to_json() const;
};

} // namespace rustyray
