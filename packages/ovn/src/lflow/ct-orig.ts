/**
 * What ovn-controller makes of `dst = ct_nw_dst()` / `ct_ip6_dst()` / `ct_tp_dst()` (OVN 24.03+), the actions
 * ls_in_lb uses to recover the VIP of a later IP fragment (which has no L4 header) from its connection.
 * encode_result_action___ (lib/actions.c ef8f5c1ac) zeroes the scratch register, resubmits to
 * OFTABLE_CT_ORIG_{NW_DST,IP6_DST,TP_DST}_LOAD and moves the scratch register into `dst`; those tables
 * (controller/physical.c ef8f5c1ac, "Table 81, 82 and 83") hold one flow each, matching `ct_state=+trk+est` (and
 * the family for the address tables) and moving OVS's MFF_CT_NW_DST / MFF_CT_IPV6_DST / MFF_CT_TP_DST — the
 * connection's original-direction destination — into the scratch register. A packet that is not tracked and
 * established gets 0.
 * The scratch registers are MFF_LOG_CT_ORIG_NW_DST_ADDR/IP6_DST_ADDR/TP_DST_PORT: reg1/xxreg1/reg2[0..15] at 24.03,
 * reg4/xxreg1/reg2[0..15] at 25.03 (include/ovn/logical-fields.h at ef8f5c1ac/cbb88276a). Every flow northd writes
 * names its version's scratch register as `dst` (`reg1 = ct_nw_dst(); reg2[0..15] = ct_tp_dst();`), so loading
 * `dst` alone is the whole effect; a hand-written flow naming another destination would also clobber the scratch
 * register in OVN, which this does not model.
 * @module
 */
import type { Action } from './actions.js';
import { CtState } from './ct-api.js';
import { copyBits, W, writeBits } from './fields.js';

const TRK_EST = CtState.TRK | CtState.EST;

/** Runs one `ct_orig` action on the flow words `w`; allocation-free. */
export function loadCtOrig(a: Extract<Action, { k: 'ct_orig' }>, w: Uint32Array): void {
  const d = a.dst;
  const est = (w[W.CT_STATE]! & TRK_EST) === TRK_EST;
  if (a.src === 'ct_tp_dst') {
    writeBits(w, d.field.word, d.lo, 16, est ? w[W.CT_TP_DST]! & 0xffff : 0);
  } else if (a.src === 'ct_nw_dst') {
    writeBits(w, d.field.word, d.lo, 32, est && w[W.ETH_TYPE] === 0x800 ? w[W.CT_NW_DST]! : 0);
  } else if (est && w[W.ETH_TYPE] === 0x86dd) {
    copyBits(w, W.CT_IPV6_DST, 0, w, d.field.word, d.lo, 128);
  } else {
    for (let done = 0; done < 128; done += 32) writeBits(w, d.field.word, d.lo + done, 32, 0);
  }
}
