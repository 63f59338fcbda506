/** Unit: subject and pattern rules, matching, and the proxy's index of subscriptions. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SubjectIndex } from '../../src/proxy/subject-index.js';
import { checkPattern, checkSubject, matches, subjectBytesError } from '../../src/slot/subject.js';

const TABLE: Array<[pattern: string, subject: string, match: boolean]> = [
  ['prices.eu.fr', 'prices.eu.fr', true],
  ['prices.eu.fr', 'prices.eu', false],
  ['prices.eu', 'prices.eu.fr', false],
  ['prices.*.fr', 'prices.eu.fr', true],
  ['prices.*.fr', 'prices.eu.de', false],
  ['prices.*', 'prices.eu', true],
  ['prices.*', 'prices.eu.fr', false],
  ['prices.*', 'prices', false],
  ['prices.>', 'prices.eu', true],
  ['prices.>', 'prices.eu.fr', true],
  ['prices.>', 'prices', false],
  ['>', 'a', true],
  ['>', 'a.b.c', true],
  ['*', 'a', true],
  ['*', 'a.b', false],
  ['*.*', 'a.b', true],
  ['*.>', 'a', false],
  ['*.>', 'a.b.c', true],
  ['a.*.c.>', 'a.b.c.d.e', true],
  ['a.*.c.>', 'a.b.x.d', false],
  ['Prices.EU', 'prices.eu', false],
  ['orders-v2.$sys.#1', 'orders-v2.$sys.#1', true],
];

test('a table of patterns and subjects: what matches and what does not', () => {
  const index = new SubjectIndex<string>();
  for (const [pattern] of TABLE) index.add(checkPattern(pattern), pattern);
  for (const [pattern, subject, match] of TABLE) {
    checkSubject(subject);
    assert.equal(matches(pattern, subject), match, `${pattern} ~ ${subject}`);
    assert.equal(index.match(subject).includes(pattern), match, `index: ${pattern} ~ ${subject}`);
  }
});

test('subjects and patterns that break the rules are refused, saying why', () => {
  const refused: Array<[unknown, boolean, RegExp]> = [
    ['', false, /a subject is a non-empty string/],
    [42, true, /a subscription subject is a non-empty string/],
    ['a..b', false, /token 2 is empty/],
    ['.a', true, /token 1 is empty/],
    ['a.', false, /token 2 is empty/],
    ['a b', false, /token "a b" holds a character other than printable ASCII/],
    ['a.é', false, /token "é"/],
    ['a.*', false, /"\*" is a wildcard, for subscriptions only/],
    ['a.>', false, /">" is a wildcard, for subscriptions only/],
    ['a.>.b', true, /">" matches the rest of a subject and must be its last token/],
    ['a.b*', true, /token "b\*" holds a character other than printable ASCII \(no spaces; "\*" and ">" only as whole tokens\)/],
    ['x'.repeat(256), false, /longer than 255 characters/],
  ];
  for (const [subject, pattern, why] of refused) {
    assert.throws(() => (pattern ? checkPattern(subject) : checkSubject(subject)), { code: 'SLOTLINK_ERR_INVALID_SUBJECT', message: why }, String(subject));
    if (typeof subject === 'string' && !pattern) assert.notEqual(subjectBytesError(Buffer.from(subject), 0, Buffer.byteLength(subject)), null, `bytes: ${subject}`);
  }
  for (const ok of ['a', 'prices.eu.fr', 'x'.repeat(255)]) assert.equal(subjectBytesError(Buffer.from(ok), 0, ok.length), null);
});

test('the index forgets patterns removed, and gives each value once', () => {
  const index = new SubjectIndex<number>();
  index.add('a.>', 1);
  index.add('a.*', 1);
  index.add('a.b', 2);
  assert.deepEqual([...index.match('a.b')].sort(), [1, 2], 'two patterns of one value: once');
  index.remove('a.>', 1);
  assert.deepEqual([...index.match('a.b')].sort(), [1, 2]);
  assert.deepEqual([...index.match('a.b.c')], []);
  index.remove('a.*', 1);
  index.remove('a.b', 2);
  assert.equal(index.size, 0);
  assert.deepEqual([...index.match('a.b')], []);
  index.add('a.b', 2);
  index.remove('never.added', 2); // a pattern it never had: nothing changes
  assert.equal(index.size, 1);
  assert.deepEqual([...index.match('a.b')], [2]);
});
