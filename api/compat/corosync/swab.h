/*
 * <corosync/swab.h> for programs written for corosync: the swab16, swab32 and
 * swab64 byte-swap macros, declared by ringcast's own header.
 */
/* Relative to this file, so that -I<ringcast>/api/compat alone suffices (the
 * installed copy points to the installed header the same way). */
#include "../../include/ringcast/swab.h"
