// The frames bench/pod-ab.mjs and bench/pod-loop.mjs drive the pod model with: 1 000 clients' connections to
// /clientip as curl makes them — SYN, ACK, GET, FIN, and with `lastAck` the final ACK (five frames a connection, like
// the http capture's) — built with ROOT's wire package and ROOT's ISN rule (its bench/workloads.mjs podIsn: 31 bits
// before session 16, 32 since), so the ACKs match the pod of that tree. Returns ROOT's PodHost class, the pod and the frames.
export async function podConversations(root, { lastAck = false } = {}) {
  const { PodHost } = await import(`${root}/packages/cluster/dist/pods.js`);
  const { buildFrame } = await import(`${root}/packages/wire/dist/index.js`);
  const { podIsn } = await import(`${root}/bench/workloads.mjs`);
  const pod = { name: 'nginx-abc', node: 'node1', mac: '0a:58:0a:10:00:05', ip: '10.16.0.5', lsp: 'x' };
  const GET = Buffer.from('GET /clientip HTTP/1.1\r\nHost: 172.18.0.100\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n', 'latin1');
  const frames = [];
  for (let c = 0; c < 1000; c++) {
    const src = `192.168.${c >> 8}.${c & 255}`;
    const sport = 30000 + c;
    const base = { dst: '0a:58:0a:10:00:05', src: '02:00:00:00:00:01', ipv4: { src, dst: '10.16.0.5' } };
    const seq = 1000;
    const ack = (isnPlus) => (podIsn(((192 << 24) | (168 << 16) | c) >>> 0, sport) + isnPlus) >>> 0;
    const tcp = (s, a, flags, payload) => buildFrame({ ...base, tcp: { srcPort: sport, dstPort: 80, seq: s, ack: a, flags, ...(payload ? { payload } : {}) } });
    frames.push(tcp(seq, 0, 0x02));
    frames.push(tcp(seq + 1, ack(1), 0x10));
    frames.push(tcp(seq + 1, ack(1), 0x18, GET));
    frames.push(tcp(seq + 1 + GET.length, ack(1 + 200), 0x11));
    if (lastAck) frames.push(tcp(seq + 2 + GET.length, ack(1 + 200), 0x10));
  }
  return { PodHost, pod, frames };
}
