// Built only with RUSTYRAY_SANITIZE=thread (CMakeLists.txt).
//
// ThreadSanitizer sees synchronisation only in instrumented code and in the
// libc functions it intercepts. Debian's libcaf_core is not instrumented, and
// CAF hands messages and newly spawned actors from thread to thread through
// lock-free atomics inside it: a mailbox is a lock-free stack, the
// work-stealing scheduler's queues spin on atomic flags. TSan therefore sees
// no order between a sender filling a message and the receiver reading it,
// or between spawning an actor (constructing its state and arguments) and
// its first run, and reports each such pair as a race, with RustyRay's
// frames on both sides: hundreds per test.
//
// This file restores exactly those edges, at the points where CAF creates
// them, by interposing the CAF functions on either side (libcaf_core calls
// them through its PLT and vtables, so a definition in librustyray, which
// is loaded first, takes precedence) and forwarding to CAF's own:
//   - enqueue (sender side) releases the mailbox element; the mailbox
//     visitor (receiver side, once per message it hands to a handler)
//     acquires it: one edge per message, from its sender to its handler;
//   - launch (spawner side) releases the actor; resume (each run of the
//     actor on a scheduler thread) acquires it; every handled message
//     releases it, so that the actor's next run, possibly on another thread
//     and scheduled by a sender the moment CAF blocks the mailbox, is
//     ordered after this one;
//   - ref_counted::deref releases the object before CAF decrements its count
//     (an atomic inside libcaf), and request_deletion, which CAF calls on
//     the thread that dropped the last reference, acquires it before the
//     object is destroyed: the destroying thread is ordered after every
//     thread that used the object and let it go (messages, errors' texts);
//   - likewise for actors: releasing a strong reference releases the
//     control block, and on_destroy (run by the thread that dropped the last
//     strong reference, before the actor is destroyed) acquires it; the
//     weak count, whose last release frees the block, is decremented here
//     with the same annotations (CAF's version is three lines; calling it
//     would leave no point between its decrement and the free to annotate).
// Nothing else is ordered: RustyRay's own shared state (the object table,
// inboxes, counters) is checked by TSan as usual. If CAF's symbols ever
// change, dlsym fails and the process stops with a message, rather than
// silently losing the edges.

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>

#include <sanitizer/tsan_interface.h>

#include <caf/abstract_actor.hpp>
#include <caf/actor_control_block.hpp>
#include <caf/blocking_actor.hpp>
#include <caf/local_actor.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/memory_managed.hpp>
#include <caf/ref_counted.hpp>
#include <caf/scheduled_actor.hpp>

namespace {

/// CAF's definition of the interposed function `mangled`.
template <class F>
F next_definition(const char* mangled) {
  void* symbol = dlsym(RTLD_NEXT, mangled);
  if (symbol == nullptr) {
    std::fprintf(stderr, "rustyray TSan build: CAF function %s not found: %s\n", mangled,
                 dlerror());
    std::abort();
  }
  return reinterpret_cast<F>(symbol);
}

} // namespace

namespace caf {

// A member function takes `this` first; a unique_ptr argument is passed by
// address in both forms (Itanium ABI), so these pointer types match CAF's.

void scheduled_actor::enqueue(mailbox_element_ptr ptr, execution_unit* eu) {
  using fn = void (*)(scheduled_actor*, mailbox_element_ptr, execution_unit*);
  static const auto next =
    next_definition<fn>("_ZN3caf15scheduled_actor7enqueueESt10unique_ptrINS_15mailbox_elementENS_"
                        "6detail8disposerEEPNS_14execution_unitE");
  __tsan_release(ptr.get());
  next(this, std::move(ptr), eu);
}

void blocking_actor::enqueue(mailbox_element_ptr ptr, execution_unit* eu) {
  using fn = void (*)(blocking_actor*, mailbox_element_ptr, execution_unit*);
  static const auto next =
    next_definition<fn>("_ZN3caf14blocking_actor7enqueueESt10unique_ptrINS_15mailbox_elementENS_"
                        "6detail8disposerEEPNS_14execution_unitE");
  __tsan_release(ptr.get());
  next(this, std::move(ptr), eu);
}

intrusive::task_result scheduled_actor::mailbox_visitor::operator()(mailbox_element& x) {
  using fn = intrusive::task_result (*)(mailbox_visitor*, mailbox_element&);
  static const auto next =
    next_definition<fn>("_ZN3caf15scheduled_actor15mailbox_visitorclERNS_15mailbox_elementE");
  __tsan_acquire(&x);
  auto result = next(this, x);
  // Before CAF may block the mailbox and let a sender schedule the actor's
  // next run on another thread (resume's own release comes too late then).
  __tsan_release(self);
  return result;
}

intrusive::task_result blocking_actor::mailbox_visitor::operator()(mailbox_element& x) {
  using fn = intrusive::task_result (*)(mailbox_visitor*, mailbox_element&);
  static const auto next =
    next_definition<fn>("_ZN3caf14blocking_actor15mailbox_visitorclERNS_15mailbox_elementE");
  __tsan_acquire(&x);
  return next(this, x);
}

mailbox_element_ptr blocking_actor::dequeue() {
  using fn = mailbox_element_ptr (*)(blocking_actor*);
  static const auto next = next_definition<fn>("_ZN3caf14blocking_actor7dequeueEv");
  auto result = next(this);
  if (result)
    __tsan_acquire(result.get());
  return result;
}

void scheduled_actor::launch(execution_unit* eu, bool lazy, bool hide) {
  using fn = void (*)(scheduled_actor*, execution_unit*, bool, bool);
  static const auto next =
    next_definition<fn>("_ZN3caf15scheduled_actor6launchEPNS_14execution_unitEbb");
  __tsan_release(this);
  next(this, eu, lazy, hide);
}

resumable::resume_result scheduled_actor::resume(execution_unit* eu, size_t max_throughput) {
  using fn = resumable::resume_result (*)(scheduled_actor*, execution_unit*, size_t);
  static const auto next =
    next_definition<fn>("_ZN3caf15scheduled_actor6resumeEPNS_14execution_unitEm");
  __tsan_acquire(this);
  auto result = next(this, eu, max_throughput);
  __tsan_release(this);
  return result;
}

void ref_counted::deref() const noexcept {
  using fn = void (*)(const ref_counted*);
  static const auto next = next_definition<fn>("_ZNK3caf11ref_counted5derefEv");
  __tsan_release(const_cast<ref_counted*>(this));
  next(this);
}

void memory_managed::request_deletion(bool decremented_rc) const noexcept {
  using fn = void (*)(const memory_managed*, bool);
  static const auto next = next_definition<fn>("_ZNK3caf14memory_managed16request_deletionEb");
  __tsan_acquire(const_cast<memory_managed*>(this));
  next(this, decremented_rc);
}

void intrusive_ptr_release(actor_control_block* x) {
  using fn = void (*)(actor_control_block*);
  static const auto next =
    next_definition<fn>("_ZN3caf21intrusive_ptr_releaseEPNS_19actor_control_blockE");
  __tsan_release(x);
  next(x);
}

void local_actor::on_destroy() {
  using fn = void (*)(local_actor*);
  static const auto next = next_definition<fn>("_ZN3caf11local_actor10on_destroyEv");
  __tsan_acquire(ctrl());
  next(this);
}

void abstract_actor::on_destroy() {
  using fn = void (*)(abstract_actor*);
  static const auto next = next_definition<fn>("_ZN3caf14abstract_actor10on_destroyEv");
  __tsan_acquire(ctrl());
  next(this);
}

void intrusive_ptr_release_weak(actor_control_block* x) {
  // The block (and the actor's memory) goes with the last weak reference;
  // a strong reference holds one weak reference for all strong ones.
  __tsan_release(x);
  if (x->weak_refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    __tsan_acquire(x);
    x->block_dtor(x);
  }
}

} // namespace caf
