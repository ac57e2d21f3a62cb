// Mesh set-up for RingNode: links to every other member, lower ids by
// dialling (with retries), higher ids by accepting, each set up the one way
// of link_setup.hpp. Internal to the runtime.
#pragma once

#include <memory>
#include <vector>

#include "base/result.hpp"
#include "fabric/verbs/endpoint.hpp"
#include "runtime/link_setup.hpp"

namespace ringcast::runtime {

// links[i] leads to members[i] (null at my_index), all set up before
// deadline_ns (the endpoint's clock). The listener must already be
// listening (listen_for_links with the same plan).
Result<std::vector<std::unique_ptr<fabric::Link>>> connect_mesh(fabric::verbs::VerbsEndpoint& ep,
                                                                fabric::verbs::Listener& listener,
                                                                const LinkPlan& plan,
                                                                std::uint64_t deadline_ns);

}  // namespace ringcast::runtime
