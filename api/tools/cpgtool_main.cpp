// ringcast-cpgtool: the cluster's CPG groups and members
// (man ringcast-cpgtool(8)).
#include <iostream>
#include <string_view>
#include <vector>

#include "tools/cpgtool.hpp"

int main(int argc, char** argv) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  return ringcast::tools::cpgtool_main(args, std::cout, std::cerr);
}
