#!/bin/sh
# vippath collect — copy what vippath needs of a live cluster into a snapshot directory, reading only.
#
#   vippath-collect.sh [--kubeconfig FILE] [--context NAME] [--namespace NS] OUT_DIR
#
# Every command it runs is listed here and in OUT_DIR/collect.log; none changes the cluster (kubectl get, and
# kubectl exec of read-only OVS/OVN tools). It needs kubectl; KUBECTL may name another binary.
#
#  cluster.yaml (kubectl get … -o yaml, one List per command, joined with ---):
#    kubectl get nodes -o yaml
#    kubectl get pods,services,endpoints,endpointslices.discovery.k8s.io [-n NS | -A] -o yaml
#    kubectl get ipaddresspools.metallb.io,l2advertisements.metallb.io -A -o yaml       (MetalLB)
#    kubectl get servicel2statuses.metallb.io -A -o yaml                                 (MetalLB ≥ 0.14; may be absent)
#    kubectl get subnets.kubeovn.io,vlans.kubeovn.io,provider-networks.kubeovn.io -o yaml (Kube-OVN)
#    kubectl get ips.kubeovn.io -o yaml                                                  (Kube-OVN IPAM records)
#    kubectl get deployment -n kube-system kube-ovn-controller -o yaml                   (its flags)
#  nodes/<node>/br-provider.flows and .ports, through each node's ovs-ovn pod (-l app=ovs in kube-system):
#    kubectl get pods -n kube-system -l app=ovs -o jsonpath=…                            (pod per node)
#    kubectl exec -n kube-system <ovs pod> -- ovs-ofctl dump-flows --names br-provider
#    kubectl exec -n kube-system <ovs pod> -- ovs-ofctl show br-provider
#  ovn/nb.db, ovn/sb.db, through an ovn-central pod (-l app=ovn-central in kube-system):
#    kubectl exec -n kube-system <ovn-central pod> -- ovsdb-client backup unix:/var/run/ovn/ovnnb_db.sock OVN_Northbound
#    kubectl exec -n kube-system <ovn-central pod> -- ovsdb-client backup unix:/var/run/ovn/ovnsb_db.sock OVN_Southbound
#    (on a clustered OVN, the socket answers on every member; backup reads the committed database)
#  versions.json:
#    the images of kube-ovn-controller and MetalLB's controller (kubectl get deployment … -o jsonpath=…),
#    kubectl exec <ovn-central pod> -- ovn-nbctl --version, kubectl exec <ovs pod> -- ovs-vswitchd --version
#  `kubectl ko` (Kube-OVN's plugin) is not needed: it runs the same kubectl exec commands.
#
# What cannot be read (a CRD not installed, no ovs pod on a node) is noted in collect.log and left out; vippath
# lint then names what the snapshot lacks. Exit status: 0 written, 2 usage, 1 nothing could be read.
set -u
KUBECTL=${KUBECTL:-kubectl}
usage() {
  echo "usage: vippath collect [--kubeconfig FILE] [--context NAME] [--namespace NS] OUT_DIR" >&2
  exit 2
}
kopts=""
ns=""
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --kubeconfig) [ $# -ge 2 ] || usage; kopts="$kopts --kubeconfig=$2"; shift 2 ;;
    --kubeconfig=*) kopts="$kopts $1"; shift ;;
    --context) [ $# -ge 2 ] || usage; kopts="$kopts --context=$2"; shift 2 ;;
    --context=*) kopts="$kopts $1"; shift ;;
    --namespace|-n) [ $# -ge 2 ] || usage; ns=$2; shift 2 ;;
    --namespace=*) ns=${1#--namespace=}; shift ;;
    -h|--help) usage ;;
    -*) echo "vippath collect: unknown option $1" >&2; usage ;;
    *) [ -z "$out" ] || usage; out=$1; shift ;;
  esac
done
[ -n "$out" ] || usage
mkdir -p "$out/nodes" "$out/ovn" || exit 1
log="$out/collect.log"
: > "$log"
# k ARGS…: kubectl with the context options, the command logged first.
k() {
  # shellcheck disable=SC2086
  echo "+ $KUBECTL$kopts $*" >> "$log"
  # shellcheck disable=SC2086
  "$KUBECTL" $kopts "$@" 2>> "$log"
}
read_ok=0
# get KINDS [ARGS…]: one List into cluster.yaml; a failure (e.g. CRD absent) is logged and skipped.
first=1
get() {
  tmp="$out/.get.$$"
  if k get "$@" -o yaml > "$tmp"; then
    [ $first -eq 1 ] || echo '---' >> "$out/cluster.yaml"
    cat "$tmp" >> "$out/cluster.yaml"
    first=0
    read_ok=1
  else
    echo "  (skipped: kubectl get $* failed)" >> "$log"
  fi
  rm -f "$tmp"
}
: > "$out/cluster.yaml"
if [ -n "$ns" ]; then scope="-n $ns"; else scope="-A"; fi
get nodes
# shellcheck disable=SC2086
get pods,services,endpoints,endpointslices.discovery.k8s.io $scope
get ipaddresspools.metallb.io,l2advertisements.metallb.io -A
get servicel2statuses.metallb.io -A
get subnets.kubeovn.io,vlans.kubeovn.io,provider-networks.kubeovn.io
get ips.kubeovn.io
get deployment -n kube-system kube-ovn-controller
[ $read_ok -eq 1 ] || { echo "vippath collect: nothing could be read (see $log)" >&2; exit 1; }

# br-provider of every node, through the node's ovs-ovn pod.
k get pods -n kube-system -l app=ovs -o 'jsonpath={range .items[*]}{.spec.nodeName}{" "}{.metadata.name}{"\n"}{end}' > "$out/.ovs-pods" || echo "  (no ovs-ovn pods found)" >> "$log"
ovs_pod=""
while read -r node pod; do
  [ -n "$node" ] && [ -n "$pod" ] || continue
  case "$node" in */*|.|..) echo "  (skipped odd node name $node)" >> "$log"; continue ;; esac
  mkdir -p "$out/nodes/$node"
  k exec -n kube-system "$pod" -- ovs-ofctl dump-flows --names br-provider > "$out/nodes/$node/br-provider.flows" || rm -f "$out/nodes/$node/br-provider.flows"
  k exec -n kube-system "$pod" -- ovs-ofctl show br-provider > "$out/nodes/$node/br-provider.ports" || rm -f "$out/nodes/$node/br-provider.ports"
  ovs_pod=$pod
done < "$out/.ovs-pods"
rm -f "$out/.ovs-pods"

# OVN's databases, through one ovn-central pod.
central=$(k get pods -n kube-system -l app=ovn-central -o 'jsonpath={.items[0].metadata.name}') || central=""
if [ -n "$central" ]; then
  k exec -n kube-system "$central" -- ovsdb-client backup unix:/var/run/ovn/ovnnb_db.sock OVN_Northbound > "$out/ovn/nb.db" || rm -f "$out/ovn/nb.db"
  k exec -n kube-system "$central" -- ovsdb-client backup unix:/var/run/ovn/ovnsb_db.sock OVN_Southbound > "$out/ovn/sb.db" || rm -f "$out/ovn/sb.db"
else
  echo "  (no ovn-central pod: ovn/*.db not written)" >> "$log"
fi

# versions.json: image tags and the tools' own --version lines (JSON-escaped: quotes and backslashes).
esc() { printf '%s' "$1" | head -n 1 | sed 's/\\/\\\\/g; s/"/\\"/g'; }
kubeovn=$(k get deployment -n kube-system kube-ovn-controller -o 'jsonpath={.spec.template.spec.containers[0].image}') || kubeovn=""
metallb=$(k get deployment -n metallb-system controller -o 'jsonpath={.spec.template.spec.containers[0].image}') || metallb=""
ovn=""; [ -z "$central" ] || ovn=$(k exec -n kube-system "$central" -- ovn-nbctl --version) || ovn=""
ovs=""; [ -z "$ovs_pod" ] || ovs=$(k exec -n kube-system "$ovs_pod" -- ovs-vswitchd --version) || ovs=""
tag() { printf '%s' "$1" | sed -n 's/.*:\(v\{0,1\}[0-9][0-9.]*\).*/\1/p'; }
printf '{\n "kubeOvn": "%s",\n "metallb": "%s",\n "ovn": "%s",\n "ovs": "%s",\n "images": {"kubeOvn": "%s", "metallb": "%s"}\n}\n' \
  "$(esc "$(tag "$kubeovn")")" "$(esc "$(tag "$metallb")")" "$(esc "$ovn")" "$(esc "$ovs")" "$(esc "$kubeovn")" "$(esc "$metallb")" > "$out/versions.json"
echo "vippath collect: wrote $out (commands in $log)" >&2
