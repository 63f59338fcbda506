/**
 * The local directory: which names are registered here, which are groups, and which
 * process each instance address points to; which subjects are subscribed here, and which
 * each peer announced. `epoch` changes on every change, so routes cached by the router are
 * dropped at once when a process comes or goes or a subscription changes.
 */
import { NameTakenError } from '../errors.js';
import type { DirectoryFrame } from '../link/frame.js';
import type { DirectoryExchange, Link } from '../link/link.js';
import type { RegisteredProcess } from './registered-process.js';
import { SubjectIndex } from './subject-index.js';
import { SubscriptionTable } from './subscriptions.js';

export interface Group {
  name: string;
  /** True when members registered with { group: true }; requests are balanced over them. */
  isGroup: boolean;
  members: RegisteredProcess[];
  /** Round-robin position. */
  next: number;
}

/** What a peer announced: its names and how many processes hold each. */
export interface RemoteNames {
  node: string;
  names: Map<string, { group: boolean; members: number }>;
  /** The subscription patterns it announced. */
  subjects: string[];
}

export class Directory implements DirectoryExchange {
  /** Changes whenever a local or remote name, or a link's state, changes: routes re-resolve. */
  epoch = 0;
  /** Changes only with local names: the version of the snapshot this proxy announces. */
  localVersion = 0;
  private readonly names = new Map<string, Group>();
  private readonly instances = new Map<string, RegisteredProcess>();
  private readonly remote = new Map<string, RemoteNames>();
  /** The local processes' subscriptions. */
  readonly subscriptions = new SubscriptionTable<RegisteredProcess>();
  /** Every peer's patterns, each leading to the node that announced it. */
  private readonly remoteSubjects = new SubjectIndex<string>();

  /** `incarnation`: this proxy's, which its announcements carry. */
  constructor(private readonly incarnation: string) {}

  /** The snapshot of local names this proxy announces to its peers. */
  localSnapshot(): DirectoryFrame {
    return { incarnation: this.incarnation, version: this.localVersion, names: this.announcement(), subjects: this.subscriptions.announced() };
  }

  /** A peer's snapshot of its names. */
  peerSnapshot(link: Link, snapshot: DirectoryFrame): void {
    this.setRemote(link.peer, snapshot.names, snapshot.subjects);
  }

  peerGone(link: Link): void {
    const r = this.remote.get(link.peer);
    if (!r) return;
    for (const p of r.subjects) this.remoteSubjects.remove(p, r.node);
    this.remote.delete(link.peer);
    this.epoch++;
  }

  /** A local subscription came or went: routes re-resolve, and peers hear the new patterns. */
  subscriptionsChanged(): void {
    this.epoch++;
    this.localVersion++;
  }

  /** Peers that announced a pattern matching `subject`. */
  nodesSubscribedTo(subject: string): readonly string[] {
    return this.remoteSubjects.match(subject);
  }

  /** Every registered process. */
  slots(): IterableIterator<RegisteredProcess> {
    return this.instances.values();
  }

  /** Throws NameTakenError unless `name` is free, or a group that `group: true` may join. */
  checkFree(name: string, group: boolean): void {
    const existing = this.names.get(name);
    if (existing && !(existing.isGroup && group)) throw new NameTakenError(name);
  }

  add(slot: RegisteredProcess): void {
    this.checkFree(slot.name, slot.group);
    let g = this.names.get(slot.name);
    if (!g) {
      g = { name: slot.name, isGroup: slot.group, members: [], next: 0 };
      this.names.set(slot.name, g);
    }
    g.members.push(slot);
    this.instances.set(slot.instance, slot);
    this.epoch++;
    this.localVersion++;
  }

  remove(slot: RegisteredProcess): void {
    if (this.instances.get(slot.instance) !== slot) return;
    this.instances.delete(slot.instance);
    const g = this.names.get(slot.name);
    if (g) {
      g.members = g.members.filter((m) => m !== slot);
      if (g.members.length === 0) this.names.delete(slot.name);
    }
    this.epoch++;
    this.localVersion++;
  }

  /** Replaces what `node` announced (a full snapshot, never a delta). */
  setRemote(node: string, names: Array<{ name: string; group: boolean; members: number }>, subjects: string[]): void {
    for (const p of this.remote.get(node)?.subjects ?? []) this.remoteSubjects.remove(p, node);
    for (const p of subjects) this.remoteSubjects.add(p, node);
    this.remote.set(node, { node, names: new Map(names.map((n) => [n.name, { group: n.group, members: n.members }])), subjects });
    this.epoch++;
  }

  /** Nodes that announced `name`, sorted. */
  nodesWith(name: string): string[] {
    return [...this.remote.values()].filter((r) => r.names.has(name)).map((r) => r.node).sort();
  }

  /** Something other than names changed (a link went up or down): re-resolve routes. */
  invalidate(): void {
    this.epoch++;
  }

  group(name: string): Group | undefined {
    return this.names.get(name);
  }

  instance(instance: string): RegisteredProcess | undefined {
    return this.instances.get(instance);
  }

  /** Plain snapshot: name -> member addresses. */
  snapshot(): Array<{ name: string; group: boolean; members: string[] }> {
    return [...this.names.values()].map((g) => ({ name: g.name, group: g.isGroup, members: g.members.map((m) => m.address) }));
  }

  /** What this proxy announces to its peers. */
  announcement(): Array<{ name: string; group: boolean; members: number }> {
    return [...this.names.values()].map((g) => ({ name: g.name, group: g.isGroup, members: g.members.length }));
  }

  /** Plain snapshot of what peers announced. */
  remoteSnapshot(): Array<{ node: string; names: string[]; subjects: string[] }> {
    return [...this.remote.values()].map((r) => ({ node: r.node, names: [...r.names.keys()], subjects: r.subjects }));
  }
}
