/**
 * The logical switch's pipeline stages as data, per OVN version: name → (pipeline, table number). Flows are
 * generated against stage names; the table numbers come from here, as northd's `PIPELINE_STAGE` list gives them.
 * Sources: ovn-org/ovn `northd/northd.c` v23.03.1 (`PIPELINE_STAGES`, l.114–152), `northd/northd.h` branch-24.03
 * and branch-25.03 (`PIPELINE_STAGE(SWITCH, …)`).
 * @module
 */
import type { Pipeline } from '../lflow/types.js';

/** An OVN release whose switch pipeline vippath knows. 23.03 is the one whose flows are generated and diffed. */
export type OvnVersion = '23.03' | '24.03' | '25.03';

export interface StageDef {
  name: string;
  pipeline: Pipeline;
  table: number;
}

const seq = (pipeline: Pipeline, names: string[]): StageDef[] => names.map((name, table) => ({ name, pipeline, table }));

const IN_2303 = ['ls_in_check_port_sec', 'ls_in_apply_port_sec', 'ls_in_lookup_fdb', 'ls_in_put_fdb', 'ls_in_pre_acl',
  'ls_in_pre_lb', 'ls_in_pre_stateful', 'ls_in_acl_hint', 'ls_in_acl', 'ls_in_qos_mark', 'ls_in_qos_meter',
  'ls_in_lb_aff_check', 'ls_in_lb', 'ls_in_lb_aff_learn', 'ls_in_pre_hairpin', 'ls_in_nat_hairpin', 'ls_in_hairpin',
  'ls_in_acl_after_lb', 'ls_in_stateful', 'ls_in_arp_rsp', 'ls_in_dhcp_options', 'ls_in_dhcp_response',
  'ls_in_dns_lookup', 'ls_in_dns_response', 'ls_in_external_port', 'ls_in_l2_lkup', 'ls_in_l2_unknown'];
const OUT_2303 = ['ls_out_pre_acl', 'ls_out_pre_lb', 'ls_out_pre_stateful', 'ls_out_acl_hint', 'ls_out_acl',
  'ls_out_qos_mark', 'ls_out_qos_meter', 'ls_out_stateful', 'ls_out_check_port_sec', 'ls_out_apply_port_sec'];

// 24.03 split each ACL stage into _eval and _action (northd.h branch-24.03).
const IN_2403 = ['ls_in_check_port_sec', 'ls_in_apply_port_sec', 'ls_in_lookup_fdb', 'ls_in_put_fdb', 'ls_in_pre_acl',
  'ls_in_pre_lb', 'ls_in_pre_stateful', 'ls_in_acl_hint', 'ls_in_acl_eval', 'ls_in_acl_action', 'ls_in_qos_mark',
  'ls_in_qos_meter', 'ls_in_lb_aff_check', 'ls_in_lb', 'ls_in_lb_aff_learn', 'ls_in_pre_hairpin', 'ls_in_nat_hairpin',
  'ls_in_hairpin', 'ls_in_acl_after_lb_eval', 'ls_in_acl_after_lb_action', 'ls_in_stateful', 'ls_in_arp_rsp',
  'ls_in_dhcp_options', 'ls_in_dhcp_response', 'ls_in_dns_lookup', 'ls_in_dns_response', 'ls_in_external_port',
  'ls_in_l2_lkup', 'ls_in_l2_unknown'];
const OUT_2403 = ['ls_out_pre_acl', 'ls_out_pre_lb', 'ls_out_pre_stateful', 'ls_out_acl_hint', 'ls_out_acl_eval',
  'ls_out_acl_action', 'ls_out_qos_mark', 'ls_out_qos_meter', 'ls_out_stateful', 'ls_out_check_port_sec',
  'ls_out_apply_port_sec'];

// 25.03 adds the ACL sample stages, merges QoS mark/meter into one stage and adds egress FDB stages (northd.h
// branch-25.03).
const IN_2503 = ['ls_in_check_port_sec', 'ls_in_apply_port_sec', 'ls_in_lookup_fdb', 'ls_in_put_fdb', 'ls_in_pre_acl',
  'ls_in_pre_lb', 'ls_in_pre_stateful', 'ls_in_acl_hint', 'ls_in_acl_eval', 'ls_in_acl_sample', 'ls_in_acl_action',
  'ls_in_qos', 'ls_in_lb_aff_check', 'ls_in_lb', 'ls_in_lb_aff_learn', 'ls_in_pre_hairpin', 'ls_in_nat_hairpin',
  'ls_in_hairpin', 'ls_in_acl_after_lb_eval', 'ls_in_acl_after_lb_sample', 'ls_in_acl_after_lb_action',
  'ls_in_stateful', 'ls_in_arp_rsp', 'ls_in_dhcp_options', 'ls_in_dhcp_response', 'ls_in_dns_lookup',
  'ls_in_dns_response', 'ls_in_external_port', 'ls_in_l2_lkup', 'ls_in_l2_unknown'];
const OUT_2503 = ['ls_out_lookup_fdb', 'ls_out_put_fdb', 'ls_out_pre_acl', 'ls_out_pre_lb', 'ls_out_pre_stateful',
  'ls_out_acl_hint', 'ls_out_acl_eval', 'ls_out_acl_sample', 'ls_out_acl_action', 'ls_out_qos', 'ls_out_stateful',
  'ls_out_check_port_sec', 'ls_out_apply_port_sec'];

/** Every switch stage of each version, ingress then egress, in table order. */
export const SWITCH_STAGES: Readonly<Record<OvnVersion, readonly StageDef[]>> = {
  '23.03': [...seq('ingress', IN_2303), ...seq('egress', OUT_2303)],
  '24.03': [...seq('ingress', IN_2403), ...seq('egress', OUT_2403)],
  '25.03': [...seq('ingress', IN_2503), ...seq('egress', OUT_2503)],
};

/**
 * Each release's LOG_PIPELINE_LEN (lib/ovn-util.h): the logical tables ovn-controller and ovn-trace give a pipeline,
 * past which a `next` action is refused ("cannot advance beyond table N").
 */
export const LOG_PIPELINE_LEN: Readonly<Record<OvnVersion, number>> = { '23.03': 29, '24.03': 29, '25.03': 30 };

/** The stage of `name` in `version`, or undefined when that version has no such stage. */
export function stageOf(version: OvnVersion, name: string): StageDef | undefined {
  return SWITCH_STAGES[version].find((s) => s.name === name);
}

/**
 * The release whose stage table a switch's flows follow (every flow's stage name at its pipeline and table), or
 * undefined when none does (flows without stage names, or another release's). Tells which northd wrote collected
 * Southbound rows.
 */
export function ovnVersionOfFlows(flows: readonly { pipeline: Pipeline; table: number; stage: string }[]): OvnVersion | undefined {
  const named = flows.filter((f) => f.stage !== '');
  if (!named.length) return undefined;
  for (const v of Object.keys(SWITCH_STAGES) as OvnVersion[]) {
    const at = new Map(SWITCH_STAGES[v].map((s) => [s.name, s]));
    if (named.every((f) => at.get(f.stage)?.pipeline === f.pipeline && at.get(f.stage)?.table === f.table)) return v;
  }
  return undefined;
}
