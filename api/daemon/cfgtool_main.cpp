// ringcast-cfgtool: the ring's status from the node's ringcastd
// (man ringcast-cfgtool(8)).
#include <string_view>
#include <vector>

#include "daemon/cfgtool.hpp"

int main(int argc, char** argv) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  return ringcast::daemon::cfgtool_main(args);
}
