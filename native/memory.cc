// Shared memory: memfd_create + mmap exposed as an external ArrayBuffer.
#include "memory.h"
#include "syscall_error.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

// memfdCreate(name, size) -> fd. The size is sealed so no process holding the fd can
// shrink it (a shrunk mapping would SIGBUS whoever reads it) or grow it.
static Napi::Value MemfdCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) return ThrowTypeError(env, "argument name must be a string");
  std::string name = info[0].As<Napi::String>().Utf8Value();
  REQUIRE_INT(info, 1, size);
  int fd = memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return ThrowSyscallError(env, "memfd_create", errno);
  if (ftruncate(fd, static_cast<off_t>(size)) != 0) {
    int err = errno;
    close(fd);
    return ThrowSyscallError(env, "ftruncate", err);
  }
  if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    int err = errno;
    close(fd);
    return ThrowSyscallError(env, "fcntl(F_ADD_SEALS)", err);
  }
  return Napi::Number::New(env, fd);
}

// memfdInfo(fd) -> { size, seals }: lets a process check what it was handed before mapping.
static Napi::Value MemfdInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  REQUIRE_INT(info, 0, fd);
  struct stat st;
  if (fstat(static_cast<int>(fd), &st) != 0) return ThrowSyscallError(env, "fstat", errno);
  int seals = fcntl(static_cast<int>(fd), F_GET_SEALS);
  if (seals < 0) return ThrowSyscallError(env, "fcntl(F_GET_SEALS)", errno);
  Napi::Object result = Napi::Object::New(env);
  result.Set("size", Napi::Number::New(env, static_cast<double>(st.st_size)));
  result.Set("seals", Napi::Number::New(env, seals));
  return result;
}

static void Unmap(Napi::Env, void* data, size_t* length) {
  munmap(data, *length);
  delete length;
}

// mmap(fd, size) -> ArrayBuffer over a MAP_SHARED mapping; unmapped when collected.
static Napi::Value Map(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  REQUIRE_INT(info, 0, fd);
  REQUIRE_INT(info, 1, size);
  if (size <= 0) return ThrowTypeError(env, "size must be positive");
  void* ptr = mmap(nullptr, static_cast<size_t>(size), PROT_READ | PROT_WRITE, MAP_SHARED, static_cast<int>(fd), 0);
  if (ptr == MAP_FAILED) return ThrowSyscallError(env, "mmap", errno);
  size_t* length = new size_t(static_cast<size_t>(size));
  return Napi::ArrayBuffer::New(env, ptr, *length, Unmap, length);
}

static Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  REQUIRE_INT(info, 0, fd);
  if (close(static_cast<int>(fd)) != 0 && errno != EINTR) return ThrowSyscallError(env, "close", errno);
  return env.Undefined();
}

void InitMemory(Napi::Env env, Napi::Object exports) {
  exports.Set("memfdCreate", Napi::Function::New(env, MemfdCreate));
  exports.Set("memfdInfo", Napi::Function::New(env, MemfdInfo));
  exports.Set("mmap", Napi::Function::New(env, Map));
  exports.Set("close", Napi::Function::New(env, CloseFd));
}
