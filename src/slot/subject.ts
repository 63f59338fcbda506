/**
 * Subjects: what publications are addressed to, and what subscriptions match
 * (docs/slot-layout.md §8). Tokens separated by `.`, as NATS users know them; in a
 * subscription `*` matches one token and `>`, as the last token, one or more. Subjects are
 * ASCII by construction, so their bytes and characters coincide, and at most 255 bytes, so
 * one fits a record's address field and a link frame's destination.
 */
import { InvalidSubjectError } from '../errors.js';
import { MAX_ADDRESS_BYTES } from './record.js';

/** A token's characters: printable ASCII but for `.`, and `*` / `>` (wildcards, whole tokens only). */
const TOKEN = /^[\x21-\x29\x2b-\x2d\x2f-\x3d\x3f-\x7e]+$/;

export const WILDCARD_ONE = '*';
export const WILDCARD_REST = '>';

function check(subject: unknown, wildcards: boolean): string {
  const what = wildcards ? 'subscription subject' : 'subject';
  if (typeof subject !== 'string' || subject.length === 0) throw new InvalidSubjectError(subject, `a ${what} is a non-empty string`);
  if (subject.length > MAX_ADDRESS_BYTES) throw new InvalidSubjectError(subject, `longer than ${MAX_ADDRESS_BYTES} characters`);
  const tokens = subject.split('.');
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t === '') throw new InvalidSubjectError(subject, `token ${i + 1} is empty (tokens are separated by single dots, none at either end)`);
    if (t === WILDCARD_ONE || t === WILDCARD_REST) {
      if (!wildcards) throw new InvalidSubjectError(subject, `a publication names one subject: "${t}" is a wildcard, for subscriptions only`);
      if (t === WILDCARD_REST && i !== tokens.length - 1) throw new InvalidSubjectError(subject, '">" matches the rest of a subject and must be its last token');
      continue;
    }
    if (!TOKEN.test(t)) throw new InvalidSubjectError(subject, `token "${t}" holds a character other than printable ASCII (no spaces; "*" and ">" only as whole tokens)`);
  }
  return subject;
}

/** Throws InvalidSubjectError unless `subject` may be published to (no wildcards). */
export function checkSubject(subject: unknown): string {
  return check(subject, false);
}

/** Throws InvalidSubjectError unless `pattern` may be subscribed to (wildcards allowed). */
export function checkPattern(pattern: unknown): string {
  return check(pattern, true);
}

/** Whether the subscription `pattern` matches the published `subject` (both already checked). */
export function matches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === WILDCARD_REST) return s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== WILDCARD_ONE && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

const DOT = 0x2e;
const STAR = 0x2a;
const GT = 0x3e;

/**
 * Why `buf[start, start + length)` is not a subject that may be published to, or null when it
 * is: the same rules as checkSubject(), on bytes, so a publication's subject arriving from a
 * slot or a link is checked without building a string.
 */
export function subjectBytesError(buf: Uint8Array, start: number, length: number): string | null {
  if (length === 0) return 'it is empty';
  if (length > MAX_ADDRESS_BYTES) return `it is ${length} bytes, over ${MAX_ADDRESS_BYTES}`;
  let tokenStart = start;
  for (let i = start, end = start + length; i <= end; i++) {
    const c = i < end ? buf[i]! : DOT;
    if (c === DOT) {
      if (i === tokenStart) return `token at byte ${tokenStart - start} is empty`;
      tokenStart = i + 1;
    } else if (c === STAR || c === GT) return `byte ${i - start} is "${String.fromCharCode(c)}", a wildcard: publications name one subject`;
    else if (c < 0x21 || c > 0x7e) return `byte ${i - start} is 0x${c.toString(16)}, not printable ASCII`;
  }
  return null;
}
