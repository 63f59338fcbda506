/*
 * The inbox: complete messages taken from the slot that the application has not received
 * yet, in arrival order (a doubly linked list). Sends and requests, and publications of
 * `block` subscriptions, count against max_inbox_bytes: past it the slot is not read (the
 * proxy then holds the senders back). A `drop-oldest` subscription's publications count
 * against its own max_queued_bytes instead: past it, its oldest held publication is dropped
 * and counted (docs/slot-layout.md §8: the client applies the policy to what it holds), so
 * a subscriber falling behind never stops the slot being read. Each subscription also links
 * its own publications, oldest first, so dropping its oldest or forgetting them all when it
 * ends costs no search. Runs under the mutex.
 */
#include <stdlib.h>

#include "endpoint.h"

static size_t *counter(slotlink *ep, const inbox_message *m) {
  return m->sub && m->sub->drop_oldest ? &m->sub->held_bytes : &ep->inbox_bytes;
}

static void unlink_message(slotlink *ep, inbox_message *m) {
  if (m->prev) m->prev->next = m->next;
  else ep->inbox_head = m->next;
  if (m->next) m->next->prev = m->prev;
  else ep->inbox_tail = m->prev;
  *counter(ep, m) -= m->bytes;
  m->next = m->prev = NULL;
}

void inbox_push(slotlink *ep, inbox_message *m) {
  m->next = NULL;
  m->prev = ep->inbox_tail;
  if (ep->inbox_tail) ep->inbox_tail->next = m;
  else ep->inbox_head = m;
  ep->inbox_tail = m;
  *counter(ep, m) += m->bytes;
  subscription *sub = m->sub;
  if (sub == NULL) return;
  m->sub_next = NULL;
  if (sub->held_tail) sub->held_tail->sub_next = m;
  else sub->held_head = m;
  sub->held_tail = m;
  if (!sub->drop_oldest) return;
  /* Keep the newest, however large: as src/client/subscription.ts. */
  while (sub->held_bytes > sub->max_queued_bytes && sub->held_head != m) {
    inbox_drop_held(ep, sub);
    sub->dropped++;
  }
}

void inbox_drop_held(slotlink *ep, subscription *sub) {
  inbox_message *m = sub->held_head;
  sub->held_head = m->sub_next;
  if (sub->held_head == NULL) sub->held_tail = NULL;
  unlink_message(ep, m);
  free(m);
}

slotlink_message *inbox_pop(slotlink *ep) {
  inbox_message *m = ep->inbox_head;
  if (m == NULL) return NULL;
  unlink_message(ep, m);
  subscription *sub = m->sub;
  if (sub) {
    /* Arrival order: a subscription's oldest held publication is the oldest of the inbox's. */
    sub->held_head = m->sub_next;
    if (sub->held_head == NULL) sub->held_tail = NULL;
    m->sub = NULL;
    m->sub_next = NULL;
  }
  return &m->pub;
}

void inbox_free_all(slotlink *ep) {
  for (inbox_message *m = ep->inbox_head, *next; m; m = next) next = m->next, free(m);
  ep->inbox_head = ep->inbox_tail = NULL;
}
