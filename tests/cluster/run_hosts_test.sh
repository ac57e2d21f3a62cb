#!/usr/bin/env bash
# tests/cluster/run_hosts_test.sh BUILD_DIR [member|cpg]: the separate-hosts
# test: 3 VMs booted by ci/softroce-cluster, vm_node.sh in each, scenario.sh
# on the host. The stream's program: member_stream (member, the default:
# ctest cluster_hosts_test, all phases) or cpg_stream (cpg: ctest
# cluster_hosts_cpg_test, the stream phase only unless CLUSTER_PHASES says
# otherwise: lat and bench do not depend on the program) or daemon
# (cpg_stream through each VM's ringcastd: cluster_hosts_daemon_test, the
# stream phase only). Runs on the host
# only: inside a soft-RoCE VM (RINGCAST_SOFTROCE set by ci/softroce-run) it
# cannot boot VMs and says it was skipped (status 77).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=$(realpath -- "${1:?usage: run_hosts_test.sh BUILD_DIR [member|cpg|daemon]}")
export CLUSTER_PROGRAM=${2:-${CLUSTER_PROGRAM:-member}}
case $CLUSTER_PROGRAM in
  member) ;;
  cpg | daemon) export CLUSTER_PHASES=${CLUSTER_PHASES:-stream} ;;
  *) echo "usage: run_hosts_test.sh BUILD_DIR [member|cpg|daemon]" >&2 && exit 2 ;;
esac
if [[ -n ${RINGCAST_SOFTROCE:-} ]]; then
  echo "skipped: the separate-hosts test boots its own VMs: run it on the host (ci/test does)"
  exit 77
fi
for f in tests/cluster/member_stream tests/cluster/cpg_stream api/daemon/ringcastd api/daemon/ringcast-cfgtool; do
  [[ -x $build/$f ]] || { echo "$build/$f is missing: build it first" >&2; exit 2; }
done
if [[ ! -x $build/bench/ringcast-bench && -z ${CLUSTER_PHASES:-} ]]; then
  echo "no $build/bench/ringcast-bench (RINGCAST_BUILD_BENCH=OFF?): no static-ring phase"
  export CLUSTER_PHASES="lat stream"
fi
exec "$here/../../ci/softroce-cluster" -n "${CLUSTER_VMS:-3}" --control "$here/scenario.sh" -- \
  "$here/vm_node.sh" "$build"
