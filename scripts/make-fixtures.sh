#!/usr/bin/env bash
# Makes the real captures in test/fixtures/ from the Linux kernel: a `client` and a `node` network
# namespace joined by a veth pair; the node holds the VIP and serves HTTP; tcpdump records the client's
# side. The kernel here has no 8021q module, so VLAN 341 is added afterwards by scripts/tag-vlan.mjs.
# Run as root from the repository:  sudo bash scripts/make-fixtures.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=test/fixtures
mkdir -p "$out"
work=$(mktemp -d)
CLIENT=vp-client NODE=vp-node
cleanup() {
  ip netns pids $NODE 2>/dev/null | xargs -r kill 2>/dev/null || true
  ip netns pids $CLIENT 2>/dev/null | xargs -r kill 2>/dev/null || true
  ip netns del $CLIENT 2>/dev/null || true
  ip netns del $NODE 2>/dev/null || true
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
cleanup; work=$(mktemp -d)

CLIENT_MAC=52:54:00:aa:00:64   # the default scenario's external client
NODE_MAC=52:54:00:bb:00:03     # node3's NIC MAC: node3 owns VIP .252 in the default scenario
VIP=10.180.204.252 CLIENT_IP=10.180.204.100
VIP6=fd00:10:180:204::252 CLIENT_IP6=fd00:10:180:204::100

ip netns add $CLIENT
ip netns add $NODE
ip link add veth-c netns $CLIENT type veth peer name veth-n netns $NODE
ip -n $CLIENT link set veth-c address $CLIENT_MAC
ip -n $NODE link set veth-n address $NODE_MAC
for ns in $CLIENT $NODE; do ip -n $ns link set lo up; done
# No IPv6 router solicitations or MLD reports from the client: only the traffic we make.
ip netns exec $CLIENT sysctl -qw net.ipv6.conf.veth-c.router_solicitations=0 net.ipv6.conf.all.disable_ipv6=0
ip -n $CLIENT addr add $CLIENT_IP/24 dev veth-c
ip -n $NODE addr add $VIP/24 dev veth-n
ip -n $CLIENT addr add $CLIENT_IP6/64 dev veth-c nodad
ip -n $NODE addr add $VIP6/64 dev veth-n nodad
ip -n $CLIENT link set veth-c up
ip -n $NODE link set veth-n up

# A small HTTP server on the VIP (both families).
mkdir -p "$work/www"
echo "hello from the VIP" > "$work/www/index.html"
ip netns exec $NODE python3 -m http.server 80 --bind :: --directory "$work/www" >/dev/null 2>&1 &
sleep 1

capture() { # name, then the traffic commands run in the client namespace
  local name=$1; shift
  ip -n $CLIENT neigh flush dev veth-c
  ip -n $NODE neigh flush dev veth-n
  ip netns exec $CLIENT tcpdump -i veth-c --immediate-mode -U -s 0 -w "$work/$name.pcap" 2>"$work/$name.log" &
  local tp=$!
  for _ in $(seq 50); do grep -q listening "$work/$name.log" 2>/dev/null && break; sleep 0.1; done
  "$@"
  sleep 0.5
  kill -INT $tp; wait $tp || true
}

ipv4_traffic() {
  ip netns exec $CLIENT ping -c 2 -i 0.2 $VIP >/dev/null
  for path in / /index.html /clientip; do
    ip netns exec $CLIENT curl -s -o /dev/null --max-time 5 "http://$VIP$path" || true
  done
}
ipv6_traffic() {
  ip netns exec $CLIENT ping -6 -c 2 -i 0.2 $VIP6 >/dev/null
  ip netns exec $CLIENT curl -s -o /dev/null --max-time 5 "http://[$VIP6]/" || true
}

capture vip-ipv4-untagged ipv4_traffic
capture vip-ipv6-untagged ipv6_traffic

# Keep only the families each file is about (the kernel may add stray IPv6 multicast reports).
tshark -r "$work/vip-ipv4-untagged.pcap" -Y 'arp || ip' -w "$out/vip-ipv4-untagged.pcap" -F pcap 2>/dev/null
tshark -r "$work/vip-ipv6-untagged.pcap" -Y 'ipv6 && !icmpv6.type == 143' -w "$out/vip-ipv6-untagged.pcap" -F pcap 2>/dev/null

node scripts/tag-vlan.mjs --vid 341 "$out/vip-ipv4-untagged.pcap" "$out/vip-ipv4.pcap"
node scripts/tag-vlan.mjs --vid 341 "$out/vip-ipv6-untagged.pcap" "$out/vip-ipv6.pcap"
node scripts/tag-vlan.mjs --vid 341 --outer-vid 100 --outer-tpid 0x88a8 "$out/vip-ipv4-untagged.pcap" "$out/vip-ipv4-qinq.pcap"
node scripts/tag-vlan.mjs --vid 341 --outer-vid 100 --outer-tpid 0x8100 "$out/vip-ipv4-untagged.pcap" "$out/vip-ipv4-dot1q-stack.pcap"

# Wireshark's own tools convert: pcapng (with an interface name) and nanosecond pcap.
editcap -F pcapng "$out/vip-ipv4.pcap" "$out/vip-ipv4.pcapng"
editcap -F nsecpcap "$out/vip-ipv4.pcap" "$out/vip-ipv4-ns.pcap"
# A cooked capture (LINUX_SLL2, as `tcpdump -i any` writes) of the same kind of traffic.
ip netns exec $CLIENT tcpdump -i any --immediate-mode -U -s 0 -w "$work/sll2.pcap" 2>"$work/sll2.log" &
tp=$!
for _ in $(seq 50); do grep -q listening "$work/sll2.log" 2>/dev/null && break; sleep 0.1; done
ip netns exec $CLIENT ping -c 2 -i 0.2 $VIP >/dev/null
sleep 0.5; kill -INT $tp; wait $tp || true
tshark -r "$work/sll2.pcap" -Y 'arp || ip' -w "$out/vip-ipv4-sll2.pcap" -F pcap 2>/dev/null
# The older cooked header (LINUX_SLL), as `tcpdump -y LINUX_SLL` still writes it.
ip -n $CLIENT neigh flush dev veth-c
ip netns exec $CLIENT tcpdump -i any -y LINUX_SLL --immediate-mode -U -s 0 -w "$work/sll.pcap" 2>"$work/sll.log" &
tp=$!
for _ in $(seq 50); do grep -q listening "$work/sll.log" 2>/dev/null && break; sleep 0.1; done
ip netns exec $CLIENT ping -c 2 -i 0.2 $VIP >/dev/null
sleep 0.5; kill -INT $tp; wait $tp || true
tshark -r "$work/sll.pcap" -Y 'arp || ip' -w "$out/vip-ipv4-sll.pcap" -F pcap 2>/dev/null

ls -l "$out"/*.pcap*
