#include "client/handle_table.hpp"

namespace ringcast::client {

HandleTable& HandleTable::instance() {
  // Never destroyed: handles may be used from atexit handlers and threads
  // that outlive main's statics.
  static HandleTable* table = new HandleTable();  // NOLINT: intentionally leaked
  return *table;
}

HandleTable::HandleTable() : sessions_(random_first_handle()), iterations_(random_first_handle()) {}

std::shared_ptr<Session> HandleTable::remove(cpg_handle_t handle) {
  auto s = sessions_.remove(handle);
  if (s) remove_iterations_of(handle);
  return s;
}

}  // namespace ringcast::client
