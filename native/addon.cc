// The slotlink addon: system calls only. Every decision is made in src/.
#include <napi.h>
#include "doorbell.h"
#include "memory.h"
#include "unix_socket.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InitMemory(env, exports);
  InitDoorbell(env, exports);
  InitUnixSocket(env, exports);
  return exports;
}

NODE_API_MODULE(slotlink, Init)
