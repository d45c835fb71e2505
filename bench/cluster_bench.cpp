#include "cluster_bench.hpp"

#include <chrono>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <rustyray/rustyray.hpp>

#include "node_process.hpp"
#include "workloads.hpp"

// Every process of the benchmark's cluster runs this program: they find the
// task by this name.
RUSTYRAY_REMOTE(bench::small_value);

namespace bench {

namespace {

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
    "caf_remote_request_response_sync", "multi_node_task_round_trip",
    "caf_remote_request_response_async", "multi_node_tasks_async"};
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
      rustyray::serve();
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
      program, std::vector<std::string>{}, std::vector<std::string>{"--node", address, cluster_token}));
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
  impl_->echoes.clear();
  impl_->net.reset();
  rustyray::shutdown(); // the workers see the head go and end
  for (auto& p : impl_->processes)
    if (p->wait(std::chrono::seconds(10)) != 0)
      p->kill();
}

std::vector<metric> bench_cluster::metrics(const schedule& s) {
  auto* state = impl_.get();
  auto remote_async = [state](int calls) {
    caf::scoped_actor self{state->net->sys};
    const auto n = state->echoes.size();
    for (int i = 0; i < calls; ++i)
      self->send(state->echoes[static_cast<std::size_t>(i) % n], 1);
    int received = 0;
    bool late = false;
    while (received < calls && !late)
      self->receive([&](int) { ++received; },
                    caf::after(std::chrono::minutes(1)) >> [&] { late = true; });
    if (late)
      throw std::runtime_error("CAF remote floor: replies missing after a minute");
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
    {"multi_node_task_round_trip", "rustyray", "RustyRay", "ops/s",
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
     [remote_async, &s] { return timeit(s, [&] { remote_async(1000); }, 1000); }},
    {"multi_node_tasks_async", "rustyray", "RustyRay", "ops/s",
     "1,000 `task(small_value).node(worker).remote()` spread over the worker processes, then "
     "one `get` of all",
     [state, &s] {
       const auto& nodes = state->nodes;
       return timeit(
         s,
         [&] {
           submit_then_get(1000, [&](int i) {
             return rustyray::task(small_value).node(nodes[static_cast<std::size_t>(i) % nodes.size()]).remote();
           });
         },
         1000);
     },
     {{"vs_caf_remote_request_response_async", "caf_remote_request_response_async"}}},
  };
}

} // namespace bench
