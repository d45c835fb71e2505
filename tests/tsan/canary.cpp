// Races on purpose, so that `./dev test-tsan` proves ThreadSanitizer still
// sees RustyRay's races with tests/tsan.supp and the CAF hand-off
// annotations (lib/src/tsan_caf_handoffs.cpp) in place. Each scenario must
// be reported; CTest passes only if TSan prints a data race.
//
//   tsan_canary actor_method_vs_thread | message_payload | two_caf_actors
//
// The spin-waits use relaxed atomics, which order nothing: they only make
// sure both accesses happen, and happen after any synchronisation the
// scenario has anyway (a submission's lock, one thread running both
// handlers one after the other), which TSan would rightly take as order.

#include <atomic>
#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>

#include <caf/all.hpp>

#include "rustyray/rustyray.hpp"

/// A pointer in a message: local only, as RustyRay passes task records.
struct payload_ptr {
  std::shared_ptr<int> value;
};
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(payload_ptr)

namespace {

int shared_value = 0;
std::atomic<bool> go{false};
std::atomic<bool> written{false};

void wait_for_write() {
  while (!written.load(std::memory_order_relaxed))
    std::this_thread::yield();
}

class Writer {
public:
  static Writer create() {
    return Writer{};
  }
  int write() {
    // Not before main is done submitting: its submission takes the object
    // table's lock, which would order the write before main's read.
    while (!go.load(std::memory_order_relaxed))
      std::this_thread::yield();
    shared_value = 42; // races with the read in main
    written.store(true, std::memory_order_relaxed);
    return 0;
  }
};

/// An actor method writes what a plain thread reads without synchronising.
int actor_method_vs_thread() {
  rustyray::config cfg;
  cfg.num_workers = 2;
  rustyray::init(cfg);
  {
    auto writer = rustyray::actor(Writer::create).remote();
    auto done = writer.task(&Writer::write).remote();
    go.store(true, std::memory_order_relaxed);
    wait_for_write();
    std::printf("read %d\n", shared_value);
    done.get();
  }
  rustyray::shutdown();
  return 0;
}

/// The sender keeps writing through a pointer it sent; the receiving
/// handler reads it: the message orders only what came before the send.
int message_payload() {
  caf::actor_system_config cfg;
  rustyray::configure(cfg);
  caf::actor_system sys{cfg};
  auto payload = std::make_shared<int>(1);
  auto reader = sys.spawn([](caf::event_based_actor*) -> caf::behavior {
    return {[](const payload_ptr& p) {
      wait_for_write();
      std::printf("read %d\n", *p.value); // races with the write below
    }};
  });
  caf::anon_send(reader, payload_ptr{payload});
  *payload = 2;
  written.store(true, std::memory_order_relaxed);
  caf::anon_send_exit(reader, caf::exit_reason::user_shutdown);
  return 0;
}

/// Two actors on CAF's work-stealing scheduler share a variable.
int two_caf_actors() {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  // Each handler waits for the other to run, so that they run at the same
  // time on two threads (one after the other on one thread is no race).
  auto writer = sys.spawn([](caf::event_based_actor*) -> caf::behavior {
    return {[](int x) {
      while (!go.load(std::memory_order_relaxed))
        std::this_thread::yield();
      shared_value = x; // races with the read in the other actor
      written.store(true, std::memory_order_relaxed);
    }};
  });
  auto reader = sys.spawn([](caf::event_based_actor*) -> caf::behavior {
    return {[](const std::string&) {
      go.store(true, std::memory_order_relaxed);
      wait_for_write();
      std::printf("read %d\n", shared_value);
    }};
  });
  caf::anon_send(reader, std::string{"read"});
  caf::anon_send(writer, 7);
  caf::anon_send_exit(writer, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(reader, caf::exit_reason::user_shutdown);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "actor_method_vs_thread") == 0)
    return actor_method_vs_thread();
  if (argc == 2 && std::strcmp(argv[1], "message_payload") == 0)
    return message_payload();
  if (argc == 2 && std::strcmp(argv[1], "two_caf_actors") == 0)
    return two_caf_actors();
  std::fprintf(stderr, "usage: %s actor_method_vs_thread|message_payload|two_caf_actors\n",
               argv[0]);
  return 2;
}
