/*
 * <corosync/corotypes.h> for programs written for corosync: cs_error_t,
 * cs_dispatch_flags_t and friends, declared by ringcast's own header.
 */
/* Relative to this file, so that -I<ringcast>/api/compat alone suffices (the
 * installed copy points to the installed header the same way). */
#include "../../include/ringcast/corotypes.h"
