# shellcheck shell=sh disable=SC2034 # the variables are for /init
# Sourced by /init in each of ci/softroce-cluster's VMs. image.conf gives
# DEV (the rxe device); the VM's share gives NODE (its index) and ADDR (its
# address on eth0, the virtio NIC on the host's vde_switch).
INIT_NAME=softroce-cluster-init
PROG=softroce-cluster
NETDEV=eth0

vm_hostname() { echo "vm$NODE"; }

net_batch() {
  printf 'link set lo up\naddr add %s/24 dev eth0\nlink set eth0 up\n' "$ADDR"
}

# The host starts every VM's command at once, when all are ready.
before_run() {
  stage ready
  until [ -e /share/go ]; do sleep 0.1; done
}
