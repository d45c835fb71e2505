// A CAF application that adopts RustyRay through an installed package.
#include <iostream>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <rustyray/rustyray.hpp>

int main() {
  caf::actor_system_config cfg;
  rustyray::configure(cfg);
  caf::actor_system sys{cfg};
  rustyray::init(sys, rustyray::config::from_json(nlohmann::json{{"num_workers", 1}}));
  auto ref = rustyray::put(41);
  std::cout << "consumer: " << rustyray::get(ref) + 1 << std::endl;
  ref = {};
  rustyray::shutdown();
}
