/**
 * What arrives in an endpoint's slot, sorted by kind: messages go to the inbox, requests to
 * the respond() handler (or the inbox), answers to the requests waiting for them, and a
 * SEND that came back to the undeliverable reports, publications to their subscriptions. While
 * the endpoint drains, new messages and requests are not taken: a request is answered with an
 * error at once.
 */
import { BadRecordError, ErrorCode, errorFromWire, type SlotlinkError } from '../errors.js';
import { AddressCache } from '../slot/address-cache.js';
import { RecordKind, addressOf, decodeErrorPayload, type MessageView } from '../slot/record.js';
import { subjectBytesError } from '../slot/subject.js';
import type { Inbox } from './inbox.js';
import { Message, MessageKind, type Replier } from './message.js';
import type { PendingRequests } from './pending-requests.js';
import type { Responder } from './responder.js';
import type { Subscriptions } from './subscriptions.js';

/** What the arrivals ask their endpoint. */
export interface ArrivalsOwner {
  /** False once drain() began: new messages and requests are refused. */
  receiving(): boolean;
  /** This endpoint's address, for what a refusal says. */
  address(): string;
  /** A SEND came back: `to` was its destination. */
  undeliverable(to: string, error: SlotlinkError): void;
}

const MAX_CACHED_ADDRESSES = 1024;

export class Arrivals {
  /** Messages and requests that arrived after drain() began, while the slot was still read for answers. */
  refused = 0;
  /** Sender addresses as strings, found by their bytes: no string built per message. */
  private readonly senders = new AddressCache<string>(MAX_CACHED_ADDRESSES);
  /** Subjects of publications received, checked once each. */
  private readonly subjects = new AddressCache<string>(MAX_CACHED_ADDRESSES);

  constructor(
    private readonly inbox: Inbox,
    private readonly responder: Responder,
    private readonly pending: PendingRequests,
    private readonly subscriptions: Subscriptions,
    private readonly owner: ArrivalsOwner,
  ) {}

  /** One message from the slot; `replier` answers requests over the registration it came by. */
  take(m: MessageView, replier: Replier): void {
    switch (m.kind) {
      case RecordKind.SEND:
        if (!this.owner.receiving()) return void this.refused++;
        return this.inbox.put(new Message(replier, MessageKind.SEND, this.sender(m), payloadOf(m), 0));
      case RecordKind.REQUEST: {
        const msg = new Message(replier, MessageKind.REQUEST, this.sender(m), payloadOf(m), m.requestId);
        if (!this.owner.receiving()) {
          this.refused++;
          return void msg.fail(`${this.owner.address()} is draining: it takes no new requests (this one was not acted on)`, ErrorCode.RECEIVER_GONE).catch(() => {});
        }
        if (this.responder.handler) return this.responder.answer(msg);
        return this.inbox.put(msg);
      }
      case RecordKind.REPLY:
        this.pending.answer(m.requestId, this.sender(m), { reply: payloadOf(m) });
        return;
      case RecordKind.ERROR: {
        const error = parseError(payloadOf(m));
        if (m.requestId === 0) return this.owner.undeliverable(addressOf(m), error);
        this.pending.answer(m.requestId, this.sender(m), { error });
        return;
      }
      case RecordKind.PUBLISH: {
        if (m.requestId === 0) throw new BadRecordError('a PUBLISH from the proxy has requestId 0: it must name a subscription');
        const subject = this.subject(m);
        if (!this.owner.receiving()) return void this.refused++;
        this.subscriptions.deliver(m.requestId, new Message(replier, MessageKind.PUBLISH, '', payloadOf(m), 0, subject));
        return;
      }
    }
  }

  /** A publication's subject, checked the first time it is seen (docs/slot-layout.md §6: reading is hostile input). */
  private subject(m: MessageView): string {
    return addressOnce(this.subjects, m, checkSubjectOf);
  }

  private sender(m: MessageView): string {
    return addressOnce(this.senders, m, null);
  }
}

/** `m`'s address as a string, built (and checked by `check`) the first time its bytes are seen. */
function addressOnce(cache: AddressCache<string>, m: MessageView, check: ((m: MessageView) => void) | null): string {
  let text = cache.get(m.buffer, m.addressStart, m.addressBytes);
  if (text === undefined) {
    check?.(m);
    text = addressOf(m);
    cache.set(m.buffer, m.addressStart, m.addressBytes, text);
  }
  return text;
}

/** Throws BadRecordError unless a PUBLISH's address is a subject. */
function checkSubjectOf(m: MessageView): void {
  const why = subjectBytesError(m.buffer, m.addressStart, m.addressBytes);
  if (why) throw new BadRecordError(`a PUBLISH from the proxy names ${JSON.stringify(addressOf(m))}, not a subject: ${why}`);
}

function payloadOf(m: MessageView): Buffer {
  return m.buffer.subarray(m.payloadStart, m.payloadStart + m.payloadBytes);
}

function parseError(payload: Buffer): SlotlinkError {
  const { code, message } = decodeErrorPayload(payload);
  return errorFromWire(code, message);
}
