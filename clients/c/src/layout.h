/*
 * What a process and its proxy share, as named constants: docs/slot-layout.md §2–§4.
 * Mirrors src/slot/layout.ts, src/slot/mark-device.ts and src/slot/record.ts (same names).
 * All integers are little-endian; every state word is an aligned 32-bit integer accessed
 * with sequentially consistent atomics (marks.h).
 */
#ifndef SLOTLINK_LAYOUT_H
#define SLOTLINK_LAYOUT_H

#include <stdint.h>

#define SLOT_MAGIC 0x544F4C53u /* "SLOT" read as a little-endian u32 */
#define LAYOUT_VERSION 1u

/* Slot header (written once by the proxy). */
enum {
  SLOT_HEADER_MAGIC = 0,
  SLOT_HEADER_LAYOUT_VERSION = 4,
  SLOT_HEADER_SLOT_ID = 8,
  SLOT_HEADER_GENERATION = 12,
  SLOT_HEADER_CELL_COUNT = 16,
  SLOT_HEADER_CELL_DATA_BYTES = 20,
  SLOT_HEADER_UP_OFFSET = 24,
  SLOT_HEADER_DOWN_OFFSET = 28,
  SLOT_HEADER_TOTAL_BYTES = 32,
  SLOT_HEADER_MAX_MESSAGE_BYTES = 36,
  SLOT_HEADER_SIZE = 128,
};

/* Direction header: the two flags sit on separate cache lines. */
enum {
  DIRECTION_HEADER_READER_SLEEPING = 0,
  DIRECTION_HEADER_WRITER_WAITING = 64,
  DIRECTION_HEADER_SIZE = 128,
};

/* Cell header. Bytes 20–63 are reserved and stay zero. */
enum {
  CELL_HEADER_WRITER_MARK = 0,
  CELL_HEADER_READER_MARK = 4,
  CELL_HEADER_USED_BYTES = 8,
  CELL_HEADER_RECORD_COUNT = 12,
  CELL_HEADER_SEQUENCE = 16,
  CELL_HEADER_RESERVED = 20,
  CELL_HEADER_SIZE = 64,
};

/* Geometry limits (a proxy announcing anything else is refused). */
#define GEOMETRY_MIN_CELLS 2u
#define GEOMETRY_MAX_CELLS 256u
#define GEOMETRY_MIN_CELL_DATA 256u
#define GEOMETRY_MAX_CELL_DATA (16u * 1024u * 1024u)
#define GEOMETRY_MAX_MESSAGE (1024u * 1024u * 1024u)

/* Mark states. */
enum { WRITER_MARK_WRITABLE = 0, WRITER_MARK_NOT_WRITABLE = 1 };
enum { READER_MARK_NOT_READABLE = 0, READER_MARK_READABLE = 1 };
enum { SLEEP_FLAG_AWAKE = 0, SLEEP_FLAG_SLEEPING = 1 };
enum { WAIT_FLAG_NOT_WAITING = 0, WAIT_FLAG_WAITING = 1 };

/* Records. */
enum { RECORD_KIND_SEND = 1, RECORD_KIND_REQUEST = 2, RECORD_KIND_REPLY = 3, RECORD_KIND_ERROR = 4, RECORD_KIND_PUBLISH = 5 };
enum { RECORD_FLAG_FIRST = 1, RECORD_FLAG_LAST = 2 };
#define RECORD_WHOLE (RECORD_FLAG_FIRST | RECORD_FLAG_LAST)
enum {
  RECORD_HEADER_RECORD_BYTES = 0,
  RECORD_HEADER_KIND = 4,
  RECORD_HEADER_FLAGS = 5,
  RECORD_HEADER_ADDRESS_BYTES = 6,
  RECORD_HEADER_RESERVED = 7,
  RECORD_HEADER_REQUEST_ID = 8,
  RECORD_HEADER_PAYLOAD_BYTES = 12,
  RECORD_HEADER_MESSAGE_BYTES = 16,
  RECORD_HEADER_RESERVED2 = 20,
  RECORD_HEADER_SIZE = 24,
};
#define RECORD_ALIGN 8u
#define MAX_ADDRESS_BYTES 255u

/* A fragment smaller than this is not worth starting at the end of a cell (as cell-writer.ts). */
#define MIN_FRAGMENT 64u

/* Registration: control frames are a u32 length then at most this many bytes of JSON. */
#define MAX_CONTROL_FRAME 65536u

/* The proxy's own address: requests to it come back from it with their payload. */
#define PROXY_ADDRESS "~proxy"

/** Size of a record holding `address_bytes` and `payload_bytes`, padded to 8. */
static inline uint64_t record_bytes(uint64_t address_bytes, uint64_t payload_bytes) {
  return (RECORD_HEADER_SIZE + address_bytes + payload_bytes + RECORD_ALIGN - 1) & ~(uint64_t)(RECORD_ALIGN - 1);
}

/** Where everything is: computed from the welcome's geometry, checked, never re-read. */
typedef struct slot_layout {
  uint32_t slot_id, generation;
  uint32_t cell_count, cell_data_bytes, max_message_bytes;
  uint32_t cell_stride, up_offset, down_offset, total_bytes;
} slot_layout;

/* Little-endian loads and stores of plain (non-state) fields. */
static inline uint32_t get_u32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline void put_u32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

#endif
