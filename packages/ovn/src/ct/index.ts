/**
 * A conntrack engine that behaves like Open vSwitch's userspace conntrack (OVS 3.1), for the logical-flow
 * executor's {@link ConntrackEngine} interface.
 * @module
 */
export * from './constants.js';
export { CtUpdate, tcpInvalidFlags, tcpValidNew } from './tcp.js';
export { CT_KEY_WORDS, ConntrackConfigError, OvsConntrack, formatConnection, type CtConnectionInfo, type CtTupleInfo, type OvsConntrackOptions } from './engine.js';
