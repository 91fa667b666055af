#!/usr/bin/env bash
# Makes test/fixtures/ovsdb/*.db with the real OVSDB and OVN tools (Debian: openvswitch-switch, ovn-central):
#   nb-backup.db     `ovsdb-client backup` of an OVN_Northbound holding the default scenario's switch and LB
#   nb-clustered.db  a clustered (Raft) NB server's own file after inserts, an update and a delete
#   sb-backup.db     `ovsdb-client backup` of the OVN_Southbound that ovn-northd 23.03 wrote for nb-backup.db
# Also writes *.expect.json: what `ovsdb-client dump --format=json` of the same server printed, the oracle the
# reader's test compares with. Run from the repository root; needs no network.
set -euo pipefail
out=test/fixtures/ovsdb
mkdir -p "$out"
R=$(mktemp -d)
# SIGTERM to a pidfile's pid only while that process carries --pidfile=<that file> (a daemon that died leaves its
# pidfile, and the pid in it may be another program's by now).
stop_pidfile() { pid=$(cat "$1" 2>/dev/null) && tr '\0' '\n' < "/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "--pidfile=$1" && kill "$pid" 2>/dev/null || true; }
stop() { for p in "$R"/*.pid; do [ -f "$p" ] && stop_pidfile "$p"; done; sleep 0.3; rm -rf "$R"; }
trap stop EXIT
export OVN_RUNDIR=$R OVS_RUNDIR=$R OVN_LOGDIR=$R OVS_LOGDIR=$R

ovsdb-tool create "$R/nb.db" /usr/share/ovn/ovn-nb.ovsschema
ovsdb-tool create "$R/sb.db" /usr/share/ovn/ovn-sb.ovsschema
for db in nb sb; do
  ovsdb-server --detach --no-chdir --pidfile="$R/$db.pid" --log-file="$R/$db.log" --remote=punix:"$R/$db.sock" \
    --unixctl="$R/$db.ctl" "$R/$db.db"
done
ovn-northd --detach --no-chdir --pidfile="$R/northd.pid" --log-file="$R/northd.log" \
  --ovnnb-db=unix:"$R/nb.sock" --ovnsb-db=unix:"$R/sb.sock" --unixctl="$R/northd.ctl"
nb() { ovn-nbctl --db=unix:"$R/nb.sock" "$@"; }
nb ls-add underlay-subnet \
  -- lsp-add underlay-subnet localnet.underlay-subnet -- lsp-set-type localnet.underlay-subnet localnet \
  -- lsp-set-addresses localnet.underlay-subnet unknown \
  -- lsp-set-options localnet.underlay-subnet network_name=provider
i=0
for n in 1 2 3; do
  ip=10.180.204.$((n + 1)); mac=00:00:00:0a:0b:0$n
  nb lsp-add underlay-subnet "deploy-169402624-$i.default" \
    -- lsp-set-addresses "deploy-169402624-$i.default" "$mac $ip" \
    -- lsp-set-port-security "deploy-169402624-$i.default" "$mac $ip"
  i=$((i + 1))
done
nb lb-add cluster-tcp-loadbalancer 10.180.204.252:80 10.180.204.2:80,10.180.204.3:80,10.180.204.4:80 tcp \
  -- ls-lb-add underlay-subnet cluster-tcp-loadbalancer
nb set load_balancer cluster-tcp-loadbalancer options:prefer_local_backend=true \
  'ip_port_mappings:"10.180.204.2"="deploy-169402624-0.default"' \
  'ip_port_mappings:"10.180.204.3"="deploy-169402624-1.default"' \
  'ip_port_mappings:"10.180.204.4"="deploy-169402624-2.default"'
nb --wait=sb sync
ovsdb-client backup unix:"$R/nb.sock" > "$out/nb-backup.db"
ovsdb-client backup unix:"$R/sb.sock" > "$out/sb-backup.db"
ovsdb-client dump --format=json unix:"$R/nb.sock" OVN_Northbound > "$out/nb-backup.expect.json"
ovsdb-client dump --format=json unix:"$R/sb.sock" OVN_Southbound > "$out/sb-backup.expect.json"

# A clustered NB: the file a Kube-OVN ovn-central pod keeps (/etc/ovn/ovnnb_db.db).
ovsdb-tool create-cluster "$R/nbc.db" /usr/share/ovn/ovn-nb.ovsschema unix:"$R/raft.sock"
ovsdb-server --detach --no-chdir --pidfile="$R/nbc.pid" --log-file="$R/nbc.log" --remote=punix:"$R/nbc.sock" \
  --unixctl="$R/nbc.ctl" "$R/nbc.db"
nbc() { ovn-nbctl --db=unix:"$R/nbc.sock" "$@"; }
nbc ls-add sw -- lsp-add sw p1 -- lsp-set-addresses p1 "00:00:00:00:00:01 10.0.0.2" -- lsp-add sw p2 \
  -- lsp-set-addresses p2 "00:00:00:00:00:02 10.0.0.3"
nbc lsp-set-addresses p1 "00:00:00:00:00:01 10.0.0.5" "00:00:00:00:00:01 10.0.0.6"
nbc lsp-set-options p2 a=1 b=2
nbc lsp-set-options p2 b=3 c=4
nbc lsp-del p2
nbc lb-add lb0 10.0.0.100:80 10.0.0.5:80 tcp -- ls-lb-add sw lb0
ovsdb-client dump --format=json unix:"$R/nbc.sock" OVN_Northbound > "$out/nb-clustered.expect.json"
stop_pidfile "$R/nbc.pid"; sleep 0.5
cp "$R/nbc.db" "$out/nb-clustered.db"
echo "wrote $(ls "$out")"
