#include "caf_face.hpp"

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>

#include <caf/all.hpp>

#include "call_execution.hpp"
#include "rustyray/actors/caf_interop.hpp"
#include "rustyray/actors/internal/actor_host.hpp"
#include "rustyray/errc.hpp"
#include "rustyray/remote.hpp"

namespace rustyray::actors::internal {

using namespace rustyray::internal; // the base layer's internals

namespace {

struct face_state {
  std::shared_ptr<actor_host> host;
  object_id id;
  const std::type_info* cls = nullptr;
  std::uint64_t next_key = 0;
  /// Requests whose calls have not answered.
  std::unordered_map<std::uint64_t, caf::response_promise> pending;

  /// A request still pending when the face quits (CAF ended it) must not
  /// leave its requester waiting forever.
  ~face_state() {
    for (auto& [key, promise] : pending)
      promise.deliver(make_error(errc::actor_died, "actor " + to_string(id)
                                                     + " stopped before it answered this call"));
  }

  static inline const char* name = "rustyray.actor";
};

using face_ptr = caf::stateful_actor<face_state>*;

/// A call from plain CAF code: the method by its registered name, the
/// arguments as a message.
call_ptr interface_call(face_ptr self, const std::string& method, caf::message args,
                        std::uint64_t key) {
  auto& st = self->state;
  auto call = std::make_shared<call_record>();
  // An anonymous message (anon_send, or a peer that sent without a sender)
  // has no sender: its calls share one queue, and the reply goes nowhere.
  const auto& sender = self->current_sender();
  call->caller = (std::uint64_t{1} << 63) | (sender ? sender->id() : caf::actor_id{0});
  call->actor = st.id;
  call->by_name = method;
  call->ready = true;
  call->body = body_by_name(detail::find_member_invoker(method, *st.cls), std::move(args));
  call->reply_to = caf::actor{self};
  call->reply_key = key;
  return call;
}

caf::behavior face(face_ptr self, std::shared_ptr<actor_host> host, object_id id,
                   const std::type_info* cls) {
  auto& st = self->state;
  st.host = std::move(host);
  st.id = id;
  st.cls = cls;
  // However the face ends (an exit message, `exit_reason::kill`, its
  // system's shutdown), the actor ends with it, as `kill` would end it for
  // good. After the actor's own end this does nothing.
  self->attach_functor([weak = std::weak_ptr<actor_host>{st.host}](const caf::error& reason) {
    if (auto h = weak.lock())
      h->caf_ended(reason);
  });
  return {
    [=](call_atom, std::string& method, caf::message& args) -> caf::result<caf::message> {
      auto& st = self->state;
      auto promise = self->make_response_promise();
      auto key = st.next_key++;
      auto call = interface_call(self, method, std::move(args), key);
      caf::error reason;
      st.pending.emplace(key, promise);
      if (!st.host->send(call, reason)) {
        st.pending.erase(key);
        call->reply_to = nullptr; // answered here
        promise.deliver(std::move(reason));
      }
      return promise;
    },
    [=](answer_atom, std::uint64_t key, caf::message& value) {
      auto i = self->state.pending.find(key);
      if (i == self->state.pending.end())
        return;
      // One element, the result as a message; deliver(value) alone would
      // send the result's elements instead.
      i->second.deliver(caf::message_builder{}.append(std::move(value)).move_to_message());
      self->state.pending.erase(i);
    },
    [=](answer_atom, std::uint64_t key, caf::error& err) {
      auto i = self->state.pending.find(key);
      if (i == self->state.pending.end())
        return;
      i->second.deliver(std::move(err));
      self->state.pending.erase(i);
    },
    [=](end_atom, caf::error& reason) {
      self->state.host = nullptr;
      self->quit(std::move(reason));
    },
  };
}

} // namespace

caf::actor spawn_caf_face(caf::actor_system& sys, std::shared_ptr<actor_host> host,
                          const object_id& id, const std::type_info& cls) {
  return sys.spawn<caf::hidden>(face, std::move(host), id, &cls);
}

} // namespace rustyray::actors::internal
