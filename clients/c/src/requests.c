/*
 * Requests waiting for their answer. A REPLY or ERROR settles a request only when its
 * requestId is pending here and its address names the destination the request went to
 * (same name; same node and instance when the request named them; "~proxy" only from
 * "~proxy"): anything else is ignored. Each request is settled once. Runs under the mutex.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "endpoint.h"
#include "errors.h"
#include "json.h"


pending_request *requests_find(slotlink *ep, uint32_t id) {
  for (pending_request *p = ep->pending[id % PENDING_BUCKETS]; p; p = p->next)
    if (p->id == id) return p;
  return NULL;
}

int requests_add(slotlink *ep, const char *to, size_t to_len, const address *parsed, pending_request **out) {
  if (ep->pending_count >= MAX_PENDING_REQUESTS)
    return fail(SLOTLINK_ERR_TOO_MANY_REQUESTS, "%u requests are already waiting for answers: wait for some before sending more", ep->pending_count);
  pending_request *p = calloc(1, sizeof *p);
  if (p == NULL) return fail(SLOTLINK_ERR_SYSCALL, "out of memory for a request");
  /* Ids count up from 1 (0 is a SEND's), skipping any still waiting after a wrap-around. */
  do {
    p->id = ep->next_request_id++;
    if (ep->next_request_id == 0) ep->next_request_id = 1;
  } while (p->id == 0 || requests_find(ep, p->id) != NULL);
  p->to = *parsed;
  memcpy(p->to_text, to, to_len);
  p->to_text[to_len] = '\0';
  p->next = ep->pending[p->id % PENDING_BUCKETS];
  ep->pending[p->id % PENDING_BUCKETS] = p;
  ep->pending_count++;
  *out = p;
  return SLOTLINK_OK;
}

void requests_remove(slotlink *ep, pending_request *p) {
  for (pending_request **q = &ep->pending[p->id % PENDING_BUCKETS]; *q; q = &(*q)->next) {
    if (*q == p) {
      *q = p->next;
      ep->pending_count--;
      free(p->reply);
      free(p);
      return;
    }
  }
}

int parse_error_payload(const uint8_t *payload, size_t len, char *message, size_t cap) {
  json_doc doc;
  int code = SLOTLINK_ERR_REMOTE;
  if (json_parse(&doc, (const char *)payload, len) == 0 && json_string(&doc, "code") != NULL) {
    code = slotlink_code_from_name(json_string(&doc, "code"));
    const char *m = json_string(&doc, "message");
    snprintf(message, cap, "%s", m ? m : "");
  } else {
    /* Not the JSON it should be: keep the start of it as text. */
    size_t n = len < cap - 1 ? len : cap - 1;
    if (n > 200) n = 200;
    memcpy(message, payload, n);
    message[n] = '\0';
  }
  json_free(&doc);
  return code;
}

void requests_answer(slotlink *ep, uint8_t kind, uint32_t id, const char *from, size_t from_len, const uint8_t *payload, size_t len) {
  pending_request *p = requests_find(ep, id);
  if (p == NULL || p->settled) return;
  address replier;
  const char *why;
  if (address_parse(from, from_len, &replier, &why) < 0 || !address_answers(&p->to, &replier)) return;
  p->settled = 1;
  if (kind == RECORD_KIND_REPLY) {
    p->code = SLOTLINK_OK;
    if (len > 0) {
      p->reply = malloc(len);
      if (p->reply == NULL) {
        p->code = SLOTLINK_ERR_SYSCALL;
        snprintf(p->message, sizeof p->message, "out of memory for a reply of %zu bytes", len);
      } else {
        memcpy(p->reply, payload, len);
        p->reply_len = len;
      }
    }
  } else {
    p->code = parse_error_payload(payload, len, p->message, sizeof p->message);
  }
  endpoint_notify(ep);
}

void requests_fail_all(slotlink *ep) {
  for (int b = 0; b < PENDING_BUCKETS; b++) {
    for (pending_request *p = ep->pending[b]; p; p = p->next) {
      if (p->settled) continue;
      p->settled = 1;
      p->code = SLOTLINK_ERR_CLOSED;
      snprintf(p->message, sizeof p->message, "endpoint %s is closed (%s: %.200s)", ep->address, slotlink_code_name(ep->end_code), ep->end_message);
    }
  }
  endpoint_notify(ep);
}
