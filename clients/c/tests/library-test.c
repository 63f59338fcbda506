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
 *               mark, a READABLE cell still WRITABLE, a bad sequence, a bad record each end
 *               the endpoint with SLOTLINK_ERR_BAD_SLOT / SLOTLINK_ERR_BAD_RECORD
 * Prints "ok NAME" or "not ok NAME: why" per check; exits 1 if any failed.
 */
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
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

enum { HOSTILE_MARK, HOSTILE_BOTH_MARKS, HOSTILE_SEQUENCE, HOSTILE_RECORD };

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

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s SOCKET\n", argv[0]);
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
  return failures ? 1 : 0;
}
