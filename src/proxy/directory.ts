/**
 * The local directory: which names are registered here, which are groups, and which
 * process each instance address points to. `epoch` changes on every change, so routes
 * cached by the router are dropped at once when a process comes or goes.
 */
import { NameTakenError } from '../errors.js';
import type { LocalSlot } from './local-slot.js';

export interface Group {
  name: string;
  /** True when members registered with { group: true }; requests are balanced over them. */
  isGroup: boolean;
  members: LocalSlot[];
  /** Round-robin position. */
  next: number;
}

export class Directory {
  epoch = 0;
  private readonly names = new Map<string, Group>();
  private readonly instances = new Map<string, LocalSlot>();

  /** Throws NameTakenError unless `name` is free, or a group that `group: true` may join. */
  checkFree(name: string, group: boolean): void {
    const existing = this.names.get(name);
    if (existing && !(existing.isGroup && group)) throw new NameTakenError(name);
  }

  add(slot: LocalSlot): void {
    this.checkFree(slot.name, slot.group);
    let g = this.names.get(slot.name);
    if (!g) {
      g = { name: slot.name, isGroup: slot.group, members: [], next: 0 };
      this.names.set(slot.name, g);
    }
    g.members.push(slot);
    this.instances.set(slot.instance, slot);
    this.epoch++;
  }

  remove(slot: LocalSlot): void {
    if (this.instances.get(slot.instance) !== slot) return;
    this.instances.delete(slot.instance);
    const g = this.names.get(slot.name);
    if (g) {
      g.members = g.members.filter((m) => m !== slot);
      if (g.members.length === 0) this.names.delete(slot.name);
    }
    this.epoch++;
  }

  group(name: string): Group | undefined {
    return this.names.get(name);
  }

  instance(instance: string): LocalSlot | undefined {
    return this.instances.get(instance);
  }

  /** Plain snapshot: name -> member addresses. */
  snapshot(): Array<{ name: string; group: boolean; members: string[] }> {
    return [...this.names.values()].map((g) => ({ name: g.name, group: g.isGroup, members: g.members.map((m) => m.address) }));
  }
}
