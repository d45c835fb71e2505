#pragma once

/// The umbrella header: everything a RustyRay user needs.
///
/// ~~~
/// #include <rustyray/rustyray.hpp>
/// int main() {
///   rustyray::init();
///   auto ref = rustyray::put(41);
///   int answer = rustyray::get(ref) + 1;
///   rustyray::shutdown();
/// }
/// ~~~

#include "rustyray/actors/actor.hpp"
#include "rustyray/actors/actor_handle.hpp"
#include "rustyray/actors/caf_interop.hpp"
#include "rustyray/cluster.hpp"
#include "rustyray/config.hpp"
#include "rustyray/errc.hpp"
#include "rustyray/error.hpp"
#include "rustyray/get.hpp"
#include "rustyray/get_async.hpp"
#include "rustyray/log.hpp"
#include "rustyray/metrics.hpp"
#include "rustyray/object_id.hpp"
#include "rustyray/object_ref.hpp"
#include "rustyray/object_store.hpp"
#include "rustyray/placement_group.hpp"
#include "rustyray/put.hpp"
#include "rustyray/runtime.hpp"
#include "rustyray/state.hpp"
#include "rustyray/tasks/task.hpp"
#include "rustyray/timeline.hpp"
#include "rustyray/timeout.hpp"
#include "rustyray/wait.hpp"
