#include "rustyray/objstore/internal/store_actor.hpp"

#include <unordered_map>

#include <caf/all.hpp>

#include "rustyray/objstore/internal/object_table.hpp"
#include "rustyray/objstore/atoms.hpp"
#include "rustyray/objstore/stored_object.hpp"

namespace rustyray::objstore::internal {

namespace {

/// Internal: a pending object resolved; deliver the promise `key`.
using deliver_atom = caf::atom_constant<caf::atom("rr_deliver")>;

struct store_state {
  std::shared_ptr<object_table> table;
  std::uint64_t next_key = 1;
  std::unordered_map<std::uint64_t, caf::response_promise> waiting;
  static inline const char* name = "rustyray.object_store";
};

caf::result<stored_object> reply(lookup result) {
  if (!result)
    return std::move(result.error());
  return stored_object{std::move(*result)};
}

caf::result<caf::unit_t> reply(caf::error err) {
  if (err)
    return err;
  return caf::unit;
}

caf::behavior store_actor(caf::stateful_actor<store_state>* self,
                          std::shared_ptr<object_table> table) {
  self->state.table = std::move(table);
  return {
    [=](get_atom, const object_id& id) -> caf::result<stored_object> {
      auto& st = self->state;
      if (st.table->is_remote(id))
        st.table->remote()->fetch(id);
      if (auto found = st.table->try_get(id))
        return reply(std::move(*found));
      auto key = st.next_key++;
      // The waiter runs on whichever thread resolves the object: hand the
      // result back to this actor, which alone may touch its promises.
      auto on_ready = [weak = self->address(), key](const lookup& result) {
        if (auto me = caf::actor_cast<caf::actor>(weak))
          caf::anon_send(me, deliver_atom::value, key, result ? *result : caf::message{},
                         result ? caf::error{} : result.error());
      };
      std::uint64_t token = 0;
      if (auto found = st.table->get_or_wait(id, std::move(on_ready), token))
        return reply(std::move(*found));
      auto rp = self->make_response_promise<stored_object>();
      st.waiting.emplace(key, rp);
      return rp;
    },
    [=](deliver_atom, std::uint64_t key, caf::message& value, caf::error& err) {
      auto& waiting = self->state.waiting;
      auto i = waiting.find(key);
      if (i == waiting.end())
        return;
      if (err)
        i->second.deliver(std::move(err));
      else
        i->second.deliver(stored_object{std::move(value)});
      waiting.erase(i);
    },
    [=](contains_atom, const object_id& id) { return self->state.table->contains(id); },
    [=](pin_atom, const object_id& id) { return reply(self->state.table->pin(id)); },
    [=](unpin_atom, const object_id& id) { return reply(self->state.table->unpin(id)); },
    [=](free_atom, const object_id& id) {
      self->state.table->free(id);
      return caf::unit;
    },
    [=](stats_atom) { return self->state.table->stats(); },
  };
}

} // namespace

caf::actor spawn_store_actor(caf::actor_system& sys, std::shared_ptr<object_table> table) {
  return sys.spawn<caf::hidden>(store_actor, std::move(table));
}

} // namespace rustyray::objstore::internal
