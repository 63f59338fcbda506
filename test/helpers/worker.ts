/** Starts test/fixtures/worker.js — a real client process — and drives it over IPC. */
import { fileURLToPath } from 'node:url';
import { IpcChild } from '../../src/util/ipc-child.js';

const WORKER = fileURLToPath(new URL('../fixtures/worker.js', import.meta.url));

export type Worker = IpcChild;

export function startWorker(): Promise<Worker> {
  return IpcChild.fork(WORKER);
}

const PUBSUB_WORKER = fileURLToPath(new URL('../fixtures/pubsub-worker.js', import.meta.url));

/** Starts test/fixtures/pubsub-worker.js: a real client process that publishes and subscribes. */
export function startPubsubWorker(): Promise<Worker> {
  return IpcChild.fork(PUBSUB_WORKER);
}
