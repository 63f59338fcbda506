/**
 * Who is interested in a subject: subscription patterns in a tree of tokens, so matching a
 * publication costs its number of tokens, not the number of subscriptions; results are cached
 * per subject until the next change (a publisher repeats its subjects).
 */
import { WILDCARD_ONE, WILDCARD_REST } from '../slot/subject.js';

class Node<V> {
  readonly children = new Map<string, Node<V>>();
  /** Patterns that end here. */
  readonly values = new Set<V>();
  /** Patterns that end here with `>`. */
  readonly rest = new Set<V>();

  get empty(): boolean {
    return this.children.size === 0 && this.values.size === 0 && this.rest.size === 0;
  }
}

const MAX_CACHED_SUBJECTS = 4096;

export class SubjectIndex<V> {
  /** Patterns held (a pattern added twice for one value counts once). */
  size = 0;
  private readonly root = new Node<V>();
  private readonly cache = new Map<string, readonly V[]>();

  /** `pattern` (checked) now matches for `value`. */
  add(pattern: string, value: V): void {
    const { node, last } = this.walk(pattern);
    const set = last === WILDCARD_REST ? node.rest : node.values;
    if (set.has(value)) return;
    set.add(value);
    this.size++;
    this.cache.clear();
  }

  remove(pattern: string, value: V): void {
    const path: Array<{ parent: Node<V>; token: string }> = [];
    let node = this.root;
    const tokens = pattern.split('.');
    const last = tokens[tokens.length - 1];
    const inner = last === WILDCARD_REST ? tokens.slice(0, -1) : tokens;
    for (const t of inner) {
      const next = node.children.get(t);
      if (!next) return;
      path.push({ parent: node, token: t });
      node = next;
    }
    const set = last === WILDCARD_REST ? node.rest : node.values;
    if (!set.delete(value)) return;
    this.size--;
    this.cache.clear();
    // Prune branches left empty, so churn leaves no garbage behind.
    for (let i = path.length - 1; i >= 0 && node.empty; i--) {
      path[i]!.parent.children.delete(path[i]!.token);
      node = path[i]!.parent;
    }
  }

  /** Every value with a pattern matching `subject` (checked, no wildcards), each once. */
  match(subject: string): readonly V[] {
    const hit = this.cache.get(subject);
    if (hit) return hit;
    const found = new Set<V>();
    collect(this.root, subject.split('.'), 0, found);
    const result = [...found];
    if (this.cache.size >= MAX_CACHED_SUBJECTS) this.cache.clear();
    this.cache.set(subject, result);
    return result;
  }

  /** The node where `pattern` ends (made as needed), and its last token. */
  private walk(pattern: string): { node: Node<V>; last: string } {
    const tokens = pattern.split('.');
    const last = tokens[tokens.length - 1]!;
    let node = this.root;
    for (const t of last === WILDCARD_REST ? tokens.slice(0, -1) : tokens) {
      let next = node.children.get(t);
      if (!next) node.children.set(t, (next = new Node<V>()));
      node = next;
    }
    return { node, last };
  }
}

function collect<V>(node: Node<V>, tokens: string[], i: number, found: Set<V>): void {
  // `>` here matches what is left, if anything is.
  if (i < tokens.length) for (const v of node.rest) found.add(v);
  if (i === tokens.length) {
    for (const v of node.values) found.add(v);
    return;
  }
  const exact = node.children.get(tokens[i]!);
  if (exact) collect(exact, tokens, i + 1, found);
  const one = node.children.get(WILDCARD_ONE);
  if (one) collect(one, tokens, i + 1, found);
}
