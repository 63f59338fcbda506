/*
 * A C client: sends one request and prints the reply. Usage: requester TO TEXT [SOCKET]
 * (TO may be "~proxy", the proxy itself).
 */
#include <stdio.h>
#include <string.h>

#include "../slotlink.h"

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s TO TEXT [SOCKET]\n", argv[0]);
    return 2;
  }
  slotlink *ep;
  if (slotlink_connect(&ep, "requester", 0, argc > 3 ? argv[3] : NULL) != SLOTLINK_OK) {
    fprintf(stderr, "connect: %s\n", slotlink_last_error());
    return 1;
  }
  void *reply;
  size_t len;
  int rc = slotlink_request(ep, argv[1], argv[2], strlen(argv[2]), 2000, &reply, &len);
  if (rc == SLOTLINK_OK) printf("%.*s\n", (int)len, (const char *)reply);
  else fprintf(stderr, "%s: %s\n", slotlink_code_name(rc), slotlink_last_error());
  slotlink_free(reply);
  slotlink_close(ep);
  return rc == SLOTLINK_OK ? 0 : 1;
}
