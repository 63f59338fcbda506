/*
 * The endpoint's subscriptions (docs/slot-layout.md §1 and §8), as src/client/subscriptions.ts:
 * each has an id this endpoint chose, sent to the proxy in a `subscribe` frame; the proxy's
 * `subscribed`, `unsubscribed` and `dropped` frames are matched to it here, and PUBLISH
 * records carry it. Records for an id no longer held (they were on their way when it
 * ended) are dropped and counted. Runs under the mutex.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "endpoint.h"
#include "errors.h"
#include "json.h"
#include "subject.h"

/* Ids travel in a record's requestId: a u32 other than 0. */
#define MAX_SUBSCRIPTION_ID 0xffffffffu

subscription *subs_find(slotlink *ep, uint32_t id) {
  for (subscription *s = ep->subs[id % SUBSCRIPTION_BUCKETS]; s; s = s->next)
    if (s->id == id) return s;
  return NULL;
}

int subs_start(slotlink *ep, const char *pattern, const slotlink_subscribe_options *o, subscription **out) {
  if (pattern == NULL) return fail(SLOTLINK_ERR_INVALID_SUBJECT, "invalid subscription subject (NULL): expected tokens separated by dots, like \"prices.eu.*\"");
  size_t n = strnlen(pattern, MAX_ADDRESS_BYTES + 1);
  char why[200];
  if (subject_check(pattern, n, 1, why, sizeof why) < 0)
    return fail(SLOTLINK_ERR_INVALID_SUBJECT, "invalid subscription subject \"%.300s\": %s (expected tokens separated by dots, like \"prices.eu.fr\"; \"*\" matches one token, a last \">\" the rest)", pattern, why);
  int policy = o ? o->policy : SLOTLINK_POLICY_BLOCK;
  if (policy != SLOTLINK_POLICY_BLOCK && policy != SLOTLINK_POLICY_DROP_OLDEST)
    return fail(SLOTLINK_ERR_CONFIG, "subscription policy %d is neither SLOTLINK_POLICY_BLOCK nor SLOTLINK_POLICY_DROP_OLDEST", policy);
  size_t max_queued = o && o->max_queued_bytes ? o->max_queued_bytes : DEFAULT_MAX_QUEUED_BYTES;
  if (max_queued > (size_t)1 << 53) max_queued = (size_t)1 << 53; /* the proxy reads a JSON number */
  subscription *s = calloc(1, sizeof *s);
  if (s == NULL) return fail(SLOTLINK_ERR_SYSCALL, "out of memory for a subscription");
  /* Ids count up from 1, skipping any still held after a wrap-around. */
  do {
    s->id = ep->next_sub_id++;
    if (ep->next_sub_id == 0) ep->next_sub_id = 1;
  } while (s->id == 0 || subs_find(ep, s->id) != NULL);
  s->state = SUB_PENDING;
  s->drop_oldest = policy == SLOTLINK_POLICY_DROP_OLDEST;
  s->max_queued_bytes = max_queued;
  char quoted[MAX_ADDRESS_BYTES * 6 + 3], frame[sizeof quoted + 160];
  json_quote(quoted, sizeof quoted, pattern);
  if (s->drop_oldest)
    snprintf(frame, sizeof frame, "{\"op\":\"subscribe\",\"id\":%u,\"subject\":%s,\"policy\":\"drop-oldest\",\"maxQueuedBytes\":%zu}", s->id, quoted, max_queued);
  else
    snprintf(frame, sizeof frame, "{\"op\":\"subscribe\",\"id\":%u,\"subject\":%s,\"policy\":\"block\"}", s->id, quoted);
  /* In the table first: the proxy may answer, and publish to it, before this returns. */
  s->next = ep->subs[s->id % SUBSCRIPTION_BUCKETS];
  ep->subs[s->id % SUBSCRIPTION_BUCKETS] = s;
  ep->sub_count++;
  int r = control_send(ep, frame);
  if (r != SLOTLINK_OK) {
    subs_remove(ep, s, 0);
    return r;
  }
  *out = s;
  return SLOTLINK_OK;
}

void subs_remove(slotlink *ep, subscription *sub, int tell) {
  for (subscription **q = &ep->subs[sub->id % SUBSCRIPTION_BUCKETS]; *q; q = &(*q)->next) {
    if (*q != sub) continue;
    *q = sub->next;
    ep->sub_count--;
    while (sub->held_head) {
      inbox_drop_held(ep, sub);
      ep->publications_ignored++;
    }
    if (tell && ep->state != STATE_ENDED && sub->state != SUB_REFUSED) {
      char frame[64];
      snprintf(frame, sizeof frame, "{\"op\":\"unsubscribe\",\"id\":%u}", sub->id);
      control_send(ep, frame); /* a failure ends the endpoint: the subscription is over either way */
    }
    free(sub);
    endpoint_notify(ep); /* a thread waiting for its answer looks again (and finds it gone) */
    return;
  }
}

void subs_deliver(slotlink *ep, uint32_t id, inbox_message *m) {
  subscription *s = subs_find(ep, id);
  if (s == NULL || s->state == SUB_REFUSED) {
    ep->publications_ignored++;
    free(m);
    return;
  }
  s->received++;
  m->pub.subscription_id = id;
  m->sub = s;
  inbox_push(ep, m);
}

static int frame_id(const json_doc *d, uint32_t *id) {
  unsigned v;
  if (json_u32(d, "id", &v) < 0 || v == 0) return -1;
  *id = v;
  return 0;
}

int subs_control(slotlink *ep, const char *op, const json_doc *d) {
  uint32_t id;
  if (strcmp(op, "subscribed") == 0) {
    subscription *s = frame_id(d, &id) == 0 ? subs_find(ep, id) : NULL;
    if (s && s->state == SUB_PENDING) s->state = SUB_ACTIVE;
  } else if (strcmp(op, "unsubscribed") == 0) {
    /* With a code it refuses a subscription; without, it answers an unsubscribe (already forgotten here). */
    subscription *s = frame_id(d, &id) == 0 ? subs_find(ep, id) : NULL;
    const char *code = json_string(d, "code");
    if (s && code && s->state != SUB_REFUSED) {
      const char *message = json_string(d, "message");
      s->state = SUB_REFUSED;
      s->code = slotlink_code_from_name(code);
      snprintf(s->message, sizeof s->message, "%s", message ? message : "the proxy refused the subscription");
      while (s->held_head) { /* none should be there: the proxy writes no record for it after refusing */
        inbox_drop_held(ep, s);
        ep->publications_ignored++;
      }
    }
  } else if (strcmp(op, "dropped") == 0) {
    const json_field *f = json_get(d, "messages", JSON_NUMBER);
    subscription *s = frame_id(d, &id) == 0 ? subs_find(ep, id) : NULL;
    if (s && f && f->num > 0 && f->num < 1e18) s->dropped += (uint64_t)f->num;
  } else {
    return 0;
  }
  endpoint_notify(ep);
  return 1;
}

void subs_free_all(slotlink *ep) {
  for (int b = 0; b < SUBSCRIPTION_BUCKETS; b++)
    for (subscription *s = ep->subs[b], *next; s; s = next) next = s->next, free(s);
  memset(ep->subs, 0, sizeof ep->subs);
  ep->sub_count = 0;
}
