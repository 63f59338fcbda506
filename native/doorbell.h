#pragma once
#include <napi.h>
void InitDoorbell(Napi::Env env, Napi::Object exports);
