// One program, several processes: a pipeline of tasks spread over the nodes
// of a cluster, an object fetched across nodes, tasks pinned to each node,
// an actor on another node called from every node, and the cluster's table
// at the end.
//
//   ./build/cli/rustyray up --workers 2 -- ./build/examples/cluster_demo
//
// `rustyray up` starts a head, two copies of this program as workers (their
// `init` joins the cluster and serves it; the code after it never runs
// there) and this program as the driver. Run alone, the same program runs
// on one node.

#include <chrono>
#include <cstdint>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <rustyray/rustyray.hpp>

namespace demo {

/// This process's node.
std::string here() {
  for (const auto& n : rustyray::nodes())
    if (n.local)
      return n.id;
  return "?";
}

/// A value and the node that made it: a type of the program's own crosses
/// nodes once it is inspectable.
struct stage {
  int value = 0;
  std::string node;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stage& x) {
  return f(caf::meta::type_name("demo::stage"), x.value, x.node);
}

stage square(int x) {
  // Long enough that the driver's own CPUs fill up and tasks spill over.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return {x * x, here()};
}

stage add_ten(stage s) {
  return {s.value + 10, here()};
}

/// The sum of the bytes of an object, and where it was summed.
stage checksum(rustyray::object_ref<std::vector<std::uint8_t>> data) {
  int sum = 0;
  for (auto b : data.get())
    sum = (sum + b) % 1000003;
  return {sum, here()};
}

std::string where_am_i() {
  return here();
}

/// An actor: a running total, kept on the node it was placed on.
class totals {
public:
  static totals create() {
    return {};
  }

  /// Adds `x`; returns the total so far and the node that keeps it.
  stage add(int x) {
    sum_ += x;
    return {sum_, here()};
  }

private:
  int sum_ = 0;
};

/// A task that calls the actor through a handle it was given.
stage add_from_task(rustyray::actor_handle<totals> t, int x) {
  return t.task(&totals::add).remote(x).get();
}

} // namespace demo

RUSTYRAY_REMOTE(demo::square, demo::add_ten, demo::checksum, demo::where_am_i, demo::totals::create,
                &demo::totals::add, demo::add_from_task);

int main() {
  rustyray::init(); // RUSTYRAY_ADDRESS: the cluster's driver; RUSTYRAY_WORKER: a worker
  auto me = demo::here();
  std::cout << "driver on node " << me << ", " << rustyray::nodes().size() << " node(s)\n";

  // A pipeline: each square feeds an add_ten, wherever each one runs.
  std::vector<rustyray::object_ref<demo::stage>> squares, results;
  for (int i = 1; i <= 8; ++i)
    squares.push_back(rustyray::task(demo::square).remote(i));
  for (auto& s : squares)
    results.push_back(rustyray::task(demo::add_ten).remote(s));
  std::set<std::string> used;
  for (std::size_t i = 0; i < results.size(); ++i) {
    auto square = squares[i].get();
    auto result = results[i].get();
    used.insert(square.node);
    std::cout << "pipeline " << i + 1 << " -> " << result.value << " (square on " << square.node
              << ", add_ten on " << result.node << ")\n";
  }
  std::cout << "squares ran on " << used.size() << " node(s)\n";

  // Pinned: one task on every node, each says where it ran.
  bool all_there = true;
  for (const auto& n : rustyray::nodes()) {
    if (n.total.count("CPU") == 0 || n.total.at("CPU") == 0)
      continue; // a bare head runs no task
    auto ran = rustyray::task(demo::where_am_i).node(n.id).remote().get();
    all_there = all_there && ran == n.id;
  }
  std::cout << "pinned to each node: " << (all_there ? "ok" : "wrong node") << "\n";

  // An object of this node, read by a task elsewhere (fetched from here).
  auto data = rustyray::put(std::vector<std::uint8_t>(8 << 20, 3));
  std::string other = me;
  for (const auto& n : rustyray::nodes())
    if (!n.local && n.total.count("CPU") != 0 && n.total.at("CPU") > 0)
      other = n.id;
  auto sum = rustyray::task(demo::checksum).node(other).remote(data).get();
  std::cout << "checksum of 8 MiB: " << sum.value << " on node " << sum.node << "\n";

  // An actor on another node; its handle travels to a task on each node,
  // which calls it there: one running total.
  auto t = rustyray::actor(demo::totals::create).node(other).remote();
  auto first = t.task(&demo::totals::add).remote(1).get();
  int calls = 1;
  for (const auto& n : rustyray::nodes()) {
    if (n.total.count("CPU") == 0 || n.total.at("CPU") == 0)
      continue;
    (void)rustyray::task(demo::add_from_task).node(n.id).remote(t, 1).get();
    ++calls;
  }
  auto last = t.task(&demo::totals::add).remote(0).get();
  std::cout << "actor on node " << first.node << " (" << (first.node == other ? "placed" : "moved")
            << "): " << last.value << " of " << calls << " calls counted\n";

  std::cout << "\nNODE              ALIVE  CPU free/total\n";
  for (const auto& n : rustyray::nodes()) {
    auto cpu = [](const std::map<std::string, double>& m) {
      auto i = m.find("CPU");
      return i == m.end() ? 0.0 : i->second;
    };
    std::cout << n.id << "  " << (n.alive ? "yes" : "no ") << "    " << cpu(n.available) << "/"
              << cpu(n.total) << (n.head ? "  (head)" : "") << (n.local ? "  (driver)" : "")
              << "\n";
  }
  std::cout << "cluster_demo finished\n";
  rustyray::shutdown();
  return 0;
}
