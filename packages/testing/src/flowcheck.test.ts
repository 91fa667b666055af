import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { Port } from '@vippath/openflow';
import { readCaptureSync } from '@vippath/pcap';
import { parseFrame, MalformedFrameError, FrameDecoder, DecodedFrame } from '@vippath/wire';
import { checkFlowTable, FlowPropertyError, neverOutputsTo, onlyVlan, outputsExactly } from './flowcheck.js';
import { frameArb, malformedFrameArb } from './frames.js';

const dir = mkdtempSync(join(tmpdir(), 'vippath-kit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ports = [{ name: 'underlay0.341', ofport: 1 }, { name: 'patch-localnet.underlay-subnet-to-br-int', ofport: 2 }];
const kubeOvn = 'cookie=0x1000,priority=10000,in_port=1,tcp,nw_dst=10.180.204.252,tp_dst=80 actions=mod_dl_dst:00:00:00:01:00:01,output:2\npriority=0,actions=NORMAL\n';

describe('frame arbitraries', () => {
  it('valid frames parse and their checksums verify', () => {
    fc.assert(
      fc.property(frameArb(), (f) => {
        const p = parseFrame(f.bytes);
        if (!p.arp) expect(p.checksum).toBe('ok');
      }),
      { numRuns: 300 },
    );
  });
  it('malformed frames never crash the decoder, and the parser only throws MalformedFrameError', () => {
    const decoder = new FrameDecoder();
    const d = new DecodedFrame();
    fc.assert(
      fc.property(malformedFrameArb(), (b) => {
        decoder.decode(b, d);
        try {
          parseFrame(b);
        } catch (e) {
          expect(e).toBeInstanceOf(MalformedFrameError);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('checkFlowTable', () => {
  it('passes a property that holds: VIP:80 from the underlay goes only to the patch port, never to LOCAL', () => {
    const r = checkFlowTable({
      flows: kubeOvn,
      ports,
      inPorts: [1],
      packets: frameArb({ kinds: ['tcp4'], vlans: [[]] }).filter((f) => f.spec.ipv4?.dst === '10.180.204.252' && f.spec.tcp?.dstPort === 80),
      property: (_p, _i, res) => outputsExactly([2])(_p, _i, res) !== false && neverOutputsTo(Port.LOCAL)(_p, _i, res) !== false,
      parameters: { numRuns: 200 },
    });
    expect(r.runs).toBe(200);
  });

  it('finds, shrinks and writes a counterexample for a property that does not hold, with a replay command', () => {
    let err: FlowPropertyError | undefined;
    try {
      checkFlowTable({ flows: kubeOvn, ports, packets: frameArb(), property: neverOutputsTo(Port.LOCAL), parameters: { numRuns: 300, seed: 42 }, outDir: dir });
    } catch (e) {
      err = e as FlowPropertyError;
    }
    expect(err).toBeInstanceOf(FlowPropertyError);
    expect(err!.counterexample.outputs.some((o) => o.port === Port.LOCAL)).toBe(true);
    expect(existsSync(err!.files.pcap)).toBe(true);
    const recs = readCaptureSync(new Uint8Array(readFileSync(err!.files.pcap))).records;
    expect(Buffer.from(recs[0]!.data).toString('hex')).toBe(err!.counterexample.packetHex);
    expect(readFileSync(err!.files.flows, 'utf8')).toBe(kubeOvn);
    expect(err!.replay).toMatch(/^npx vippath of trace --flows .* --ports underlay0\.341=1,patch-localnet\.underlay-subnet-to-br-int=2 --in-port \d+ --packet [0-9a-f]+$/);
    expect(err!.message).toMatch(/NORMAL/);
  });

  it('onlyVlan: a table that retags to 100 is caught', () => {
    expect(() => checkFlowTable({ flows: 'priority=1,actions=mod_vlan_vid:100,output:2', ports, inPorts: [1], packets: frameArb({ vlans: [[341]] }), property: onlyVlan(341), parameters: { numRuns: 50 }, outDir: dir })).toThrow(FlowPropertyError);
    expect(checkFlowTable({ flows: 'priority=1,actions=output:2', ports, inPorts: [1], packets: frameArb({ vlans: [[341]] }), property: onlyVlan(341), parameters: { numRuns: 50 } }).runs).toBe(50);
  });
});

describe('the README\'s run counts', () => {
  // The README says which default belongs to which check; these hold it to what the code does.
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
  const stated = (fn: string, unit: string): number => {
    const m = new RegExp(`\`${fn}\` runs (\\d+) ${unit} per property by default`).exec(readme);
    expect(m, `README: "\`${fn}\` runs N ${unit} per property by default"`).not.toBeNull();
    return Number(m![1]);
  };
  const withoutEnv = <T>(f: () => T): T => {
    const saved = process.env.VIPPATH_PROPERTY_RUNS;
    delete process.env.VIPPATH_PROPERTY_RUNS;
    try {
      return f();
    } finally {
      if (saved !== undefined) process.env.VIPPATH_PROPERTY_RUNS = saved;
    }
  };

  it('checkFlowTable: the packets per property the README states', () => {
    const r = withoutEnv(() => checkFlowTable({ flows: 'priority=0,actions=output:2', ports, inPorts: [1], packets: frameArb({ kinds: ['arp'] }), property: () => true, parameters: { seed: 1 }, outDir: dir }));
    expect(r.runs).toBe(stated('checkFlowTable', 'packets'));
  });

  it('checkCluster: the cases per property the README states', async () => {
    const { checkCluster, clusterCaseArb } = await import('./cluster.js');
    // One small case over and over: what is counted is the runs, not what they find.
    const [c] = fc.sample(clusterCaseArb({ prerequisites: true }), { numRuns: 1, seed: 1 });
    const small = { ...c!, conversations: [], events: [] };
    const r = withoutEnv(() => checkCluster({ cases: fc.constant(small), invariants: [], parameters: { seed: 1 }, outDir: dir }));
    expect(r.runs).toBe(stated('checkCluster', 'cases'));
  }, 60_000);
});
