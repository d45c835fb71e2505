// Writes the seed corpus of the fuzz targets: small, valid encodings of what
// each target decodes, so fuzzing starts from inputs that reach deep into
// the decoders. Deterministic (fixed IDs and texts), so regenerating does
// not churn the committed files:
//
//   ./build/tests/fuzz/fuzz_make_corpus tests/fuzz/corpus

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "rustyray/cluster/internal/membership.hpp"
#include "rustyray/cluster/internal/wire.hpp"
#include "rustyray/objstore/atoms.hpp"
#include "rustyray/objstore/stored_object.hpp"
#include "rustyray/rustyray.hpp"

using namespace rustyray;
namespace fs = std::filesystem;

namespace {

// Stand-ins for the user types message_fuzz.cpp registers: a handle encodes
// as its ID whatever its class, so only the registered names must match.
class Tally {};

constexpr std::uint64_t some_node = 0x0123456789abcdefull;

struct writer {
  fs::path root;
  caf::actor_system& sys;
  int files = 0;

  void raw(const std::string& target, const std::string& name, const std::vector<char>& bytes) {
    auto dir = root / target;
    fs::create_directories(dir);
    std::ofstream out{dir / name, std::ios::binary | std::ios::trunc};
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    ++files;
  }

  /// A mode byte, then the CAF encoding of `xs`.
  template <class... Ts>
  void seed(const std::string& target, const std::string& name, std::uint8_t mode, Ts&&... xs) {
    std::vector<char> bytes{static_cast<char>(mode)};
    caf::binary_serializer sink{sys, bytes};
    if (auto err = sink(xs...)) {
      std::fprintf(stderr, "cannot serialize seed %s/%s: %s\n", target.c_str(), name.c_str(),
                   sys.render(err).c_str());
      std::exit(1);
    }
    raw(target, name, bytes);
  }

  void text(const std::string& target, const std::string& name, const std::string& content) {
    raw(target, name, std::vector<char>(content.begin(), content.end()));
  }
};

void object_ref_seeds(writer& w) {
  // Mode 0x80 puts the fuzzing process's node into the ID: sequences 1 and 2
  // are the int and the string that object_ref_fuzz.cpp puts at start.
  object_id foreign{some_node, 42};
  w.seed("object_ref", "id", 0x00, foreign);
  w.seed("object_ref", "id_nil", 0x00, object_id{});
  auto local_int = object_ref<int>::adopt({some_node, 1});
  auto local_text = object_ref<std::string>::adopt({some_node, 2});
  w.seed("object_ref", "int_ref_local", 0x81, local_int);
  w.seed("object_ref", "string_ref_local", 0x82, local_text);
  w.seed("object_ref", "string_ref_holding_an_int", 0x82, local_int);
  w.seed("object_ref", "int_ref_unknown_sequence", 0x81, object_ref<int>::adopt({some_node, 99}));
  w.seed("object_ref", "int_ref_foreign", 0x01, object_ref<int>::adopt(foreign));
  std::vector<object_ref<int>> refs;
  refs.push_back(object_ref<int>::adopt(foreign));
  refs.push_back(object_ref<int>::adopt({some_node, 43}));
  w.seed("object_ref", "int_refs", 0x03, refs);
  w.seed("object_ref", "ref_over_ref", 0x84, local_text);
}

void actor_handle_seeds(writer& w) {
  // Mode 0x80 puts the fuzzing process's node into the ID; the actors of
  // actor_handle_fuzz.cpp get small sequence numbers.
  for (std::uint64_t seq = 1; seq <= 3; ++seq) {
    auto n = std::to_string(seq);
    w.seed("actor_handle", "gauge_local_" + n, 0x80, object_id{some_node, seq});
    w.seed("actor_handle", "meter_local_" + n, 0x81, object_id{some_node, seq});
    w.seed("actor_handle", "over_live_local_" + n, 0x82, object_id{some_node, seq});
  }
  w.seed("actor_handle", "gauge_foreign", 0x00, object_id{some_node, 7});
  w.seed("actor_handle", "nil", 0x00, object_id{});
}

void message_seeds(writer& w) {
  auto call = [&](const std::string& name, std::uint8_t mode, const std::string& method,
                  caf::message args) {
    w.seed("message", name, mode, caf::make_message(call_atom::value, method, std::move(args)));
  };
  call("call_add", 0, "Tally::add", caf::make_message(5));
  call("call_add_anonymous", 0x40, "Tally::add", caf::make_message(1));
  call("call_label", 0, "Tally::label", caf::make_message(std::string{"n"}, 3));
  call("call_total", 0, "Tally::total", caf::make_message());
  call("call_add_wrong_type", 0, "Tally::add", caf::make_message(std::string{"x"}));
  call("call_free_function", 0, "add", caf::make_message(1, 2));
  call("call_shout", 0, "shout", caf::make_message(std::string{"hi"}));
  call("call_count_bytes", 0, "count_bytes", caf::make_message(std::vector<std::uint8_t>{1, 2, 3}));
  call("call_first_of", 0, "first_of", caf::make_message(std::vector<int>{4, 5}));
  call("call_unknown", 0, "nope", caf::make_message());
  object_id id{some_node, 1};
  w.seed("message", "store_get", 0, caf::make_message(objstore::get_atom::value, id));
  w.seed("message", "store_contains", 0, caf::make_message(objstore::contains_atom::value, id));
  w.seed("message", "store_pin", 0, caf::make_message(objstore::pin_atom::value, id));
  w.seed("message", "store_unpin", 0, caf::make_message(objstore::unpin_atom::value, id));
  w.seed("message", "store_free", 0, caf::make_message(objstore::free_atom::value, id));
  w.seed("message", "store_stats", 0, caf::make_message(objstore::stats_atom::value));
  auto stored = [&](const std::string& name, caf::message value) {
    w.seed("message", name, 0, caf::make_message(objstore::stored_object{std::move(value)}));
  };
  stored("stored_int", caf::make_message(7));
  stored("stored_string", caf::make_message(std::string{"seven"}));
  stored("stored_bytes", caf::make_message(std::vector<std::uint8_t>{0, 1, 2, 255}));
  stored("stored_void", caf::message{});
  {
    // A byte buffer claiming 4 GiB in a few bytes: must fail without
    // allocating (lib/src/bounded_bytes.hpp).
    std::vector<char> bytes{0};
    caf::binary_serializer sink{w.sys, bytes};
    auto msg = caf::make_message(
      objstore::stored_object{caf::make_message(std::vector<std::uint8_t>{1, 2})});
    if (sink(msg))
      std::exit(1);
    bytes.erase(bytes.end() - 3, bytes.end()); // the length 2, then 1, 2
    for (char c : {'\xff', '\xff', '\xff', '\xff', '\x0f', '\x01', '\x02'})
      bytes.push_back(c);
    w.raw("message", "stored_bytes_claiming_4_gib", bytes);
  }
  stored("stored_nested", caf::make_message(objstore::stored_object{caf::make_message(1)}));
  w.seed("message", "error", 0, caf::make_message(make_error(errc::object_lost, "gone")));
  w.seed("message", "int_ref", 0, caf::make_message(object_ref<int>::adopt(id)));
  w.seed("message", "tally_handle", 0,
         caf::make_message(actor_handle<Tally>{nullptr, object_id{some_node, 2}}));
  w.seed("message", "store_stats_reply", 0, caf::make_message(store_stats{}));
}

void error_seeds(writer& w) {
  w.seed("error", "object_lost", 0, make_error(errc::object_lost, "object 1 was evicted"));
  w.seed("error", "task_failed", 0,
         make_error(errc::task_failed, "task f threw std::runtime_error: boom"));
  w.seed("error", "actor_died", 0, make_error(errc::actor_died));
  w.seed("error", "code_without_text", 0, caf::error{3, errc_category});
  w.seed("error", "unknown_code", 0, caf::error{200, errc_category});
  w.seed("error", "text_not_a_string", 0, caf::error{3, errc_category, caf::make_message(42)});
  w.seed("error", "caf_timeout", 0, caf::make_error(caf::sec::request_timeout));
  w.seed("error", "caf_receiver_down", 0, caf::make_error(caf::sec::request_receiver_down));
  w.seed("error", "caf_unexpected_message", 0, caf::make_error(caf::sec::unexpected_message));
  w.seed("error", "other_category", 0, caf::error{5, caf::atom("other")});
  w.seed("error", "none", 0, caf::error{});
}

void config_seeds(writer& w) {
  w.text("config_json", "full", R"({"num_workers": 4, "object_store_capacity": 1073741824,
 "buffer_pool_capacity": 0, "scheduler_policy": "stealing",
 "resources": {"CPU": 4, "GPU": 0.5}, "timeline_capacity": 100000,
 "slow_get_warning": "10s"})");
  w.text("config_json", "empty", "{}");
  w.text("config_json", "durations", R"({"slow_get_warning": "2min"})");
  w.text("config_json", "duration_ms", R"({"slow_get_warning": 250})");
  w.text("config_json", "resources", R"({"resources": {"GPU": 1, "name": 2.25}})");
  w.text("config_json", "unknown_key", R"({"num_worker": 1})");
  w.text("config_json", "wrong_type", R"({"num_workers": "four"})");
  w.text("config_json", "not_an_object", "[1, 2]");
  w.text("config_json", "big_numbers", R"({"num_workers": 18446744073709551615,
 "resources": {"CPU": 1e300}})");
}

} // namespace

void cluster_seeds(writer& w) {
  using namespace rustyray::cluster::internal;
  link_batch batch;
  batch.from = some_node;
  shipped_task task;
  task.result = object_id{some_node, 7};
  task.function = "demo::add";
  task.args = caf::make_message(2, std::string{"three"}, object_id{some_node, 3});
  task.refs = {{1, object_id{0x1111, 4}}};
  task.name = "add";
  task.timeout = 1000000;
  task.resources = {{"GPU", 1}};
  batch.tasks.push_back(task);
  shipped_result result;
  result.result = object_id{some_node, 8};
  result.value = caf::make_message(std::vector<std::uint8_t>(16, 1));
  result.size = 16;
  result.copy = object_id{0x1111, 2};
  batch.results.push_back(result);
  shipped_result failed;
  failed.result = object_id{some_node, 9};
  failed.error = make_error(errc::task_failed, "task add threw [on node 1111]");
  batch.fetched.push_back(failed);
  object_chunk chunk;
  chunk.id = object_id{some_node, 10};
  chunk.total = 64;
  chunk.offset = 32;
  chunk.size = 64;
  chunk.bytes.assign(32, 9);
  batch.chunks.push_back(chunk);
  batch.borrow = {object_id{some_node, 11}};
  batch.release = {object_id{some_node, 12}};
  batch.stored = {object_id{0x1111, 2}};
  batch.chunk_acks = {object_id{some_node, 10}};
  batch.fetch = {object_id{some_node, 13}};
  batch.cancel = {object_id{some_node, 14}};
  batch.freed = {object_id{some_node, 15}};
  w.seed("cluster", "link_batch", 0, batch);
  link_batch actors;
  actors.from = some_node;
  shipped_actor placed;
  placed.id = object_id{some_node, 20};
  placed.factory = "demo::Counter::create";
  placed.args = caf::make_message(5);
  placed.max_restarts = -1;
  placed.resources = {{"GPU", 1}};
  actors.actors.push_back(placed);
  shipped_call call;
  call.result = object_id{some_node, 21};
  call.actor = placed.id;
  call.method = "demo::Counter::add";
  call.caller = 3;
  call.args = caf::make_message(1);
  actors.calls.push_back(call);
  shipped_call kill;
  kill.kind = shipped_call::kill_for_good;
  kill.actor = placed.id;
  actors.calls.push_back(kill);
  actor_location where;
  where.actor = object_id{0x1111, 5};
  where.host = some_node;
  actors.locations.push_back(where);
  actors.actor_borrow = {object_id{some_node, 22}};
  actors.actor_return = {object_id{some_node, 23}};
  actors.actor_release = {placed.id};
  actors.call_results.push_back(result);
  w.seed("cluster", "actor_batch", 0, actors);
  w.seed("cluster", "empty_batch", 0, link_batch{});
  join_request join;
  join.id = some_node;
  join.address = "127.0.0.1:4000";
  join.resources = {{"CPU", 2}};
  join.functions = {"demo::add", "demo::square"};
  join.version = "0.1.0";
  join.token = "secret";
  w.seed("cluster", "join_request", 1, join);
  node_record head;
  head.id = some_node;
  head.address = "127.0.0.1:4000";
  head.service = "127.0.0.1:4001";
  head.head = true;
  w.seed("cluster", "node_records", 2, std::vector<node_record>{head});
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR (e.g. tests/fuzz/corpus)\n", argv[0]);
    return 2;
  }
  caf::actor_system_config cfg;
  configure(cfg);
  cfg.add_message_type<actor_handle<Tally>>("fuzz::tally_handle");
  cfg.add_message_type<object_ref<int>>("fuzz::int_ref");
  cfg.add_message_type<std::vector<int>>("fuzz::ints");
  caf::actor_system sys{cfg};
  writer w{argv[1], sys};
  object_ref_seeds(w);
  actor_handle_seeds(w);
  message_seeds(w);
  error_seeds(w);
  config_seeds(w);
  cluster_seeds(w);
  std::printf("wrote %d seed files under %s\n", w.files, argv[1]);
  return 0;
}
