#include "cluster_bench.hpp"
#include "caf_loops.hpp"

#include <algorithm>
#include <chrono>
#include <utility>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <rustyray/rustyray.hpp>

#include "node_process.hpp"
#include "workloads.hpp"

namespace bench {

namespace {

/// Bytes per slice and slices in flight of the raw CAF transfer: what
/// RustyRay's object transfer uses (cluster/src/object_links.hpp).
constexpr std::uint64_t floor_chunk = std::uint64_t{1} << 20;
constexpr int floor_window = 8;

/// The floor's side of a worker process (set while it serves).
caf::actor_system* worker_net = nullptr;

/// On a worker: seconds until a copy of `ref` (an object of the driver)
/// is in this node's store; the copy goes with the task's ref.
double timed_fetch(rustyray::object_ref<std::vector<std::uint8_t>> ref) {
  auto start = now_s();
  (void)rustyray::wait(std::vector<rustyray::object_ref<std::vector<std::uint8_t>>>{ref}, 1);
  return now_s() - start;
}

/// On a worker: seconds to copy `total` bytes from the driver's raw CAF
/// chunk source at `port` into a buffer, `floor_window` requests of
/// `floor_chunk` bytes in flight. The connection is made before the clock
/// starts.
double caf_timed_fetch(std::int32_t port, std::int64_t total) {
  auto source = worker_net->middleman().remote_actor("127.0.0.1", static_cast<std::uint16_t>(port));
  if (!source)
    throw std::runtime_error("cannot reach the driver's chunk source: "
                             + worker_net->render(source.error()));
  std::vector<std::uint8_t> target(static_cast<std::size_t>(total));
  caf::scoped_actor self{*worker_net};
  auto start = now_s();
  std::uint64_t next = 0;
  std::uint64_t received = 0;
  int in_flight = 0;
  auto ask = [&] {
    auto n = std::min<std::uint64_t>(floor_chunk, static_cast<std::uint64_t>(total) - next);
    self->send(*source, next, n);
    next += n;
    ++in_flight;
  };
  while (in_flight < floor_window && next < static_cast<std::uint64_t>(total))
    ask();
  while (received < static_cast<std::uint64_t>(total)) {
    bool late = false;
    self->receive(
      [&](std::uint64_t offset, const std::vector<std::uint8_t>& bytes) {
        std::copy(bytes.begin(), bytes.end(), target.begin() + static_cast<std::ptrdiff_t>(offset));
        received += bytes.size();
        --in_flight;
        if (next < static_cast<std::uint64_t>(total))
          ask();
      },
      caf::after(std::chrono::minutes(1)) >> [&] { late = true; });
    if (late)
      throw std::runtime_error("CAF chunk floor: no slice for a minute");
  }
  return now_s() - start;
}

} // namespace

} // namespace bench

// Every process of the benchmark's cluster runs this program: they find the
// functions by these names.
RUSTYRAY_REMOTE(bench::small_value, bench::timed_fetch, bench::caf_timed_fetch,
                bench::bench_actor::create, &bench::bench_actor::small_value);

namespace bench {

namespace {

/// The driver's raw CAF chunk source: answers (offset, n) with those bytes
/// of `data`.
caf::behavior chunk_source(caf::event_based_actor*,
                           std::shared_ptr<std::vector<std::uint8_t>> data) {
  return {[data](std::uint64_t offset, std::uint64_t n) {
    auto first = data->begin() + static_cast<std::ptrdiff_t>(offset);
    return caf::make_message(
      offset, std::vector<std::uint8_t>(first, first + static_cast<std::ptrdiff_t>(n)));
  }};
}

/// Ray's timeit for loops that time themselves: each call of `fn` returns
/// the units it moved and the seconds that took; a run adds calls until
/// its measured seconds reach `run_s`.
result self_timed(const schedule& s, const std::function<std::pair<double, double>()>& fn) {
  auto run = [&](double seconds) {
    double units = 0;
    double spent = 0;
    while (spent < seconds) {
      auto [u, t] = fn();
      units += u;
      spent += t;
    }
    return units / spent;
  };
  (void)run(s.warmup_s);
  std::vector<double> rates;
  for (int i = 0; i < s.runs; ++i)
    rates.push_back(run(s.run_s));
  return summarize(std::move(rates));
}

const char* const cluster_token = "microbenchmark";

caf::behavior echo(caf::event_based_actor*) {
  return {[](int x) { return x; }};
}

/// A plain CAF actor system with the io middleman: the floors' side of
/// each process.
struct caf_net {
  struct net_config : caf::actor_system_config {
    net_config() {
      load<caf::io::middleman>();
      // CAF 0.17 has no built-in byte vector (RustyRay's configure names
      // it the same way).
      add_message_type<std::vector<std::uint8_t>>("rustyray::bytes");
      // As RustyRay's own system: a thread wakes at once for each message
      // from outside CAF (see docs/perf-log.md); the default policy's idle
      // threads poll with sleeps, which would make this floor slower than
      // it can be.
      set("scheduler.policy", caf::atom("sharing"));
    }
  };
  net_config cfg;
  caf::actor_system sys{cfg};
};

} // namespace

const std::vector<std::string>& bench_cluster::metric_names() {
  static const std::vector<std::string> names{
    "caf_remote_request_response_sync",  "multi_node_task_round_trip",
    "caf_remote_request_response_async", "multi_node_tasks_async",
    "multi_node_actor_calls_async",      "caf_remote_chunks_gigabytes",
    "object_transfer_gigabytes"};
  return names;
}

int run_cluster_node(const std::string& address, const std::string& token) {
  rustyray::config cfg;
  cfg.head_address = address;
  cfg.cluster_token = token;
  cfg.num_workers = 1;
  rustyray::init(cfg);
  int code = 0;
  {
    caf_net net;
    auto target = net.sys.spawn(echo);
    auto port = net.sys.middleman().publish(target, 0, "127.0.0.1", true);
    if (!port) {
      std::cout << "failed " << net.sys.render(port.error()) << std::endl;
      code = 1;
    } else {
      for (const auto& n : rustyray::nodes())
        if (n.local)
          std::cout << "node " << n.id << " " << *port << std::endl;
      worker_net = &net.sys;
      rustyray::serve();
      worker_net = nullptr;
      (void)net.sys.middleman().unpublish(target, *port);
    }
    caf::anon_send_exit(target, caf::exit_reason::user_shutdown);
  }
  rustyray::shutdown();
  return code;
}

struct bench_cluster::impl {
  std::vector<std::unique_ptr<rustyray::test::node_process>> processes;
  std::vector<std::string> nodes;
  std::vector<std::uint16_t> echo_ports;
  std::unique_ptr<caf_net> net;
  std::vector<caf::actor> echoes;
  /// The bytes both transfers move, in this process: RustyRay's object
  /// and the raw CAF source's buffer.
  std::uint64_t transfer_bytes = 0;
  rustyray::object_ref<std::vector<std::uint8_t>> payload;
  caf::actor source;
  std::uint16_t source_port = 0;
};

bench_cluster::bench_cluster(const std::string& program, int workers)
  : impl_(std::make_unique<impl>()) {
  rustyray::config cfg;
  cfg.is_head = true;
  cfg.cluster_token = cluster_token;
  // The driver ships every task: its own workers stay idle.
  cfg.num_workers = 1;
  rustyray::init(cfg);
  std::string address;
  for (const auto& n : rustyray::nodes())
    if (n.head)
      address = n.address;
  for (int i = 0; i < workers; ++i) {
    impl_->processes.push_back(std::make_unique<rustyray::test::node_process>(
      program, std::vector<std::string>{},
      std::vector<std::string>{"--node", address, cluster_token}));
    auto line = impl_->processes.back()->read_line();
    std::istringstream in{line};
    std::string word, id;
    unsigned port = 0;
    if (!(in >> word >> id >> port) || word != "node")
      throw std::runtime_error("a worker of the benchmark's cluster said: \"" + line + "\"");
    impl_->nodes.push_back(id);
    impl_->echo_ports.push_back(static_cast<std::uint16_t>(port));
  }
  impl_->net = std::make_unique<caf_net>();
  for (auto port : impl_->echo_ports) {
    auto echo_actor = impl_->net->sys.middleman().remote_actor("127.0.0.1", port);
    if (!echo_actor)
      throw std::runtime_error("cannot reach a worker's echo actor: "
                               + impl_->net->sys.render(echo_actor.error()));
    impl_->echoes.push_back(*echo_actor);
  }
}

bench_cluster::~bench_cluster() {
  impl_->payload = {};
  if (impl_->source) {
    (void)impl_->net->sys.middleman().unpublish(impl_->source, impl_->source_port);
    caf::anon_send_exit(impl_->source, caf::exit_reason::user_shutdown);
  }
  impl_->echoes.clear();
  impl_->net.reset();
  rustyray::shutdown(); // the workers see the head go and end
  for (auto& p : impl_->processes)
    if (p->wait(std::chrono::seconds(10)) != 0)
      p->kill();
}

std::vector<metric> bench_cluster::metrics(const schedule& s) {
  auto* state = impl_.get();
  // 256 MiB as the issue asks; a quick run moves its smaller buffer.
  state->transfer_bytes = std::min<std::uint64_t>(std::uint64_t{256} << 20, s.big_buffer);
  auto bytes = std::make_shared<std::vector<std::uint8_t>>(state->transfer_bytes, 7);
  state->payload = rustyray::put(*bytes);
  state->source = state->net->sys.spawn(chunk_source, bytes);
  auto port = state->net->sys.middleman().publish(state->source, 0, "127.0.0.1", true);
  if (!port)
    throw std::runtime_error("cannot publish the chunk source: "
                             + state->net->sys.render(port.error()));
  state->source_port = *port;
  const double gigabytes = static_cast<double>(state->transfer_bytes) / 1e9;
  auto remote_async = [state](int calls) {
    caf::scoped_actor self{state->net->sys};
    const auto n = state->echoes.size();
    send_then_receive(self, calls,
                      [&](int i) { return state->echoes[static_cast<std::size_t>(i) % n]; });
  };
  return {
    {"caf_remote_request_response_sync", "floor", "CAF", "ops/s",
     "plain CAF: one `int` request to an echo actor in a worker process (io middleman), wait for "
     "the reply; repeated",
     [state, &s] {
       caf::scoped_actor self{state->net->sys};
       return timeit(s, [&] {
         self->request(state->echoes[0], std::chrono::minutes(1), 1)
           .receive([](int) {}, [](caf::error& e) { throw std::runtime_error(to_string(e)); });
       });
     }},
    {"multi_node_task_round_trip",
     "rustyray",
     "RustyRay",
     "ops/s",
     "`task(small_value).node(worker).remote()` to a worker process, then `get`; repeated (the "
     "round trip of one task to another process)",
     [state, &s] {
       const auto& node = state->nodes[0];
       return timeit(s, [&] { (void)rustyray::task(small_value).node(node).remote().get(); });
     },
     {{"vs_caf_remote_request_response_sync", "caf_remote_request_response_sync"}}},
    {"caf_remote_request_response_async", "floor", "CAF", "ops/s",
     "plain CAF: 1,000 `int` messages spread over the echo actors of the worker processes, then "
     "every reply",
     [remote_async, &s] {
       return timeit(
         s, [&] { remote_async(1000); }, 1000);
     }},
    {"multi_node_tasks_async",
     "rustyray",
     "RustyRay",
     "ops/s",
     "1,000 `task(small_value).node(worker).remote()` spread over the worker processes, then "
     "one `get` of all",
     [state, &s] {
       const auto& nodes = state->nodes;
       return timeit(
         s,
         [&] {
           submit_then_get(1000, [&](int i) {
             return rustyray::task(small_value)
               .node(nodes[static_cast<std::size_t>(i) % nodes.size()])
               .remote();
           });
         },
         1000);
     },
     {{"vs_caf_remote_request_response_async", "caf_remote_request_response_async"}}},
    {"multi_node_actor_calls_async",
     "rustyray",
     "RustyRay",
     "ops/s",
     "1,000 calls spread over one actor in each worker process (`.node(worker)`), then one "
     "`get` of all",
     [state, &s] {
       std::vector<rustyray::actor_handle<bench_actor>> actors;
       for (const auto& node : state->nodes)
         actors.push_back(rustyray::actor(bench_actor::create).node(node).remote());
       return timeit(
         s, [&] { calls_round_robin(1000, actors); }, 1000);
     },
     {{"vs_caf_remote_request_response_async", "caf_remote_request_response_async"}}},
    {"caf_remote_chunks_gigabytes", "floor", "CAF", "GB/s",
     "plain CAF: a worker process copies the bytes of a buffer in this process, 1 MiB slices, "
     "8 requests in flight (timed in the worker)",
     [state, &s, gigabytes] {
       const auto& node = state->nodes[0];
       auto port = static_cast<std::int32_t>(state->source_port);
       auto total = static_cast<std::int64_t>(state->transfer_bytes);
       return self_timed(s, [&] {
         return std::make_pair(
           gigabytes, rustyray::task(caf_timed_fetch).node(node).remote(port, total).get());
       });
     }},
    {"object_transfer_gigabytes",
     "rustyray",
     "RustyRay",
     "GB/s",
     "a task on a worker process waits until its copy of an object of this process (256 MiB of "
     "bytes) is in its store: fetched in 1 MiB slices, 8 in flight (timed in the worker)",
     [state, &s, gigabytes] {
       const auto& node = state->nodes[0];
       return self_timed(s, [&] {
         return std::make_pair(gigabytes,
                               rustyray::task(timed_fetch).node(node).remote(state->payload).get());
       });
     },
     {{"vs_caf_remote_chunks", "caf_remote_chunks_gigabytes"}}},
  };
}

} // namespace bench
