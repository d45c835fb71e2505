// Fuzz target: caf::message decoded by CAF's binary deserializer with the
// types RustyRay registers (`rustyray::configure`) plus the user types of an
// application, as BASP decodes what another process sends. Task submissions
// are in-process records (shared pointers, never serialized); what may come
// from another process, and what this target delivers after decoding, is:
//   - calls of actor methods by name: (call_atom, "C::method", message args)
//     to the actor's CAF face (`rustyray::actor_interface`), as a request or,
//     with mode & 0x40, as an anonymous message (no sender to reply to);
//   - calls of registered free functions by name with a message of
//     arguments (`detail::invoke_remote`, how another node will run a task);
//   - the object store protocol: (rr_get | rr_has | rr_pin | rr_unpin |
//     rr_free, object_id), (rr_stats);
//   - stored values (`stored_object`), read back as a given type.
// Input: one mode byte, then the bytes CAF decodes.
// Properties: decoding returns an error or a message; every delivery
// returns a value or an error (never a crash or a hang); the actor and the
// store keep answering afterwards.

#include "fuzz_support.hpp"

#include <algorithm>
#include <chrono>

#include "rustyray/objstore/atoms.hpp"
#include "rustyray/objstore/stored_object.hpp"

using namespace rustyray;
using namespace std::chrono_literals;

namespace {

/// Wraps around: the fuzzer sends any ints (signed overflow would be UB in
/// this harness, not in RustyRay).
int wrapping_add(int a, int b) {
  return static_cast<int>(static_cast<unsigned>(a) + static_cast<unsigned>(b));
}

int add(int a, int b) {
  return wrapping_add(a, b);
}

std::string shout(std::string text) {
  return text + "!";
}

std::size_t count_bytes(std::vector<std::uint8_t> bytes) {
  return bytes.size();
}

int first_of(std::vector<int> xs) {
  return xs.empty() ? 0 : xs.front();
}

class Tally {
public:
  static Tally create() {
    return Tally{};
  }
  int add(int x) {
    return total_ = wrapping_add(total_, x);
  }
  std::string label(std::string prefix, int n) const {
    return prefix + std::to_string(n);
  }
  int total() const {
    return total_;
  }

private:
  int total_ = 0;
};

RUSTYRAY_REMOTE(add, shout, count_bytes, first_of, Tally::create, &Tally::add, &Tally::label,
                &Tally::total);

struct fixture {
  caf::actor_system& sys;
  actor_handle<Tally> tally;
  caf::scoped_actor self;
};

fixture& env() {
  static fixture* f = [] {
    auto& sys = fuzz::system_once([](caf::actor_system_config& cfg) {
      // An application registers the types its messages carry.
      cfg.add_message_type<actor_handle<Tally>>("fuzz::tally_handle");
      cfg.add_message_type<object_ref<int>>("fuzz::int_ref");
      cfg.add_message_type<std::vector<int>>("fuzz::ints");
    });
    fuzz::init_runtime_once(sys);
    auto tally = actor(Tally::create).remote();
    return new fixture{sys, std::move(tally), caf::scoped_actor{sys}};
  }();
  return *f;
}

/// A request's outcome: the reply `on_reply` takes, or an error other than
/// a timeout (10 s: the answers take microseconds).
template <class... Reply>
struct reply_is {};

template <class Handle, class... Reply, class... Ts>
void ask(fixture& f, const Handle& dest, reply_is<Reply...>, Ts&&... xs) {
  bool answered = false;
  f.self->request(dest, 10s, std::forward<Ts>(xs)...)
    .receive([&](Reply&...) { answered = true; },
             [&](caf::error& err) {
               RUSTYRAY_FUZZ_CHECK(err != caf::sec::request_timeout);
               answered = true;
             });
  RUSTYRAY_FUZZ_CHECK(answered);
}

void deliver_call(fixture& f, const std::string& method, const caf::message& args, bool anonymous) {
  auto iface = caf_interface(f.tally);
  if (anonymous)
    caf::anon_send(iface, call_atom::value, method, args);
  ask(f, iface, reply_is<caf::message>{}, call_atom::value, method, args);
  // The same name and arguments as a free function call.
  try {
    auto result = detail::invoke_remote(method, args);
    if (!result)
      RUSTYRAY_FUZZ_CHECK(result.error().category() == errc_category);
  } catch (const rustyray::error&) {
    // A registered function may throw; that becomes the task's error.
  }
}

void deliver_store(fixture& f, const caf::message& msg) {
  auto store = detail::store_actor();
  if (msg.match_elements<objstore::get_atom, object_id>()) {
    // A get of a pending object would wait: nothing is pending here, so an
    // unknown ID fails at once.
    ask(f, store, reply_is<objstore::stored_object>{}, objstore::get_atom::value,
        msg.get_as<object_id>(1));
  } else if (msg.match_elements<objstore::contains_atom, object_id>()) {
    ask(f, store, reply_is<bool>{}, objstore::contains_atom::value, msg.get_as<object_id>(1));
  } else if (msg.match_elements<objstore::pin_atom, object_id>()) {
    ask(f, store, reply_is<>{}, objstore::pin_atom::value, msg.get_as<object_id>(1));
  } else if (msg.match_elements<objstore::unpin_atom, object_id>()) {
    ask(f, store, reply_is<>{}, objstore::unpin_atom::value, msg.get_as<object_id>(1));
  } else if (msg.match_elements<objstore::free_atom, object_id>()) {
    ask(f, store, reply_is<>{}, objstore::free_atom::value, msg.get_as<object_id>(1));
  } else if (msg.match_elements<objstore::stats_atom>()) {
    ask(f, store, reply_is<store_stats>{}, objstore::stats_atom::value);
  }
}

template <class T>
void read_back(const objstore::stored_object& stored) {
  auto value = detail::unpack<T>(object_id{1, 1}, stored.value);
  if (!value)
    RUSTYRAY_FUZZ_CHECK(value.error().category() == errc_category);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto& f = env();
  if (size == 0)
    return 0;
  auto mode = data[0];
  auto bytes = fuzz::payload(data, size);
  if (fuzz::names_known_caf_issue(bytes))
    return 0;
  caf::message msg;
  {
    caf::binary_deserializer source{f.sys, bytes};
    if (source(msg))
      return 0;
  }
  (void)caf::to_string(msg);
  if (msg.match_elements<call_atom, std::string, caf::message>())
    deliver_call(f, msg.get_as<std::string>(1), msg.get_as<caf::message>(2), (mode & 0x40) != 0);
  else
    deliver_store(f, msg);
  for (std::size_t i = 0; i < msg.size(); ++i) {
    if (msg.match_element<objstore::stored_object>(i)) {
      const auto& stored = msg.get_as<objstore::stored_object>(i);
      read_back<int>(stored);
      read_back<std::string>(stored);
      read_back<std::vector<std::uint8_t>>(stored);
      read_back<void>(stored);
    }
  }
  // The actor and the store still answer.
  auto total = try_get(f.tally.task(&Tally::total).remote(), 10s);
  RUSTYRAY_FUZZ_CHECK(static_cast<bool>(total));
  ask(f, detail::store_actor(), reply_is<store_stats>{}, objstore::stats_atom::value);
  return 0;
}
