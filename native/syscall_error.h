// Turns a failed system call into a JavaScript Error carrying errno, its name and the
// call's name, so JS can wrap it in a SlotlinkError with the native error as `cause`.
#pragma once
#include <napi.h>
#include <uv.h>
#include <cerrno>
#include <cstring>
#include <string>

inline Napi::Value ThrowSyscallError(Napi::Env env, const char* syscall, int err) {
  std::string message = std::string(syscall) + " failed: " + std::strerror(err);
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("errno", Napi::Number::New(env, err));
  error.Set("code", Napi::String::New(env, uv_err_name(-err)));
  error.Set("syscall", Napi::String::New(env, syscall));
  error.ThrowAsJavaScriptException();
  return env.Undefined();
}

inline Napi::Value ThrowTypeError(Napi::Env env, const char* message) {
  Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
  return env.Undefined();
}

// Argument checks: the JS layer validates first; these only keep a wrong call from crashing.
#define REQUIRE_INT(info, i, name)                                          \
  if ((info).Length() <= (i) || !(info)[i].IsNumber())                      \
    return ThrowTypeError((info).Env(), "argument " #name " must be a number"); \
  int64_t name = (info)[i].As<Napi::Number>().Int64Value();
