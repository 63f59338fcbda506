/** A message as an application receives it. */
import { ClosedError, ErrorCode, SlotlinkError, type ErrorCode as Code } from '../errors.js';

/** What a message carries: bytes, or text sent as UTF-8. */
export type Payload = Uint8Array | string;

export const MessageKind = { SEND: 'send', REQUEST: 'request', PUBLISH: 'publish' } as const;
export type MessageKind = (typeof MessageKind)[keyof typeof MessageKind];

/** What the endpoint does for a message's reply(); kept small so Message stays a plain value. */
export interface Replier {
  reply(to: string, requestId: number, data: Uint8Array | string): Promise<void>;
  fail(to: string, requestId: number, code: Code, message: string): Promise<void>;
}

export class Message {
  private answered = false;

  constructor(
    private readonly replier: Replier,
    /** `send`, `request` or `publish`. */
    readonly kind: MessageKind,
    /** The sender's instance address (`name~id@node`): replies go there. Empty for a publication. */
    readonly from: string,
    /** The payload. It may share memory with other messages of the same batch; copy it to keep it long. */
    readonly data: Buffer,
    /** Non-zero for a request. */
    readonly requestId: number,
    /** The subject a publication was published to (empty for a send or request). */
    readonly subject = '',
  ) {}

  get isRequest(): boolean {
    return this.kind === MessageKind.REQUEST;
  }

  /** The payload as UTF-8 text. */
  text(): string {
    return this.data.toString('utf8');
  }

  /** Answers a request. */
  reply(data: Uint8Array | string): Promise<void> {
    this.claim();
    return this.replier.reply(this.from, this.requestId, data);
  }

  /** Answers a request with an error; the requester's promise rejects with it. */
  fail(message: string, code: Code = ErrorCode.REMOTE): Promise<void> {
    this.claim();
    return this.replier.fail(this.from, this.requestId, code, message);
  }

  private claim(): void {
    if (!this.isRequest) throw new SlotlinkError(ErrorCode.INVALID_ADDRESS, `message from ${this.from} is not a request: there is nobody waiting for a reply`);
    if (this.answered) throw new ClosedError(`request ${this.requestId} from ${this.from} (already answered)`);
    this.answered = true;
  }
}
