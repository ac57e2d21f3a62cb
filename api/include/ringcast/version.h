/* ringcast's version, for programs that want to print or check it. */
#ifndef RINGCAST_VERSION_H
#define RINGCAST_VERSION_H

#ifdef __cplusplus
extern "C" {
#endif

/* "MAJOR.MINOR.PATCH" of the library actually loaded. */
const char* ringcast_version(void);

#ifdef __cplusplus
}
#endif

#endif
