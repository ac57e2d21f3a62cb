/*
 * <corosync/quorum.h> for programs written for corosync: build them with
 * -I<ringcast>/api/compat (or pkg-config's ringcast Cflags) and link
 * -lringcast. Everything is declared by ringcast's own header.
 */
/* Relative to this file, so that -I<ringcast>/api/compat alone suffices (the
 * installed copy points to the installed header the same way). */
#include "../../include/ringcast/quorum.h"
