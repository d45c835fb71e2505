#define BOOST_TEST_MODULE cluster_tls
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "cluster_fixture.hpp"
#include "cluster_functions.hpp"

// A cluster whose processes talk TLS (config.tls, CAF's OpenSSL module):
// the files in tests/cluster/tls (see its README). A node reaches another
// only with a certificate of the cluster's CA.

using namespace rustyray;

namespace {

/// `config.tls` as JSON: `name`.pem and `name`.key, checked against `ca`.
std::string tls_files(const std::string& name, const std::string& ca) {
  const std::string dir = RUSTYRAY_TEST_TLS_DIR;
  return nlohmann::json{{"certificate", dir + "/" + name + ".pem"},
                        {"key", dir + "/" + name + ".key"},
                        {"ca_file", dir + "/" + ca}}
    .dump();
}

const std::string cluster_tls = tls_files("node", "ca.pem");

struct tls_cluster : test::cluster_fixture {
  tls_cluster() : cluster_fixture(3, "", cluster_tls) {}
};

struct tls_head : test::cluster_fixture {
  tls_head() : cluster_fixture(0, "", cluster_tls) {}
};

/// A node that tries to join with `env` added: what it printed.
std::string join_line(const std::string& address, std::vector<std::string> env) {
  env.push_back("RUSTYRAY_ADDRESS=" + address);
  env.push_back("RUSTYRAY_CLUSTER_TOKEN=test-token");
  test::node_process node{RUSTYRAY_TEST_NODE, env};
  auto line = node.read_line();
  BOOST_TEST(node.wait() == 3, "the node said: " << line);
  return line;
}

} // namespace

BOOST_FIXTURE_TEST_CASE(nodes_with_the_cluster_s_certificates_work_over_tls, tls_cluster) {
  for (std::size_t i = 0; i < workers.size(); ++i)
    BOOST_TEST(get(task(cluster_test::pid_here).node(workers[i].id).remote()) == pid_of(i));
  // Between workers too, in both roles of a pair: the lower node ID
  // connects itself, the higher one asks it to through the head (one
  // connection per pair, which CAF's OpenSSL transport needs).
  std::vector<std::string> ids;
  for (const auto& w : workers)
    ids.push_back(w.id);
  std::sort(ids.begin(), ids.end(), [](const std::string& a, const std::string& b) {
    return std::stoull(a, nullptr, 16) < std::stoull(b, nullptr, 16);
  });
  const auto& low = ids[0];
  const auto& middle = ids[1];
  const auto& high = ids[2];
  auto refs = get(task(cluster_test::put_here).node(middle).remote(3));
  BOOST_TEST(get(task(cluster_test::plus_one_of).node(low).remote(refs[1])) == 11);
  BOOST_TEST(get(task(cluster_test::plus_one_of).node(high).remote(refs[2])) == 21);
  // `rustyray status` from another process: with the files.
  setenv("RUSTYRAY_TLS", cluster_tls.c_str(), 1);
  auto all = nodes(address, "test-token");
  unsetenv("RUSTYRAY_TLS");
  BOOST_TEST(all.size() == 4u);
}

BOOST_FIXTURE_TEST_CASE(a_node_without_tls_is_refused, tls_head) {
  auto line = join_line(address, {});
  BOOST_TEST(line.rfind("refused node_lost: ", 0) == 0u, line);
  BOOST_TEST(line.find("config.tls") != std::string::npos, line);
  BOOST_TEST(nodes().size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_node_with_another_ca_s_certificate_is_refused, tls_head) {
  auto line = join_line(address, {"RUSTYRAY_TLS=" + tls_files("stranger", "stranger-ca.pem")});
  BOOST_TEST(line.rfind("refused node_lost: ", 0) == 0u, line);
  BOOST_TEST(line.find("config.tls") != std::string::npos, line);
  BOOST_TEST(nodes().size() == 1u);
}

BOOST_AUTO_TEST_CASE(tls_needs_all_three_files) {
  auto code = test::code_of([] {
    (void)config::from_json({{"tls", {{"certificate", RUSTYRAY_TEST_TLS_DIR "/node.pem"}}}});
  });
  BOOST_CHECK(code == errc::invalid_config);
  code = test::code_of([] {
    (void)config::from_json({{"tls",
                              {{"certificate", "/nonexistent.pem"},
                               {"key", "/nonexistent.key"},
                               {"ca_file", "/nonexistent-ca.pem"}}}});
  });
  BOOST_CHECK(code == errc::invalid_config);
  BOOST_TEST(!config::from_json({{"tls", nlohmann::json::object()}}).tls.enabled());
}
