/*
 * The endpoint's state, shared by the files that implement it: registration.c (the
 * control socket), writer.c (the up direction), reader.c (the down direction),
 * inbox.c (received messages the application has not taken), requests.c (pending
 * requests), subscriptions.c (subscriptions and the proxy's frames about them),
 * endpoint.c (the public calls and waiting).
 */
#ifndef SLOTLINK_ENDPOINT_H
#define SLOTLINK_ENDPOINT_H

#include <pthread.h>
#include <stdint.h>

#include "../slotlink.h"
#include "address.h"
#include "layout.h"

/* Endpoint states. */
enum {
  STATE_OPEN = 0,
  STATE_DRAINING, /* the proxy said `draining`: no new messages; commit, then `flushed` */
  STATE_ENDED,    /* the registration connection is over (closing frame, EOF, or an error) */
};

struct subscription;

typedef struct inbox_message {
  slotlink_message pub; /* first: a slotlink_message* is an inbox_message* */
  struct inbox_message *next, *prev;
  size_t bytes;
  /* A publication: its subscription, and the next of that subscription's in the inbox. NULL once taken. */
  struct subscription *sub;
  struct inbox_message *sub_next;
  /* from (or subject) and data follow in the same allocation */
} inbox_message;

/* Subscription states. */
enum {
  SUB_PENDING = 0, /* `subscribe` sent, no answer yet (publications for it are taken all the same) */
  SUB_ACTIVE,      /* `subscribed` */
  SUB_REFUSED,     /* `unsubscribed` with a code: kept until slotlink_subscription_status() reports it */
};

typedef struct subscription {
  struct subscription *next; /* hash chain */
  uint32_t id;
  int state;
  int drop_oldest;
  size_t max_queued_bytes;
  int code;          /* SUB_REFUSED: why */
  char message[512];
  uint64_t received, dropped;
  /* Its publications in the inbox, oldest first; with drop-oldest their payload bytes
     (held here instead of in inbox_bytes). */
  inbox_message *held_head, *held_tail;
  size_t held_bytes;
} subscription;

typedef struct pending_request {
  struct pending_request *next;
  uint32_t id;
  address to;
  char to_text[SLOTLINK_MAX_ADDRESS + 1];
  int settled;
  int code;            /* SLOTLINK_OK or the error it got */
  char message[512];   /* the error's message */
  uint8_t *reply;
  size_t reply_len;
} pending_request;

#define PENDING_BUCKETS 256
#define MAX_PENDING_REQUESTS 65536
#define UNDELIVERABLE_KEPT 1024
#define SUBSCRIPTION_BUCKETS 256
/* What a drop-oldest subscription holds unless told otherwise (docs/slot-layout.md §1). */
#define DEFAULT_MAX_QUEUED_BYTES (256u * 1024u)

struct slotlink {
  pthread_mutex_t mu;
  pthread_cond_t cv;      /* broadcast whenever something a waiter may want changed */
  unsigned fork_generation;

  int sock;               /* registration connection (ours; non-blocking) */
  int proxy_bell;         /* eventfd we ring (shared flags: never changed) */
  int own_bell;           /* eventfd we wait on */
  int epfd;               /* slotlink_fd(): epoll over own_bell and sock */
  int wake_fd;            /* eventfd that wakes the poller when another thread changed something */
  int loop_fd;            /* eventfd in epfd: the library's own "look again" for event loops */
  int loop_used;          /* slotlink_fd() was asked for: keep the event loop told */

  uint8_t *mem;
  slot_layout layout;
  char address[SLOTLINK_MAX_ADDRESS + 1];
  char node[SLOTLINK_MAX_NAME + 1];
  char name[SLOTLINK_MAX_NAME + 1];

  int state;
  int end_code;
  char end_message[512];
  int flushed_sent;

  int poller;             /* a thread is blocked in poll() for everyone */
  int poller_reading;     /* ... having asked to be rung for data (READER_SLEEPING) */
  int poller_space;       /* ... having asked to be rung for room (WRITER_WAITING) */
  int space_waiters;      /* threads waiting for room in the slot */
  int writer_busy;        /* a thread is writing a message (the write lane) */
  int want_space;         /* a try_send found no room: ask to be rung when there is */
  unsigned checks;        /* calls since the control socket was last looked at */

  /* up direction (we write) */
  uint32_t w_cell, w_used, w_records, w_sequence;
  int w_open;

  /* down direction (we read) */
  uint32_t r_cell, r_sequence;
  uint8_t *r_copy;        /* one cell's data, copied out before parsing */
  struct {
    int active;
    uint8_t kind;
    uint32_t request_id, message_bytes, filled;
    char from[SLOTLINK_MAX_ADDRESS + 1];
    uint8_t *buf;
  } frag;

  /* control socket input */
  uint8_t *ctl_buf;
  size_t ctl_len;

  /* received messages, in order; inbox_bytes leaves out what drop-oldest subscriptions hold */
  inbox_message *inbox_head, *inbox_tail;
  size_t inbox_bytes, max_inbox_bytes;

  subscription *subs[SUBSCRIPTION_BUCKETS];
  uint32_t sub_count;
  uint32_t next_sub_id;
  uint64_t publications_ignored;

  pending_request *pending[PENDING_BUCKETS];
  uint32_t pending_count;
  uint32_t next_request_id;

  slotlink_undeliverable *undeliverable; /* ring of UNDELIVERABLE_KEPT */
  uint32_t undeliverable_head, undeliverable_count;

  slotlink_stats stats;
};

/* registration.c */
int registration_connect(slotlink *ep, const char *name, const slotlink_options *o);
/** Reads what the control socket has (non-blocking) and acts on it. Locked. */
void control_read(slotlink *ep);
/** Sends `flushed` once the drain is complete. Locked. */
void control_maybe_flushed(slotlink *ep);
/** Sends one control frame (`json`, NUL-terminated); a failure ends the endpoint (the stream may be torn). Locked. */
int control_send(slotlink *ep, const char *json);
/** Ends the endpoint with `code` and `message` (first reason wins). Locked. */
void endpoint_end(slotlink *ep, int code, const char *message);

/* writer.c — all locked, the caller holding the write lane. */
/** Writes a whole message if it fits now; SLOTLINK_OK, SLOTLINK_AGAIN (nothing written), or an error. */
int writer_try(slotlink *ep, uint8_t kind, const char *to, size_t to_len, uint32_t request_id, const uint8_t *data, size_t len);
/** Writes a message, waiting for room as needed. May unlock while waiting. */
int writer_put(slotlink *ep, uint8_t kind, const char *to, size_t to_len, uint32_t request_id, const uint8_t *data, size_t len);
/** Commits the open cell if it holds records. */
void writer_flush(slotlink *ep);
/** Whether the current write cell (the one a new message starts in) is writable; -1 if corrupt. */
int writer_has_space(slotlink *ep);
/** Rings the proxy's doorbell. */
void ring_proxy(slotlink *ep);

/* reader.c — locked. */
/** Takes every readable cell (while the inbox has room or answers are awaited). */
void reader_service(slotlink *ep);
/** Arms READER_SLEEPING; 1 when the caller may sleep, 0 when a cell became readable meanwhile. */
int reader_sleep(slotlink *ep);

/* inbox.c — locked. */
/** Appends a complete message (a publication's `sub` set); applies its subscription's drop-oldest. */
void inbox_push(slotlink *ep, inbox_message *m);
/** Takes the oldest message; NULL when the inbox is empty. */
slotlink_message *inbox_pop(slotlink *ep);
/** Removes and frees the oldest message `sub` holds in the inbox (there is one). */
void inbox_drop_held(slotlink *ep, subscription *sub);
/** Frees every message. */
void inbox_free_all(slotlink *ep);

/* subscriptions.c — locked. */
subscription *subs_find(slotlink *ep, uint32_t id);
/** Checks `pattern` and the options, adds a pending subscription and sends its `subscribe` frame. */
int subs_start(slotlink *ep, const char *pattern, const slotlink_subscribe_options *o, subscription **out);
/** Forgets `sub`: drops what it holds in the inbox (counted as ignored); sends `unsubscribe` if `tell`. */
void subs_remove(slotlink *ep, subscription *sub, int tell);
/** A complete PUBLISH for subscription `id`: into the inbox, or dropped and counted when no subscription holds it. */
void subs_deliver(slotlink *ep, uint32_t id, inbox_message *m);
/** A control frame from the proxy: 1 if it was about a subscription (and was handled), else 0. */
struct json_doc;
int subs_control(slotlink *ep, const char *op, const struct json_doc *frame);
/** Frees every subscription (slotlink_close). */
void subs_free_all(slotlink *ep);

/* requests.c — locked. */
pending_request *requests_find(slotlink *ep, uint32_t id);
int requests_add(slotlink *ep, const char *to, size_t to_len, const address *parsed, pending_request **out);
void requests_remove(slotlink *ep, pending_request *p);
/** A REPLY or ERROR arrived: settle the request it answers, if the replier matches. */
void requests_answer(slotlink *ep, uint8_t kind, uint32_t id, const char *from, size_t from_len, const uint8_t *payload, size_t len);
/** The endpoint ended: every unsettled request fails with CLOSED. */
void requests_fail_all(slotlink *ep);
/** Parses an ERROR payload {"code","message"} into a code and message. */
int parse_error_payload(const uint8_t *payload, size_t len, char *message, size_t cap);

/* endpoint.c */
/** Wakes every waiting thread (condition variable and the poller). Locked. */
void endpoint_notify(slotlink *ep);
/** Waits until something changes, or `deadline_ns` (monotonic; -1 forever). Locked; unlocks while waiting. 0, or -1 when the deadline passed. */
int endpoint_wait(slotlink *ep, int64_t deadline_ns, int want_space);
int64_t now_ns(void);

#endif
