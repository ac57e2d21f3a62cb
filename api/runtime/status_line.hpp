// One line of a member's status, for the bench output and logs:
//   ring 1.7 members 1,2,4,5 operational tokens 1234 retransmissions 3
//   reformations 2 dropped records 0 tokens 0 control 0 wrong-link 0 stalls 0 repaired 0
#pragma once

#include <string>

#include "runtime/ring_transport.hpp"

namespace ringcast::runtime {

inline std::string status_line(const StatusSnapshot& s) {
  std::string members;
  for (auto n : s.members)
    members += (members.empty() ? "" : ",") + std::to_string(n);
  return "ring " + std::to_string(s.ring_representative) + "." + std::to_string(s.ring_seq) +
         " members " + (members.empty() ? "-" : members) +
         (s.operational ? " operational" : " forming") + " tokens " +
         std::to_string(s.tokens_received) + " retransmissions " +
         std::to_string(s.retransmissions) + " reformations " + std::to_string(s.reformations) +
         " dropped records " + std::to_string(s.records_dropped) + " tokens " +
         std::to_string(s.tokens_dropped) + " control " + std::to_string(s.control_dropped) +
         " wrong-link " + std::to_string(s.writes_wrong_link) + " stalls " +
         std::to_string(s.record_stalls) + " repaired " + std::to_string(s.records_repaired);
}

}  // namespace ringcast::runtime
