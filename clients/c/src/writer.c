/*
 * The up direction (process -> proxy): packs records into the open cell, commits cells in
 * ring order through the mark devices (docs/slot-layout.md §3, writer), and splits a
 * message larger than a cell into fragments (§4). Mirrors src/slot/cell-writer.ts.
 * Every function runs under the endpoint's mutex, by the thread holding the write lane.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "endpoint.h"
#include "errors.h"
#include "marks.h"

static uint32_t up_cell(const slotlink *ep, uint32_t i) {
  return ep->layout.up_offset + DIRECTION_HEADER_SIZE + i * ep->layout.cell_stride;
}

void ring_proxy(slotlink *ep) {
  uint64_t one = 1;
  /* EAGAIN: the counter is saturated, so a wake-up is pending anyway. */
  if (write(ep->proxy_bell, &one, sizeof one) < 0 && errno != EAGAIN) {
    fail_errno("ringing the proxy's doorbell");
    endpoint_end(ep, SLOTLINK_ERR_SYSCALL, slotlink_last_error());
    return;
  }
  ep->stats.doorbells_rung++;
}

/* 1 writable, 0 not, -1 corrupt (the endpoint has ended). Claims 32, 33. */
static int cell_writable(slotlink *ep, uint32_t cell) {
  int32_t v = mark_load(ep->mem, up_cell(ep, cell) + CELL_HEADER_WRITER_MARK);
  if (v == WRITER_MARK_WRITABLE) return 1;
  if (v == WRITER_MARK_NOT_WRITABLE) return 0;
  char msg[160];
  snprintf(msg, sizeof msg, "up cell %u: writer mark holds %d, expected %d or %d", cell, v, WRITER_MARK_WRITABLE, WRITER_MARK_NOT_WRITABLE);
  endpoint_end(ep, SLOTLINK_ERR_BAD_SLOT, msg);
  return -1;
}

int writer_has_space(slotlink *ep) {
  return cell_writable(ep, ep->w_open ? (ep->w_cell + 1) % ep->layout.cell_count : ep->w_cell);
}

/* Claims 31, 34, 35: header, writer's mark NOT_WRITABLE, reader's mark READABLE, ring if asleep. */
static void commit(slotlink *ep) {
  uint8_t *h = ep->mem + up_cell(ep, ep->w_cell);
  put_u32(h + CELL_HEADER_USED_BYTES, ep->w_used);
  put_u32(h + CELL_HEADER_RECORD_COUNT, ep->w_records);
  put_u32(h + CELL_HEADER_SEQUENCE, ep->w_sequence);
  memset(h + CELL_HEADER_RESERVED, 0, CELL_HEADER_SIZE - CELL_HEADER_RESERVED);
  uint32_t h_off = up_cell(ep, ep->w_cell);
  mark_store(ep->mem, h_off + CELL_HEADER_WRITER_MARK, WRITER_MARK_NOT_WRITABLE);
  mark_store(ep->mem, h_off + CELL_HEADER_READER_MARK, READER_MARK_READABLE);
  ep->w_sequence++;
  ep->w_cell = (ep->w_cell + 1) % ep->layout.cell_count;
  ep->w_open = 0;
  ep->stats.cells_out++;
  if (mark_cas(ep->mem, ep->layout.up_offset + DIRECTION_HEADER_READER_SLEEPING, SLEEP_FLAG_SLEEPING, SLEEP_FLAG_AWAKE)) ring_proxy(ep);
}

void writer_flush(slotlink *ep) {
  if (ep->w_open && ep->w_records > 0) commit(ep);
}

/* Makes room for `bytes` in the open cell or a fresh one: 1 yes, 0 no writable cell, -1 corrupt. */
static int room(slotlink *ep, uint32_t bytes) {
  if (ep->w_open) {
    if (ep->w_used + bytes <= ep->layout.cell_data_bytes) return 1;
    commit(ep);
  }
  int w = cell_writable(ep, ep->w_cell);
  if (w <= 0) return w;
  ep->w_open = 1;
  ep->w_used = 0;
  ep->w_records = 0;
  return 1;
}

/* One record at the end of the open cell; the caller made room. Reserved bytes and padding are zero. */
static void append(slotlink *ep, uint8_t kind, uint8_t flags, const char *addr, size_t alen, uint32_t request_id, const uint8_t *data, uint32_t n, uint32_t total) {
  uint8_t *r = ep->mem + up_cell(ep, ep->w_cell) + CELL_HEADER_SIZE + ep->w_used;
  uint32_t size = (uint32_t)record_bytes(alen, n);
  memset(r, 0, RECORD_HEADER_SIZE);
  put_u32(r + RECORD_HEADER_RECORD_BYTES, size);
  r[RECORD_HEADER_KIND] = kind;
  r[RECORD_HEADER_FLAGS] = flags;
  r[RECORD_HEADER_ADDRESS_BYTES] = (uint8_t)alen;
  put_u32(r + RECORD_HEADER_REQUEST_ID, request_id);
  put_u32(r + RECORD_HEADER_PAYLOAD_BYTES, n);
  put_u32(r + RECORD_HEADER_MESSAGE_BYTES, total);
  if (alen) memcpy(r + RECORD_HEADER_SIZE, addr, alen);
  if (n) memcpy(r + RECORD_HEADER_SIZE + alen, data, n);
  size_t end = RECORD_HEADER_SIZE + alen + n;
  if (size > end) memset(r + end, 0, size - end);
  ep->w_used += size;
  ep->w_records++;
}

/* Bytes of the next fragment, given `used` bytes of the cell taken and a header of `header` bytes. */
static uint32_t chunk_for(const slotlink *ep, uint32_t used, uint32_t header, size_t left) {
  uint32_t fit = (ep->layout.cell_data_bytes - used - header) & ~(RECORD_ALIGN - 1);
  return left < fit ? (uint32_t)left : fit;
}

/*
 * Whether the whole message fits in the ring now, without writing: 1 yes, 0 no,
 * -1 corrupt, -2 never (needs more cells than the ring has). Follows put() step by step.
 */
static int fits_now(slotlink *ep, size_t alen, size_t len) {
  uint32_t cap = ep->layout.cell_data_bytes;
  uint64_t whole = record_bytes(alen, len);
  if (whole <= cap) {
    if (ep->w_open && ep->w_used + whole <= cap) return 1;
    return cell_writable(ep, ep->w_open ? (ep->w_cell + 1) % ep->layout.cell_count : ep->w_cell);
  }
  /* From an empty ring first: a message needing more cells than there are never fits at once. */
  uint32_t cells = 0, used = cap;
  for (size_t offset = 0; offset < len;) {
    uint32_t header = RECORD_HEADER_SIZE + (offset == 0 ? (uint32_t)alen : 0);
    if (used + header + MIN_FRAGMENT > cap) cells++, used = 0;
    uint32_t chunk = chunk_for(ep, used, header, len - offset);
    used += (uint32_t)record_bytes(offset == 0 ? alen : 0, chunk);
    offset += chunk;
  }
  if (cells > ep->layout.cell_count) return -2;
  uint32_t cell = ep->w_cell;
  int open = ep->w_open;
  used = ep->w_used;
  for (size_t offset = 0; offset < len;) {
    uint32_t header = RECORD_HEADER_SIZE + (offset == 0 ? (uint32_t)alen : 0);
    if (!open || used + header + MIN_FRAGMENT > cap) {
      if (open) cell = (cell + 1) % ep->layout.cell_count;
      int w = cell_writable(ep, cell);
      if (w <= 0) return w;
      open = 1;
      used = 0;
    }
    uint32_t chunk = chunk_for(ep, used, header, len - offset);
    used += (uint32_t)record_bytes(offset == 0 ? alen : 0, chunk);
    offset += chunk;
  }
  return 1;
}

/* Blocks until the current write cell is writable (the open one was committed): commit rule. */
static int wait_for_space(slotlink *ep) {
  writer_flush(ep);
  ep->stats.writer_waits++;
  for (;;) {
    if (ep->state == STATE_ENDED) return fail(SLOTLINK_ERR_CLOSED, "endpoint %s ended while waiting for room in its slot: %s", ep->address, ep->end_message);
    int w = cell_writable(ep, ep->w_cell);
    if (w < 0) return fail(ep->end_code, "%s", ep->end_message);
    if (w) return SLOTLINK_OK;
    endpoint_wait(ep, -1, 1);
  }
}

int writer_put(slotlink *ep, uint8_t kind, const char *to, size_t to_len, uint32_t request_id, const uint8_t *data, size_t len) {
  uint32_t cap = ep->layout.cell_data_bytes;
  uint64_t whole = record_bytes(to_len, len);
  int r;
  if (whole <= cap) {
    while ((r = room(ep, (uint32_t)whole)) != 1) {
      if (r < 0) return fail(ep->end_code, "%s", ep->end_message);
      if ((r = wait_for_space(ep)) != SLOTLINK_OK) return r;
    }
    append(ep, kind, RECORD_WHOLE, to, to_len, request_id, data, (uint32_t)len, (uint32_t)len);
  } else {
    /* Fragments repeat the first's kind, requestId and messageBytes; only the first has the address. */
    for (size_t offset = 0; offset < len;) {
      int first = offset == 0;
      size_t alen = first ? to_len : 0;
      uint32_t header = RECORD_HEADER_SIZE + (uint32_t)alen;
      while ((r = room(ep, header + MIN_FRAGMENT)) != 1) {
        if (r < 0) return fail(ep->end_code, "%s", ep->end_message);
        if ((r = wait_for_space(ep)) != SLOTLINK_OK) return r;
      }
      uint32_t chunk = chunk_for(ep, ep->w_used, header, len - offset);
      uint8_t flags = (uint8_t)((first ? RECORD_FLAG_FIRST : 0) | (offset + chunk == len ? RECORD_FLAG_LAST : 0));
      append(ep, kind, flags, to, alen, request_id, data + offset, chunk, (uint32_t)len);
      offset += chunk;
    }
  }
  ep->stats.messages_out++;
  ep->stats.bytes_out += len;
  return SLOTLINK_OK;
}

int writer_try(slotlink *ep, uint8_t kind, const char *to, size_t to_len, uint32_t request_id, const uint8_t *data, size_t len) {
  int f = fits_now(ep, to_len, len);
  if (f == -2) return fail(SLOTLINK_ERR_MESSAGE_TOO_LARGE, "a message of %zu bytes needs more cells than the slot's ring of %u x %u bytes holds at once: send it with slotlink_send(), which waits for each cell", len, ep->layout.cell_count, ep->layout.cell_data_bytes);
  if (f < 0) return fail(ep->end_code, "%s", ep->end_message);
  if (f == 0) {
    writer_flush(ep); /* whatever is open can go now, so room is made sooner */
    return SLOTLINK_AGAIN;
  }
  return writer_put(ep, kind, to, to_len, request_id, data, len); /* fits: never waits */
}
