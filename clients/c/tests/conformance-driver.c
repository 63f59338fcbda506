/*
 * The conformance suite's C driver (test/conformance/): a real libslotlink client driven
 * over a line protocol. Each stdin line is {"id":N,"cmd":"...","args":{...}}; each answer
 * is one stdout line {"id":N,"ok":true,"result":{...}} or {"id":N,"ok":false,"error":
 * {"code":"SLOTLINK_ERR_...","message":"..."}}; events are {"event":"..."} lines. Once
 * connected, a receiver thread takes every message, checks each sender's sequence and
 * payload pattern, and answers requests; commands run on the main thread meanwhile, so
 * the endpoint is used from two threads at once. Publications are kept per subscription
 * (the driver's `key` for it): a publication's payload is its publisher's number and its
 * sequence number (u32 each), checked to arrive in order per publisher, and logged with its
 * subject. Exits when stdin closes.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../slotlink.h"
#include "../src/json.h"

#define MAX_SENDERS 64
#define MAX_BAD 10

static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static slotlink *ep;
static int respond_mode; /* 0 none, 1 echo, 2 own address */
static int verify = 1;   /* check each message's sequence and pattern (benchmarks turn it off) */
static struct { char from[SLOTLINK_MAX_ADDRESS + 1]; uint64_t next; } senders[MAX_SENDERS];
static int sender_count;
static uint64_t received;
static uint64_t wanted; /* what a collect waits for: wake it only then, not per message */
static char bad[MAX_BAD][300];
static int bad_count;
static int ended;
static volatile int stop_sending;

/* Subscriptions, by the test's key for each: what arrived, in order. */
#define MAX_SUBS 64
#define MAX_PUBLISHERS 16
#define LOG_MAX 10000
struct logged { char *subject; uint32_t publisher, seq; };
static struct sub {
  char key[128];
  uint32_t id;
  int open;
  uint64_t received;
  uint32_t publishers[MAX_PUBLISHERS], next[MAX_PUBLISHERS];
  int publisher_count;
  char bad[MAX_BAD][200];
  int bad_count;
  struct logged *log;
  size_t logged;
} subs[MAX_SUBS];
static int sub_count;

static void emit(const char *format, ...) __attribute__((format(printf, 1, 2)));
static void emit(const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  pthread_mutex_lock(&out_mu);
  vprintf(format, ap);
  putchar('\n');
  fflush(stdout);
  pthread_mutex_unlock(&out_mu);
  va_end(ap);
}

/* As test/helpers/payload.ts: u32 sequence number, then (seq + i) & 0xff. */
static void fill_payload(uint8_t *buf, size_t n, uint32_t seq) {
  buf[0] = (uint8_t)seq, buf[1] = (uint8_t)(seq >> 8), buf[2] = (uint8_t)(seq >> 16), buf[3] = (uint8_t)(seq >> 24);
  for (size_t i = 4; i < n; i++) buf[i] = (uint8_t)((seq + i) & 0xff);
}

static int check_payload(const uint8_t *d, size_t n, uint32_t want, char *why, size_t cap) {
  if (n < 4) return snprintf(why, cap, "payload of %zu bytes", n), -1;
  uint32_t seq = (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
  if (seq != want) return snprintf(why, cap, "sequence %u, expected %u", seq, want), -1;
  for (size_t i = 4; i < n; i++)
    if (d[i] != (uint8_t)((seq + i) & 0xff)) return snprintf(why, cap, "byte %zu of message %u is %u", i, seq, d[i]), -1;
  return 0;
}

static void report_undeliverable(void) {
  slotlink_undeliverable u;
  while (slotlink_next_undeliverable(ep, &u) == SLOTLINK_OK) {
    char to[600], msg[1100];
    json_quote(to, sizeof to, u.to);
    json_quote(msg, sizeof msg, u.message);
    emit("{\"event\":\"undeliverable\",\"to\":%s,\"code\":\"%s\",\"message\":%s}", to, slotlink_code_name(u.code), msg);
  }
}

static struct sub *sub_by_key(const char *key) {
  for (int i = 0; i < sub_count; i++)
    if (strcmp(subs[i].key, key) == 0) return &subs[i];
  return NULL;
}

static uint32_t u32le(const uint8_t *d) {
  return (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
}

/* A publication: to its subscription's record (under mu), even one unsubscribed (the library should have dropped it: the test sees it counted). */
static void on_publication(const slotlink_message *m) {
  struct sub *s = NULL;
  for (int i = 0; i < sub_count && !s; i++)
    if (subs[i].id == m->subscription_id) s = &subs[i];
  if (s == NULL) {
    if (bad_count < MAX_BAD) snprintf(bad[bad_count++], sizeof bad[0], "a publication to %s for subscription %u, which was never made here", m->subject, m->subscription_id);
    return;
  }
  if (m->len < 8) {
    if (s->bad_count < MAX_BAD) snprintf(s->bad[s->bad_count++], sizeof s->bad[0], "a publication of %zu bytes", m->len);
    return;
  }
  uint32_t publisher = u32le(m->data), seq = u32le((const uint8_t *)m->data + 4);
  int p;
  for (p = 0; p < s->publisher_count && s->publishers[p] != publisher; p++) {
  }
  if (p == s->publisher_count && p < MAX_PUBLISHERS) s->publishers[s->publisher_count++] = publisher, s->next[p] = 0;
  if (p < MAX_PUBLISHERS) {
    if (seq < s->next[p] && s->bad_count < MAX_BAD) snprintf(s->bad[s->bad_count++], sizeof s->bad[0], "publisher %u: %u after %u", publisher, seq, s->next[p] - 1);
    s->next[p] = seq + 1;
  }
  if (s->logged < LOG_MAX) {
    if (s->log == NULL) s->log = calloc(LOG_MAX, sizeof *s->log);
    s->log[s->logged++] = (struct logged){ strdup(m->subject), publisher, seq };
  }
  s->received++;
}

static void on_message(slotlink_message *m) {
  if (m->kind == SLOTLINK_KIND_PUBLISH) {
    pthread_mutex_lock(&mu);
    on_publication(m);
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    return;
  }
  if (m->is_request && respond_mode) {
    if (respond_mode == 1) slotlink_reply(ep, m, m->data, m->len, 0);
    else slotlink_reply(ep, m, slotlink_address(ep), strlen(slotlink_address(ep)), 0);
    return;
  }
  pthread_mutex_lock(&mu);
  int s;
  for (s = 0; s < sender_count && strcmp(senders[s].from, m->from) != 0; s++) {
  }
  if (s == sender_count && sender_count < MAX_SENDERS) snprintf(senders[sender_count++].from, sizeof senders[0].from, "%s", m->from);
  if (s < MAX_SENDERS) {
    char why[200];
    if (verify && check_payload(m->data, m->len, (uint32_t)senders[s].next, why, sizeof why) < 0 && bad_count < MAX_BAD)
      snprintf(bad[bad_count++], sizeof bad[0], "from %s: %s", m->from, why);
    senders[s].next++;
  }
  received++;
  if (wanted && received >= wanted) pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
}

static void *receiver(void *arg) {
  (void)arg;
  for (unsigned n = 0;; n++) {
    slotlink_message *m;
    int rc = slotlink_receive(ep, &m, 100);
    if (rc == SLOTLINK_OK) {
      on_message(m);
      slotlink_message_free(m);
      if (n % 256 == 0) report_undeliverable();
      continue;
    }
    report_undeliverable();
    if (rc != SLOTLINK_AGAIN) break;
  }
  int code = slotlink_end_code(ep);
  emit("{\"event\":\"close\",\"code\":\"%s\"}", slotlink_code_name(code));
  pthread_mutex_lock(&mu);
  ended = 1;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
  return NULL;
}

static void reply_error(long id, int code) {
  char msg[1100];
  json_quote(msg, sizeof msg, slotlink_last_error());
  emit("{\"id\":%ld,\"ok\":false,\"error\":{\"code\":\"%s\",\"message\":%s}}", id, slotlink_code_name(code), msg);
}

static double num(const json_doc *d, const char *path, double dflt) {
  const json_field *f = json_get(d, path, JSON_NUMBER);
  return f ? f->num : dflt;
}

static int flag(const json_doc *d, const char *path, int dflt) {
  const json_field *f = json_get(d, path, JSON_BOOL);
  return f ? f->boolean : dflt;
}

/* Sends `count` patterned messages, committing every `batch` (SLOTLINK_MORE between; 0: cells commit as they fill). */
static int send_many(const char *to, uint64_t count, size_t size, uint64_t start, int pattern, uint64_t batch) {
  uint8_t *buf = malloc(size < 4 ? 4 : size);
  int rc = SLOTLINK_OK;
  fill_payload(buf, size, (uint32_t)start);
  for (uint64_t i = 0; i < count && rc == SLOTLINK_OK; i++) {
    if (pattern) fill_payload(buf, size, (uint32_t)(start + i));
    int more = (batch == 0 || i % batch != batch - 1) && i + 1 < count;
    rc = slotlink_send(ep, to, buf, size, more ? SLOTLINK_MORE : 0);
  }
  free(buf);
  return rc;
}

struct forever { char to[SLOTLINK_MAX_ADDRESS + 1]; size_t size; uint64_t report; };

static void *send_forever(void *arg) {
  struct forever *f = arg;
  uint8_t *buf = malloc(f->size);
  int reported = 0;
  for (uint64_t seq = 0; !stop_sending; seq++) {
    fill_payload(buf, f->size, (uint32_t)seq);
    int more = seq % 64 != 63;
    if (slotlink_send(ep, f->to, buf, f->size, more ? SLOTLINK_MORE : 0) != SLOTLINK_OK) break; /* ended (e.g. the proxy's drain) */
    if (!reported && seq + 1 >= f->report) {
      slotlink_flush(ep);
      reported = 1;
      emit("{\"event\":\"progress\",\"sent\":%llu}", (unsigned long long)(seq + 1));
    }
  }
  free(buf);
  free(f);
  return NULL;
}

static int by_text(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The CLOCK_REALTIME time `ms` milliseconds from now, for pthread_cond_timedwait. */
static struct timespec deadline_in(int64_t ms) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  t.tv_sec += ms / 1000;
  t.tv_nsec += (ms % 1000) * 1000000;
  if (t.tv_nsec >= 1000000000) t.tv_sec++, t.tv_nsec -= 1000000000;
  return t;
}

/* Waits until subscription `s` has `count` publications (or the deadline), then reports (under mu). */
static void report_publications(long id, struct sub *s, uint64_t count, int64_t timeout) {
  struct timespec deadline = deadline_in(timeout);
  pthread_mutex_lock(&mu);
  while (s->received < count && !ended && pthread_cond_timedwait(&cv, &mu, &deadline) == 0) {
  }
  char *out;
  size_t size;
  FILE *f = open_memstream(&out, &size);
  fprintf(f, "{\"id\":%ld,\"ok\":true,\"result\":{\"received\":%llu,\"dropped\":%llu,\"bad\":[", id, (unsigned long long)s->received,
          (unsigned long long)(s->open ? slotlink_subscription_dropped(ep, s->id) : 0));
  for (int b = 0; b < s->bad_count; b++) {
    char q[700];
    json_quote(q, sizeof q, s->bad[b]);
    fprintf(f, "%s%s", b ? "," : "", q);
  }
  /* Distinct subjects, sorted. */
  char **sorted = malloc(sizeof(char *) * (s->logged + 1));
  for (size_t i = 0; i < s->logged; i++) sorted[i] = s->log[i].subject;
  qsort(sorted, s->logged, sizeof *sorted, by_text);
  fprintf(f, "],\"subjects\":[");
  for (size_t i = 0, n = 0; i < s->logged; i++) {
    if (i > 0 && strcmp(sorted[i], sorted[i - 1]) == 0) continue;
    char q[1600];
    json_quote(q, sizeof q, sorted[i]);
    fprintf(f, "%s%s", n++ ? "," : "", q);
  }
  free(sorted);
  fprintf(f, "],\"log\":[");
  for (size_t i = 0; i < s->logged; i++) {
    char q[1600];
    json_quote(q, sizeof q, s->log[i].subject);
    fprintf(f, "%s[%s,%u,%u]", i ? "," : "", q, s->log[i].publisher, s->log[i].seq);
  }
  fprintf(f, "]}}");
  fclose(f);
  pthread_mutex_unlock(&mu);
  emit("%s", out);
  free(out);
}

/* Publishes `count` messages of `size` bytes as `publisher`, to the space-separated `subjects` in turn. */
static int publish_many(const char *subjects, uint64_t count, size_t size, uint32_t publisher, uint32_t start) {
  char list[4096];
  snprintf(list, sizeof list, "%s", subjects ? subjects : "");
  char *names[64];
  int n = 0;
  for (char *save = NULL, *t = strtok_r(list, " ", &save); t && n < 64; t = strtok_r(NULL, " ", &save)) names[n++] = t;
  if (n == 0) names[n++] = list; /* "" : let the library refuse it */
  if (size < 8) size = 8;
  uint8_t *buf = calloc(1, size);
  int rc = SLOTLINK_OK;
  for (uint64_t i = 0; i < count && rc == SLOTLINK_OK; i++) {
    uint32_t seq = start + (uint32_t)i;
    memcpy(buf, &publisher, 4), memcpy(buf + 4, &seq, 4); /* little-endian hosts only, as the rest */
    rc = slotlink_publish(ep, names[i % (uint64_t)n], buf, size, i + 1 < count && i % 64 != 63 ? SLOTLINK_MORE : 0);
  }
  free(buf);
  return rc;
}

static void command(long id, const char *cmd, const json_doc *d) {
  if (strcmp(cmd, "connect") == 0) {
    slotlink_options o = { 0 };
    o.socket = json_string(d, "args.socket");
    o.group = flag(d, "args.group", 0);
    o.protocol_version = (int)num(d, "args.version", 0);
    const char *respond = json_string(d, "args.respond");
    respond_mode = respond == NULL ? 0 : strcmp(respond, "echo") == 0 ? 1 : 2;
    verify = flag(d, "args.verify", 1);
    int rc = slotlink_connect_ex(&ep, json_string(d, "args.name"), &o);
    if (rc != SLOTLINK_OK) return reply_error(id, rc);
    if (flag(d, "args.consume", 1)) {
      pthread_t t;
      pthread_create(&t, NULL, receiver, NULL);
      pthread_detach(t);
    }
    emit("{\"id\":%ld,\"ok\":true,\"result\":{\"address\":\"%s\",\"pid\":%d}}", id, slotlink_address(ep), (int)getpid());
  } else if (strcmp(cmd, "send") == 0) {
    uint64_t count = (uint64_t)num(d, "args.count", 1);
    int rc = send_many(json_string(d, "args.to"), count, (size_t)num(d, "args.size", 64), (uint64_t)num(d, "args.start", 0), flag(d, "args.pattern", 1), (uint64_t)num(d, "args.batch", 64));
    if (rc != SLOTLINK_OK) return reply_error(id, rc);
    emit("{\"id\":%ld,\"ok\":true,\"result\":{\"sent\":%llu}}", id, (unsigned long long)count);
  } else if (strcmp(cmd, "trySend") == 0) {
    uint8_t buf[64];
    fill_payload(buf, sizeof buf, (uint32_t)num(d, "args.start", 0));
    int rc = slotlink_try_send(ep, json_string(d, "args.to"), buf, sizeof buf, 0);
    if (rc != SLOTLINK_OK && rc != SLOTLINK_AGAIN) return reply_error(id, rc);
    emit("{\"id\":%ld,\"ok\":true,\"result\":{\"accepted\":%s}}", id, rc == SLOTLINK_OK ? "true" : "false");
  } else if (strcmp(cmd, "sendForever") == 0) {
    struct forever *f = calloc(1, sizeof *f);
    snprintf(f->to, sizeof f->to, "%s", json_string(d, "args.to"));
    f->size = (size_t)num(d, "args.size", 64);
    f->report = (uint64_t)num(d, "args.report", 1000);
    pthread_t t;
    pthread_create(&t, NULL, send_forever, f);
    pthread_detach(t);
    emit("{\"id\":%ld,\"ok\":true,\"result\":{}}", id);
  } else if (strcmp(cmd, "request") == 0) {
    const char *to = json_string(d, "args.to");
    int timeout = (int)num(d, "args.timeout", 5000);
    size_t size = (size_t)num(d, "args.size", 0);
    void *reply;
    size_t len;
    if (size > 0) {
      uint8_t *buf = malloc(size);
      fill_payload(buf, size, 7);
      int rc = slotlink_request(ep, to, buf, size, timeout, &reply, &len);
      int intact = rc == SLOTLINK_OK && len == size && memcmp(reply, buf, size) == 0;
      free(buf);
      slotlink_free(reply);
      if (rc != SLOTLINK_OK) return reply_error(id, rc);
      emit("{\"id\":%ld,\"ok\":true,\"result\":{\"bytes\":%zu,\"intact\":%s}}", id, len, intact ? "true" : "false");
    } else {
      const char *data = json_string(d, "args.data");
      if (!data) data = "ping";
      int rc = slotlink_request(ep, to, data, strlen(data), timeout, &reply, &len);
      if (rc != SLOTLINK_OK) return reply_error(id, rc);
      char *text = malloc(len + 1);
      if (len) memcpy(text, reply, len);
      text[len] = '\0';
      char *quoted = malloc(len * 6 + 3);
      json_quote(quoted, len * 6 + 3, text);
      emit("{\"id\":%ld,\"ok\":true,\"result\":{\"reply\":%s}}", id, quoted);
      free(quoted), free(text), slotlink_free(reply);
    }
  } else if (strcmp(cmd, "hop") == 0) {
    /* Round trips to ~proxy, timed here: the median in microseconds. */
    int count = (int)num(d, "args.count", 1000), warm = (int)num(d, "args.warmup", count);
    double *t = malloc(sizeof(double) * (size_t)count);
    for (int i = -warm; i < count; i++) {
      struct timespec a, b;
      clock_gettime(CLOCK_MONOTONIC, &a);
      void *reply;
      size_t len;
      int rc = slotlink_request(ep, "~proxy", "ping-64-bytes-ping-64-bytes-ping-64-bytes-ping-64-bytes-ping-64b", 64, 5000, &reply, &len);
      clock_gettime(CLOCK_MONOTONIC, &b);
      slotlink_free(reply);
      if (rc != SLOTLINK_OK) return free(t), reply_error(id, rc);
      if (i >= 0) t[i] = (double)(b.tv_sec - a.tv_sec) * 1e6 + (double)(b.tv_nsec - a.tv_nsec) / 1e3;
    }
    for (int i = 1; i < count; i++) /* insertion sort: counts are small */
      for (int j = i; j > 0 && t[j - 1] > t[j]; j--) { double x = t[j]; t[j] = t[j - 1]; t[j - 1] = x; }
    emit("{\"id\":%ld,\"ok\":true,\"result\":{\"medianMicros\":%.2f}}", id, t[count / 2]);
    free(t);
  } else if (strcmp(cmd, "collect") == 0) {
    uint64_t count = (uint64_t)num(d, "args.count", 0);
    int64_t timeout = (int64_t)num(d, "args.timeout", 30000);
    struct timespec deadline = deadline_in(timeout);
    pthread_mutex_lock(&mu);
    wanted = count;
    while (received < count && !ended && pthread_cond_timedwait(&cv, &mu, &deadline) == 0) {
    }
    wanted = 0;
    char out[8192];
    size_t n = (size_t)snprintf(out, sizeof out, "{\"id\":%ld,\"ok\":true,\"result\":{\"received\":%llu,\"perSender\":{", id, (unsigned long long)received);
    for (int s = 0; s < sender_count; s++) n += (size_t)snprintf(out + n, sizeof out - n, "%s\"%s\":%llu", s ? "," : "", senders[s].from, (unsigned long long)senders[s].next);
    n += (size_t)snprintf(out + n, sizeof out - n, "},\"bad\":[");
    for (int b = 0; b < bad_count; b++) {
      char q[700];
      json_quote(q, sizeof q, bad[b]);
      n += (size_t)snprintf(out + n, sizeof out - n, "%s%s", b ? "," : "", q);
    }
    snprintf(out + n, sizeof out - n, "]}}");
    pthread_mutex_unlock(&mu);
    emit("%s", out);
  } else if (strcmp(cmd, "stats") == 0) {
    slotlink_stats s;
    slotlink_get_stats(ep, &s);
    emit("{\"id\":%ld,\"ok\":true,\"result\":{\"messagesOut\":%llu,\"messagesIn\":%llu,\"cellsOut\":%llu}}", id, (unsigned long long)s.messages_out, (unsigned long long)s.messages_in, (unsigned long long)s.cells_out);
  } else if (strcmp(cmd, "subscribe") == 0) {
    const char *subject = json_string(d, "args.subject");
    const char *key = json_string(d, "args.key");
    const char *policy = json_string(d, "args.policy");
    slotlink_subscribe_options o = { 0 };
    o.policy = policy && strcmp(policy, "drop-oldest") == 0 ? SLOTLINK_POLICY_DROP_OLDEST : SLOTLINK_POLICY_BLOCK;
    o.max_queued_bytes = (size_t)num(d, "args.maxQueuedBytes", 0);
    pthread_mutex_lock(&mu);
    if (sub_count >= MAX_SUBS) {
      pthread_mutex_unlock(&mu);
      emit("{\"id\":%ld,\"ok\":false,\"error\":{\"code\":\"SLOTLINK_ERR_CONFIG\",\"message\":\"too many subscriptions for the driver\"}}", id);
      return;
    }
    /* Holding mu while the library waits for the proxy's answer: the receiver thread cannot
       file a publication for the new id before the id is known here (it waits for mu). */
    struct sub *s = &subs[sub_count];
    memset(s, 0, sizeof *s);
    snprintf(s->key, sizeof s->key, "%s", key ? key : subject ? subject : "");
    uint32_t sid = 0;
    int rc = slotlink_subscribe(ep, subject, &o, &sid);
    if (rc == SLOTLINK_OK) s->id = sid, s->open = 1, sub_count++;
    pthread_mutex_unlock(&mu);
    if (rc != SLOTLINK_OK) return reply_error(id, rc);
    emit("{\"id\":%ld,\"ok\":true,\"result\":{\"id\":%u}}", id, sid);
  } else if (strcmp(cmd, "unsubscribe") == 0) {
    pthread_mutex_lock(&mu);
    struct sub *s = sub_by_key(json_string(d, "args.key") ? json_string(d, "args.key") : "");
    int rc = s ? slotlink_unsubscribe(ep, s->id) : SLOTLINK_ERR_CONFIG;
    if (s && rc == SLOTLINK_OK) s->open = 0;
    pthread_mutex_unlock(&mu);
    if (rc != SLOTLINK_OK) return reply_error(id, rc);
    emit("{\"id\":%ld,\"ok\":true,\"result\":{}}", id);
  } else if (strcmp(cmd, "publish") == 0) {
    uint64_t count = (uint64_t)num(d, "args.count", 1);
    int rc = publish_many(json_string(d, "args.subject"), count, (size_t)num(d, "args.size", 8), (uint32_t)num(d, "args.publisher", 0), (uint32_t)num(d, "args.start", 0));
    if (rc != SLOTLINK_OK) return reply_error(id, rc);
    emit("{\"id\":%ld,\"ok\":true,\"result\":{\"published\":%llu}}", id, (unsigned long long)count);
  } else if (strcmp(cmd, "publications") == 0) {
    pthread_mutex_lock(&mu);
    struct sub *s = sub_by_key(json_string(d, "args.key") ? json_string(d, "args.key") : "");
    pthread_mutex_unlock(&mu);
    if (s == NULL) {
      emit("{\"id\":%ld,\"ok\":false,\"error\":{\"code\":\"SLOTLINK_ERR_CONFIG\",\"message\":\"no subscription by that key\"}}", id);
      return;
    }
    report_publications(id, s, (uint64_t)num(d, "args.count", 0), (int64_t)num(d, "args.timeout", 30000));
  } else if (strcmp(cmd, "stopSending") == 0) {
    stop_sending = 1;
    emit("{\"id\":%ld,\"ok\":true,\"result\":{}}", id);
  } else {
    emit("{\"id\":%ld,\"ok\":false,\"error\":{\"code\":\"SLOTLINK_ERR_CONFIG\",\"message\":\"unknown command %s\"}}", id, cmd);
  }
}

int main(void) {
  static char line[1 << 16];
  emit("{\"event\":\"ready\"}");
  while (fgets(line, sizeof line, stdin)) {
    json_doc d;
    if (json_parse(&d, line, strcspn(line, "\n")) < 0) {
      fprintf(stderr, "driver: bad command line: %s\n", d.error);
      json_free(&d);
      continue;
    }
    command((long)num(&d, "id", 0), json_string(&d, "cmd") ? json_string(&d, "cmd") : "", &d);
    json_free(&d);
  }
  return 0; /* stdin closed: the test is done with us (the proxy reclaims the slot as we exit) */
}
