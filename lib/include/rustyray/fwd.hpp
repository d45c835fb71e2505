#pragma once

#include <cstdint>

// Forward declarations of RustyRay's public types.
namespace rustyray {

enum class errc : std::uint8_t;
class error;
class task_error;
struct config;
class object_id;
template <class T>
class object_ref;
template <class T>
struct wait_result;
struct store_stats;

} // namespace rustyray
