#pragma once

#include <cstdint>
#include <vector>

#include <caf/error.hpp>
#include <caf/fwd.hpp>

namespace rustyray::internal {

/// Makes `cfg` decode RustyRay's byte buffers (`std::vector<uint8_t>`,
/// registered as "rustyray::bytes", and vectors of them) with a bound: a
/// length prefix larger than the bytes left in the input is an error
/// (`caf::sec::end_of_stream`) before anything is allocated.
///
/// CAF 0.17 resizes a byte vector to the length it reads *before* it checks
/// that the input holds that many bytes (data_processor::apply_sequence), so
/// a 50-byte message claiming 4 GiB made the receiving process allocate and
/// zero 4 GiB (found by tests/fuzz/message_fuzz.cpp). The wire format stays
/// CAF's: peers without the bound read what this writes. CAF's own
/// `std::vector<char>` ("@charbuf") keeps the unbounded behaviour; it is a
/// built-in type that a config cannot replace (README, Reliability).
void bound_byte_buffers(caf::actor_system_config& cfg);

/// Reads one byte vector as CAF writes it with the same bound: for byte
/// vectors inside RustyRay's own message types (a slice of an object from
/// another node), which CAF decodes field by field, not through the
/// registered type.
caf::error load_bounded_bytes(caf::deserializer& source, std::vector<std::uint8_t>& out);

} // namespace rustyray::internal
