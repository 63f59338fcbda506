#pragma once
#include <napi.h>
void InitUnixSocket(Napi::Env env, Napi::Object exports);
