/*
 * libslotlink: a C client for slotlink, written from docs/slot-layout.md (the normative
 * spec). C11 and libc only (POSIX threads are part of glibc).
 *
 * A process registers with its host's proxy under a name, gets a private slot (a memfd
 * with two rings of cells, one per direction) and two eventfd doorbells, and from then on
 * sends and receives through shared memory. It may also publish to subjects and subscribe
 * to patterns of them (see "Publish and subscribe" below).
 *
 *     slotlink *ep;
 *     if (slotlink_connect(&ep, "billing", 0, NULL) != SLOTLINK_OK) {
 *         fprintf(stderr, "%s\n", slotlink_last_error());
 *         return 1;
 *     }
 *     slotlink_send(ep, "audit", "started", 7, 0);
 *     slotlink_message *m;
 *     while (slotlink_receive(ep, &m, -1) == SLOTLINK_OK) {
 *         if (m->is_request) slotlink_reply(ep, m, "ok", 2, 0);
 *         slotlink_message_free(m);
 *     }
 *     slotlink_close(ep);
 *
 * Return values. Every function that can fail returns an int: SLOTLINK_OK (0),
 * SLOTLINK_AGAIN ("not now", not an error: try_send found no room, receive found nothing
 * within its timeout, a request has no answer yet), or one of the SLOTLINK_ERR_* codes
 * below, the same codes (and names) the Node client and the proxy use. After a failure,
 * slotlink_last_error() gives this thread a message saying what was wrong and what to do.
 *
 * Threads. An endpoint may be used from any number of threads at once: one mutex guards
 * it, and no call holds the mutex while it blocks. Messages are written whole and in
 * call order; a message one thread is writing is finished before another thread's starts.
 * Several threads may block in receive or request at the same time: one of them sleeps on
 * the doorbell for all, and wakes the others when something arrived. slotlink_close() must
 * be the last call on an endpoint: no other thread may be inside a call, or call later.
 *
 * Fork. An endpoint belongs to the process that connected it. In a child created by
 * fork() every call on an inherited endpoint fails with SLOTLINK_ERR_CLOSED, except
 * slotlink_close(), which then only frees the child's copy (the parent's registration is
 * untouched). A child that wants to talk connects anew with its own name. Every
 * descriptor the library holds is close-on-exec.
 *
 * Commit rule (docs/slot-layout.md §5). Messages are packed into the open cell; the
 * library commits it before it returns to the application and before it blocks for any
 * reason. Pass SLOTLINK_MORE to send/try_send/reply/publish to batch (like MSG_MORE): the cell then
 * stays open until a call without SLOTLINK_MORE, slotlink_flush(), or a call that blocks.
 * An application that batches must flush within a short bound (about a millisecond) and
 * before it waits on anything outside the library.
 *
 * Build: `make -C clients/c` gives libslotlink.so and libslotlink.a; link with
 * -lslotlink -pthread.
 */
#ifndef SLOTLINK_H
#define SLOTLINK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SLOTLINK_API __attribute__((visibility("default")))
#else
#define SLOTLINK_API
#endif

/** Version of the registration protocol this library speaks (the hello's "version"). */
#define SLOTLINK_PROTOCOL_VERSION 1

/** Longest address ("name~slotId.generation@node") in bytes, without the terminating NUL. */
#define SLOTLINK_MAX_ADDRESS 255
/** Longest process, group or node name. */
#define SLOTLINK_MAX_NAME 64

/**
 * Result codes: every SLOTLINK_ERR_* of src/errors.ts (docs/slot-layout.md §7 says when
 * each happens); new codes are added at the end, so values never change.
 * slotlink_code_name() gives the string form ("SLOTLINK_ERR_NO_ROUTE");
 * slotlink_code_from_name() parses it back.
 */
typedef enum slotlink_code {
  SLOTLINK_OK = 0,
  /** Not an error: nothing now (no room for try_send, no message within the timeout, no answer yet). */
  SLOTLINK_AGAIN = 1,
  SLOTLINK_ERR_SYSCALL = 2,
  SLOTLINK_ERR_PROXY_UNAVAILABLE,
  SLOTLINK_ERR_SOCKET_IN_USE,
  SLOTLINK_ERR_NAME_TAKEN,
  SLOTLINK_ERR_INVALID_NAME,
  SLOTLINK_ERR_INVALID_ADDRESS,
  SLOTLINK_ERR_PROTOCOL_VERSION,
  SLOTLINK_ERR_PROXY_FULL,
  SLOTLINK_ERR_NOT_PERMITTED,
  SLOTLINK_ERR_REGISTRATION,
  SLOTLINK_ERR_BAD_SLOT,
  SLOTLINK_ERR_BAD_RECORD,
  SLOTLINK_ERR_MESSAGE_TOO_LARGE,
  SLOTLINK_ERR_NO_ROUTE,
  SLOTLINK_ERR_RECEIVER_GONE,
  SLOTLINK_ERR_REQUEST_TIMEOUT,
  SLOTLINK_ERR_ABORTED,
  SLOTLINK_ERR_REMOTE,
  SLOTLINK_ERR_BACKPRESSURE,
  SLOTLINK_ERR_CLOSED,
  SLOTLINK_ERR_PROXY_SHUTDOWN,
  SLOTLINK_ERR_CONFIG,
  SLOTLINK_ERR_LINK_PROTOCOL,
  SLOTLINK_ERR_LINK_AUTH,
  SLOTLINK_ERR_PEER_RESTARTED,
  SLOTLINK_ERR_UNREACHABLE,
  SLOTLINK_ERR_UNEXPECTED_REPLY,
  SLOTLINK_ERR_TOO_MANY_REQUESTS,
  SLOTLINK_ERR_UNSAFE_SOCKET_DIRECTORY,
  SLOTLINK_ERR_INVALID_SUBJECT,
  SLOTLINK_ERR_TOO_MANY_SUBSCRIPTIONS,
  /** The Node client's: the proxy went away while something waited on it (libslotlink ends with SLOTLINK_ERR_CLOSED instead). */
  SLOTLINK_ERR_DISCONNECTED,
  SLOTLINK_CODE_COUNT
} slotlink_code;

/** "SLOTLINK_OK", "SLOTLINK_AGAIN" or "SLOTLINK_ERR_..."; "SLOTLINK_ERR_REMOTE" for a value out of range. */
SLOTLINK_API const char *slotlink_code_name(int code);

/** The code named `name` ("SLOTLINK_ERR_NO_ROUTE"); SLOTLINK_ERR_REMOTE for a name this library does not know. */
SLOTLINK_API int slotlink_code_from_name(const char *name);

/**
 * Message of the last failure on the calling thread ("" if none): what was wrong and what
 * to do. Valid until this thread's next call into the library.
 */
SLOTLINK_API const char *slotlink_last_error(void);

/** An endpoint: one registration with the proxy, one slot. Opaque. */
typedef struct slotlink slotlink;

/** Options for slotlink_connect_ex(); zero-initialise, then set what you need. */
typedef struct slotlink_options {
  /** The proxy's registration socket. NULL: $SLOTLINK_SOCKET, else $TMPDIR/slotlink-<uid>/proxy.sock (as the proxy). */
  const char *socket;
  /** Non-zero: join the group `name` (requests to it are balanced over its members). */
  int group;
  /** Milliseconds to wait for the proxy's answer; 0: 10 000. */
  int timeout_ms;
  /** Bytes of received, unread messages held before the slot stops being read; 0: 16 MiB. */
  size_t max_inbox_bytes;
  /** For tests only: the protocol version to announce; 0: SLOTLINK_PROTOCOL_VERSION. */
  int protocol_version;
} slotlink_options;

/**
 * Registers with the proxy as `name` (1–64 characters of A-Z a-z 0-9 . _ -, starting with a
 * letter or digit) and maps the slot it hands over. `group` non-zero joins a group;
 * `socket` NULL uses the default path. On success *out is the endpoint.
 * Fails with SLOTLINK_ERR_PROXY_UNAVAILABLE (nobody listens), the proxy's refusals
 * (NAME_TAKEN, INVALID_NAME, PROTOCOL_VERSION, PROXY_FULL, NOT_PERMITTED, PROXY_SHUTDOWN),
 * SLOTLINK_ERR_REGISTRATION (no or a malformed answer), SLOTLINK_ERR_BAD_SLOT (the slot
 * does not match the layout announced), SLOTLINK_ERR_SYSCALL.
 */
SLOTLINK_API int slotlink_connect(slotlink **out, const char *name, int group, const char *socket);

/** slotlink_connect() with options (`options` may be NULL). */
SLOTLINK_API int slotlink_connect_ex(slotlink **out, const char *name, const slotlink_options *options);

/** This endpoint's own address, "name~slotId.generation@node": what receivers see as the sender. */
SLOTLINK_API const char *slotlink_address(const slotlink *ep);
/** The proxy's node name. */
SLOTLINK_API const char *slotlink_node(const slotlink *ep);
/** Largest message payload the proxy accepts, in bytes. */
SLOTLINK_API size_t slotlink_max_message_bytes(const slotlink *ep);

/** Flag for send, try_send, reply, publish, try_publish: batch; leave the cell open for more (commit later). */
#define SLOTLINK_MORE 1

/**
 * Sends `len` bytes to `to` ("name", "name@node", "name~slotId.generation@node" or "~proxy").
 * Returns once the message is in the slot (committed unless SLOTLINK_MORE); blocks while the
 * slot is full (that is the back pressure), reading what arrives meanwhile. Messages larger
 * than a cell are split into fragments and may span the ring. A destination nobody holds is
 * reported later through slotlink_next_undeliverable().
 * Fails with SLOTLINK_ERR_INVALID_ADDRESS, SLOTLINK_ERR_MESSAGE_TOO_LARGE, SLOTLINK_ERR_CLOSED
 * (the endpoint ended, or the proxy is draining it), SLOTLINK_ERR_SYSCALL.
 */
SLOTLINK_API int slotlink_send(slotlink *ep, const char *to, const void *data, size_t len, int flags);

/**
 * Like slotlink_send() but never blocks: SLOTLINK_AGAIN when the slot has no room for the
 * whole message now, or another thread is in the middle of writing one (nothing was written;
 * the descriptor of slotlink_fd() turns readable when room is made). A message that needs more cells than the ring has can never fit at once:
 * SLOTLINK_ERR_MESSAGE_TOO_LARGE (use slotlink_send()).
 */
SLOTLINK_API int slotlink_try_send(slotlink *ep, const char *to, const void *data, size_t len, int flags);

/** Commits the open cell, if any (after SLOTLINK_MORE). */
SLOTLINK_API int slotlink_flush(slotlink *ep);

/**
 * Sends a request and waits up to `timeout_ms` (-1: forever) for its reply. On SLOTLINK_OK
 * *reply is a malloc'd copy of the reply's payload (free it with slotlink_free(); NULL when
 * the reply is empty) and *reply_len its size. Only a reply from the destination asked counts.
 * Fails with SLOTLINK_ERR_REQUEST_TIMEOUT, the replier's error (its code, e.g.
 * SLOTLINK_ERR_NO_ROUTE, SLOTLINK_ERR_RECEIVER_GONE, or SLOTLINK_ERR_REMOTE; its message in
 * slotlink_last_error()), or the errors of slotlink_send().
 */
SLOTLINK_API int slotlink_request(slotlink *ep, const char *to, const void *data, size_t len, int timeout_ms, void **reply, size_t *reply_len);

/**
 * Starts a request without waiting (for event loops): the request is written (and committed,
 * unless `flags` has SLOTLINK_MORE: then flush before waiting) and *id names it. Collect the
 * answer with slotlink_request_result() once slotlink_process() ran.
 * Fails as slotlink_send(), or SLOTLINK_AGAIN when the slot has no room now (as try_send),
 * or SLOTLINK_ERR_TOO_MANY_REQUESTS past 65 536 unanswered requests.
 */
SLOTLINK_API int slotlink_request_start(slotlink *ep, const char *to, const void *data, size_t len, int flags, uint32_t *id);

/**
 * The answer to request `id`: SLOTLINK_AGAIN while none has arrived; else the request is
 * settled and forgotten: SLOTLINK_OK with *reply / *reply_len as for slotlink_request(), or
 * the error it got (SLOTLINK_ERR_CLOSED if the endpoint ended first). An unknown id gives
 * SLOTLINK_ERR_CLOSED.
 */
SLOTLINK_API int slotlink_request_result(slotlink *ep, uint32_t id, void **reply, size_t *reply_len);

/** Forgets request `id` (a late reply is then ignored). */
SLOTLINK_API void slotlink_request_cancel(slotlink *ep, uint32_t id);

/** Frees what the library allocated for the caller (replies). */
SLOTLINK_API void slotlink_free(void *p);

/** What a received message is (slotlink_message.kind): the record kinds of docs/slot-layout.md §4. */
typedef enum slotlink_kind {
  SLOTLINK_KIND_SEND = 1,
  SLOTLINK_KIND_REQUEST = 2,
  /** A publication that matched one of this endpoint's subscriptions (slotlink_subscribe()). */
  SLOTLINK_KIND_PUBLISH = 5
} slotlink_kind;

/**
 * A received message. Read-only; free with slotlink_message_free(). Only the library
 * allocates it (fields may be added at the end).
 */
typedef struct slotlink_message {
  /** The sender's instance address ("name~slotId.generation@node"), NUL-terminated: replies go there. "" for a publication. */
  const char *from;
  /** The payload (NUL-terminated for convenience; the NUL is not counted in `len`). */
  const void *data;
  size_t len;
  /** Non-zero for a request: answer it with slotlink_reply() or slotlink_reply_error(). */
  int is_request;
  /** The request's id (0 for a plain send and a publication). */
  uint32_t request_id;
  /** SLOTLINK_KIND_SEND, SLOTLINK_KIND_REQUEST or SLOTLINK_KIND_PUBLISH. */
  int kind;
  /** A publication's subject as it was published (NUL-terminated, no wildcards); NULL for a send or request. */
  const char *subject;
  /** The id of the subscription a publication arrived for (slotlink_subscribe()); 0 for a send or request. */
  uint32_t subscription_id;
} slotlink_message;

/**
 * Takes the next message (a send, a request, or a publication for one of this endpoint's
 * subscriptions), waiting up to `timeout_ms` (0: do not wait; -1: forever). Replies to this
 * endpoint's own requests never come here.
 * Returns SLOTLINK_OK with *msg set, SLOTLINK_AGAIN when nothing came in time, or, once the
 * endpoint has ended and every message committed to it has been taken, SLOTLINK_ERR_CLOSED
 * (slotlink_end_code() says why).
 */
SLOTLINK_API int slotlink_receive(slotlink *ep, slotlink_message **msg, int timeout_ms);

/** Frees a message from slotlink_receive(). */
SLOTLINK_API void slotlink_message_free(slotlink_message *msg);

/**
 * Like slotlink_receive(), but takes up to `max` messages that are ready at once into
 * msgs[0..*count) (waiting up to `timeout_ms` for the first): fewer calls for bindings such
 * as Python's, where each call costs more than the work. Same results; free each message
 * with slotlink_message_free(), or all of them with slotlink_messages_free().
 */
SLOTLINK_API int slotlink_receive_many(slotlink *ep, slotlink_message **msgs, size_t max, size_t *count, int timeout_ms);

/** Frees msgs[0..count) (from slotlink_receive_many()). */
SLOTLINK_API void slotlink_messages_free(slotlink_message **msgs, size_t count);

/**
 * Answers request `request` with `len` bytes (to the exact process that asked). Answer each
 * request once. SLOTLINK_ERR_INVALID_ADDRESS if `request` is not a request; otherwise as
 * slotlink_send() (blocks while the slot is full).
 */
SLOTLINK_API int slotlink_reply(slotlink *ep, const slotlink_message *request, const void *data, size_t len, int flags);

/** Answers request `request` with an error: the requester's request fails with `code` and `message` (its first 500 bytes). */
SLOTLINK_API int slotlink_reply_error(slotlink *ep, const slotlink_message *request, int code, const char *message, int flags);

/*
 * Publish and subscribe (docs/slot-layout.md §8). A subject is 1–255 bytes of tokens
 * separated by single dots ("prices.eu.fr"), each token printable ASCII (0x21–0x7E) but
 * for '.'. A subscription names a pattern: the token "*" matches exactly one token and ">",
 * as the last token only, one or more ("prices.>" matches "prices.eu" and "prices.eu.fr",
 * not "prices"). A publication reaches every matching subscription of every process, on
 * this host and on every peer; nobody subscribed is not an error. Publications from one
 * process reach each subscription in the order they were published. They arrive through
 * slotlink_receive() among the other messages, with kind SLOTLINK_KIND_PUBLISH, their
 * subject, and the id of the subscription they matched: a process with two subscriptions
 * matching one subject receives it twice, once for each id.
 */

/** What a subscription does when its subscriber falls behind (slotlink_subscribe_options.policy). */
typedef enum slotlink_policy {
  /** Publications wait for room in the slot, as sends do, and hold their publishers back (default). */
  SLOTLINK_POLICY_BLOCK = 0,
  /**
   * Nobody is held back: past `max_queued_bytes` waiting, the oldest publications are
   * dropped and counted (slotlink_subscription_dropped()). The proxy drops what waits for
   * room in the slot; the library drops what it holds for slotlink_receive(): the
   * subscription's publications it read from the slot but the application has not taken
   * (those do not count against max_inbox_bytes, so they never stop the slot being read).
   */
  SLOTLINK_POLICY_DROP_OLDEST = 1
} slotlink_policy;

/** Options for slotlink_subscribe(); zero-initialise, then set what you need (NULL: all defaults). */
typedef struct slotlink_subscribe_options {
  /** SLOTLINK_POLICY_BLOCK (0, the default) or SLOTLINK_POLICY_DROP_OLDEST. */
  int policy;
  /**
   * SLOTLINK_POLICY_DROP_OLDEST: payload bytes held, at the proxy and in the library each,
   * before the oldest is dropped; 0: 256 KiB. The proxy holds no more than its own
   * --max-queued-bytes (default 256 KiB) for a subscription, whatever is asked.
   */
  size_t max_queued_bytes;
  /** slotlink_subscribe(): milliseconds to wait for the proxy's answer; 0: 10 000; -1: forever. */
  int timeout_ms;
} slotlink_subscribe_options;

/**
 * Subscribes to `pattern` and waits for the proxy's answer (reading what arrives meanwhile;
 * a cell batched with SLOTLINK_MORE is committed first). On SLOTLINK_OK *id names the
 * subscription: every publication the proxy reads from then on whose subject matches
 * reaches this endpoint with that id. Fails with SLOTLINK_ERR_INVALID_SUBJECT (the pattern
 * breaks the rules above; checked here before anything is sent),
 * SLOTLINK_ERR_TOO_MANY_SUBSCRIPTIONS (the proxy refused: this process holds 4 096
 * already), SLOTLINK_ERR_REGISTRATION (no answer within the timeout: the subscription is
 * then ended), SLOTLINK_ERR_CLOSED (the endpoint ended, or the proxy is draining it).
 */
SLOTLINK_API int slotlink_subscribe(slotlink *ep, const char *pattern, const slotlink_subscribe_options *options, uint32_t *id);

/**
 * Starts a subscription without waiting (for event loops): the `subscribe` frame is sent
 * and *id names it; slotlink_subscription_status() says when the proxy answered (the
 * descriptor of slotlink_fd() turns readable then). Publications for it may arrive before
 * the answer. Fails as slotlink_subscribe() for what is checked before sending.
 */
SLOTLINK_API int slotlink_subscribe_start(slotlink *ep, const char *pattern, const slotlink_subscribe_options *options, uint32_t *id);

/**
 * Where subscription `id` stands: SLOTLINK_OK in effect, SLOTLINK_AGAIN while the proxy has
 * not answered, or the proxy's refusal (SLOTLINK_ERR_INVALID_SUBJECT,
 * SLOTLINK_ERR_TOO_MANY_SUBSCRIPTIONS; its message in slotlink_last_error()), after which
 * the id is forgotten. SLOTLINK_ERR_CLOSED for an id this endpoint does not hold (never
 * given, unsubscribed, or refused and reported) or once the endpoint has ended.
 */
SLOTLINK_API int slotlink_subscription_status(slotlink *ep, uint32_t id);

/**
 * Ends subscription `id`: from this call on, no publication with that id comes out of
 * slotlink_receive() (those already taken from the slot and not yet received are dropped;
 * any still on their way are dropped as they arrive, counted in
 * slotlink_publications_ignored()). Does not wait for the proxy. SLOTLINK_ERR_CLOSED for an
 * id this endpoint does not hold.
 */
SLOTLINK_API int slotlink_unsubscribe(slotlink *ep, uint32_t id);

/**
 * Publications of subscription `id` dropped because its subscriber fell behind
 * (SLOTLINK_POLICY_DROP_OLDEST): those the proxy dropped (as far as it has said so; it tells
 * at most every 100 ms) plus those the library dropped. 0 for an id this endpoint does not hold.
 */
SLOTLINK_API uint64_t slotlink_subscription_dropped(slotlink *ep, uint32_t id);

/** Publications that arrived for subscriptions this endpoint no longer holds, and were dropped. */
SLOTLINK_API uint64_t slotlink_publications_ignored(slotlink *ep);

/**
 * Publishes `len` bytes to `subject` (no wildcards). Returns once the publication is in the
 * slot (committed unless SLOTLINK_MORE), blocking while the slot is full, as slotlink_send().
 * Fails with SLOTLINK_ERR_INVALID_SUBJECT (checked here), SLOTLINK_ERR_MESSAGE_TOO_LARGE,
 * SLOTLINK_ERR_CLOSED, SLOTLINK_ERR_SYSCALL.
 */
SLOTLINK_API int slotlink_publish(slotlink *ep, const char *subject, const void *data, size_t len, int flags);

/** Like slotlink_publish() but never blocks: SLOTLINK_AGAIN as slotlink_try_send(). */
SLOTLINK_API int slotlink_try_publish(slotlink *ep, const char *subject, const void *data, size_t len, int flags);

/** A send that could not be delivered (the proxy's ERROR record without a request id). */
typedef struct slotlink_undeliverable {
  /** The destination that failed. */
  char to[SLOTLINK_MAX_ADDRESS + 1];
  /** Why, e.g. SLOTLINK_ERR_NO_ROUTE. */
  int code;
  char message[512];
} slotlink_undeliverable;

/**
 * Takes the oldest report of an undeliverable send into *out: SLOTLINK_OK, or SLOTLINK_AGAIN
 * when there is none. The library keeps the latest 1024 reports.
 */
SLOTLINK_API int slotlink_next_undeliverable(slotlink *ep, slotlink_undeliverable *out);

/**
 * A descriptor for event loops (an epoll descriptor over the doorbell, the registration
 * socket and the library's own wake-ups): poll it for reading, and when it is readable call
 * slotlink_process(), then slotlink_receive(ep, &m, 0) and slotlink_request_result() for
 * what came. Do not read it or close it. Valid until slotlink_close().
 * It is armed by slotlink_process(), by slotlink_request_start(), and by slotlink_try_send()
 * and slotlink_receive(…, 0) when they return SLOTLINK_AGAIN: make one of these the last
 * call before the loop sleeps (a blocking call may leave it unarmed).
 */
SLOTLINK_API int slotlink_fd(const slotlink *ep);

/**
 * Does what is due without blocking: resets the doorbell, reads the registration socket
 * (answers the proxy's drain, takes its answers to subscriptions), takes what the proxy
 * committed (messages for slotlink_receive(), answers for slotlink_request_result()), and
 * tells the proxy to ring when there is more. Returns SLOTLINK_OK, or SLOTLINK_ERR_CLOSED once the endpoint ended.
 */
SLOTLINK_API int slotlink_process(slotlink *ep);

/**
 * SLOTLINK_OK while the endpoint is open; after it ended, why: SLOTLINK_ERR_CLOSED (closed
 * here, or the connection to the proxy dropped), SLOTLINK_ERR_PROXY_SHUTDOWN, or the code
 * the proxy ended the slot with (e.g. SLOTLINK_ERR_BAD_RECORD). While the proxy drains the
 * endpoint (it is shutting down), SLOTLINK_ERR_PROXY_SHUTDOWN too.
 */
SLOTLINK_API int slotlink_end_code(const slotlink *ep);

/** Counters, a snapshot. */
typedef struct slotlink_stats {
  uint64_t messages_out;   /**< messages written whole into the slot */
  uint64_t bytes_out;
  uint64_t messages_in;    /**< messages taken from the slot (sends, requests, replies, errors, publications) */
  uint64_t bytes_in;
  uint64_t cells_out;      /**< cells committed */
  uint64_t cells_in;       /**< cells taken */
  uint64_t doorbells_rung; /**< times this side rang the proxy */
  uint64_t writer_waits;   /**< times a send found the ring full and waited */
  uint64_t pending_requests;
  uint64_t inbox_bytes;
} slotlink_stats;

/** Fills *out with the endpoint's counters. */
SLOTLINK_API void slotlink_get_stats(slotlink *ep, slotlink_stats *out);

/**
 * Leaves the proxy: commits the open cell, closes the registration connection (the proxy
 * reads what was committed, then reclaims the slot and frees the name, and ends its
 * subscriptions), unmaps the slot and frees the endpoint; requests started with
 * slotlink_request_start() and not collected are forgotten. Must be the last call on `ep` (see Threads). Returns SLOTLINK_OK.
 *
 * The shutdown drain needs no call: when the proxy says `draining` (it is shutting down),
 * the next call that looks at the endpoint (any blocking call, slotlink_process()) refuses
 * new messages with SLOTLINK_ERR_CLOSED, lets a message being written finish, commits every
 * cell and answers `flushed`. Messages the proxy committed before it closed can still be
 * received.
 */
SLOTLINK_API int slotlink_close(slotlink *ep);

#ifdef __cplusplus
}
#endif

#endif /* SLOTLINK_H */
