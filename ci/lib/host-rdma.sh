# shellcheck shell=bash
# ci/softroce-run on a host that has RDMA: CMD runs there directly. Sourced
# after common.sh; the caller sets rxe_dev.

# Prints the name of the first RDMA device with an ACTIVE port.
host_active_device() {
  local f state dev
  for f in /sys/class/infiniband/*/ports/*/state; do
    [[ -r $f ]] || continue
    read -r state <"$f" || continue
    if [[ $state == *ACTIVE* ]]; then
      dev=${f#/sys/class/infiniband/}
      printf '%s\n' "${dev%%/*}"
      return 0
    fi
  done
  return 1
}

# Tries to create a soft-RoCE device on the host (needs root and a kernel
# with rdma_rxe). Prints its name on success.
host_try_rxe() {
  command -v rdma >/dev/null 2>&1 || return 1
  local ifc=${SOFTROCE_NETDEV:-}
  if [[ -z $ifc ]]; then
    ifc=$(ip -o route show default 2>/dev/null |
      awk '{for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit }}') || true
  fi
  [[ -n $ifc ]] || return 1
  if command -v modprobe >/dev/null 2>&1; then modprobe -q rdma_rxe 2>/dev/null || true; fi
  rdma link add "$rxe_dev" type rxe netdev "$ifc" >/dev/null 2>&1 || return 1
  local i
  for ((i = 0; i < 50; i++)); do
    if grep -q ACTIVE "/sys/class/infiniband/$rxe_dev/ports/1/state" 2>/dev/null; then
      say "created $rxe_dev on $ifc on the host (left in place; remove with: rdma link delete $rxe_dev)"
      printf '%s\n' "$rxe_dev"
      return 0
    fi
    sleep 0.1
  done
  return 1
}

# Exports the RINGCAST_* variables for a host device (unless the caller set
# them) and replaces this script with CMD.
run_on_host() {
  local dev=$1 g gid idx ndev="" addrs=""
  shift
  local port=/sys/class/infiniband/$dev/ports/1
  # The RoCE v2 GID that carries an IPv4 address (::ffff:a.b.c.d).
  for g in "$port"/gids/*; do
    [[ -r $g ]] || continue
    idx=${g##*/}
    gid=$(<"$g") || continue
    [[ $gid == 0000:0000:0000:0000:0000:ffff:* ]] || continue
    [[ $(cat "$port/gid_attrs/types/$idx" 2>/dev/null) == "RoCE v2" ]] || continue
    ndev=$(cat "$port/gid_attrs/ndevs/$idx" 2>/dev/null) || ndev=""
    : "${RINGCAST_GID_INDEX:=$idx}"
    break
  done
  if [[ -n $ndev ]]; then
    addrs=$(ip -4 -o addr show dev "$ndev" 2>/dev/null | awk '{ sub(/\/.*/, "", $4); printf "%s%s", sep, $4; sep = " " }') || addrs=""
  fi
  : "${RINGCAST_RDMA_DEVICE:=$dev}"
  if [[ -n $addrs ]]; then : "${RINGCAST_RDMA_ADDRS:=$addrs}"; fi
  export RINGCAST_RDMA_DEVICE RINGCAST_SOFTROCE=1
  [[ -z ${RINGCAST_GID_INDEX:-} ]] || export RINGCAST_GID_INDEX
  [[ -z ${RINGCAST_RDMA_ADDRS:-} ]] || export RINGCAST_RDMA_ADDRS
  say "host has RDMA device $RINGCAST_RDMA_DEVICE: running directly"
  exec "$@"
}

# Runs CMD on the host (and does not return) when the host has an ACTIVE
# RDMA port or can create a soft-RoCE device.
run_on_host_if_possible() {
  local dev
  if dev=$(host_active_device) || dev=$(host_try_rxe); then
    run_on_host "$dev" "$@"
  fi
}
