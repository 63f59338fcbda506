/*
 * The public calls (slotlink.h), and waiting. One mutex guards the endpoint; a thread that
 * must wait (for a message, an answer, or room in the slot) never holds it while asleep.
 * Waiting threads take turns: one is the poller, asleep in poll() on the doorbell, the
 * registration socket and a private wake-up eventfd; the others sleep on a condition
 * variable. Whoever changes what a waiter may want (a message in, a request settled, the
 * write lane free, the end) notifies both.
 */
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "endpoint.h"
#include "errors.h"
#include "json.h"
#include "marks.h"
#include "subject.h"

#define DEFAULT_MAX_INBOX (16u * 1024u * 1024u)
/* Calls that found their work done without waiting, between two looks at the registration socket. */
#define CONTROL_CHECK_EVERY 4096u

/* Counts forks: an endpoint made before the last fork belongs to the parent. */
static atomic_uint fork_generation;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static void on_fork_child(void) { atomic_fetch_add(&fork_generation, 1); }
static void install_atfork(void) { pthread_atfork(NULL, NULL, on_fork_child); }

int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t deadline_after(int timeout_ms) {
  return timeout_ms < 0 ? -1 : now_ns() + (int64_t)timeout_ms * 1000000;
}

void endpoint_notify(slotlink *ep) {
  pthread_cond_broadcast(&ep->cv);
  if (ep->poller) {
    uint64_t one = 1;
    /* Fails only if 2^64-2 wake-ups are pending: the poller is awake then anyway. */
    if (write(ep->wake_fd, &one, sizeof one) < 0) (void)0;
  }
}

void endpoint_end(slotlink *ep, int code, const char *message) {
  if (ep->state == STATE_ENDED) return;
  ep->state = STATE_ENDED;
  ep->end_code = code;
  if (message != ep->end_message) snprintf(ep->end_message, sizeof ep->end_message, "%s", message);
  /* Our side of the connection ends too, so the proxy reclaims the slot at once. */
  if (ep->sock >= 0) shutdown(ep->sock, SHUT_RDWR);
  /* What the proxy committed before the end is ours to read, unless the slot itself is corrupt. */
  if (code != SLOTLINK_ERR_BAD_SLOT && code != SLOTLINK_ERR_BAD_RECORD) reader_service(ep);
  requests_fail_all(ep);
  endpoint_notify(ep);
}

static void wake_loop(slotlink *ep) {
  uint64_t one = 1;
  if (write(ep->loop_fd, &one, sizeof one) < 0) (void)0; /* only fails with 2^64-2 wake-ups pending */
}

static void drain_fd(int fd) {
  uint64_t count;
  /* Non-blocking: EAGAIN means it was already reset. */
  while (read(fd, &count, sizeof count) < 0 && errno == EINTR) {
  }
}

int endpoint_wait(slotlink *ep, int64_t deadline_ns, int want_space) {
  if (deadline_ns >= 0 && now_ns() >= deadline_ns) return -1;
  /* Commit rule: nothing stays in a half-filled cell while anyone blocks. (Whoever writes
     does so under the mutex, so the open cell is consistent here, even mid-message.) */
  if (ep->state != STATE_ENDED) writer_flush(ep);
  int reading = ep->inbox_bytes < ep->max_inbox_bytes || ep->pending_count > 0;
  if (ep->poller) {
    /* Someone else watches the doorbell for everyone. If it did not ask the proxy for what we
       need (data, or room), wake it so it asks again; then sleep until told or our deadline. */
    if ((reading && !ep->poller_reading) || (want_space && !ep->poller_space)) endpoint_notify(ep);
    ep->space_waiters += want_space; /* whoever polls next asks for room on our behalf */
    if (deadline_ns < 0) {
      pthread_cond_wait(&ep->cv, &ep->mu);
    } else {
      struct timespec ts = { (time_t)(deadline_ns / 1000000000), (long)(deadline_ns % 1000000000) };
      pthread_cond_timedwait(&ep->cv, &ep->mu, &ts);
    }
    ep->space_waiters -= want_space;
    return 0;
  }
  /* Tell the proxy to ring (docs/slot-layout.md §3), re-checking after each flag so no wake-up is lost. */
  int sleep_ok = ep->state != STATE_ENDED;
  if (sleep_ok && reading && !reader_sleep(ep)) sleep_ok = 0;
  uint32_t waiting = ep->layout.up_offset + DIRECTION_HEADER_WRITER_WAITING;
  int space = want_space || ep->want_space || ep->space_waiters > 0;
  if (sleep_ok && space) {
    mark_store(ep->mem, waiting, WAIT_FLAG_WAITING);
    if (writer_has_space(ep) != 0) {
      mark_store(ep->mem, waiting, WAIT_FLAG_NOT_WAITING);
      sleep_ok = 0;
    }
  }
  if (sleep_ok) {
    ep->poller = 1;
    ep->poller_reading = reading;
    ep->poller_space = space;
    int timeout = -1;
    if (deadline_ns >= 0) {
      int64_t left = deadline_ns - now_ns();
      timeout = left <= 0 ? 0 : (int)((left + 999999) / 1000000);
    }
    struct pollfd pfd[3] = { { ep->own_bell, POLLIN, 0 }, { ep->sock, POLLIN, 0 }, { ep->wake_fd, POLLIN, 0 } };
    pthread_mutex_unlock(&ep->mu);
    int n = poll(pfd, 3, timeout);
    int poll_errno = errno;
    pthread_mutex_lock(&ep->mu);
    ep->poller = 0;
    if (n < 0 && poll_errno != EINTR) {
      errno = poll_errno;
      fail_errno("waiting on the doorbell");
      endpoint_end(ep, SLOTLINK_ERR_SYSCALL, slotlink_last_error());
      return 0;
    }
    if (n > 0) {
      /* A woken side reads its own doorbell to reset it, then re-examines both directions. */
      if (pfd[0].revents) {
        drain_fd(ep->own_bell);
        if (ep->loop_used) wake_loop(ep); /* the doorbell was the event loop's too: tell it */
      }
      if (pfd[2].revents) drain_fd(ep->wake_fd);
      if (pfd[1].revents) control_read(ep);
    }
  }
  reader_service(ep);
  if (ep->want_space && writer_has_space(ep) > 0) ep->want_space = 0;
  pthread_cond_broadcast(&ep->cv);
  return 0;
}

/* ---- helpers for the calls ---- */

/*
 * Before returning to an event loop: ask the proxy to ring when a cell comes, or, if one
 * is already there, make slotlink_fd() readable ourselves, so the loop calls us back.
 */
static void arm_for_loop(slotlink *ep) {
  if (ep->state == STATE_ENDED) return;
  if (ep->inbox_head != NULL || !(ep->inbox_bytes < ep->max_inbox_bytes || ep->pending_count > 0) || !reader_sleep(ep)) wake_loop(ep);
}

/* An inherited endpoint in a forked child: refuse, without touching the (parent's) mutex. */
static int forked(const slotlink *ep) {
  return ep->fork_generation != atomic_load(&fork_generation);
}

#define ENTER(ep)                                                                                                   \
  do {                                                                                                              \
    if ((ep) == NULL) return fail(SLOTLINK_ERR_CLOSED, "no endpoint (NULL)");                                       \
    if (forked(ep)) return fail(SLOTLINK_ERR_CLOSED, "this endpoint belongs to the parent process: after fork(), connect anew in the child"); \
    pthread_mutex_lock(&(ep)->mu);                                                                                  \
  } while (0)

static int leave(slotlink *ep, int r) {
  pthread_mutex_unlock(&ep->mu);
  return r;
}

/* Looks at the registration socket now and then, so a busy endpoint still notices `draining`. */
static void maybe_check_control(slotlink *ep) {
  if (++ep->checks >= CONTROL_CHECK_EVERY) control_read(ep);
}

static int closed_error(slotlink *ep) {
  return fail(SLOTLINK_ERR_CLOSED, "endpoint %s is closed (%s: %s)", ep->address, slotlink_code_name(ep->end_code), ep->end_message);
}

static int check_destination(const char *to, size_t *to_len, address *parsed) {
  if (to == NULL) return fail(SLOTLINK_ERR_INVALID_ADDRESS, "invalid address (NULL): expected \"name\" or \"name@node\"");
  const char *why;
  *to_len = strnlen(to, SLOTLINK_MAX_ADDRESS + 1);
  if (address_parse(to, *to_len, parsed, &why) < 0) return fail(SLOTLINK_ERR_INVALID_ADDRESS, "invalid address \"%.300s\": %s (expected \"name\" or \"name@node\")", to, why);
  return SLOTLINK_OK;
}

static int check_size(slotlink *ep, size_t len) {
  if (len > ep->layout.max_message_bytes)
    return fail(SLOTLINK_ERR_MESSAGE_TOO_LARGE, "message of %zu bytes exceeds the maximum of %u bytes: split it, or raise --max-message-bytes on the proxy", len, ep->layout.max_message_bytes);
  return SLOTLINK_OK;
}

/* Takes the write lane: messages are written whole, one thread at a time, in call order. */
static int lane_take(slotlink *ep) {
  while (ep->writer_busy) {
    if (ep->state == STATE_ENDED) return closed_error(ep);
    pthread_cond_wait(&ep->cv, &ep->mu);
  }
  if (ep->state == STATE_ENDED) return closed_error(ep);
  ep->writer_busy = 1;
  return SLOTLINK_OK;
}

static void lane_give(slotlink *ep) {
  ep->writer_busy = 0;
  control_maybe_flushed(ep); /* a drain that waited for this message can finish now */
  endpoint_notify(ep);
}

/* Writes one message (blocking or not) with the commit rule applied. Locked. */
static int put(slotlink *ep, int blocking, uint8_t kind, const char *to, size_t to_len, uint32_t request_id, const void *data, size_t len, int flags) {
  if (data == NULL && len > 0) return fail(SLOTLINK_ERR_INVALID_ADDRESS, "data is NULL but len is %zu", len);
  int r = check_size(ep, len);
  if (r != SLOTLINK_OK) return r;
  if (blocking) {
    if ((r = lane_take(ep)) != SLOTLINK_OK) return r;
  } else {
    if (ep->writer_busy) return SLOTLINK_AGAIN; /* another thread is mid-message */
    ep->writer_busy = 1;
  }
  r = blocking ? writer_put(ep, kind, to, to_len, request_id, data, len) : writer_try(ep, kind, to, to_len, request_id, data, len);
  if (r == SLOTLINK_AGAIN) {
    /* Ask to be rung when the proxy frees a cell: the descriptor turns readable then. */
    ep->want_space = 1;
    uint32_t waiting = ep->layout.up_offset + DIRECTION_HEADER_WRITER_WAITING;
    mark_store(ep->mem, waiting, WAIT_FLAG_WAITING);
    if (writer_has_space(ep) > 0) {
      mark_store(ep->mem, waiting, WAIT_FLAG_NOT_WAITING);
      r = writer_try(ep, kind, to, to_len, request_id, data, len);
      if (r != SLOTLINK_AGAIN) ep->want_space = 0;
    }
  }
  if (r == SLOTLINK_OK && !(flags & SLOTLINK_MORE)) writer_flush(ep);
  lane_give(ep);
  if (r == SLOTLINK_OK) maybe_check_control(ep);
  return r;
}

static int send_common(slotlink *ep, int blocking, const char *to, const void *data, size_t len, int flags) {
  if (ep->state != STATE_OPEN) return closed_error(ep);
  size_t to_len;
  address a;
  int r = check_destination(to, &to_len, &a);
  if (r != SLOTLINK_OK) return r;
  return put(ep, blocking, RECORD_KIND_SEND, to, to_len, 0, data, len, flags);
}

/* ---- connect / close ---- */

static void free_endpoint(slotlink *ep, int owner) {
  if (ep->mem) munmap(ep->mem, ep->layout.total_bytes);
  int fds[] = { ep->sock, ep->proxy_bell, ep->own_bell, ep->epfd, ep->wake_fd, ep->loop_fd };
  for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
    if (fds[i] >= 0) close(fds[i]);
  inbox_free_all(ep);
  subs_free_all(ep);
  for (int b = 0; b < PENDING_BUCKETS; b++)
    for (pending_request *p = ep->pending[b], *next; p; p = next) next = p->next, free(p->reply), free(p);
  free(ep->frag.buf);
  free(ep->r_copy);
  free(ep->ctl_buf);
  free(ep->undeliverable);
  if (owner) {
    pthread_cond_destroy(&ep->cv);
    pthread_mutex_destroy(&ep->mu);
  }
  free(ep);
}

int slotlink_connect(slotlink **out, const char *name, int group, const char *socket) {
  slotlink_options o = { .socket = socket, .group = group };
  return slotlink_connect_ex(out, name, &o);
}

int slotlink_connect_ex(slotlink **out, const char *name, const slotlink_options *options) {
  slotlink_options o = { 0 };
  if (options) o = *options;
  if (out == NULL) return fail(SLOTLINK_ERR_CONFIG, "slotlink_connect: out is NULL");
  *out = NULL;
  if (name == NULL || !name_valid(name, strnlen(name, SLOTLINK_MAX_NAME + 1)))
    return fail(SLOTLINK_ERR_INVALID_NAME, "invalid name \"%.100s\": a name is 1–64 characters of A–Z a–z 0–9 . _ - and starts with a letter or digit", name ? name : "(NULL)");
  pthread_once(&atfork_once, install_atfork);
  slotlink *ep = calloc(1, sizeof *ep);
  if (ep == NULL) return fail(SLOTLINK_ERR_SYSCALL, "out of memory for an endpoint");
  ep->sock = ep->proxy_bell = ep->own_bell = ep->epfd = ep->wake_fd = ep->loop_fd = -1;
  ep->fork_generation = atomic_load(&fork_generation);
  ep->next_request_id = 1;
  ep->next_sub_id = 1;
  ep->max_inbox_bytes = o.max_inbox_bytes ? o.max_inbox_bytes : DEFAULT_MAX_INBOX;
  pthread_mutex_init(&ep->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* deadlines are monotonic: a clock change moves none */
  pthread_cond_init(&ep->cv, &ca);
  pthread_condattr_destroy(&ca);
  ep->ctl_buf = malloc(MAX_CONTROL_FRAME + 4);
  ep->undeliverable = calloc(UNDELIVERABLE_KEPT, sizeof *ep->undeliverable);
  int r;
  if (ep->ctl_buf == NULL || ep->undeliverable == NULL) r = fail(SLOTLINK_ERR_SYSCALL, "out of memory for an endpoint");
  else if ((ep->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0 || (ep->loop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) r = fail_errno("creating the endpoint's wake-up eventfds");
  else r = registration_connect(ep, name, &o);
  if (r == SLOTLINK_OK && (ep->r_copy = malloc(ep->layout.cell_data_bytes)) == NULL) r = fail(SLOTLINK_ERR_SYSCALL, "out of memory for a cell copy");
  if (r != SLOTLINK_OK) {
    char keep[1024];
    snprintf(keep, sizeof keep, "%s", slotlink_last_error());
    free_endpoint(ep, 1);
    return fail(r, "%s", keep);
  }
  /* A `draining` may have come right behind the welcome. */
  pthread_mutex_lock(&ep->mu);
  if (ep->ctl_len > 0) control_read(ep);
  pthread_mutex_unlock(&ep->mu);
  *out = ep;
  return SLOTLINK_OK;
}

int slotlink_close(slotlink *ep) {
  if (ep == NULL) return SLOTLINK_OK;
  if (forked(ep)) {
    /* The parent's registration is not ours to end: free this copy only. */
    free_endpoint(ep, 0);
    return SLOTLINK_OK;
  }
  pthread_mutex_lock(&ep->mu);
  if (ep->state != STATE_ENDED && !ep->writer_busy) writer_flush(ep);
  pthread_mutex_unlock(&ep->mu);
  /* Closing the connection is leaving: the proxy reads what was committed, then reclaims the slot. */
  free_endpoint(ep, 1);
  return SLOTLINK_OK;
}

/* ---- accessors ---- */

const char *slotlink_address(const slotlink *ep) { return ep ? ep->address : ""; }
const char *slotlink_node(const slotlink *ep) { return ep ? ep->node : ""; }
size_t slotlink_max_message_bytes(const slotlink *ep) { return ep ? ep->layout.max_message_bytes : 0; }
int slotlink_fd(const slotlink *ep) {
  if (ep == NULL) return -1;
  slotlink *m = (slotlink *)ep;
  if (!forked(m)) {
    pthread_mutex_lock(&m->mu);
    m->loop_used = 1;
    pthread_mutex_unlock(&m->mu);
  }
  return ep->epfd;
}
void slotlink_free(void *p) { free(p); }
void slotlink_message_free(slotlink_message *msg) { free(msg); }

int slotlink_end_code(const slotlink *ep) {
  if (ep == NULL) return SLOTLINK_ERR_CLOSED;
  slotlink *m = (slotlink *)ep;
  if (forked(m)) return SLOTLINK_ERR_CLOSED;
  pthread_mutex_lock(&m->mu);
  int code = m->state == STATE_OPEN ? SLOTLINK_OK : m->end_code;
  pthread_mutex_unlock(&m->mu);
  return code;
}

void slotlink_get_stats(slotlink *ep, slotlink_stats *out) {
  memset(out, 0, sizeof *out);
  if (ep == NULL || forked(ep)) return;
  pthread_mutex_lock(&ep->mu);
  *out = ep->stats;
  out->pending_requests = ep->pending_count;
  out->inbox_bytes = ep->inbox_bytes;
  pthread_mutex_unlock(&ep->mu);
}

/* ---- sending ---- */

int slotlink_send(slotlink *ep, const char *to, const void *data, size_t len, int flags) {
  ENTER(ep);
  return leave(ep, send_common(ep, 1, to, data, len, flags));
}

int slotlink_try_send(slotlink *ep, const char *to, const void *data, size_t len, int flags) {
  ENTER(ep);
  return leave(ep, send_common(ep, 0, to, data, len, flags));
}

int slotlink_flush(slotlink *ep) {
  ENTER(ep);
  if (ep->state != STATE_ENDED && !ep->writer_busy) writer_flush(ep);
  return leave(ep, SLOTLINK_OK);
}

static int answer(slotlink *ep, const slotlink_message *request, uint8_t kind, const void *data, size_t len, int flags) {
  if (request == NULL || !request->is_request || request->request_id == 0)
    return fail(SLOTLINK_ERR_INVALID_ADDRESS, "message from %s is not a request: there is nobody waiting for a reply", request ? request->from : "(NULL)");
  if (ep->state != STATE_OPEN) return closed_error(ep);
  size_t to_len = strlen(request->from);
  return put(ep, 1, kind, request->from, to_len, request->request_id, data, len, flags);
}

int slotlink_reply(slotlink *ep, const slotlink_message *request, const void *data, size_t len, int flags) {
  ENTER(ep);
  return leave(ep, answer(ep, request, RECORD_KIND_REPLY, data, len, flags));
}

int slotlink_reply_error(slotlink *ep, const slotlink_message *request, int code, const char *message, int flags) {
  ENTER(ep);
  char payload[3200], quoted[3100], text[512];
  if (code <= SLOTLINK_AGAIN || code >= SLOTLINK_CODE_COUNT) code = SLOTLINK_ERR_REMOTE;
  /* Quoting may grow text up to 6x (\u00XX): long messages keep their first 500 bytes. */
  snprintf(text, sizeof text, "%.500s", message ? message : "");
  json_quote(quoted, sizeof quoted, text);
  int n = snprintf(payload, sizeof payload, "{\"code\":\"%s\",\"message\":%s}", slotlink_code_name(code), quoted);
  return leave(ep, answer(ep, request, RECORD_KIND_ERROR, payload, (size_t)n, flags));
}

/* ---- publish and subscribe ---- */

static int publish_common(slotlink *ep, int blocking, const char *subject, const void *data, size_t len, int flags) {
  if (ep->state != STATE_OPEN) return closed_error(ep);
  if (subject == NULL) return fail(SLOTLINK_ERR_INVALID_SUBJECT, "invalid subject (NULL): expected tokens separated by dots, like \"prices.eu.fr\"");
  size_t n = strnlen(subject, MAX_ADDRESS_BYTES + 1);
  char why[200];
  if (subject_check(subject, n, 0, why, sizeof why) < 0)
    return fail(SLOTLINK_ERR_INVALID_SUBJECT, "invalid subject \"%.300s\": %s (expected tokens separated by dots, like \"prices.eu.fr\"; wildcards are for subscriptions)", subject, why);
  return put(ep, blocking, RECORD_KIND_PUBLISH, subject, n, 0, data, len, flags);
}

int slotlink_publish(slotlink *ep, const char *subject, const void *data, size_t len, int flags) {
  ENTER(ep);
  return leave(ep, publish_common(ep, 1, subject, data, len, flags));
}

int slotlink_try_publish(slotlink *ep, const char *subject, const void *data, size_t len, int flags) {
  ENTER(ep);
  return leave(ep, publish_common(ep, 0, subject, data, len, flags));
}

static int subscribe_start(slotlink *ep, const char *pattern, const slotlink_subscribe_options *options, subscription **out) {
  if (ep->state != STATE_OPEN) return closed_error(ep);
  return subs_start(ep, pattern, options, out);
}

int slotlink_subscribe_start(slotlink *ep, const char *pattern, const slotlink_subscribe_options *options, uint32_t *id) {
  ENTER(ep);
  subscription *s;
  int r = subscribe_start(ep, pattern, options, &s);
  if (r == SLOTLINK_OK && id) *id = s->id;
  return leave(ep, r);
}

/* Where subscription `s` stands (see slotlink_subscription_status); a refusal is reported once, then forgotten. */
static int subscription_result(slotlink *ep, subscription *s, uint32_t id) {
  if (s == NULL) return fail(SLOTLINK_ERR_CLOSED, "subscription %u is not held (never made, unsubscribed, or refused and reported)", id);
  if (s->state == SUB_REFUSED) {
    int code = fail(s->code, "%s", s->message);
    subs_remove(ep, s, 0);
    return code;
  }
  if (ep->state == STATE_ENDED) return closed_error(ep);
  return s->state == SUB_ACTIVE ? SLOTLINK_OK : SLOTLINK_AGAIN;
}

int slotlink_subscribe(slotlink *ep, const char *pattern, const slotlink_subscribe_options *options, uint32_t *id) {
  ENTER(ep);
  int timeout_ms = options && options->timeout_ms ? options->timeout_ms : 10000;
  int64_t deadline = deadline_after(timeout_ms);
  subscription *s;
  int r = subscribe_start(ep, pattern, options, &s);
  if (r != SLOTLINK_OK) return leave(ep, r);
  uint32_t sid = s->id;
  for (;;) {
    /* Looked up anew each time: another thread may have ended it meanwhile. */
    s = subs_find(ep, sid);
    if (s == NULL) return leave(ep, fail(SLOTLINK_ERR_CLOSED, "the subscription to \"%.300s\" was ended while it waited for the proxy", pattern));
    if (s->state == SUB_ACTIVE) {
      /* In effect (even if the endpoint ended since: its publications may be in the inbox). */
      if (id) *id = sid;
      return leave(ep, SLOTLINK_OK);
    }
    if (s->state == SUB_REFUSED) {
      r = fail(s->code, "%s", s->message);
      subs_remove(ep, s, 0);
      return leave(ep, r);
    }
    if (ep->state == STATE_ENDED) {
      subs_remove(ep, s, 0);
      return leave(ep, closed_error(ep));
    }
    /* Waiting commits the open cell and reads what arrives meanwhile (into the inbox). */
    if (endpoint_wait(ep, deadline, 0) < 0 && (s = subs_find(ep, sid)) != NULL && s->state == SUB_PENDING) {
      subs_remove(ep, s, 1);
      return leave(ep, fail(SLOTLINK_ERR_REGISTRATION, "the proxy did not answer the subscription to \"%.300s\" within %d ms", pattern, timeout_ms));
    }
  }
}

int slotlink_subscription_status(slotlink *ep, uint32_t id) {
  ENTER(ep);
  return leave(ep, subscription_result(ep, subs_find(ep, id), id));
}

int slotlink_unsubscribe(slotlink *ep, uint32_t id) {
  ENTER(ep);
  subscription *s = subs_find(ep, id);
  if (s == NULL) return leave(ep, fail(SLOTLINK_ERR_CLOSED, "subscription %u is not held (never made, or unsubscribed already)", id));
  subs_remove(ep, s, 1);
  return leave(ep, SLOTLINK_OK);
}

uint64_t slotlink_subscription_dropped(slotlink *ep, uint32_t id) {
  if (ep == NULL || forked(ep)) return 0;
  pthread_mutex_lock(&ep->mu);
  subscription *s = subs_find(ep, id);
  uint64_t n = s ? s->dropped : 0;
  pthread_mutex_unlock(&ep->mu);
  return n;
}

uint64_t slotlink_publications_ignored(slotlink *ep) {
  if (ep == NULL || forked(ep)) return 0;
  pthread_mutex_lock(&ep->mu);
  uint64_t n = ep->publications_ignored;
  pthread_mutex_unlock(&ep->mu);
  return n;
}

/* ---- requests ---- */

static int take_result(slotlink *ep, pending_request *p, void **reply, size_t *reply_len) {
  int code = p->code;
  if (code == SLOTLINK_OK) {
    if (reply) *reply = p->reply, p->reply = NULL;
    if (reply_len) *reply_len = p->reply_len;
  } else {
    fail(code, "%s", p->message);
  }
  requests_remove(ep, p);
  return code;
}

/* Sends a request (blocking for room or not); *out is its pending entry. Locked. */
static int start_request(slotlink *ep, int blocking, const char *to, const void *data, size_t len, int flags, pending_request **out) {
  if (ep->state != STATE_OPEN) return closed_error(ep);
  size_t to_len;
  address a;
  int r = check_destination(to, &to_len, &a);
  if (r == SLOTLINK_OK) r = check_size(ep, len);
  if (r != SLOTLINK_OK) return r;
  pending_request *p;
  if ((r = requests_add(ep, to, to_len, &a, &p)) != SLOTLINK_OK) return r;
  r = put(ep, blocking, RECORD_KIND_REQUEST, to, to_len, p->id, data, len, flags);
  if (r != SLOTLINK_OK) {
    requests_remove(ep, p);
    return r;
  }
  *out = p;
  return SLOTLINK_OK;
}

int slotlink_request(slotlink *ep, const char *to, const void *data, size_t len, int timeout_ms, void **reply, size_t *reply_len) {
  ENTER(ep);
  if (reply) *reply = NULL;
  if (reply_len) *reply_len = 0;
  int64_t deadline = deadline_after(timeout_ms);
  pending_request *p;
  int r = start_request(ep, 1, to, data, len, 0, &p); /* committed: we are about to wait for it */
  if (r != SLOTLINK_OK) return leave(ep, r);
  for (;;) {
    if (p->settled) return leave(ep, take_result(ep, p, reply, reply_len));
    if (endpoint_wait(ep, deadline, 0) < 0 && !p->settled) {
      r = fail(SLOTLINK_ERR_REQUEST_TIMEOUT, "request to \"%s\" got no reply within %d ms", p->to_text, timeout_ms);
      requests_remove(ep, p);
      return leave(ep, r);
    }
  }
}

int slotlink_request_start(slotlink *ep, const char *to, const void *data, size_t len, int flags, uint32_t *id) {
  ENTER(ep);
  pending_request *p;
  int r = start_request(ep, 0, to, data, len, flags, &p);
  if (r == SLOTLINK_OK && id) *id = p->id;
  if (r == SLOTLINK_OK) arm_for_loop(ep);
  return leave(ep, r);
}

int slotlink_request_result(slotlink *ep, uint32_t id, void **reply, size_t *reply_len) {
  ENTER(ep);
  if (reply) *reply = NULL;
  if (reply_len) *reply_len = 0;
  pending_request *p = requests_find(ep, id);
  if (p == NULL) return leave(ep, fail(SLOTLINK_ERR_CLOSED, "request %u is not pending (already settled, cancelled, or never started)", id));
  if (!p->settled) return leave(ep, SLOTLINK_AGAIN);
  return leave(ep, take_result(ep, p, reply, reply_len));
}

void slotlink_request_cancel(slotlink *ep, uint32_t id) {
  if (ep == NULL || forked(ep)) return;
  pthread_mutex_lock(&ep->mu);
  pending_request *p = requests_find(ep, id);
  if (p) requests_remove(ep, p);
  pthread_mutex_unlock(&ep->mu);
}

/* ---- receiving ---- */

int slotlink_receive_many(slotlink *ep, slotlink_message **msgs, size_t max, size_t *count, int timeout_ms) {
  ENTER(ep);
  if (count) *count = 0;
  if (msgs == NULL || max == 0 || count == NULL) return leave(ep, fail(SLOTLINK_ERR_CONFIG, "slotlink_receive_many: msgs, max and count must be given"));
  int64_t deadline = deadline_after(timeout_ms);
  int looked = 0;
  for (;;) {
    if (ep->inbox_head == NULL && !looked) {
      reader_service(ep); /* committed cells are read without waiting for a doorbell */
      looked = 1;
      continue;
    }
    if (ep->inbox_head != NULL) {
      size_t n = 0;
      while (n < max && (msgs[n] = inbox_pop(ep)) != NULL) n++;
      *count = n;
      maybe_check_control(ep);
      return leave(ep, SLOTLINK_OK);
    }
    if (ep->state == STATE_ENDED) return leave(ep, closed_error(ep));
    if (timeout_ms == 0) {
      /* Nothing now: before returning to an event loop, ask to be rung when something comes. */
      control_read(ep);
      if (ep->state != STATE_ENDED && reader_sleep(ep)) return leave(ep, SLOTLINK_AGAIN);
      looked = 0;
      continue;
    }
    if (endpoint_wait(ep, deadline, 0) < 0) return leave(ep, SLOTLINK_AGAIN);
  }
}

int slotlink_receive(slotlink *ep, slotlink_message **msg, int timeout_ms) {
  if (msg == NULL) return fail(SLOTLINK_ERR_CONFIG, "slotlink_receive: msg is NULL");
  *msg = NULL;
  size_t count;
  return slotlink_receive_many(ep, msg, 1, &count, timeout_ms);
}

void slotlink_messages_free(slotlink_message **msgs, size_t count) {
  for (size_t i = 0; i < count; i++) free(msgs[i]);
}

int slotlink_next_undeliverable(slotlink *ep, slotlink_undeliverable *out) {
  ENTER(ep);
  if (ep->undeliverable_count == 0) return leave(ep, SLOTLINK_AGAIN);
  *out = ep->undeliverable[ep->undeliverable_head];
  ep->undeliverable_head = (ep->undeliverable_head + 1) % UNDELIVERABLE_KEPT;
  ep->undeliverable_count--;
  return leave(ep, SLOTLINK_OK);
}

int slotlink_process(slotlink *ep) {
  ENTER(ep);
  drain_fd(ep->own_bell);
  drain_fd(ep->loop_fd);
  /* A thread blocked in poll() may have been woken by the doorbell we just reset: it looks again. */
  if (ep->poller) endpoint_notify(ep);
  control_read(ep);
  reader_service(ep);
  if (ep->want_space && ep->state != STATE_ENDED) {
    uint32_t waiting = ep->layout.up_offset + DIRECTION_HEADER_WRITER_WAITING;
    mark_store(ep->mem, waiting, WAIT_FLAG_WAITING);
    if (writer_has_space(ep) != 0) {
      mark_store(ep->mem, waiting, WAIT_FLAG_NOT_WAITING);
      ep->want_space = 0;
    }
  }
  if (ep->state == STATE_ENDED) return leave(ep, closed_error(ep));
  /* Messages taken stay for slotlink_receive(); the descriptor stays readable while there are any. */
  arm_for_loop(ep);
  return leave(ep, SLOTLINK_OK);
}
