/* The SLOTLINK_ERR_* names (src/errors.ts) and a per-thread message for the last failure. */
#include "errors.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const NAMES[SLOTLINK_CODE_COUNT] = {
  [SLOTLINK_OK] = "SLOTLINK_OK",
  [SLOTLINK_AGAIN] = "SLOTLINK_AGAIN",
  [SLOTLINK_ERR_SYSCALL] = "SLOTLINK_ERR_SYSCALL",
  [SLOTLINK_ERR_PROXY_UNAVAILABLE] = "SLOTLINK_ERR_PROXY_UNAVAILABLE",
  [SLOTLINK_ERR_SOCKET_IN_USE] = "SLOTLINK_ERR_SOCKET_IN_USE",
  [SLOTLINK_ERR_NAME_TAKEN] = "SLOTLINK_ERR_NAME_TAKEN",
  [SLOTLINK_ERR_INVALID_NAME] = "SLOTLINK_ERR_INVALID_NAME",
  [SLOTLINK_ERR_INVALID_ADDRESS] = "SLOTLINK_ERR_INVALID_ADDRESS",
  [SLOTLINK_ERR_PROTOCOL_VERSION] = "SLOTLINK_ERR_PROTOCOL_VERSION",
  [SLOTLINK_ERR_PROXY_FULL] = "SLOTLINK_ERR_PROXY_FULL",
  [SLOTLINK_ERR_NOT_PERMITTED] = "SLOTLINK_ERR_NOT_PERMITTED",
  [SLOTLINK_ERR_REGISTRATION] = "SLOTLINK_ERR_REGISTRATION",
  [SLOTLINK_ERR_BAD_SLOT] = "SLOTLINK_ERR_BAD_SLOT",
  [SLOTLINK_ERR_BAD_RECORD] = "SLOTLINK_ERR_BAD_RECORD",
  [SLOTLINK_ERR_MESSAGE_TOO_LARGE] = "SLOTLINK_ERR_MESSAGE_TOO_LARGE",
  [SLOTLINK_ERR_NO_ROUTE] = "SLOTLINK_ERR_NO_ROUTE",
  [SLOTLINK_ERR_RECEIVER_GONE] = "SLOTLINK_ERR_RECEIVER_GONE",
  [SLOTLINK_ERR_REQUEST_TIMEOUT] = "SLOTLINK_ERR_REQUEST_TIMEOUT",
  [SLOTLINK_ERR_ABORTED] = "SLOTLINK_ERR_ABORTED",
  [SLOTLINK_ERR_REMOTE] = "SLOTLINK_ERR_REMOTE",
  [SLOTLINK_ERR_BACKPRESSURE] = "SLOTLINK_ERR_BACKPRESSURE",
  [SLOTLINK_ERR_CLOSED] = "SLOTLINK_ERR_CLOSED",
  [SLOTLINK_ERR_PROXY_SHUTDOWN] = "SLOTLINK_ERR_PROXY_SHUTDOWN",
  [SLOTLINK_ERR_CONFIG] = "SLOTLINK_ERR_CONFIG",
  [SLOTLINK_ERR_LINK_PROTOCOL] = "SLOTLINK_ERR_LINK_PROTOCOL",
  [SLOTLINK_ERR_LINK_AUTH] = "SLOTLINK_ERR_LINK_AUTH",
  [SLOTLINK_ERR_PEER_RESTARTED] = "SLOTLINK_ERR_PEER_RESTARTED",
  [SLOTLINK_ERR_UNREACHABLE] = "SLOTLINK_ERR_UNREACHABLE",
  [SLOTLINK_ERR_UNEXPECTED_REPLY] = "SLOTLINK_ERR_UNEXPECTED_REPLY",
  [SLOTLINK_ERR_TOO_MANY_REQUESTS] = "SLOTLINK_ERR_TOO_MANY_REQUESTS",
};

const char *slotlink_code_name(int code) {
  if (code < 0 || code >= SLOTLINK_CODE_COUNT) return NAMES[SLOTLINK_ERR_REMOTE];
  return NAMES[code];
}

int slotlink_code_from_name(const char *name) {
  if (name == NULL) return SLOTLINK_ERR_REMOTE;
  /* Only error codes travel on the wire: OK and AGAIN are not accepted from a peer. */
  for (int c = SLOTLINK_ERR_SYSCALL; c < SLOTLINK_CODE_COUNT; c++)
    if (strcmp(NAMES[c], name) == 0) return c;
  return SLOTLINK_ERR_REMOTE;
}

static _Thread_local char last_message[1024];

const char *slotlink_last_error(void) {
  return last_message;
}

int fail(int code, const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  vsnprintf(last_message, sizeof last_message, format, ap);
  va_end(ap);
  return code;
}

int fail_errno(const char *what) {
  int e = errno;
  return fail(SLOTLINK_ERR_SYSCALL, "%s: %s (errno %d)", what, strerror(e), e);
}
