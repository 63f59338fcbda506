/*
 * The registration socket (docs/slot-layout.md §1): connect, send `hello`, receive the
 * `welcome` with its three descriptors (memfd, proxy doorbell, process doorbell) through
 * recvmsg before any buffered read, check and map the slot; afterwards the same socket
 * carries subscriptions (`subscribe`/`unsubscribe` out; `subscribed`, `unsubscribed`,
 * `dropped` in, at any time: subscriptions.c) and the shutdown exchange (`draining` ->
 * `flushed`, `closing`), and its end is the endpoint's end. Frames may arrive split across
 * reads, or several in one: they are buffered until whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "endpoint.h"
#include "errors.h"
#include "json.h"

#define DEFAULT_TIMEOUT_MS 10000
#define WELCOME_FDS 3

/* $SLOTLINK_SOCKET, else $TMPDIR (or TMP, TEMP, /tmp, as Node's os.tmpdir())/slotlink-<uid>/proxy.sock. */
static void default_socket(char *out, size_t cap) {
  const char *env = getenv("SLOTLINK_SOCKET");
  if (env && *env) {
    snprintf(out, cap, "%s", env);
    return;
  }
  const char *tmp = getenv("TMPDIR");
  if (!tmp || !*tmp) tmp = getenv("TMP");
  if (!tmp || !*tmp) tmp = getenv("TEMP");
  if (!tmp || !*tmp) tmp = "/tmp";
  size_t n = strlen(tmp);
  if (n > 1 && tmp[n - 1] == '/') n--;
  snprintf(out, cap, "%.*s/slotlink-%u/proxy.sock", (int)n, tmp, (unsigned)getuid());
}

/* Writes all of `len` bytes to the (possibly non-blocking) socket, waiting up to a second per stall. */
static int send_all(int fd, const void *buf, size_t len) {
  const uint8_t *p = buf;
  while (len > 0) {
    ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        struct pollfd pfd = { fd, POLLOUT, 0 };
        if (poll(&pfd, 1, 1000) <= 0) return fail(SLOTLINK_ERR_REGISTRATION, "the proxy's socket took no data for a second");
        continue;
      }
      return fail_errno("writing to the proxy's socket");
    }
    p += n;
    len -= (size_t)n;
  }
  return SLOTLINK_OK;
}

static int send_frame(int fd, const char *json) {
  size_t n = strlen(json);
  uint8_t frame[4 + 2048]; /* the longest we send: a subscribe with a 255-byte pattern, quoted */
  if (n > sizeof frame - 4) return fail(SLOTLINK_ERR_REGISTRATION, "control frame too long");
  put_u32(frame, (uint32_t)n);
  memcpy(frame + 4, json, n);
  return send_all(fd, frame, 4 + n);
}

/* The length of the first complete frame in buf, 0 if incomplete, -1 if over the limit. */
static long frame_ready(const uint8_t *buf, size_t len) {
  if (len < 4) return 0;
  uint32_t n = get_u32(buf);
  if (n > MAX_CONTROL_FRAME) return -1;
  return len - 4 >= n ? (long)n : 0;
}

static int check_layout(slotlink *ep, const json_doc *d) {
  slot_layout *l = &ep->layout;
  unsigned v[9];
  static const char *const names[9] = { "layout.slotId", "layout.generation", "layout.cellCount", "layout.cellDataBytes", "layout.maxMessageBytes", "layout.cellStride", "layout.upOffset", "layout.downOffset", "layout.totalBytes" };
  for (int i = 0; i < 9; i++)
    if (json_u32(d, names[i], &v[i]) < 0) return fail(SLOTLINK_ERR_REGISTRATION, "the welcome has no whole number \"%s\"", names[i]);
  l->slot_id = v[0], l->generation = v[1], l->cell_count = v[2], l->cell_data_bytes = v[3], l->max_message_bytes = v[4];
  if (l->cell_count < GEOMETRY_MIN_CELLS || l->cell_count > GEOMETRY_MAX_CELLS) return fail(SLOTLINK_ERR_BAD_SLOT, "cellCount %u is outside %u..%u", l->cell_count, GEOMETRY_MIN_CELLS, GEOMETRY_MAX_CELLS);
  if (l->cell_data_bytes < GEOMETRY_MIN_CELL_DATA || l->cell_data_bytes > GEOMETRY_MAX_CELL_DATA || l->cell_data_bytes % 64)
    return fail(SLOTLINK_ERR_BAD_SLOT, "cellDataBytes %u must be a multiple of 64 in %u..%u", l->cell_data_bytes, GEOMETRY_MIN_CELL_DATA, GEOMETRY_MAX_CELL_DATA);
  if (l->max_message_bytes < 1 || l->max_message_bytes > GEOMETRY_MAX_MESSAGE) return fail(SLOTLINK_ERR_BAD_SLOT, "maxMessageBytes %u is outside 1..%u", l->max_message_bytes, GEOMETRY_MAX_MESSAGE);
  /* Computed here from the geometry (it fits in 32 bits given the limits), then compared with what was announced. */
  uint64_t stride = CELL_HEADER_SIZE + (uint64_t)l->cell_data_bytes;
  uint64_t direction = DIRECTION_HEADER_SIZE + l->cell_count * stride;
  uint64_t up = SLOT_HEADER_SIZE, down = up + direction, total = down + direction;
  if (total > UINT32_MAX) return fail(SLOTLINK_ERR_BAD_SLOT, "the slot would be %llu bytes", (unsigned long long)total);
  if (v[5] != stride || v[6] != up || v[7] != down || v[8] != total)
    return fail(SLOTLINK_ERR_BAD_SLOT, "the welcome's layout (stride %u, up %u, down %u, total %u) does not follow from its geometry (expected %llu, %llu, %llu, %llu)", v[5], v[6], v[7], v[8],
                (unsigned long long)stride, (unsigned long long)up, (unsigned long long)down, (unsigned long long)total);
  l->cell_stride = (uint32_t)stride, l->up_offset = (uint32_t)up, l->down_offset = (uint32_t)down, l->total_bytes = (uint32_t)total;
  return SLOTLINK_OK;
}

/* Checks the memfd's size and seals, maps it, checks the slot header against the layout. */
static int map_slot(slotlink *ep, int memfd) {
  struct stat st;
  if (fstat(memfd, &st) < 0) return fail_errno("fstat of the slot's memfd");
  if ((uint64_t)st.st_size != ep->layout.total_bytes) return fail(SLOTLINK_ERR_BAD_SLOT, "slot memory is %lld bytes, the proxy announced %u", (long long)st.st_size, ep->layout.total_bytes);
  int seals = fcntl(memfd, F_GET_SEALS);
  if (seals < 0) return fail_errno("reading the slot memfd's seals");
  if (!(seals & F_SEAL_SHRINK)) return fail(SLOTLINK_ERR_BAD_SLOT, "slot memory is not sealed against shrinking; refusing to map it");
  void *mem = mmap(NULL, ep->layout.total_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
  if (mem == MAP_FAILED) return fail_errno("mapping the slot");
  ep->mem = mem;
  const slot_layout *l = &ep->layout;
  const struct { const char *name; uint32_t offset, want; } fields[] = {
    { "magic", SLOT_HEADER_MAGIC, SLOT_MAGIC },
    { "layout version", SLOT_HEADER_LAYOUT_VERSION, LAYOUT_VERSION },
    { "slot id", SLOT_HEADER_SLOT_ID, l->slot_id },
    { "generation", SLOT_HEADER_GENERATION, l->generation },
    { "cell count", SLOT_HEADER_CELL_COUNT, l->cell_count },
    { "cell data bytes", SLOT_HEADER_CELL_DATA_BYTES, l->cell_data_bytes },
    { "up offset", SLOT_HEADER_UP_OFFSET, l->up_offset },
    { "down offset", SLOT_HEADER_DOWN_OFFSET, l->down_offset },
    { "total bytes", SLOT_HEADER_TOTAL_BYTES, l->total_bytes },
    { "max message bytes", SLOT_HEADER_MAX_MESSAGE_BYTES, l->max_message_bytes },
  };
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    uint32_t got = get_u32(ep->mem + fields[i].offset);
    if (got != fields[i].want) return fail(SLOTLINK_ERR_BAD_SLOT, "slot header %s is %u, expected %u", fields[i].name, got, fields[i].want);
  }
  return SLOTLINK_OK;
}

/* The doorbells' file status flags are shared with the proxy: read them, never change them. */
static int check_bell(int fd, const char *which) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0) return fail_errno("reading a doorbell's flags");
  if (!(fl & O_NONBLOCK)) return fail(SLOTLINK_ERR_REGISTRATION, "the %s doorbell is not non-blocking, as docs/slot-layout.md requires: is this a slotlink proxy?", which);
  return SLOTLINK_OK;
}

static int take_welcome(slotlink *ep, const json_doc *d, int fds[WELCOME_FDS]) {
  unsigned version;
  if (json_u32(d, "version", &version) < 0 || version != SLOTLINK_PROTOCOL_VERSION) return fail(SLOTLINK_ERR_PROTOCOL_VERSION, "the proxy welcomed with protocol version %u; this library speaks %d", version, SLOTLINK_PROTOCOL_VERSION);
  const char *node = json_string(d, "node"), *name = json_string(d, "name"), *addr = json_string(d, "address");
  if (!node || !name || !addr || strlen(node) > SLOTLINK_MAX_NAME || strlen(name) > SLOTLINK_MAX_NAME || strlen(addr) > SLOTLINK_MAX_ADDRESS)
    return fail(SLOTLINK_ERR_REGISTRATION, "the welcome lacks a valid node, name or address");
  snprintf(ep->node, sizeof ep->node, "%s", node);
  snprintf(ep->name, sizeof ep->name, "%s", name);
  snprintf(ep->address, sizeof ep->address, "%s", addr);
  int r = check_layout(ep, d);
  if (r == SLOTLINK_OK) r = map_slot(ep, fds[0]);
  close(fds[0]); /* mapped (or refused): the mapping is all we keep */
  fds[0] = -1;
  if (r != SLOTLINK_OK) return r;
  if ((r = check_bell(fds[1], "proxy's")) != SLOTLINK_OK || (r = check_bell(fds[2], "process's")) != SLOTLINK_OK) return r;
  ep->proxy_bell = fds[1];
  ep->own_bell = fds[2];
  fds[1] = fds[2] = -1;
  return SLOTLINK_OK;
}

int registration_connect(slotlink *ep, const char *name, const slotlink_options *o) {
  char path[sizeof ((struct sockaddr_un *)0)->sun_path + 64];
  if (o->socket) snprintf(path, sizeof path, "%s", o->socket);
  else default_socket(path, sizeof path);
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  if (strlen(path) >= sizeof sa.sun_path) return fail(SLOTLINK_ERR_PROXY_UNAVAILABLE, "the socket path %s is longer than a Unix socket path may be (%zu bytes)", path, sizeof sa.sun_path - 1);
  memcpy(sa.sun_path, path, strlen(path) + 1);
  ep->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (ep->sock < 0) return fail_errno("creating a Unix socket");
  if (connect(ep->sock, (struct sockaddr *)&sa, sizeof sa) < 0) {
    if (errno == ENOENT || errno == ECONNREFUSED)
      return fail(SLOTLINK_ERR_PROXY_UNAVAILABLE, "no slotlink proxy is listening at %s: start one with `slotlink proxy --socket %s` or pass the right socket path", path, path);
    return fail_errno("connecting to the proxy's socket");
  }
  char hello[256];
  snprintf(hello, sizeof hello, "{\"op\":\"hello\",\"version\":%d,\"name\":\"%s\",\"group\":%s}", o->protocol_version ? o->protocol_version : SLOTLINK_PROTOCOL_VERSION, name, o->group ? "true" : "false");
  int r = send_frame(ep->sock, hello);
  if (r != SLOTLINK_OK) return r;

  int timeout = o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
  int64_t deadline = now_ns() + (int64_t)timeout * 1000000;
  int fds[WELCOME_FDS] = { -1, -1, -1 };
  int nfds = 0;
  long n;
  r = SLOTLINK_OK;
  /* recvmsg until one whole frame is in: the descriptors ride on its first byte. */
  while ((n = frame_ready(ep->ctl_buf, ep->ctl_len)) == 0) {
    int64_t left = (deadline - now_ns()) / 1000000;
    struct pollfd pfd = { ep->sock, POLLIN, 0 };
    int p = left > 0 ? poll(&pfd, 1, (int)left) : 0;
    if (p < 0 && errno == EINTR) continue;
    if (p < 0) { r = fail_errno("waiting for the proxy's answer"); break; }
    if (p == 0) { r = fail(SLOTLINK_ERR_REGISTRATION, "no answer from the proxy at %s within %d ms", path, timeout); break; }
    union { struct cmsghdr align; char buf[CMSG_SPACE(sizeof(int) * WELCOME_FDS)]; } control;
    struct iovec iov = { ep->ctl_buf + ep->ctl_len, MAX_CONTROL_FRAME + 4 - ep->ctl_len };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf };
    ssize_t got = recvmsg(ep->sock, &msg, MSG_CMSG_CLOEXEC);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) { r = fail_errno("reading the proxy's answer"); break; }
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; i++) {
        int fd;
        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
        if (nfds < WELCOME_FDS) fds[nfds] = fd;
        else close(fd);
        nfds++;
      }
    }
    if (msg.msg_flags & MSG_CTRUNC) { r = fail(SLOTLINK_ERR_REGISTRATION, "the proxy sent more descriptors than expected"); break; }
    if (got == 0) { r = fail(SLOTLINK_ERR_REGISTRATION, "the proxy at %s closed the connection before answering", path); break; }
    ep->ctl_len += (size_t)got;
  }
  if (r == SLOTLINK_OK && n < 0) r = fail(SLOTLINK_ERR_REGISTRATION, "control frame length %u exceeds %u", get_u32(ep->ctl_buf), MAX_CONTROL_FRAME);
  if (r == SLOTLINK_OK) {
    json_doc d;
    if (json_parse(&d, (const char *)ep->ctl_buf + 4, (size_t)n) < 0) {
      r = fail(SLOTLINK_ERR_REGISTRATION, "the proxy's answer is not valid JSON: %s", d.error);
    } else {
      const char *op = json_string(&d, "op");
      if (op && strcmp(op, "refused") == 0) {
        const char *m = json_string(&d, "message");
        r = fail(slotlink_code_from_name(json_string(&d, "code")), "%s", m ? m : "refused by the proxy");
      } else if (!op || strcmp(op, "welcome") != 0) {
        r = fail(SLOTLINK_ERR_REGISTRATION, "expected a welcome from the proxy, got \"%s\"", op ? op : "(no op)");
      } else if (nfds != WELCOME_FDS) {
        r = fail(SLOTLINK_ERR_REGISTRATION, "the welcome carried %d descriptors, expected %d", nfds, WELCOME_FDS);
      } else {
        r = take_welcome(ep, &d, fds);
      }
    }
    json_free(&d);
    /* Frames that came right behind the welcome (a `draining`) stay for control_read(). */
    ep->ctl_len -= 4 + (size_t)n;
    memmove(ep->ctl_buf, ep->ctl_buf + 4 + n, ep->ctl_len);
  }
  for (int i = 0; i < WELCOME_FDS; i++)
    if (fds[i] >= 0) close(fds[i]);
  if (r != SLOTLINK_OK) return r;

  /* The socket is ours alone (the proxy holds the other end): make it non-blocking for control_read(). */
  int fl = fcntl(ep->sock, F_GETFL);
  if (fl < 0 || fcntl(ep->sock, F_SETFL, fl | O_NONBLOCK) < 0) return fail_errno("making the registration socket non-blocking");
  ep->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (ep->epfd < 0) return fail_errno("creating the endpoint's epoll descriptor");
  struct epoll_event ev = { .events = EPOLLIN };
  ev.data.fd = ep->own_bell;
  if (epoll_ctl(ep->epfd, EPOLL_CTL_ADD, ep->own_bell, &ev) < 0) return fail_errno("watching the doorbell");
  ev.data.fd = ep->sock;
  if (epoll_ctl(ep->epfd, EPOLL_CTL_ADD, ep->sock, &ev) < 0) return fail_errno("watching the registration socket");
  ev.data.fd = ep->loop_fd; /* the library's own wake-ups: work it found before the loop slept */
  if (epoll_ctl(ep->epfd, EPOLL_CTL_ADD, ep->loop_fd, &ev) < 0) return fail_errno("watching the wake-up eventfd");
  return SLOTLINK_OK;
}

static void handle_frame(slotlink *ep, const uint8_t *body, size_t n) {
  json_doc d;
  if (json_parse(&d, (const char *)body, n) < 0) {
    char msg[200];
    snprintf(msg, sizeof msg, "a control frame from the proxy is not valid JSON: %s", d.error);
    json_free(&d);
    endpoint_end(ep, SLOTLINK_ERR_REGISTRATION, msg);
    return;
  }
  const char *op = json_string(&d, "op");
  const char *message = json_string(&d, "message");
  int code = slotlink_code_from_name(json_string(&d, "code"));
  if (op && strcmp(op, "draining") == 0) {
    if (ep->state == STATE_OPEN) {
      ep->state = STATE_DRAINING;
      ep->end_code = code;
      snprintf(ep->end_message, sizeof ep->end_message, "%s", message ? message : "the proxy is shutting down");
      control_maybe_flushed(ep);
    }
  } else if (op && strcmp(op, "closing") == 0) {
    /* Why the proxy ends this slot; the connection's end follows. */
    ep->end_code = code;
    snprintf(ep->end_message, sizeof ep->end_message, "%s", message ? message : "the proxy ended this slot");
  } else if (op) {
    subs_control(ep, op, &d);
  }
  /* Other ops are not sent after the welcome; a newer proxy's are ignored. */
  json_free(&d);
}

void control_read(slotlink *ep) {
  if (ep->state == STATE_ENDED) return;
  ep->checks = 0;
  for (;;) {
    long n;
    while ((n = frame_ready(ep->ctl_buf, ep->ctl_len)) > 0) {
      handle_frame(ep, ep->ctl_buf + 4, (size_t)n);
      ep->ctl_len -= 4 + (size_t)n;
      memmove(ep->ctl_buf, ep->ctl_buf + 4 + n, ep->ctl_len);
      if (ep->state == STATE_ENDED) return;
    }
    if (n < 0) {
      endpoint_end(ep, SLOTLINK_ERR_REGISTRATION, "a control frame from the proxy is longer than 65536 bytes");
      return;
    }
    ssize_t got = recv(ep->sock, ep->ctl_buf + ep->ctl_len, MAX_CONTROL_FRAME + 4 - ep->ctl_len, MSG_DONTWAIT);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0 && errno == EAGAIN) return;
    if (got <= 0) {
      /* The connection's end is the endpoint's end: a `closing` said why, else it just dropped. */
      if (ep->end_code == SLOTLINK_OK || ep->state == STATE_OPEN) {
        if (ep->end_code == SLOTLINK_OK) ep->end_code = SLOTLINK_ERR_CLOSED;
        if (!ep->end_message[0]) snprintf(ep->end_message, sizeof ep->end_message, "the registration connection to the proxy closed");
      }
      endpoint_end(ep, ep->end_code, ep->end_message);
      return;
    }
    ep->ctl_len += (size_t)got;
  }
}

int control_send(slotlink *ep, const char *json) {
  if (ep->state == STATE_ENDED) return fail(SLOTLINK_ERR_CLOSED, "endpoint %s is closed (%s: %s)", ep->address, slotlink_code_name(ep->end_code), ep->end_message);
  int r = send_frame(ep->sock, json);
  if (r != SLOTLINK_OK) {
    /* Part of a frame may have gone: nothing more can be said on this connection. */
    char why[1024];
    snprintf(why, sizeof why, "%s", slotlink_last_error());
    endpoint_end(ep, SLOTLINK_ERR_CLOSED, why);
    return fail(SLOTLINK_ERR_CLOSED, "endpoint %s ended: %s", ep->address, why);
  }
  return SLOTLINK_OK;
}

void control_maybe_flushed(slotlink *ep) {
  if (ep->state != STATE_DRAINING || ep->flushed_sent || ep->writer_busy) return;
  writer_flush(ep);
  ep->flushed_sent = 1;
  control_send(ep, "{\"op\":\"flushed\"}");
}
