// Fuzz target: caf::error values decoded by CAF's binary deserializer, as a
// failed reply or a failed object (a task's stored error) arrives from
// another process: code, category and context message are all untrusted.
//
// Input: one mode byte (unused, kept for a uniform corpus format), then the
// bytes CAF decodes.
// Properties: decoding returns an error or a value; what RustyRay does with
// a decoded error returns or throws rustyray::error, and the code it
// reports is an errc enumerator: rendering (the `rustyray` category's
// renderer, `error_text`), the exception `get` throws (`throw_caf_error`),
// and the error a dependant stores when the error is its argument
// (`did_not_run`).

#include "fuzz_support.hpp"

#include "rustyray/internal/error_text.hpp"

using namespace rustyray;

namespace {

caf::actor_system& sys() {
  return fuzz::system_once([](caf::actor_system_config&) {});
}

bool is_enumerator(errc code) {
  auto value = static_cast<int>(code);
  return value >= 1 && value <= static_cast<int>(last_errc);
}

/// The code `get` reports for `err`.
errc thrown_code(const caf::error& err) {
  try {
    detail::throw_caf_error(err);
  } catch (const rustyray::error& e) {
    RUSTYRAY_FUZZ_CHECK(is_enumerator(e.code()));
    RUSTYRAY_FUZZ_CHECK((e.code() == errc::task_failed)
                        == (dynamic_cast<const task_error*>(&e) != nullptr));
    (void)e.what();
    return e.code();
  }
  fuzz::fail("throw_caf_error returned");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto& system = sys();
  auto bytes = fuzz::payload(data, size);
  if (fuzz::names_known_caf_issue(bytes)) // an error's context is a message
    return 0;
  caf::error err;
  {
    caf::binary_deserializer source{system, bytes};
    if (source(err))
      return 0;
  }
  (void)system.render(err);
  (void)caf::to_string(err);
  (void)internal::error_text(err);
  // Also an empty error: a message may carry one.
  auto code = thrown_code(err);
  // A dependant of a failed object fails with the same meaning.
  auto dependant = internal::did_not_run("task fuzz", err);
  RUSTYRAY_FUZZ_CHECK(dependant.category() == errc_category);
  RUSTYRAY_FUZZ_CHECK(thrown_code(dependant) == code);
  (void)system.render(dependant);
  return 0;
}
