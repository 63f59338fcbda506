/*
 * The endpoint's state, shared by the files that implement it: registration.c (the
 * control socket), writer.c (the up direction), reader.c (the down direction),
 * requests.c (pending requests), endpoint.c (the public calls and waiting).
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

typedef struct inbox_message {
  slotlink_message pub; /* first: a slotlink_message* is an inbox_message* */
  struct inbox_message *next;
  size_t bytes;
  /* from and data follow in the same allocation */
} inbox_message;

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

  /* received messages, in order */
  inbox_message *inbox_head, *inbox_tail;
  size_t inbox_bytes, max_inbox_bytes;

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
