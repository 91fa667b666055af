/**
 * Issue 19 items 12 and 13: non-finite times are refused at the API boundary with a typed error and leave
 * the simulation usable; ephemeral source ports cycle in Linux's range; a port out of range is a usage error.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CLUSTER, defaultObjects, EPHEMERAL_PORTS, ExternalClient, SimulatedCluster } from '@vippath/cluster';
import { DecodedFrame, FrameDecoder, InvalidArgumentError, VippathError } from '@vippath/wire';
import { main } from 'vippath';
import { synFrame } from './capture-helpers.js';

function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  return main(argv, { stdout: (s) => void (out += s), stderr: (s) => void (err += s) }).then((code) => ({ code, out, err }));
}

function thrown(call: () => unknown): unknown {
  try {
    call();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('non-finite times', () => {
  const bad = [NaN, Infinity, -Infinity, -1, 2 ** 60];
  for (const t of bad) {
    it(`${t}: inject, process, advance, curl, nodeDown, nodeUp, setPodReady refuse it with INVALID_ARGUMENT`, () => {
      const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER);
      const f = synFrame();
      const calls: Array<() => unknown> = [
        () => sim.inject(f, t),
        () => sim.process(f, f.length, t),
        () => sim.advance(t),
        () => new ExternalClient(sim).curl({ ip: '10.180.204.252' }, t),
        () => sim.nodeDown('node3', t),
        () => sim.nodeUp('node3', t),
        () => sim.setPodReady('deploy-169402624-0', false, t),
      ];
      for (const call of calls) {
        const e = thrown(call);
        expect(e, String(e)).toBeInstanceOf(InvalidArgumentError);
        expect((e as VippathError).code).toBe('INVALID_ARGUMENT');
        expect((e as Error).message).toMatch(/finite number of ms/);
      }
      // Nothing was scheduled: the simulation still works.
      expect(new ExternalClient(sim).curl({ ip: '10.180.204.252' }, 100).ok).toBe(true);
    });
  }

  it('curl with a NaN step is refused', () => {
    const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER);
    expect(thrown(() => new ExternalClient(sim).curl({ ip: '10.180.204.252' }, 0, NaN))).toBeInstanceOf(InvalidArgumentError);
  });

  it('vippath curl --at 1 followed by 400 zeros: a usage error, exit 2', async () => {
    const r = await run(['curl', '--at', `1${'0'.repeat(400)}`]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--at: "10+" is too long a time/);
  });

  it('vippath replay --node-down node3@1e999-ish: a usage error', async () => {
    const r = await run(['curl', '--node-down', `node3@1${'0'.repeat(400)}s`]);
    expect(r.code).toBe(2);
  });
});

describe('ports', () => {
  it('curl --repeat 25540 --every 0 keeps source ports in 32768–60999 (library: the port after 60999 is 32768)', () => {
    const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER);
    const client = new ExternalClient(sim);
    const decoder = new FrameDecoder();
    const d = new DecodedFrame();
    const seen: number[] = [];
    // Follow the SYNs the client sends: 25 540 requests from port 40000 cross 65535 without the cycle.
    (client as unknown as { nextPort: number }).nextPort = EPHEMERAL_PORTS.last - 1;
    const inject = sim.inject.bind(sim);
    sim.inject = (frame, now, ingress) => {
      decoder.decode(frame, d);
      if (d.ipProto === 6 && d.tcpFlags === 0x02) seen.push(d.srcPort);
      return inject(frame, now, ingress);
    };
    let at = 0;
    for (let i = 0; i < 3; i++) {
      const r = client.curl({ ip: '10.180.204.252' }, at);
      expect(r.ok, r.error).toBe(true);
      at = r.end;
    }
    expect(seen).toEqual([EPHEMERAL_PORTS.last - 1, EPHEMERAL_PORTS.last, EPHEMERAL_PORTS.first]);
  });

  it('vippath curl --repeat 25540 --every 0: every request answered', async () => {
    const r = await run(['curl', '--repeat', '25540', '--every', '0', '--json']);
    const results = JSON.parse(r.out) as Array<{ ok: boolean; transcript: Array<{ flow: string }> }>;
    expect(results.filter((x) => !x.ok).length).toBe(0);
    expect(r.code).toBe(0);
    const ports = results.map((x) => Number(/:(\d+) > \S+ \[S\]/.exec(x.transcript.map((t) => t.flow).join('\n'))?.[1]));
    expect(ports.filter((p) => !(p >= EPHEMERAL_PORTS.first && p <= EPHEMERAL_PORTS.last))).toEqual([]);
    // 25 540 requests from 40000 wrap once: the port after 60999 is 32768.
    expect(ports.indexOf(EPHEMERAL_PORTS.first)).toBe(EPHEMERAL_PORTS.last - 40000 + 1);
  }, 300_000);

  it('curl http://VIP:99999/: a usage error, exit 2, nothing sent', async () => {
    const r = await run(['curl', 'http://10.180.204.252:99999/']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/port 99999 .*out of range/);
    expect(r.out).toBe('');
  });

  it('the library refuses port 0 and 99999 with INVALID_ARGUMENT', () => {
    const sim = new SimulatedCluster(defaultObjects(), DEFAULT_CLUSTER);
    for (const port of [0, 99999, 1.5, NaN]) expect(thrown(() => new ExternalClient(sim).curl({ ip: '10.180.204.252', port }, 0))).toBeInstanceOf(InvalidArgumentError);
  });
});
