/**
 * Invalid arguments to the public API give typed errors (VippathError, with a code) whose messages say what
 * would be right — not a TypeError from deep inside.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CLUSTER, defaultObjects, ExternalClient, frameFromDescription, loadManifests, replayCapture, SimulatedCluster } from '@vippath/cluster';
import { MetalLB } from '@vippath/metallb';
import { Bridge, parseFlows } from '@vippath/openflow';
import { LogicalSwitch } from '@vippath/ovn';
import { CaptureCursor, PcapWriter, readCaptureSync } from '@vippath/pcap';
import { buildFrame, FrameDecoder, DecodedFrame, parseIPv4, parseMac, VippathError } from '@vippath/wire';

const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER);

const cases: Array<[string, () => unknown, RegExp]> = [
  ['nodeDown of an unknown node', () => sim.nodeDown('node9', 0), /no node named node9; nodes: node1, node2, node3/],
  ['setPodReady of an unknown pod', () => sim.setPodReady('web-0', false, 0), /no pod named web-0; pods: deploy-169402624-0/],
  ['inject at an unknown place', () => sim.inject(new Uint8Array(60), 0, 'node1/eth9'), /unknown port "eth9" on node1: use underlay0, underlay0\.341, br-provider/],
  ['a frame description with a bad key', () => frameFromDescription('tcp,port=80', sim), /unknown key "port"/],
  ['curl without an IPv4 address', () => new ExternalClient(sim).curl({ ip: 'nope' }, 0), /IPv4/],
  ['parseIPv4 of a name', () => parseIPv4('localhost'), /IPv4/],
  ['parseMac of garbage', () => parseMac('52:54:00'), /MAC/],
  ['buildFrame with a bad MAC', () => buildFrame({ dst: 'x', src: '52:54:00:aa:00:64' }), /MAC/],
  ['a Bridge frame on an unknown port', () => new Bridge('br', [{ name: 'a', ofport: 1 }]).process(new Uint8Array(60), 7), /in_port 7 is not a port of br \(ports: /],
  ['flows naming an unknown port', () => parseFlows('in_port=eth9,actions=drop', { ports: new Map([['a', 1]]) }), /eth9/],
  ['a logical switch missing from its Northbound', () => new LogicalSwitch({ switches: [{ name: 'other', ports: [] }] }, 'ls', {}), /no logical switch ls in the Northbound/],
  ['a logical switch packet from an unknown port', () => new LogicalSwitch({ switches: [{ name: 'ls', ports: [] }] }, 'ls', {}).process(new Uint8Array(60), 'nope', 'node1'), /no logical port "nope" on ls/],
  ['a capture that is not one', () => readCaptureSync(new Uint8Array(100)), /magic/i],
  ['a cursor fed something else', () => new CaptureCursor().feed('not bytes' as unknown as Uint8Array, true), /Uint8Array/],
  ['a decoder given something else', () => new FrameDecoder().decode('x' as unknown as Uint8Array, new DecodedFrame()), /Uint8Array/],
  ['a pcap writer given a record without data', () => new PcapWriter({ write() {}, async close() {}, abort() {} }).write({ timestamp: 0n } as never), /data/],
  ['manifests that are not text', () => loadManifests(42 as unknown as string), /text/],
  ['MetalLB with a pool missing addresses', () => new MetalLB({ pools: [{ metadata: { name: 'p' }, spec: {} } as never], advertisements: [], nodes: [], services: [] }), /spec\.addresses/],
];

describe('invalid arguments to the public API', () => {
  for (const [what, call, message] of cases) {
    it(what, () => {
      let thrown: unknown;
      try {
        call();
      } catch (e) {
        thrown = e;
      }
      expect(thrown, 'it must throw').toBeDefined();
      expect(thrown, String(thrown)).toBeInstanceOf(VippathError);
      expect((thrown as VippathError).code).toMatch(/^[A-Z_]+$/);
      expect((thrown as Error).message).toMatch(message);
    });
  }

  it('replayCapture of a file that is not there: a typed error naming the file', async () => {
    await expect(replayCapture('/nonexistent/capture.pcap', defaultObjects(), DEFAULT_CLUSTER)).rejects.toThrow(/\/nonexistent\/capture\.pcap/);
    await expect(replayCapture('/nonexistent/capture.pcap', defaultObjects(), DEFAULT_CLUSTER)).rejects.toBeInstanceOf(VippathError);
  });
});
