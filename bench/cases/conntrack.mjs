// The conntrack engine alone (@vippath/ovn OvsConntrack), as the logical-flow executor calls it per packet:
// decode, then ct(). Two cases:
//  - ct-est: 10 000 established load-balanced connections (committed with DNAT in setup); each frame is a pure
//    ACK of one of them through `ct(zone, nat)` — lookup, TCP window tracking, DNAT rewrite with checksum updates.
//  - ct-new: every frame a SYN of a new connection through OVN's ct_lb pattern: `ct(zone, nat)` finds nothing,
//    then `ct(commit, zone, nat(dst=backend))` creates the entry and rewrites (200 000 frames; table flushed per run).
// Frames are restored from pristine copies before each call (NAT rewrites them in place); nothing is allocated
// per frame, which the GC column shows.
import { DecodedFrame, FrameDecoder, buildFrame, formatIPv4, write32, parseIPv4 } from '../../packages/wire/dist/index.js';
import { CtNat, CtRequest, CtResult, OvsConntrack } from '../../packages/ovn/dist/index.js';

const FLOWS = 10_000;
const VIP = '10.180.204.252';
const BACKENDS = ['10.180.204.11', '10.180.204.12', '10.180.204.13'];

function tcpFrame(i, flags, seq, ack) {
  return buildFrame({
    dst: '52:54:00:bb:00:03',
    src: '52:54:00:aa:00:64',
    ipv4: { src: formatIPv4(0x0a000000 + 1 + (i >>> 14)), dst: VIP },
    tcp: { srcPort: 1024 + (i & 0x3fff), dstPort: 80, flags, seq, ack, window: 65535 },
  });
}

function lbRequest(req, backend) {
  req.reset();
  req.zone = 7;
  req.commit = true;
  req.nat = CtNat.DNAT;
  write32(req.natAddrMin, 0, parseIPv4(backend));
  write32(req.natAddrMax, 0, parseIPv4(backend));
  req.natPortMin = 8080;
  req.natPortMax = 8080;
}

function common() {
  return { dec: new FrameDecoder(), d: new DecodedFrame(), res: new CtResult(), apply: new CtRequest(), commit: new CtRequest() };
}

const est = {
  name: 'ct-est',
  setup: ({ frames }) => {
    const s = { ...common(), frames, ct: new OvsConntrack({ maxConnections: 65536 }) };
    s.apply.zone = 7;
    s.apply.nat = CtNat.APPLY;
    // Handshake each flow: SYN (committed with DNAT), SYN-ACK from the backend, ACK.
    for (let i = 0; i < FLOWS; i++) {
      const b = BACKENDS[i % 3];
      const syn = tcpFrame(i, 0x02, 1000, 0);
      lbRequest(s.commit, b);
      s.dec.decode(syn, s.d);
      s.res.reset();
      s.ct.execute(syn, syn.length, s.d, s.commit, s.res, 0);
      const synack = buildFrame({
        dst: '52:54:00:aa:00:64', src: '52:54:00:bb:00:03',
        ipv4: { src: b, dst: formatIPv4(0x0a000000 + 1 + (i >>> 14)) },
        tcp: { srcPort: 8080, dstPort: 1024 + (i & 0x3fff), flags: 0x12, seq: 5000, ack: 1001, window: 65535 },
      });
      s.dec.decode(synack, s.d);
      s.res.reset();
      s.ct.execute(synack, synack.length, s.d, s.apply, s.res, 0);
    }
    s.pristine = [];
    for (let i = 0; i < FLOWS; i++) s.pristine.push(tcpFrame(i, 0x10, 1001, 5001));
    s.work = new Uint8Array(s.pristine[0].length);
    return s;
  },
  run(s) {
    const { ct, dec, d, res, apply, pristine, work, frames } = s;
    let ok = 0;
    for (let i = 0; i < frames; i++) {
      work.set(pristine[i % FLOWS]);
      dec.decode(work, d);
      res.reset();
      ct.execute(work, work.length, d, apply, res, 1000);
      if (res.state === 0xa2) ok++; // est|trk|dnat
    }
    if (ok !== frames) throw new Error(`expected every frame est|trk|dnat, got ${ok} of ${frames}`);
    return frames;
  },
};

const NEW_FRAMES = 200_000;
const fresh = {
  name: 'ct-new',
  frames: NEW_FRAMES,
  setup: ({ frames }) => {
    const s = { ...common(), frames: Math.min(frames, NEW_FRAMES), ct: new OvsConntrack({ maxConnections: NEW_FRAMES, initialCapacity: NEW_FRAMES }) };
    s.apply.zone = 7;
    s.apply.nat = CtNat.APPLY;
    s.pristine = [];
    for (let i = 0; i < s.frames; i++) s.pristine.push(tcpFrame(i, 0x02, 1000, 0));
    s.work = new Uint8Array(s.pristine[0].length);
    return s;
  },
  run(s) {
    const { ct, dec, d, res, apply, commit, pristine, work, frames } = s;
    ct.flush();
    lbRequest(commit, BACKENDS[0]);
    let ok = 0;
    for (let i = 0; i < frames; i++) {
      work.set(pristine[i]);
      dec.decode(work, d);
      res.reset();
      ct.execute(work, work.length, d, apply, res, 0);
      if (res.state === 0x21) {
        ct.execute(work, work.length, d, commit, res, 0);
        if (res.state === 0xa1) ok++; // new|trk|dnat
      }
    }
    if (ok !== frames) throw new Error(`expected every frame committed new|trk|dnat, got ${ok} of ${frames}`);
    return frames;
  },
};

export default [est, fresh];
