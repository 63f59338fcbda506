/*
 * The down direction (proxy -> process): takes each readable cell in ring order, checks
 * its header, copies its data out, releases it through the mark devices
 * (docs/slot-layout.md §3, reader), then checks and dispatches its records (§4),
 * reassembling fragmented messages. Shared memory is hostile input: every field is read
 * once into a local and checked before use, and records are parsed from the private copy.
 * Mirrors src/slot/cell-reader.ts, record.ts and reassembler.ts. A PUBLISH must carry a
 * subscription id (its requestId, never 0 in this direction) and, as its address, a subject
 * without wildcards (docs/slot-layout.md §4, §8); anything else is BAD_RECORD, as any other
 * record that breaks §4. Runs under the mutex.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "endpoint.h"
#include "errors.h"
#include "marks.h"
#include "subject.h"

static uint32_t down_cell(const slotlink *ep, uint32_t i) {
  return ep->layout.down_offset + DIRECTION_HEADER_SIZE + i * ep->layout.cell_stride;
}

static int bad(slotlink *ep, int code, const char *format, ...) __attribute__((format(printf, 3, 4)));
static int bad(slotlink *ep, int code, const char *format, ...) {
  char msg[400];
  va_list ap;
  va_start(ap, format);
  vsnprintf(msg, sizeof msg, format, ap);
  va_end(ap);
  endpoint_end(ep, code, msg);
  return -1;
}

/* Whether the reader's mark of `cell` is READABLE: 1, 0, or -1 corrupt (claim 36; rule: both marks checked). */
static int cell_readable(slotlink *ep, uint32_t cell) {
  uint32_t h = down_cell(ep, cell);
  int32_t rm = mark_load(ep->mem, h + CELL_HEADER_READER_MARK);
  if (rm == READER_MARK_NOT_READABLE) return 0;
  if (rm != READER_MARK_READABLE) return bad(ep, SLOTLINK_ERR_BAD_SLOT, "down cell %u: reader mark holds %d, expected %d or %d", cell, rm, READER_MARK_NOT_READABLE, READER_MARK_READABLE);
  int32_t wm = mark_load(ep->mem, h + CELL_HEADER_WRITER_MARK);
  if (wm != WRITER_MARK_NOT_WRITABLE)
    return bad(ep, SLOTLINK_ERR_BAD_SLOT, "down cell %u: reader mark is READABLE but writer mark holds %d, expected NOT_WRITABLE (%d)", cell, wm, WRITER_MARK_NOT_WRITABLE);
  return 1;
}

int reader_sleep(slotlink *ep) {
  uint32_t flag = ep->layout.down_offset + DIRECTION_HEADER_READER_SLEEPING;
  mark_store(ep->mem, flag, SLEEP_FLAG_SLEEPING);
  if (cell_readable(ep, ep->r_cell) != 0) {
    mark_store(ep->mem, flag, SLEEP_FLAG_AWAKE);
    return 0;
  }
  return 1;
}

static int address_ascii(const uint8_t *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] < 0x21 || s[i] > 0x7e) return 0;
  return 1;
}

/*
 * A message of `kind` and `len` bytes whose record address is `addr`, allocated as an
 * inbox entry (payload filled later). A publication's address is its subject; its `from` is
 * "" (the NUL after the subject).
 */
static inbox_message *new_message(uint8_t kind, const uint8_t *addr, size_t addr_len, size_t len) {
  inbox_message *m = malloc(sizeof *m + addr_len + 1 + len + 1);
  if (m == NULL) return NULL;
  memset(m, 0, sizeof *m);
  char *a = (char *)(m + 1);
  memcpy(a, addr, addr_len);
  a[addr_len] = '\0';
  uint8_t *d = (uint8_t *)a + addr_len + 1;
  d[len] = 0;
  m->pub.kind = kind;
  m->pub.from = kind == RECORD_KIND_PUBLISH ? a + addr_len : a;
  m->pub.subject = kind == RECORD_KIND_PUBLISH ? a : NULL;
  m->pub.data = d;
  m->pub.len = len;
  m->bytes = len;
  return m;
}

static void undeliverable(slotlink *ep, const char *to, const uint8_t *payload, size_t len) {
  uint32_t at;
  if (ep->undeliverable_count < UNDELIVERABLE_KEPT) {
    at = (ep->undeliverable_head + ep->undeliverable_count++) % UNDELIVERABLE_KEPT;
  } else { /* keep the latest: drop the oldest */
    at = ep->undeliverable_head;
    ep->undeliverable_head = (ep->undeliverable_head + 1) % UNDELIVERABLE_KEPT;
  }
  slotlink_undeliverable *u = &ep->undeliverable[at];
  snprintf(u->to, sizeof u->to, "%s", to);
  u->code = parse_error_payload(payload, len, u->message, sizeof u->message);
}

/* A complete message: to the inbox, to the request it answers, or to the undeliverable reports. */
static void dispatch(slotlink *ep, uint8_t kind, uint32_t request_id, inbox_message *m) {
  ep->stats.messages_in++;
  ep->stats.bytes_in += m->pub.len;
  switch (kind) {
    case RECORD_KIND_SEND:
    case RECORD_KIND_REQUEST:
      m->pub.is_request = kind == RECORD_KIND_REQUEST;
      m->pub.request_id = request_id;
      inbox_push(ep, m);
      break;
    case RECORD_KIND_PUBLISH:
      subs_deliver(ep, request_id, m); /* request_id is the subscription's id */
      break;
    case RECORD_KIND_REPLY:
      requests_answer(ep, kind, request_id, m->pub.from, strlen(m->pub.from), m->pub.data, m->pub.len);
      free(m);
      break;
    default: /* ERROR */
      if (request_id != 0) requests_answer(ep, kind, request_id, m->pub.from, strlen(m->pub.from), m->pub.data, m->pub.len);
      else undeliverable(ep, m->pub.from, m->pub.data, m->pub.len);
      free(m);
      break;
  }
  endpoint_notify(ep);
}

/* Checks and dispatches the `count` records of a cell copied into ep->r_copy. 0, or -1 (ended). */
static int parse_records(slotlink *ep, uint32_t cell, uint32_t used, uint32_t count) {
  const uint8_t *data = ep->r_copy;
  uint32_t at = 0;
  for (uint32_t i = 0; i < count; i++) {
    if (used - at < RECORD_HEADER_SIZE) return bad(ep, SLOTLINK_ERR_BAD_RECORD, "down cell %u record %u at offset %u: header needs %d bytes, only %u remain", cell, i, at, RECORD_HEADER_SIZE, used - at);
    const uint8_t *r = data + at;
    uint32_t size = get_u32(r + RECORD_HEADER_RECORD_BYTES);
    uint8_t kind = r[RECORD_HEADER_KIND], flags = r[RECORD_HEADER_FLAGS], alen = r[RECORD_HEADER_ADDRESS_BYTES], reserved = r[RECORD_HEADER_RESERVED];
    uint32_t request_id = get_u32(r + RECORD_HEADER_REQUEST_ID);
    uint32_t plen = get_u32(r + RECORD_HEADER_PAYLOAD_BYTES);
    uint32_t mbytes = get_u32(r + RECORD_HEADER_MESSAGE_BYTES);
    uint32_t reserved2 = get_u32(r + RECORD_HEADER_RESERVED2);
#define WHERE "down cell %u record %u at offset %u: "
    if (kind < RECORD_KIND_SEND || kind > RECORD_KIND_PUBLISH) return bad(ep, SLOTLINK_ERR_BAD_RECORD, WHERE "kind %u is not a record kind", cell, i, at, kind);
    if (flags & ~RECORD_WHOLE) return bad(ep, SLOTLINK_ERR_BAD_RECORD, WHERE "flags 0x%x has unknown bits", cell, i, at, flags);
    if (reserved != 0 || reserved2 != 0) return bad(ep, SLOTLINK_ERR_BAD_RECORD, WHERE "reserved fields hold %u and %u, expected 0", cell, i, at, reserved, reserved2);
    if (size > used - at) return bad(ep, SLOTLINK_ERR_BAD_RECORD, WHERE "recordBytes %u runs past the cell's %u used bytes", cell, i, at, size, used);
    if (size != record_bytes(alen, plen)) return bad(ep, SLOTLINK_ERR_BAD_RECORD, WHERE "recordBytes %u does not match addressBytes %u + payloadBytes %u", cell, i, at, size, alen, plen);
    if (mbytes > ep->layout.max_message_bytes) return bad(ep, SLOTLINK_ERR_BAD_RECORD, WHERE "messageBytes %u exceeds the maximum %u", cell, i, at, mbytes, ep->layout.max_message_bytes);
    if (plen > mbytes) return bad(ep, SLOTLINK_ERR_BAD_RECORD, WHERE "payloadBytes %u exceeds messageBytes %u", cell, i, at, plen, mbytes);
    if (flags == RECORD_WHOLE && plen != mbytes) return bad(ep, SLOTLINK_ERR_BAD_RECORD, WHERE "a whole message has payloadBytes %u but messageBytes %u", cell, i, at, plen, mbytes);
    int first = (flags & RECORD_FLAG_FIRST) != 0;
    if (!first && alen != 0) return bad(ep, SLOTLINK_ERR_BAD_RECORD, WHERE "a continuation fragment carries an address", cell, i, at);
    if (first && (alen == 0 || !address_ascii(r + RECORD_HEADER_SIZE, alen))) return bad(ep, SLOTLINK_ERR_BAD_RECORD, WHERE "the address (%u bytes) is empty or not printable ASCII", cell, i, at, alen);
    if (kind == RECORD_KIND_SEND && request_id != 0) return bad(ep, SLOTLINK_ERR_BAD_RECORD, WHERE "a SEND has requestId %u, expected 0", cell, i, at, request_id);
    if ((kind == RECORD_KIND_REQUEST || kind == RECORD_KIND_REPLY) && request_id == 0) return bad(ep, SLOTLINK_ERR_BAD_RECORD, WHERE "a %s has requestId 0", cell, i, at, kind == RECORD_KIND_REQUEST ? "REQUEST" : "REPLY");
    if (kind == RECORD_KIND_PUBLISH && request_id == 0) return bad(ep, SLOTLINK_ERR_BAD_RECORD, WHERE "a PUBLISH has requestId 0, expected the id of a subscription", cell, i, at);
    if (kind == RECORD_KIND_PUBLISH && first) {
      char why[200];
      if (subject_check((const char *)r + RECORD_HEADER_SIZE, alen, 0, why, sizeof why) < 0)
        return bad(ep, SLOTLINK_ERR_BAD_RECORD, WHERE "a PUBLISH's address \"%.*s\" is not a subject: %s", cell, i, at, (int)alen, (const char *)r + RECORD_HEADER_SIZE, why);
    }
    const uint8_t *payload = r + RECORD_HEADER_SIZE + alen;
    if (flags == RECORD_WHOLE) {
      if (ep->frag.active) return bad(ep, SLOTLINK_ERR_BAD_RECORD, WHERE "a whole message arrived in the middle of a fragmented one", cell, i, at);
      inbox_message *m = new_message(kind, r + RECORD_HEADER_SIZE, alen, plen);
      if (m == NULL) return bad(ep, SLOTLINK_ERR_SYSCALL, "out of memory for a message of %u bytes", plen);
      memcpy((uint8_t *)m->pub.data, payload, plen);
      dispatch(ep, kind, request_id, m);
    } else {
      if (first) {
        if (ep->frag.active) return bad(ep, SLOTLINK_ERR_BAD_RECORD, WHERE "a new fragmented message started before the previous one ended", cell, i, at);
        inbox_message *m = new_message(kind, r + RECORD_HEADER_SIZE, alen, mbytes);
        if (m == NULL) return bad(ep, SLOTLINK_ERR_SYSCALL, "out of memory for a message of %u bytes", mbytes);
        ep->frag.active = 1;
        ep->frag.kind = kind;
        ep->frag.request_id = request_id;
        ep->frag.message_bytes = mbytes;
        ep->frag.filled = 0;
        ep->frag.buf = (uint8_t *)m;
      } else {
        if (!ep->frag.active) return bad(ep, SLOTLINK_ERR_BAD_RECORD, WHERE "a continuation fragment arrived with no message started", cell, i, at);
        if (kind != ep->frag.kind || request_id != ep->frag.request_id || mbytes != ep->frag.message_bytes)
          return bad(ep, SLOTLINK_ERR_BAD_RECORD, WHERE "a continuation fragment (kind %u, requestId %u, messageBytes %u) does not match its message", cell, i, at, kind, request_id, mbytes);
      }
      inbox_message *m = (inbox_message *)(void *)ep->frag.buf;
      if (plen > ep->frag.message_bytes - ep->frag.filled) return bad(ep, SLOTLINK_ERR_BAD_RECORD, WHERE "fragments add up to more than messageBytes %u", cell, i, at, ep->frag.message_bytes);
      memcpy((uint8_t *)m->pub.data + ep->frag.filled, payload, plen);
      ep->frag.filled += plen;
      if (flags & RECORD_FLAG_LAST) {
        if (ep->frag.filled != ep->frag.message_bytes) return bad(ep, SLOTLINK_ERR_BAD_RECORD, WHERE "the last fragment ended the message at %u of %u bytes", cell, i, at, ep->frag.filled, ep->frag.message_bytes);
        ep->frag.active = 0;
        ep->frag.buf = NULL;
        dispatch(ep, kind, request_id, m);
      }
    }
    at += size;
#undef WHERE
  }
  if (at != used) return bad(ep, SLOTLINK_ERR_BAD_RECORD, "down cell %u: usedBytes %u but its %u records add up to %u bytes", cell, used, count, at);
  return 0;
}

/* Takes cell r_cell if readable: 1 taken, 0 nothing, -1 ended. */
static int take(slotlink *ep) {
  uint32_t cell = ep->r_cell;
  int r = cell_readable(ep, cell);
  if (r <= 0) return r;
  uint32_t h = down_cell(ep, cell);
  const uint8_t *hp = ep->mem + h;
  uint32_t used = get_u32(hp + CELL_HEADER_USED_BYTES);
  uint32_t count = get_u32(hp + CELL_HEADER_RECORD_COUNT);
  uint32_t sequence = get_u32(hp + CELL_HEADER_SEQUENCE);
  if (sequence != ep->r_sequence) return bad(ep, SLOTLINK_ERR_BAD_SLOT, "down cell %u: sequence %u, expected %u (cells must be committed in ring order)", cell, sequence, ep->r_sequence);
  if (used > ep->layout.cell_data_bytes) return bad(ep, SLOTLINK_ERR_BAD_SLOT, "down cell %u: usedBytes %u exceeds the cell's %u data bytes", cell, used, ep->layout.cell_data_bytes);
  if (count == 0 || (uint64_t)count * RECORD_HEADER_SIZE > used) return bad(ep, SLOTLINK_ERR_BAD_SLOT, "down cell %u: recordCount %u does not fit in usedBytes %u", cell, count, used);
  memcpy(ep->r_copy, hp + CELL_HEADER_SIZE, used);
  /* Claims 37, 39 then 38: reader's mark NOT_READABLE, writer's mark WRITABLE, ring a waiting writer. */
  mark_store(ep->mem, h + CELL_HEADER_READER_MARK, READER_MARK_NOT_READABLE);
  mark_store(ep->mem, h + CELL_HEADER_WRITER_MARK, WRITER_MARK_WRITABLE);
  ep->r_sequence++;
  ep->r_cell = (cell + 1) % ep->layout.cell_count;
  ep->stats.cells_in++;
  if (mark_cas(ep->mem, ep->layout.down_offset + DIRECTION_HEADER_WRITER_WAITING, WAIT_FLAG_WAITING, WAIT_FLAG_NOT_WAITING)) ring_proxy(ep);
  return parse_records(ep, cell, used, count) < 0 ? -1 : 1;
}

void reader_service(slotlink *ep) {
  if (ep->mem == NULL) return;
  /* Past the inbox limit the slot is not read (back pressure), unless an answer is awaited or the endpoint ended. */
  while (ep->inbox_bytes < ep->max_inbox_bytes || ep->pending_count > 0 || ep->state == STATE_ENDED) {
    if (take(ep) <= 0) return;
  }
}
