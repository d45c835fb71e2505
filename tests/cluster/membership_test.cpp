#define BOOST_TEST_MODULE cluster_membership
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "cluster_functions.hpp"
#include "rustyray/cluster/internal/membership.hpp"
#include "rustyray/internal/function_registry.hpp"
#include "node_process.hpp"
#include "runtime_fixture.hpp"

using namespace rustyray;
using namespace std::chrono_literals;

namespace {

const std::string token = "test-token-4f1c";

/// This process as the head of a cluster on loopback, any free port.
struct head_fixture {
  head_fixture() {
    auto cfg = test::small_config();
    cfg.is_head = true;
    cfg.listen = "127.0.0.1:0";
    cfg.cluster_token = token;
    cfg.heartbeat_timeout = 1s;
    init(cfg);
    for (const auto& n : nodes())
      if (n.head)
        address = n.address;
  }
  ~head_fixture() {
    test::check_clean_and_shutdown();
  }
  std::string address;
};

test::node_process start_node(const std::string& program, const std::string& address,
                              const std::string& with_token) {
  return test::node_process{program,
                            {"RUSTYRAY_ADDRESS=" + address, "RUSTYRAY_CLUSTER_TOKEN=" + with_token,
                             "RUSTYRAY_NUM_WORKERS=1"}};
}

/// RUSTYRAY_WORKER=true while it lives.
struct scoped_worker_env {
  scoped_worker_env() {
    setenv("RUSTYRAY_WORKER", "true", 1);
  }
  ~scoped_worker_env() {
    unsetenv("RUSTYRAY_WORKER");
  }
};

const node_info* find(const std::vector<node_info>& all, const std::string& id) {
  auto i = std::find_if(all.begin(), all.end(), [&](const node_info& n) { return n.id == id; });
  return i == all.end() ? nullptr : &*i;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_single_node_lists_itself) {
  test::runtime_fixture runtime;
  auto all = nodes();
  BOOST_REQUIRE(all.size() == 1u);
  BOOST_TEST(all[0].local);
  BOOST_TEST(all[0].alive);
  BOOST_TEST(all[0].address.empty()); // listens on no port
  BOOST_TEST(all[0].total.at("CPU") == 2.0);
  BOOST_CHECK(test::code_of([] { serve(); }) == errc::invalid_argument);
}

BOOST_FIXTURE_TEST_SUITE(membership, head_fixture)

BOOST_AUTO_TEST_CASE(a_node_with_the_token_joins_and_is_dead_once_killed) {
  BOOST_TEST(address.rfind("127.0.0.1:", 0) == 0u);
  auto node = start_node(RUSTYRAY_TEST_NODE, address, token);
  auto line = node.read_line();
  BOOST_REQUIRE_MESSAGE(line.rfind("joined ", 0) == 0, "the node said: " + line);
  auto id = line.substr(7);
  auto all = nodes();
  BOOST_TEST(all.size() == 2u);
  const auto* joined = find(all, id);
  BOOST_REQUIRE(joined != nullptr);
  BOOST_TEST(joined->alive);
  BOOST_TEST(!joined->head);
  BOOST_TEST(!joined->local);
  BOOST_TEST(joined->total.at("CPU") == 1.0);
  // Killed without a word: the head notices (connection down or missed
  // heartbeats) and keeps it listed as dead.
  node.kill();
  for (;;) {
    all = nodes();
    if (!find(all, id)->alive)
      break;
    std::this_thread::sleep_for(10ms); // the head's table changes on its own
  }
  BOOST_TEST(all.size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_node_with_a_wrong_token_is_refused) {
  auto node = start_node(RUSTYRAY_TEST_NODE, address, "wrong");
  auto line = node.read_line();
  BOOST_TEST(line.rfind("refused join_refused: ", 0) == 0u, line);
  BOOST_TEST(line.find("cluster token") != std::string::npos);
  BOOST_TEST(line.find(token) == std::string::npos); // the secret is never shown
  BOOST_TEST(node.wait() == 3);
  BOOST_TEST(nodes().size() == 1u);
}

BOOST_AUTO_TEST_CASE(another_program_is_refused_naming_the_difference) {
  auto node = start_node(RUSTYRAY_TEST_OTHER_NODE, address, token);
  auto line = node.read_line();
  BOOST_TEST(line.rfind("refused join_refused: ", 0) == 0u, line);
  BOOST_TEST(line.find("cluster_test::cube") != std::string::npos, line);
  BOOST_TEST(node.wait() == 3);
  BOOST_TEST(nodes().size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_node_claiming_another_s_id_is_refused) {
  // A join crafted by hand (no RustyRay node makes one): the head's own ID,
  // with the right token, version and registry.
  std::string head_id;
  for (const auto& n : nodes())
    if (n.local)
      head_id = n.id;
  caf::actor_system_config cfg;
  cfg.load<caf::io::middleman>();
  cluster::internal::add_cluster_types(cfg);
  caf::actor_system sys{cfg};
  auto colon = address.rfind(':');
  auto head = sys.middleman().remote_actor(
    address.substr(0, colon), static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1))));
  BOOST_REQUIRE(head);
  cluster::internal::join_request claim;
  claim.id = std::stoull(head_id, nullptr, 16);
  claim.address = "127.0.0.1:1";
  claim.functions = rustyray::internal::remote_names();
  claim.version = cluster::internal::rustyray_version;
  claim.token = token;
  std::string refusal;
  {
    caf::scoped_actor self{sys};
    self->request(*head, std::chrono::seconds(10), cluster::internal::join_atom::value, claim)
      .receive([&](std::vector<cluster::internal::node_record>&, caf::actor&,
                   std::int64_t) { refusal = "joined"; },
               [&](caf::error& err) { refusal = sys.render(err); });
  }
  BOOST_TEST(refusal.find("node ID " + head_id + " is taken") != std::string::npos, refusal);
  head = caf::actor{}; // held past the system's end, it would keep it alive
  BOOST_TEST(nodes().size() == 1u);
}

BOOST_AUTO_TEST_CASE(the_token_is_not_in_state_or_to_json) {
  auto text = state().dump();
  BOOST_TEST(text.find(token) == std::string::npos);
  BOOST_TEST(state()["config"].count("cluster_token") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(a_worker_needs_a_head_and_its_own_process) {
  {
    scoped_worker_env worker;
    BOOST_TEST(config::from_env().worker);
  }
  BOOST_TEST(!config::from_env().worker);
  auto cfg = test::small_config();
  cfg.worker = true; // without a head address
  BOOST_CHECK(test::code_of([&] { init(cfg); }) == errc::invalid_config);
  cfg.head_address = "127.0.0.1:1";
  caf::actor_system_config system_cfg;
  configure(system_cfg);
  caf::actor_system system{system_cfg};
  // Embedded: serving would end the application's process.
  BOOST_CHECK(test::code_of([&] { init(system, cfg); }) == errc::invalid_config);
  BOOST_TEST(!is_initialized());
}

BOOST_AUTO_TEST_CASE(a_head_that_is_not_there_is_node_lost) {
  auto cfg = test::small_config();
  cfg.head_address = "127.0.0.1:1"; // nothing listens on port 1
  BOOST_CHECK(test::code_of([&] { init(cfg); }) == errc::node_lost);
  BOOST_TEST(!is_initialized());
}
