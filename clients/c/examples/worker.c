/*
 * A C worker: registers as NAME and answers every request with its own payload, printing
 * each plain message. Usage: worker NAME [SOCKET]
 */
#include <stdio.h>

#include "../slotlink.h"

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s NAME [SOCKET]\n", argv[0]);
    return 2;
  }
  slotlink *ep;
  if (slotlink_connect(&ep, argv[1], 0, argc > 2 ? argv[2] : NULL) != SLOTLINK_OK) {
    fprintf(stderr, "connect: %s\n", slotlink_last_error());
    return 1;
  }
  printf("registered as %s\n", slotlink_address(ep));
  fflush(stdout);
  slotlink_message *m;
  while (slotlink_receive(ep, &m, -1) == SLOTLINK_OK) {
    if (m->is_request) slotlink_reply(ep, m, m->data, m->len, 0);
    else printf("%s %.*s\n", m->from, (int)m->len, (const char *)m->data), fflush(stdout);
    slotlink_message_free(m);
  }
  fprintf(stderr, "ended: %s (%s)\n", slotlink_code_name(slotlink_end_code(ep)), slotlink_last_error());
  slotlink_close(ep);
  return 0;
}
