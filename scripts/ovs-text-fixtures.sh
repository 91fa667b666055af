#!/bin/sh
# Writes ovs-ofctl's own text for a br-provider like Kube-OVN's (test/fixtures/ovs-text/): dump-flows with and
# without --names, under OpenFlow 1.0/1.3/1.4, and `ovs-ofctl show`. A private userspace OVS (dummy datapath) in a
# temporary directory, stopped by its pidfiles. Needs openvswitch-switch (ovsdb-server, ovs-vswitchd, ovs-ofctl).
# Usage: scripts/ovs-text-fixtures.sh [OUT_DIR]   (default test/fixtures/ovs-text)
set -eu
out=${1:-$(dirname "$0")/../test/fixtures/ovs-text}
mkdir -p "$out"
R=$(mktemp -d "${TMPDIR:-/tmp}/vippath-ovs-text.XXXXXX")
export OVS_RUNDIR="$R" OVS_LOGDIR="$R" OVS_DBDIR="$R" OVS_SYSCONFDIR="$R"
stop() {
  # Each pidfile's pid only while it carries --pidfile=<that file> (a dead daemon's pid may be another program's).
  for p in ovs-vswitchd ovsdb-server; do
    f="$R/$p.pid"
    pid=$(cat "$f" 2>/dev/null) && tr '\0' '\n' < "/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "--pidfile=$f" && kill "$pid" 2>/dev/null || true
  done
  rm -rf "$R"
}
trap stop EXIT INT TERM
ovsdb-tool create "$R/conf.db" /usr/share/openvswitch/vswitch.ovsschema
ovsdb-server --detach --no-chdir --pidfile="$R/ovsdb-server.pid" --log-file="$R/ovsdb-server.log" --remote=punix:"$R/db.sock" "$R/conf.db" 2>/dev/null
ovs-vsctl --db=unix:"$R/db.sock" --no-wait init
ovs-vswitchd --enable-dummy --disable-system --detach --no-chdir --pidfile="$R/ovs-vswitchd.pid" --log-file="$R/ovs-vswitchd.log" unix:"$R/db.sock" 2>/dev/null
# The port names Kube-OVN's br-provider has: the VLAN interface and ovn-controller's patch port (40 characters).
ovs-vsctl --db=unix:"$R/db.sock" add-br br-provider -- set bridge br-provider datapath_type=dummy fail-mode=standalone other-config:hwaddr=52:54:00:bb:00:01 \
  -- add-port br-provider underlay0.341 -- set interface underlay0.341 type=dummy ofport_request=1 \
  -- add-port br-provider patch-localnet.underlay-subnet-to-br-int -- set interface patch-localnet.underlay-subnet-to-br-int type=dummy ofport_request=2
# Kube-OVN's rule for the VIP (pkg/daemon: the priority-10000 flow), NORMAL below it, and one flow with an
# importance (OpenFlow 1.4+), to see every field ovs-ofctl prints. Ports by number: ovs-ofctl itself cannot
# name the 40-character patch port (it only knows the cut name).
cat > "$R/flows.txt" <<'FLOWS'
cookie=0x1000,priority=10000,in_port=1,tcp,nw_dst=10.180.204.252,tp_dst=80 actions=mod_dl_dst:00:00:00:01:00:01,output:2
priority=0,actions=NORMAL
FLOWS
ovs-ofctl add-flows br-provider "$R/flows.txt"
ovs-ofctl -O OpenFlow14 add-flow br-provider "priority=5,importance=7,arp,in_port=1,arp_tpa=10.180.204.252,actions=LOCAL,output:2"
# Durations and ages change from run to run: zeroed so the committed text is stable.
norm() { sed -E 's/duration=[0-9.]+s/duration=0.000s/; s/idle_age=[0-9]+/idle_age=0/; s/hard_age=[0-9]+/hard_age=0/; s/\(xid=0x[0-9a-f]+\)/(xid=0x2)/'; }
ovs-ofctl dump-flows --names br-provider | norm > "$out/dump-flows-names.txt"
ovs-ofctl dump-flows br-provider | norm > "$out/dump-flows.txt"
ovs-ofctl -O OpenFlow13 dump-flows --names br-provider | norm > "$out/dump-flows-of13-names.txt"
ovs-ofctl -O OpenFlow14 dump-flows --names br-provider | norm > "$out/dump-flows-of14-names.txt"
ovs-ofctl -O OpenFlow15 dump-flows br-provider | norm > "$out/dump-flows-of15.txt"
ovs-ofctl show br-provider | norm > "$out/br-provider.ports"
ovs-ofctl --version | head -1 > "$out/VERSION"
