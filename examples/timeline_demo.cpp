// Seeing what ran: a small pipeline (tasks, a task that fans out nested tasks,
// an actor), then rustyray::timeline writes timeline.json — open it in
// https://ui.perfetto.dev or chrome://tracing — and rustyray::state() shows
// the counters. The demo reads the file back to show what is in it.

#include <chrono>
#include <fstream>
#include <iostream>
#include <numeric>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <rustyray/rustyray.hpp>

std::vector<int> load(int n) {
  std::vector<int> xs(n);
  std::iota(xs.begin(), xs.end(), 1);
  return xs;
}

int square(int x) {
  std::this_thread::sleep_for(std::chrono::milliseconds(2)); // visible in the timeline
  return x * x;
}

/// Fans out one nested task per element and waits for them: in the timeline
/// the squares lie inside this task's bar.
int sum_of_squares(std::vector<int> xs) {
  std::vector<rustyray::object_ref<int>> parts;
  for (int x : xs)
    parts.push_back(rustyray::task(square).remote(x));
  int sum = 0;
  for (int part : rustyray::get(parts))
    sum += part;
  return sum;
}

class Ledger {
public:
  static Ledger create() {
    return {};
  }
  int add(int x) {
    return total_ += x;
  }

private:
  int total_ = 0;
};

RUSTYRAY_REMOTE(load, square, sum_of_squares, Ledger::create, &Ledger::add);

int main() {
  rustyray::init();
  {
    auto ledger = rustyray::actor(Ledger::create).remote();
    rustyray::object_ref<int> total;
    for (int round = 0; round < 3; ++round) {
      auto xs = rustyray::task(load).remote(4);
      auto sum = rustyray::task(sum_of_squares).remote(xs);
      total = ledger.task(&Ledger::add).remote(sum);
    }
    std::cout << "total: " << total.get() << std::endl;
  }

  rustyray::timeline("timeline.json");
  auto counters = rustyray::state()["counters"];
  std::cout << "state: " << counters["tasks_finished"] << " tasks finished, "
            << counters["actor_calls"] << " actor calls" << std::endl;
  rustyray::shutdown();

  // What the file holds: one complete ("X") event per task run or actor call.
  std::ifstream in{"timeline.json"};
  auto trace = nlohmann::json::parse(in);
  int tasks = 0;
  int calls = 0;
  std::vector<nlohmann::json> sums;
  std::vector<nlohmann::json> squares;
  for (const auto& e : trace["traceEvents"]) {
    if (e["ph"] != "X")
      continue;
    (e["cat"] == "task" ? tasks : calls) += 1;
    if (e["name"] == "sum_of_squares")
      sums.push_back(e);
    if (e["name"] == "square")
      squares.push_back(e);
  }
  std::cout << "timeline.json: " << tasks << " task events, " << calls << " actor call events"
            << std::endl;
  // Each square ran while some sum_of_squares waited for it.
  int inside = 0;
  for (const auto& sq : squares)
    for (const auto& sum : sums)
      if (sq["ts"].get<double>() >= sum["ts"].get<double>()
          && sq["ts"].get<double>() + sq["dur"].get<double>()
               <= sum["ts"].get<double>() + sum["dur"].get<double>()) {
        ++inside;
        break;
      }
  std::cout << "nested squares inside a sum_of_squares: " << inside << " of " << squares.size()
            << std::endl;
  std::cout << "timeline_demo finished" << std::endl;
}
