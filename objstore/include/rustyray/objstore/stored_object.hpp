#pragma once

#include <caf/message.hpp>
#include <caf/meta/type_name.hpp>

namespace rustyray::objstore {

/// The store actor's reply to a get: the object's value as a one-element
/// message (empty for `object_ref<void>`). Failures travel as `caf::error`.
struct stored_object {
  caf::message value;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, stored_object& x) {
    return f(caf::meta::type_name("rustyray::stored_object"), x.value);
  }
};

} // namespace rustyray::objstore
