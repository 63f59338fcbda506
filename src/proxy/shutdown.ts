/**
 * Shutting down without losing what was accepted: every process is asked to stop sending
 * and commit what it accepted; every slot is read to its end; then the proxy waits (up to
 * its grace period) until everything queued here is in its receiver's slot and every link's
 * messages are known to be in the peer's slots. Receivers that do not read within the grace
 * period are the only way to lose messages; the log says how many bytes were left.
 */
import { ErrorCode } from '../errors.js';
import type { Link } from '../link/link.js';
import type { Logger } from '../log.js';
import { ControlOp } from '../contract/registration.js';
import type { RegisteredProcess } from './registered-process.js';

/** How often the drain looks whether everything has arrived. */
const DRAIN_POLL_MS = 5;

export async function drainForShutdown(slots: Set<RegisteredProcess>, links: readonly Link[], graceMs: number, log: Logger): Promise<void> {
  const deadline = Date.now() + graceMs;
  // Each process stops sending and commits what it accepted; meanwhile everything runs.
  const reason = { code: ErrorCode.PROXY_SHUTDOWN, message: 'the proxy is shutting down' };
  await Promise.race([
    Promise.all(
      [...slots].map(
        (s) =>
          new Promise<void>((resolve) => {
            s.flushed = resolve;
            s.control.send({ op: ControlOp.DRAINING, ...reason });
            s.control.socket.once('close', () => resolve());
          }),
      ),
    ),
    new Promise((r) => setTimeout(r, graceMs).unref()),
  ]);
  for (const s of slots) s.mailbox.drainAll();
  // From here each slot's reader stays paused: nothing new is accepted.
  for (const s of slots) s.mailbox.pauseReading();
  const left = () => {
    let queued = 0;
    for (const s of slots) queued += s.mailbox.pendingBytes;
    // Sent and not yet known to be in the peer's slots, or still waiting for credit.
    let unacked = 0;
    for (const l of links) if (l.isUp) unacked += l.unconfirmedUnits + l.waitingBytes;
    return { queued, unacked };
  };
  for (let l = left(); (l.queued > 0 || l.unacked > 0) && Date.now() < deadline; l = left()) {
    await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
  }
  // Commit every open cell: what was routed into a slot this turn is in it for good.
  for (const s of slots) s.mailbox.flush();
  const rest = left();
  if (rest.queued > 0 || rest.unacked > 0) log.warn('shutdown grace period over with messages undelivered', { queuedBytes: rest.queued, unackedBytes: rest.unacked });
}
