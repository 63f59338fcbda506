/*
 * Behaviour of libslotlink that only C can reach, against a real proxy (the socket is
 * argv[1]; test/conformance/c-library.test.ts starts the proxy and runs this):
 *   fork        an inherited endpoint refuses to work in the child; the child connects anew
 *   event loop  try_send until the slot is full, then poll slotlink_fd(): it turns readable
 *               when room is made; every message arrives in order
 *   async       slotlink_request_start / slotlink_request_result from one thread
 *   threads     requests from several threads at once while another thread receives
 *   commit      a cell batched with SLOTLINK_MORE is committed before the endpoint blocks
 *   hostile     what this process finds in its own slot's down direction is checked: a bad
 *               mark, a READABLE cell still WRITABLE, a bad sequence, a bad record, a
 *               PUBLISH without a subscription id or with a pattern for a subject, each end
 *               the endpoint with SLOTLINK_ERR_BAD_SLOT / SLOTLINK_ERR_BAD_RECORD
 *   pubsub      publications through slotlink_receive() with their kind, subject and
 *               subscription id (one copy per matching subscription); subjects and patterns
 *               checked here; a subscription waits for the proxy's answer while another thread
 *               receives, and commits a batched cell before it waits; after unsubscribe nothing
 *               more comes out, what was held is dropped and counted; drop-oldest in the
 *               library keeps the newest and counts the rest; 4 096 subscriptions started at
 *               once all confirmed (their answers come in more than one read, frames split
 *               across reads), the next one refused by the proxy (TOO_MANY_SUBSCRIPTIONS);
 *               with the proxy stopped (SIGSTOP; its pid is argv[2]) a subscription gives up
 *               after its timeout, and the proxy's late answers for it are ignored
 * Prints "ok NAME" or "not ok NAME: why" per check; exits 1 if any failed.
 */
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../slotlink.h"
#include "../src/layout.h" /* offsets and states, to write what the layout forbids */

static const char *sock;
static int failures;

#define CHECK(name, cond, ...)                                       \
  do {                                                               \
    if (cond) {                                                      \
      printf("ok %s\n", name);                                       \
    } else {                                                         \
      printf("not ok %s: ", name);                                   \
      printf(__VA_ARGS__);                                           \
      printf(" (%s)\n", slotlink_last_error());                      \
      failures++;                                                    \
    }                                                                \
    fflush(stdout);                                                  \
  } while (0)

static slotlink *must_connect(const char *name) {
  slotlink *ep;
  if (slotlink_connect(&ep, name, 0, sock) != SLOTLINK_OK) {
    printf("not ok connect %s: %s\n", name, slotlink_last_error());
    exit(1);
  }
  return ep;
}

static int hop(slotlink *ep) {
  void *reply;
  size_t len;
  int rc = slotlink_request(ep, "~proxy", "hop", 3, 5000, &reply, &len);
  int ok = rc == SLOTLINK_OK && len == 3 && memcmp(reply, "hop", 3) == 0;
  slotlink_free(reply);
  return ok ? SLOTLINK_OK : rc == SLOTLINK_OK ? SLOTLINK_ERR_REMOTE : rc;
}

static void test_fork(void) {
  slotlink *ep = must_connect("fork-parent");
  pid_t pid = fork();
  if (pid == 0) {
    int refused = slotlink_send(ep, "~proxy", "x", 1, 0) == SLOTLINK_ERR_CLOSED;
    slotlink_close(ep); /* frees the child's copy only */
    slotlink *own;
    int connected = slotlink_connect(&own, "fork-child", 0, sock) == SLOTLINK_OK && hop(own) == SLOTLINK_OK;
    if (connected) slotlink_close(own);
    _exit(refused && connected ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK("fork: the child cannot use the parent's endpoint, and connects anew", WIFEXITED(status) && WEXITSTATUS(status) == 0, "child exit status %d", status);
  CHECK("fork: the parent's endpoint still works after the child closed its copy", hop(ep) == SLOTLINK_OK, "request to ~proxy failed");
  slotlink_close(ep);
}

/* One thread, two endpoints, poll() on both descriptors: what an event loop does. */
static void test_event_loop(void) {
  slotlink *tx = must_connect("loop-tx"), *rx = must_connect("loop-rx");
  uint32_t sent = 0, next = 0, full_at = 0, bad = 0;
  int refills = 0;
  const uint32_t total = 200000;
  char buf[64] = { 0 };
  while (next < total && !bad) {
    /* Send until the slot (and the proxy's queue for rx, and rx's slot) are full. */
    while (sent < total) {
      memcpy(buf, &sent, sizeof sent);
      int rc = slotlink_try_send(tx, "loop-rx", buf, sizeof buf, SLOTLINK_MORE);
      if (rc == SLOTLINK_AGAIN) break;
      if (rc != SLOTLINK_OK) { bad = 1; break; }
      sent++;
    }
    slotlink_flush(tx);
    if (sent < total && full_at == 0) full_at = sent;
    if (sent < total) refills++;
    /* Drain rx, then wait on both descriptors like an event loop. */
    slotlink_message *m;
    while (slotlink_receive(rx, &m, 0) == SLOTLINK_OK) {
      uint32_t seq;
      memcpy(&seq, m->data, sizeof seq);
      if (seq != next || m->len != sizeof buf) bad = 1;
      next++;
      slotlink_message_free(m);
    }
    if (next >= total || bad) break;
    struct pollfd pfd[2] = { { slotlink_fd(tx), POLLIN, 0 }, { slotlink_fd(rx), POLLIN, 0 } };
    if (poll(pfd, 2, 5000) <= 0) { bad = 2; break; }
    if (pfd[0].revents) slotlink_process(tx);
    if (pfd[1].revents) slotlink_process(rx);
  }
  CHECK("event loop: try_send fills the slot and says SLOTLINK_AGAIN", full_at > 0 && refills > 0, "never full (sent %u)", sent);
  CHECK("event loop: slotlink_fd() wakes the loop for room and for messages; all arrive in order", next == total && !bad, "received %u of %u (bad %u)", next, total, bad);
  slotlink_close(tx);
  slotlink_close(rx);
}

static void test_async_requests(void) {
  slotlink *ep = must_connect("async");
  enum { N = 200 };
  uint32_t ids[N];
  int done = 0, ok = 0, started = 0;
  for (int i = 0; i < N; i++) {
    char text[16];
    int n = snprintf(text, sizeof text, "r%d", i);
    if (slotlink_request_start(ep, "~proxy", text, (size_t)n, SLOTLINK_MORE, &ids[i]) == SLOTLINK_OK) started++;
  }
  slotlink_flush(ep); /* batched: one cell carries them all */
  int answered[N] = { 0 };
  while (done < started) {
    struct pollfd pfd = { slotlink_fd(ep), POLLIN, 0 };
    if (poll(&pfd, 1, 5000) <= 0) break;
    slotlink_process(ep);
    for (int i = 0; i < N; i++) {
      if (answered[i]) continue;
      void *reply;
      size_t len;
      int rc = slotlink_request_result(ep, ids[i], &reply, &len);
      if (rc == SLOTLINK_AGAIN) continue;
      char text[16];
      int n = snprintf(text, sizeof text, "r%d", i);
      if (rc == SLOTLINK_OK && len == (size_t)n && memcmp(reply, text, len) == 0) ok++;
      slotlink_free(reply);
      answered[i] = 1;
      done++;
    }
  }
  CHECK("async requests: each answer is matched to its request", started == N && ok == N, "%d started, %d answered correctly", started, ok);
  slotlink_close(ep);
}

struct shared {
  slotlink *ep;
  int failed;
  int received;
};

static void *hopper(void *arg) {
  struct shared *s = arg;
  for (int i = 0; i < 300; i++)
    if (hop(s->ep) != SLOTLINK_OK) __atomic_add_fetch(&s->failed, 1, __ATOMIC_SEQ_CST);
  return NULL;
}

static void *receiver(void *arg) {
  struct shared *s = arg;
  slotlink_message *m;
  while (s->received < 1000 && slotlink_receive(s->ep, &m, 5000) == SLOTLINK_OK) {
    s->received++;
    slotlink_message_free(m);
  }
  return NULL;
}

static void test_threads(void) {
  struct shared s = { must_connect("threads"), 0, 0 };
  slotlink *other = must_connect("threads-peer");
  pthread_t t[5];
  pthread_create(&t[0], NULL, receiver, &s);
  for (int i = 1; i < 5; i++) pthread_create(&t[i], NULL, hopper, &s);
  for (int i = 0; i < 1000; i++) slotlink_send(other, "threads", "m", 1, i % 50 == 49 ? 0 : SLOTLINK_MORE);
  slotlink_flush(other);
  for (int i = 0; i < 5; i++) pthread_join(t[i], NULL);
  CHECK("threads: four threads request while a fifth receives", s.failed == 0 && s.received == 1000, "%d requests failed, %d of 1000 messages received", s.failed, s.received);
  slotlink_close(s.ep);
  slotlink_close(other);
}

struct bouncer {
  slotlink *ep;
};

/* Receives one message and sends it back to its sender. */
static void *bounce(void *arg) {
  struct bouncer *b = arg;
  slotlink_message *m;
  if (slotlink_receive(b->ep, &m, 5000) == SLOTLINK_OK) {
    slotlink_send(b->ep, m->from, m->data, m->len, 0);
    slotlink_message_free(m);
  }
  return NULL;
}

/* A message batched with SLOTLINK_MORE is committed when the endpoint then blocks (receive). */
static void test_commit_before_blocking(void) {
  slotlink *a = must_connect("commit-a");
  struct bouncer b = { must_connect("commit-b") };
  pthread_t t;
  pthread_create(&t, NULL, bounce, &b);
  slotlink_send(a, "commit-b", "batched", 7, SLOTLINK_MORE); /* stays in the open cell... */
  slotlink_message *m = NULL;
  int rc = slotlink_receive(a, &m, 5000);                    /* ...until a blocks here */
  CHECK("commit rule: a batched message is committed before the endpoint blocks", rc == SLOTLINK_OK && m && m->len == 7 && memcmp(m->data, "batched", 7) == 0, "receive gave %s", slotlink_code_name(rc));
  slotlink_message_free(m);
  pthread_join(t, NULL);
  slotlink_close(a);
  slotlink_close(b.ep);
}

/* This process's mapping of its slot, found by the memfd's name ("slotlink-slot-ID.GEN") in /proc/self/maps. */
static uint8_t *own_slot(slotlink *ep) {
  const char *tilde = strchr(slotlink_address(ep), '~');
  char want[64];
  snprintf(want, sizeof want, "memfd:slotlink-slot-%.*s ", (int)strcspn(tilde + 1, "@"), tilde + 1);
  FILE *f = fopen("/proc/self/maps", "r");
  char line[512];
  uint8_t *base = NULL;
  while (f && fgets(line, sizeof line, f)) {
    if (strstr(line, want) && strstr(line, "rw-s")) {
      base = (uint8_t *)(uintptr_t)strtoull(line, NULL, 16);
      break;
    }
  }
  if (f) fclose(f);
  return base;
}

static uint32_t u32_at(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static void set_u32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void set_mark(uint8_t *p, int32_t v) { atomic_store((_Atomic int32_t *)(void *)p, v); }

enum { HOSTILE_MARK, HOSTILE_BOTH_MARKS, HOSTILE_SEQUENCE, HOSTILE_RECORD, HOSTILE_PUBLISH_ID, HOSTILE_PUBLISH_PATTERN };

/* Writes something the layout forbids into the down direction's first cell, as a broken proxy could. */
static void hostile(int what, const char *name, int want_code, const char *want_words) {
  char reg[32];
  snprintf(reg, sizeof reg, "hostile-%d", what);
  slotlink *ep = must_connect(reg);
  uint8_t *slot = own_slot(ep);
  if (slot == NULL) {
    CHECK(name, 0, "no mapping of this process's slot found in /proc/self/maps");
    slotlink_close(ep);
    return;
  }
  uint8_t *cell = slot + u32_at(slot + SLOT_HEADER_DOWN_OFFSET) + DIRECTION_HEADER_SIZE; /* down cell 0 */
  uint8_t *record = cell + CELL_HEADER_SIZE;
  switch (what) {
    case HOSTILE_MARK:
      set_mark(cell + CELL_HEADER_READER_MARK, 7);
      break;
    case HOSTILE_BOTH_MARKS: /* READABLE, but the writer's mark still says WRITABLE */
      set_mark(cell + CELL_HEADER_READER_MARK, READER_MARK_READABLE);
      break;
    case HOSTILE_SEQUENCE:
      set_u32(cell + CELL_HEADER_USED_BYTES, 32), set_u32(cell + CELL_HEADER_RECORD_COUNT, 1), set_u32(cell + CELL_HEADER_SEQUENCE, 5);
      set_mark(cell + CELL_HEADER_WRITER_MARK, WRITER_MARK_NOT_WRITABLE), set_mark(cell + CELL_HEADER_READER_MARK, READER_MARK_READABLE);
      break;
    case HOSTILE_PUBLISH_ID:      /* a whole PUBLISH to "a.b" with requestId 0: no subscription's */
    case HOSTILE_PUBLISH_PATTERN: /* a whole PUBLISH (id 1) whose address "a.*" is a pattern, not a subject */
      memset(record, 0, 32);
      set_u32(record + RECORD_HEADER_RECORD_BYTES, 32);
      record[RECORD_HEADER_KIND] = RECORD_KIND_PUBLISH, record[RECORD_HEADER_FLAGS] = RECORD_WHOLE;
      record[RECORD_HEADER_ADDRESS_BYTES] = 3;
      memcpy(record + RECORD_HEADER_SIZE, what == HOSTILE_PUBLISH_ID ? "a.b" : "a.*", 3);
      set_u32(record + RECORD_HEADER_REQUEST_ID, what == HOSTILE_PUBLISH_ID ? 0 : 1);
      set_u32(cell + CELL_HEADER_USED_BYTES, 32), set_u32(cell + CELL_HEADER_RECORD_COUNT, 1), set_u32(cell + CELL_HEADER_SEQUENCE, 0);
      set_mark(cell + CELL_HEADER_WRITER_MARK, WRITER_MARK_NOT_WRITABLE), set_mark(cell + CELL_HEADER_READER_MARK, READER_MARK_READABLE);
      break;
    case HOSTILE_RECORD: /* one record whose recordBytes runs far past the cell */
      memset(record, 0, 32);
      set_u32(record + RECORD_HEADER_RECORD_BYTES, 1u << 30);
      record[RECORD_HEADER_KIND] = RECORD_KIND_SEND, record[RECORD_HEADER_FLAGS] = RECORD_WHOLE;
      record[RECORD_HEADER_ADDRESS_BYTES] = 1, record[RECORD_HEADER_SIZE] = 'x';
      set_u32(cell + CELL_HEADER_USED_BYTES, 32), set_u32(cell + CELL_HEADER_RECORD_COUNT, 1), set_u32(cell + CELL_HEADER_SEQUENCE, 0);
      set_mark(cell + CELL_HEADER_WRITER_MARK, WRITER_MARK_NOT_WRITABLE), set_mark(cell + CELL_HEADER_READER_MARK, READER_MARK_READABLE);
      break;
  }
  slotlink_message *m = NULL;
  int rc = slotlink_receive(ep, &m, 0);
  int code = slotlink_end_code(ep);
  CHECK(name, rc == SLOTLINK_ERR_CLOSED && code == want_code && strstr(slotlink_last_error(), want_words) != NULL,
        "receive gave %s, end code %s", slotlink_code_name(rc), slotlink_code_name(code));
  slotlink_message_free(m);
  slotlink_close(ep);
}

/* ---- publish and subscribe ---- */

static uint32_t seq_of(const slotlink_message *m) {
  uint32_t v = 0;
  if (m->len >= 4) memcpy(&v, m->data, 4);
  return v;
}

/* Publishes seq `from`..`to`-1 (u32 payloads of `size` bytes) to `subject`, batched, then commits. */
static int publish_run(slotlink *ep, const char *subject, uint32_t from, uint32_t to, size_t size) {
  uint8_t buf[2048] = { 0 };
  for (uint32_t i = from; i < to; i++) {
    memcpy(buf, &i, 4);
    int rc = slotlink_publish(ep, subject, buf, size, SLOTLINK_MORE);
    if (rc != SLOTLINK_OK) return rc;
  }
  return slotlink_flush(ep);
}

static void test_publications(void) {
  slotlink *sub = must_connect("ps-sub"), *pub = must_connect("ps-pub");
  uint32_t star, rest;
  int a = slotlink_subscribe(sub, "ps.*.new", NULL, &star), b = slotlink_subscribe(sub, "ps.>", NULL, &rest);
  const char *subjects[] = { "ps.eu.new", "ps.eu.old", "ps", "other.eu.new", "ps.us.new" };
  uint8_t buf[8];
  for (uint32_t i = 0; i < 100; i++) {
    memcpy(buf, &i, 4);
    slotlink_publish(pub, subjects[i % 5], buf, 4, i == 99 ? 0 : SLOTLINK_MORE);
  }
  /* Expected, in order: ps.>: 0,1,4,5,6,9,... (all but "ps" and "other..."); ps.*.new: 0,4,5,9,10,... */
  uint32_t want_star = 0, want_rest = 0, got_star = 0, got_rest = 0;
  int bad = 0;
  slotlink_message *m;
  while ((got_star < 40 || got_rest < 60) && !bad && slotlink_receive(sub, &m, 5000) == SLOTLINK_OK) {
    uint32_t seq = seq_of(m);
    const char *want_subject = subjects[seq % 5];
    if (m->kind != SLOTLINK_KIND_PUBLISH || m->is_request || m->request_id != 0 || strcmp(m->from, "") != 0 || strcmp(m->subject, want_subject) != 0) bad = 1;
    else if (m->subscription_id == star) {
      while (want_star % 5 != 0 && want_star % 5 != 4) want_star++;
      if (seq != want_star) bad = 2;
      want_star++, got_star++;
    } else if (m->subscription_id == rest) {
      while (want_rest % 5 == 2 || want_rest % 5 == 3) want_rest++;
      if (seq != want_rest) bad = 3;
      want_rest++, got_rest++;
    } else bad = 4;
    slotlink_message_free(m);
  }
  CHECK("pubsub: each matching subscription gets its copy, in order, with kind, subject and id", a == SLOTLINK_OK && b == SLOTLINK_OK && star != rest && got_star == 40 && got_rest == 60 && !bad,
        "subscribe %s/%s, %u and %u of 40 and 60 (bad %d)", slotlink_code_name(a), slotlink_code_name(b), got_star, got_rest, bad);

  uint32_t unused;
  const char *patterns[] = { "", "ps..x", ".ps", "ps.", "ps.>.x", "ps.a*", "ps.>x", "ps x", "ps.\x7f" };
  int refused = 0;
  for (size_t i = 0; i < sizeof patterns / sizeof patterns[0]; i++) refused += slotlink_subscribe(sub, patterns[i], NULL, &unused) == SLOTLINK_ERR_INVALID_SUBJECT;
  char longest[300];
  memset(longest, 'a', sizeof longest), longest[255] = '\0';
  int ok255 = slotlink_subscribe(sub, longest, NULL, &unused) == SLOTLINK_OK && slotlink_unsubscribe(sub, unused) == SLOTLINK_OK;
  longest[255] = 'a', longest[256] = '\0';
  refused += slotlink_subscribe(sub, longest, NULL, &unused) == SLOTLINK_ERR_INVALID_SUBJECT;
  refused += slotlink_publish(pub, "ps.*", "x", 1, 0) == SLOTLINK_ERR_INVALID_SUBJECT;
  refused += slotlink_publish(pub, "ps.>", "x", 1, 0) == SLOTLINK_ERR_INVALID_SUBJECT;
  refused += slotlink_try_publish(pub, "ps..x", "x", 1, 0) == SLOTLINK_ERR_INVALID_SUBJECT;
  CHECK("pubsub: patterns and subjects that break the rules are refused with SLOTLINK_ERR_INVALID_SUBJECT", refused == 13 && ok255, "%d of 13 refused, 255 bytes %s", refused, ok255 ? "taken" : "refused");
  slotlink_close(sub);
  slotlink_close(pub);
}

struct waiter {
  slotlink *ep;
  int rc;
  size_t len;
};

static void *receive_one(void *arg) {
  struct waiter *w = arg;
  slotlink_message *m = NULL;
  w->rc = slotlink_receive(w->ep, &m, 5000);
  if (m) w->len = m->len;
  slotlink_message_free(m);
  return NULL;
}

/* subscribe waits for the proxy's answer: it commits first, and another thread receiving meanwhile reads the answer for it. */
static void test_subscribe_waits(void) {
  slotlink *a = must_connect("ps-wait-a");
  struct waiter b = { must_connect("ps-wait-b"), -1, 0 }, self = { a, -1, 0 };
  pthread_t tb, ta;
  pthread_create(&tb, NULL, receive_one, &b);
  slotlink_send(a, "ps-wait-b", "batched", 7, SLOTLINK_MORE); /* stays in the open cell until a blocks */
  int r1 = slotlink_subscribe(a, "wait.one", NULL, &(uint32_t){ 0 });
  pthread_join(tb, NULL);
  CHECK("pubsub: a subscription commits a batched cell before it waits for the proxy", r1 == SLOTLINK_OK && b.rc == SLOTLINK_OK && b.len == 7, "subscribe %s, b received %s", slotlink_code_name(r1), slotlink_code_name(b.rc));
  /* A thread blocked in receive is the one watching the socket: the subscriber is woken through it. */
  pthread_create(&ta, NULL, receive_one, &self);
  uint32_t id = 0;
  int r2 = SLOTLINK_OK;
  for (int i = 0; i < 50 && r2 == SLOTLINK_OK; i++) r2 = slotlink_subscribe(a, "wait.two", NULL, &id);
  slotlink_publish(b.ep, "wait.two", "for-a", 5, 0);
  pthread_join(ta, NULL);
  CHECK("pubsub: subscriptions are confirmed while another thread blocks in receive, which then gets a publication", r2 == SLOTLINK_OK && self.rc == SLOTLINK_OK && self.len == 5,
        "subscribe %s, receive %s (%zu bytes)", slotlink_code_name(r2), slotlink_code_name(self.rc), self.len);
  slotlink_close(a);
  slotlink_close(b.ep);
}

/* After unsubscribe nothing more comes out: what the library held is dropped and counted. */
static void test_unsubscribe(void) {
  slotlink *ep = must_connect("ps-unsub");
  uint32_t keep, gone;
  slotlink_subscribe(ep, "un.x", NULL, &keep);
  slotlink_subscribe(ep, "un.*", NULL, &gone);
  publish_run(ep, "un.x", 0, 5, 8);
  /* A request waits for its answer reading the slot: the publications (before it in the slot) are in the inbox then. */
  hop(ep);
  int u = slotlink_unsubscribe(ep, gone), again = slotlink_unsubscribe(ep, gone);
  int status = slotlink_subscription_status(ep, gone);
  publish_run(ep, "un.x", 5, 10, 8);
  uint32_t got = 0, next = 0, strays = 0;
  slotlink_message *m;
  while (got < 10 && slotlink_receive(ep, &m, 5000) == SLOTLINK_OK) {
    if (m->subscription_id != keep || seq_of(m) != next) strays++;
    next++, got++;
    slotlink_message_free(m);
  }
  hop(ep); /* anything still on its way for `gone` has arrived by now, and been dropped */
  int none = slotlink_receive(ep, &m, 0) == SLOTLINK_AGAIN;
  uint64_t ignored = slotlink_publications_ignored(ep);
  CHECK("pubsub: after unsubscribe nothing more comes out; what was held and what came after is dropped and counted", u == SLOTLINK_OK && again == SLOTLINK_ERR_CLOSED && status == SLOTLINK_ERR_CLOSED && got == 10 && strays == 0 && none && ignored >= 5,
        "unsubscribe %s then %s, status %s, %u of 10 for the other (%u strays), ignored %" PRIu64, slotlink_code_name(u), slotlink_code_name(again), slotlink_code_name(status), got, strays, ignored);
  slotlink_close(ep);
}

/* drop-oldest: what the library holds for the application is bounded; the newest stay. */
static void test_drop_oldest(void) {
  slotlink *ep = must_connect("ps-drop");
  slotlink_subscribe_options o = { .policy = SLOTLINK_POLICY_DROP_OLDEST, .max_queued_bytes = 10 * 1024 };
  uint32_t id;
  int r = slotlink_subscribe(ep, "drop.x", &o, &id);
  /* 100 x 1 KiB fit the slot: the proxy drops none; reading them all while the request waits, the library keeps the last 10. */
  publish_run(ep, "drop.x", 0, 100, 1024);
  hop(ep);
  uint32_t got = 0, first = 0, last = 0;
  slotlink_message *m;
  while (slotlink_receive(ep, &m, 0) == SLOTLINK_OK) {
    if (got++ == 0) first = seq_of(m);
    last = seq_of(m);
    slotlink_message_free(m);
  }
  uint64_t dropped = slotlink_subscription_dropped(ep, id);
  slotlink_stats st;
  slotlink_get_stats(ep, &st);
  CHECK("pubsub: drop-oldest keeps the newest the library holds and counts the rest", r == SLOTLINK_OK && got == 10 && first == 90 && last == 99 && dropped == 90,
        "subscribe %s; got %u (%u..%u), dropped %" PRIu64, slotlink_code_name(r), got, first, last, dropped);
  slotlink_close(ep);
}

/* 4 096 subscriptions started at once, then their answers taken in an event loop; the next is refused. */
static void test_many_subscriptions(void) {
  enum { MAX = 4096 };
  slotlink *ep = must_connect("ps-many");
  static uint32_t ids[MAX];
  int started = 0;
  char pattern[32];
  for (int i = 0; i < MAX; i++) {
    snprintf(pattern, sizeof pattern, "many.%d.>", i);
    if (slotlink_subscribe_start(ep, pattern, NULL, &ids[i]) == SLOTLINK_OK) started++;
  }
  int confirmed = 0, failed = 0, pending = 1;
  static unsigned char done[MAX];
  while (pending && !failed) {
    struct pollfd pfd = { slotlink_fd(ep), POLLIN, 0 };
    if (poll(&pfd, 1, 5000) <= 0) break;
    slotlink_process(ep);
    pending = 0;
    for (int i = 0; i < MAX; i++) {
      if (done[i]) continue;
      int rc = slotlink_subscription_status(ep, ids[i]);
      if (rc == SLOTLINK_AGAIN) pending = 1;
      else if (rc == SLOTLINK_OK) done[i] = 1, confirmed++;
      else failed++;
    }
  }
  uint32_t extra;
  int over = slotlink_subscribe(ep, "many.over", NULL, &extra);
  char why[200];
  snprintf(why, sizeof why, "%s", slotlink_last_error());
  int started_over = slotlink_subscribe_start(ep, "many.over.again", NULL, &extra), refused = SLOTLINK_AGAIN;
  while (refused == SLOTLINK_AGAIN) {
    struct pollfd pfd = { slotlink_fd(ep), POLLIN, 0 };
    if (poll(&pfd, 1, 5000) <= 0) break;
    slotlink_process(ep);
    refused = slotlink_subscription_status(ep, extra);
  }
  int forgotten = slotlink_subscription_status(ep, extra);
  int freed = slotlink_unsubscribe(ep, ids[0]) == SLOTLINK_OK && slotlink_subscribe(ep, "many.after", NULL, &extra) == SLOTLINK_OK;
  CHECK("pubsub: 4096 subscriptions at once are all confirmed; the next is refused by the proxy, then reported once", started == MAX && confirmed == MAX && over == SLOTLINK_ERR_TOO_MANY_SUBSCRIPTIONS && strstr(why, "4096") != NULL &&
        started_over == SLOTLINK_OK && refused == SLOTLINK_ERR_TOO_MANY_SUBSCRIPTIONS && forgotten == SLOTLINK_ERR_CLOSED && freed,
        "%d started, %d confirmed, %d failed; then %s (%s), %s, %s; room after one ended: %d", started, confirmed, failed, slotlink_code_name(over), why, slotlink_code_name(refused), slotlink_code_name(forgotten), freed);
  slotlink_close(ep);
}

/* A proxy that does not answer (stopped): the subscription gives up after its timeout; once it runs again its late answers are ignored. */
static void test_subscribe_timeout(pid_t proxy) {
  slotlink *ep = must_connect("ps-timeout");
  slotlink_subscribe_options o = { .timeout_ms = 300 };
  uint32_t lost = 0, id = 0;
  kill(proxy, SIGSTOP);
  int r = slotlink_subscribe(ep, "late.x", &o, &lost);
  char why[300];
  snprintf(why, sizeof why, "%s", slotlink_last_error());
  kill(proxy, SIGCONT);
  int status = slotlink_subscription_status(ep, 1);
  /* The proxy now reads `subscribe` then `unsubscribe` for id 1, answering both: nothing for this endpoint. */
  int again = slotlink_subscribe(ep, "late.x", NULL, &id);
  slotlink_publish(ep, "late.x", "after", 5, 0);
  slotlink_message *m = NULL;
  int rc = slotlink_receive(ep, &m, 5000);
  int one = rc == SLOTLINK_OK && m->subscription_id == id && id != 1;
  slotlink_message_free(m);
  hop(ep);
  int none = slotlink_receive(ep, &m, 0) == SLOTLINK_AGAIN;
  CHECK("pubsub: with the proxy stopped a subscription gives up after its timeout (REGISTRATION); its late answers are ignored", r == SLOTLINK_ERR_REGISTRATION && strstr(why, "within 300 ms") && status == SLOTLINK_ERR_CLOSED && again == SLOTLINK_OK && one && none && slotlink_end_code(ep) == SLOTLINK_OK,
        "subscribe %s (%s), status of the first %s, then %s; receive %s", slotlink_code_name(r), why, slotlink_code_name(status), slotlink_code_name(again), slotlink_code_name(rc));
  slotlink_close(ep);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s SOCKET [PROXY-PID]\n", argv[0]);
    return 2;
  }
  sock = argv[1];
  test_fork();
  test_event_loop();
  test_async_requests();
  test_threads();
  test_commit_before_blocking();
  hostile(HOSTILE_MARK, "hostile: a mark holding 7 ends the endpoint (BAD_SLOT)", SLOTLINK_ERR_BAD_SLOT, "reader mark holds 7");
  hostile(HOSTILE_BOTH_MARKS, "hostile: a READABLE cell still WRITABLE ends the endpoint (BAD_SLOT)", SLOTLINK_ERR_BAD_SLOT, "writer mark holds 0");
  hostile(HOSTILE_SEQUENCE, "hostile: a cell out of sequence ends the endpoint (BAD_SLOT)", SLOTLINK_ERR_BAD_SLOT, "sequence 5, expected 0");
  hostile(HOSTILE_RECORD, "hostile: a record running past its cell ends the endpoint (BAD_RECORD)", SLOTLINK_ERR_BAD_RECORD, "recordBytes 1073741824 runs past");
  hostile(HOSTILE_PUBLISH_ID, "hostile: a PUBLISH without a subscription id ends the endpoint (BAD_RECORD)", SLOTLINK_ERR_BAD_RECORD, "PUBLISH has requestId 0");
  hostile(HOSTILE_PUBLISH_PATTERN, "hostile: a PUBLISH to a pattern ends the endpoint (BAD_RECORD)", SLOTLINK_ERR_BAD_RECORD, "is not a subject");
  test_publications();
  test_subscribe_waits();
  test_unsubscribe();
  test_drop_oldest();
  test_many_subscriptions();
  if (argc > 2) test_subscribe_timeout((pid_t)atoi(argv[2]));
  return failures ? 1 : 0;
}
