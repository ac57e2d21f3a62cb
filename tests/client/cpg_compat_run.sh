#!/usr/bin/env bash
# Runs the corosync-style program tests/client/cpg_compat.c, built with
# -DCPG_COMPAT_LINK_ALL (every cpg_* call real), on a ring of one node over
# the RDMA device: a one-node cluster file on the device's first address.
# No device: "skipped: no RDMA device", except under RINGCAST_SOFTROCE=1
# (ci/softroce-run), where that is a failure.
#
#   cpg_compat_run.sh PROGRAM [PORT]
set -euo pipefail
program=$1
port=${2:-17480}

no_device() {
  if [ "${RINGCAST_SOFTROCE:-}" = 1 ]; then
    echo "RINGCAST_SOFTROCE=1 but $1" >&2
    exit 1
  fi
  echo "skipped: no RDMA device ($1)"
  exit 0
}

device=${RINGCAST_RDMA_DEVICE:-}
if [ -z "$device" ] && [ -d /sys/class/infiniband ]; then
  device=$(ls /sys/class/infiniband | head -n 1)
fi
[ -n "$device" ] || no_device "no device in /sys/class/infiniband"

# The first of RINGCAST_RDMA_ADDRS, else an IPv4 address of the device's netdev.
read -r address _ <<<"${RINGCAST_RDMA_ADDRS:-}" || true
if [ -z "${address:-}" ]; then
  for ndev in /sys/class/infiniband/"$device"/ports/1/gid_attrs/ndevs/*; do
    netdev=$(cat "$ndev" 2>/dev/null || true)
    [ -n "$netdev" ] || continue
    address=$(ip -4 -o addr show dev "$netdev" 2>/dev/null | awk '{ sub(/\/.*/, "", $4); print $4; exit }')
    [ -n "$address" ] && break
  done
fi
[ -n "${address:-}" ] || no_device "no IPv4 address on $device"

dir=$(mktemp -d "${TMPDIR:-/tmp}/cpg-compat.XXXXXX")
trap 'rm -rf "$dir"' EXIT
# A cluster key (load() refuses a file without one): 32 random bytes, 0600.
(umask 077 && head -c 32 /dev/urandom >"$dir/authkey")
{
  echo "auth {"
  echo "    key_file: authkey"
  echo "}"
  echo "rdma {"
  echo "    device: $device"
  if [ -n "${RINGCAST_GID_INDEX:-}" ] && [ "$RINGCAST_GID_INDEX" -ge 0 ]; then
    echo "    gid_index: $RINGCAST_GID_INDEX"
  fi
  echo "}"
  echo "nodelist {"
  echo "    node {"
  echo "        nodeid: 1"
  echo "        address: $address"
  echo "        port: $port"
  echo "    }"
  echo "}"
} >"$dir/cluster.conf"

echo "one-node cluster on $device $address port $port"
# The program ends with zero-copy buffers still allocated; a release the
# library logs as failed (a memory region outliving its protection domain)
# fails the run even when every check passed.
status=0
# The program is a ring member itself (embedded mode), as it was written.
RINGCAST_MODE=embedded RINGCAST_CONFIG=$dir/cluster.conf RINGCAST_NODE_ID=1 "$program" 2>"$dir/stderr" || status=$?
cat "$dir/stderr" >&2
if grep -q "a resource leaked" "$dir/stderr"; then
  echo "FAIL: the library leaked a resource at exit" >&2
  exit 1
fi
exit "$status"
