/**
 * A conntrack engine that answers as `ovn-trace` 23.03 does (utilities/ovn-trace.c, branch-23.03): no table,
 * the states given by `--ct` consumed one per ct action in trace order, `est|trk` after the last
 * (`next_ct_state`); `ct_next` replaces ct_state, `ct_lb_mark`/`ct_dnat`/`ct_snat`/`ct_commit_nat` OR into it
 * (the latter three only when the packet is not yet tracked), a NAT to an address sets the `dnat`/`snat` bit and
 * rewrites the packet, `ct_commit` and `ct_snat_to_vip` change nothing. Use it to reproduce an ovn-trace run,
 * and in tests as the oracle's model.
 * @module
 */
import { L3, rewriteIpv4Address, rewriteIpv6Address, rewritePort, type DecodedFrame } from '@vippath/wire';
import { CtAction, CtNat, CtState, type ConntrackEngine, type CtRequest, type CtResult } from './ct-api.js';
import { VippathError } from '@vippath/wire';

const NAMES: Record<string, number> = { new: CtState.NEW, est: CtState.EST, rel: CtState.REL, rpl: CtState.RPL, inv: CtState.INV, trk: CtState.TRK, snat: CtState.SNAT, dnat: CtState.DNAT };

/**
 * Parses one `--ct` argument as ovn-trace does (`parse_ct_option`: flags separated by `,` or spaces, `trk` implied).
 * Throws a VippathError (`BAD_CT_FLAGS`) on an unknown flag.
 */
export function parseCtFlags(text: string): number {
  let state = CtState.TRK as number;
  for (const part of text.split(/[,\s]+/)) {
    const name = part.trim().replace(/^\+/, '');
    if (!name) continue;
    const bit = NAMES[name];
    if (bit === undefined) throw new VippathError('BAD_CT_FLAGS', `--ct: unknown ct_state flag "${name}" (one of ${Object.keys(NAMES).join(', ')})`);
    state |= bit;
  }
  return state;
}

export class TraceConntrack implements ConntrackEngine {
  private index = 0;
  /** Whether the last call fell back to the default (ovn-trace then prints "default (use --ct to customize)"). */
  lastDefault = false;
  /** Whether the last call consumed a state at all (ct_commit and ct_snat_to_vip do not). */
  lastConsumed = false;

  constructor(private readonly states: readonly number[] = []) {}

  /** Starts over at the first `--ct` state (one trace). */
  reset(): void {
    this.index = 0;
  }

  private next(): number {
    if (this.index < this.states.length) {
      this.lastDefault = false;
      return this.states[this.index++]!;
    }
    this.lastDefault = true;
    return CtState.EST | CtState.TRK;
  }

  execute(frame: Uint8Array, _length: number, d: DecodedFrame, req: CtRequest, res: CtResult, _now: number): void {
    res.rewritten = false;
    res.zone = req.zone;
    this.lastConsumed = false;
    this.lastDefault = false;
    switch (req.action) {
      case CtAction.CT_COMMIT:
      case CtAction.CT_SNAT_TO_VIP:
        return;
      case CtAction.CT_NEXT:
        this.lastConsumed = true;
        res.state = this.next();
        return;
      case CtAction.CT_LB_MARK:
        if (d.l3 !== L3.IPV4 && d.l3 !== L3.IPV6) return;
        if (req.nat === CtNat.DNAT) {
          this.dnat(frame, d, req, res);
          res.state |= CtState.DNAT;
        }
        this.lastConsumed = true;
        res.state |= this.next();
        return;
      default: {
        // ct_dnat / ct_snat / ct_commit_nat: "ct(nat) implies ct()" — only an untracked packet takes a state.
        if (req.nat === CtNat.DNAT) {
          this.dnat(frame, d, req, res);
          res.state |= CtState.DNAT;
        } else if (req.nat === CtNat.SNAT) {
          this.snat(frame, d, req, res);
          res.state |= CtState.SNAT;
        }
        if (!(res.state & CtState.TRK)) {
          this.lastConsumed = true;
          res.state |= this.next();
        }
      }
    }
  }

  private dnat(frame: Uint8Array, d: DecodedFrame, req: CtRequest, res: CtResult): void {
    res.hasOriginal = true;
    res.originalIpv6 = d.l3 === L3.IPV6;
    res.originalDstPort = d.dstPort;
    if (d.l3 === L3.IPV4) {
      const a = req.natAddrMin;
      const v = ((a[0]! << 24) | (a[1]! << 16) | (a[2]! << 8) | a[3]!) >>> 0;
      res.originalDst.fill(0);
      const o = d.ipDst;
      res.originalDst[0] = o >>> 24;
      res.originalDst[1] = (o >>> 16) & 255;
      res.originalDst[2] = (o >>> 8) & 255;
      res.originalDst[3] = o & 255;
      rewriteIpv4Address(frame, d, 16, v);
    } else {
      for (let i = 0; i < 16; i++) res.originalDst[i] = frame[d.l3Offset + 24 + i]!;
      rewriteIpv6Address(frame, d, 24, req.natAddrMin, 0);
    }
    // The port is ct_lb_mark's backend's alone: execute_ct_nat (utilities/ovn-trace.c v23.03.1) sets the address of
    // ct_dnat(IP, LO-HI) and leaves the ports alone.
    const port = req.action === CtAction.CT_LB_MARK ? req.natPortMin : 0;
    if (port && d.l4Offset >= 0 && (d.ipProto === 6 || d.ipProto === 17)) rewritePort(frame, d, 2, port);
    else if (port && d.l4Offset >= 0 && (d.ipProto === 1 || d.ipProto === 58)) {
      // ovn-trace sets the flow's tp_dst to the backend port whatever the protocol; for ICMP that slot is the
      // code (OVS struct flow), which chk_lb_hairpin_reply then compares with the VIP's port.
      frame[d.l4Offset + 1] = port & 0xff;
      d.icmpCode = port & 0xff;
    }
    res.rewritten = true;
  }

  private snat(frame: Uint8Array, d: DecodedFrame, req: CtRequest, res: CtResult): void {
    if (d.l3 === L3.IPV4) {
      const a = req.natAddrMin;
      rewriteIpv4Address(frame, d, 12, ((a[0]! << 24) | (a[1]! << 16) | (a[2]! << 8) | a[3]!) >>> 0);
    } else {
      rewriteIpv6Address(frame, d, 8, req.natAddrMin, 0);
    }
    res.rewritten = true;
  }
}
