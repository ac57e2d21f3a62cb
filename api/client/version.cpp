#include "ringcast/version.h"

extern "C" const char* ringcast_version(void) {
  return RINGCAST_VERSION_STRING;
}
