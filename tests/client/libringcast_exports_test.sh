#!/usr/bin/env bash
# libringcast.so exports every function of the C API: each prototype of the
# given headers (cpg_*, quorum_*, cs_strerror, ringcast_counters_get), and at least the
# calls corosync programs use (listed below), as defined functions in the
# dynamic symbol table.
#
#   libringcast_exports_test.sh LIBRARY HEADER...
set -euo pipefail
lib=$1
shift

# The names the C API must have, whatever the headers say.
required="cpg_initialize cpg_model_initialize cpg_finalize cpg_fd_get
cpg_max_atomic_msgsize_get cpg_context_get cpg_context_set cpg_dispatch cpg_join
cpg_leave cpg_mcast_joined cpg_membership_get cpg_local_get
cpg_flow_control_state_get cpg_zcb_alloc cpg_zcb_free cpg_zcb_mcast_joined
cpg_iteration_initialize cpg_iteration_next cpg_iteration_finalize cs_strerror
ringcast_counters_get quorum_initialize quorum_model_initialize quorum_finalize
quorum_fd_get quorum_dispatch quorum_getquorate quorum_trackstart quorum_trackstop
quorum_context_set quorum_context_get"

# Prototypes start a line: "cs_error_t cpg_join(" / "const char* cs_strerror(".
declared=$(grep -ohE '^(cs_error_t|const char\*) ?[a-z_]+\(' "$@" |
  sed -E 's/^.*[ *]([a-z_]+)\($/\1/' | sort -u)
expected=$(printf '%s\n' $required $declared | sort -u)

# Defined functions only (T: text, W/i: weak or indirect functions).
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TWi]$/ { sub(/@.*/, "", $3); print $3 }' |
  sort -u)

missing=$(comm -23 <(echo "$expected") <(echo "$exported"))
undeclared=$(comm -23 <(printf '%s\n' $required | sort -u) <(echo "$declared"))
status=0
if [ -n "$undeclared" ]; then
  echo "not declared by the headers:" $undeclared >&2
  status=1
fi
if [ -n "$missing" ]; then
  echo "not exported by $lib:" $missing >&2
  status=1
fi
echo "$(echo "$expected" | wc -l) C API functions checked, $(echo "$declared" | wc -l) declared" \
  "in $# headers; $(echo "$exported" | wc -l) functions exported"
exit $status
