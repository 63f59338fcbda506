#pragma once
#include <napi.h>
void InitMemory(Napi::Env env, Napi::Object exports);
