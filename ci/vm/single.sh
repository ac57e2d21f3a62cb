# shellcheck shell=sh disable=SC2034 # the variables are for /init
# Sourced by /init in ci/softroce-run's VM. image.conf gives DEV (the rxe
# device), ADDRS (its addresses, one per node a test starts) and PEER.
# rxe sits on one end of a veth pair: several addresses on one device, since
# two rxe devices on the two ends of one veth pair cannot connect in one
# network namespace.
INIT_NAME=softroce-init
PROG=softroce-run
NETDEV=veth0

vm_hostname() { echo softroce; }

# ip -batch lines: lo, the veth pair, ADDRS on veth0 and PEER on veth1.
net_batch() {
  echo "link set lo up"
  echo "link add veth0 type veth peer name veth1"
  first=1
  for a in $ADDRS; do
    echo "addr add $a/24 dev veth0"
    [ $first = 0 ] || echo "addr add $PEER/24 dev veth1"
    first=0
  done
  echo "link set veth0 up"
  echo "link set veth1 up"
}

# The command starts as soon as the device is ready.
before_run() { :; }
