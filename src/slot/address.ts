/**
 * Addresses. `name` or `name@node` names a service (one process, or a group);
 * `name~instance@node` names exactly one registered process, and is what a receiver sees
 * as `from`, so replies reach the process that asked even when its name is a group.
 * Addresses are ASCII by construction, so their bytes and characters coincide.
 */
import { InvalidAddressError, InvalidNameError } from '../errors.js';
import { MAX_ADDRESS_BYTES } from './record.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const INSTANCE = /^[0-9]+\.[0-9]+$/;

/**
 * The proxy's own address: a request to it is answered by the process's proxy with the
 * same payload, without any other process. It measures the local hop alone and tells a
 * process its proxy is alive. No process can register it (names start with a letter or digit).
 */
export const PROXY_ADDRESS = '~proxy';

export interface Address {
  name: string;
  /** Set for an instance address: `slotId.generation`. */
  instance: string | null;
  /** Null when the address names no node (resolve on the local proxy's directory). */
  node: string | null;
}

/** Throws InvalidNameError unless `name` is a valid process, group or node name. */
export function checkName(name: unknown, what = 'name'): string {
  if (typeof name !== 'string' || !NAME.test(name))
    throw new InvalidNameError(name, `a ${what} is 1–64 characters of A–Z a–z 0–9 . _ - and starts with a letter or digit`);
  return name;
}

export function parseAddress(text: string): Address {
  if (typeof text !== 'string' || text.length === 0) throw new InvalidAddressError(text, 'empty');
  if (text.length > MAX_ADDRESS_BYTES) throw new InvalidAddressError(text, `longer than ${MAX_ADDRESS_BYTES} characters`);
  if (text === PROXY_ADDRESS) return { name: PROXY_ADDRESS, instance: null, node: null };
  const at = text.indexOf('@');
  const local = at < 0 ? text : text.slice(0, at);
  const node = at < 0 ? null : text.slice(at + 1);
  if (node !== null && !NAME.test(node)) throw new InvalidAddressError(text, `node "${node}" is not a valid node name`);
  const tilde = local.indexOf('~');
  const name = tilde < 0 ? local : local.slice(0, tilde);
  const instance = tilde < 0 ? null : local.slice(tilde + 1);
  if (!NAME.test(name)) throw new InvalidAddressError(text, `name "${name}" is not a valid name`);
  if (instance !== null && !INSTANCE.test(instance)) throw new InvalidAddressError(text, `instance "${instance}" is not slotId.generation`);
  return { name, instance, node };
}

/** The parts of an address, without checking it (for addresses already checked on their way in). */
function split(address: string): { name: string; instance: string | null; node: string | null } {
  const at = address.indexOf('@');
  const local = at < 0 ? address : address.slice(0, at);
  const tilde = local.indexOf('~');
  return { name: tilde < 0 ? local : local.slice(0, tilde), instance: tilde < 0 ? null : local.slice(tilde + 1), node: at < 0 ? null : address.slice(at + 1) };
}

/**
 * Whether an answer from `from` may answer a request sent to `to`: the same name, and the
 * same node and instance where `to` names them. (Whoever a group's request reached answers
 * under the group's name; the proxy's own errors name the destination as it was written.)
 */
export function mayAnswer(to: string, from: string): boolean {
  if (to === PROXY_ADDRESS || from === PROXY_ADDRESS) return to === from;
  const t = split(to);
  const f = split(from);
  return t.name === f.name && (t.node === null || t.node === f.node) && (t.instance === null || t.instance === f.instance);
}

export function formatInstanceAddress(name: string, slotId: number, generation: number, node: string): string {
  return `${name}~${slotId}.${generation}@${node}`;
}

const encoder = new TextEncoder();
export function addressBytes(address: string): Uint8Array {
  return encoder.encode(address);
}
