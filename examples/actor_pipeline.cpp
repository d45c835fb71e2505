// Actors and tasks passing refs and handles: a source actor makes batches, a
// task squares them, a sink actor sums what it is given and reports to a
// logger actor whose handle it received as an argument.

#include <iostream>
#include <numeric>
#include <string>
#include <vector>

#include <rustyray/rustyray.hpp>

class Logger {
public:
  static Logger create() {
    return {};
  }
  void log(std::string line) {
    lines_.push_back(std::move(line));
  }
  std::vector<std::string> lines() const {
    return lines_;
  }

private:
  std::vector<std::string> lines_;
};

class Source {
public:
  static Source create(int batch_size) {
    return Source{batch_size};
  }
  std::vector<int> next() {
    std::vector<int> batch(batch_size_);
    std::iota(batch.begin(), batch.end(), next_);
    next_ += batch_size_;
    return batch;
  }

private:
  explicit Source(int batch_size) : batch_size_(batch_size) {}
  int batch_size_;
  int next_ = 1;
};

class Sink {
public:
  static Sink create(rustyray::actor_handle<Logger> logger) {
    return Sink{std::move(logger)};
  }
  long add(std::vector<int> squares) {
    total_ += std::accumulate(squares.begin(), squares.end(), 0L);
    // An actor calls another actor through a handle it was given.
    logger_.task(&Logger::log).remote("sink total " + std::to_string(total_)).get();
    return total_;
  }

private:
  explicit Sink(rustyray::actor_handle<Logger> logger) : logger_(std::move(logger)) {}
  rustyray::actor_handle<Logger> logger_;
  long total_ = 0;
};

std::vector<int> square(std::vector<int> xs) {
  for (auto& x : xs)
    x *= x;
  return xs;
}

int main() {
  rustyray::init();
  {
    auto logger = rustyray::actor(Logger::create).remote();
    auto source = rustyray::actor(Source::create).remote(4);
    auto sink = rustyray::actor(Sink::create).remote(logger); // a handle as an argument
    rustyray::object_ref<long> total;
    for (int i = 0; i < 3; ++i) {
      auto batch = source.task(&Source::next).remote();    // actor -> ref
      auto squares = rustyray::task(square).remote(batch); // ref -> task -> ref
      total = sink.task(&Sink::add).remote(squares);       // ref -> actor
    }
    std::cout << "sum of squares 1..12: " << total.get() << std::endl;
    for (const auto& line : logger.task(&Logger::lines).remote().get())
      std::cout << "log: " << line << std::endl;
  }
  rustyray::shutdown();
  std::cout << "actor_pipeline finished" << std::endl;
}
