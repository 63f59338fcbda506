// Unix-socket calls Node cannot make: connect without starting a read, descriptor
// passing (SCM_RIGHTS) and the peer's credentials (SO_PEERCRED).
#include "unix_socket.h"
#include "syscall_error.h"
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>

static constexpr int kMaxFds = 16;

// unixConnect(path) -> fd of a non-blocking stream socket connected to path.
static Napi::Value UnixConnect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) return ThrowTypeError(env, "argument path must be a string");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return ThrowSyscallError(env, "connect", ENAMETOOLONG);
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ThrowSyscallError(env, "socket", errno);
  // Blocking connect: on a Unix socket it completes at once or fails at once.
  if (connect(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    close(fd);
    return ThrowSyscallError(env, "connect", err);
  }
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    int err = errno;
    close(fd);
    return ThrowSyscallError(env, "fcntl(O_NONBLOCK)", err);
  }
  return Napi::Number::New(env, fd);
}

// sendFds(fd, bytes, fds[]) -> bytes sent. The descriptors ride on the first byte.
static Napi::Value SendFds(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  REQUIRE_INT(info, 0, fd);
  if (info.Length() < 3 || !info[1].IsTypedArray() || !info[2].IsArray())
    return ThrowTypeError(env, "sendFds(fd, Uint8Array, number[])");
  Napi::Uint8Array bytes = info[1].As<Napi::Uint8Array>();
  Napi::Array list = info[2].As<Napi::Array>();
  if (bytes.ByteLength() == 0) return ThrowTypeError(env, "at least one byte must carry the descriptors");
  if (list.Length() > kMaxFds) return ThrowTypeError(env, "too many descriptors");
  std::vector<int> fds;
  for (uint32_t i = 0; i < list.Length(); i++) fds.push_back(list.Get(i).As<Napi::Number>().Int32Value());

  struct iovec iov = {bytes.Data(), bytes.ByteLength()};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
  if (!fds.empty()) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  }
  ssize_t sent;
  do sent = sendmsg(static_cast<int>(fd), &msg, MSG_NOSIGNAL);
  while (sent < 0 && errno == EINTR);
  if (sent < 0) return ThrowSyscallError(env, "sendmsg", errno);
  return Napi::Number::New(env, static_cast<double>(sent));
}

// recvFds(fd, maxBytes) -> { data: Buffer, fds: number[] }, or null when nothing is
// waiting (EAGAIN). data is empty at end of stream.
static Napi::Value RecvFds(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  REQUIRE_INT(info, 0, fd);
  REQUIRE_INT(info, 1, maxBytes);
  if (maxBytes <= 0 || maxBytes > (1 << 20)) return ThrowTypeError(env, "maxBytes out of range");
  std::vector<char> buffer(static_cast<size_t>(maxBytes));
  struct iovec iov = {buffer.data(), buffer.size()};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t got;
  do got = recvmsg(static_cast<int>(fd), &msg, MSG_CMSG_CLOEXEC);
  while (got < 0 && errno == EINTR);
  if (got < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return env.Null();
    return ThrowSyscallError(env, "recvmsg", errno);
  }
  Napi::Array fds = Napi::Array::New(env);
  uint32_t n = 0;
  for (struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
    if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    int* received = reinterpret_cast<int*>(CMSG_DATA(cmsg));
    for (size_t i = 0; i < count; i++) fds.Set(n++, Napi::Number::New(env, received[i]));
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("data", Napi::Buffer<char>::Copy(env, buffer.data(), static_cast<size_t>(got)));
  result.Set("fds", fds);
  result.Set("truncated", Napi::Boolean::New(env, (msg.msg_flags & MSG_CTRUNC) != 0));
  return result;
}

// peerCred(fd) -> { pid, uid, gid } of the process at the other end.
static Napi::Value PeerCred(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  REQUIRE_INT(info, 0, fd);
  struct ucred cred = {};
  socklen_t len = sizeof cred;
  if (getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
    return ThrowSyscallError(env, "getsockopt(SO_PEERCRED)", errno);
  Napi::Object result = Napi::Object::New(env);
  result.Set("pid", Napi::Number::New(env, cred.pid));
  result.Set("uid", Napi::Number::New(env, cred.uid));
  result.Set("gid", Napi::Number::New(env, cred.gid));
  return result;
}

// peerGroups(fd) -> the supplementary group ids of the process at the other end
// (SO_PEERGROUPS, Linux 4.13+); SO_PEERCRED carries only the primary group.
static Napi::Value PeerGroups(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  REQUIRE_INT(info, 0, fd);
  std::vector<gid_t> groups(64);
  for (;;) {
    socklen_t len = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
    if (getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len) == 0) {
      groups.resize(len / sizeof(gid_t));
      break;
    }
    // ERANGE: len says how much room the list needs.
    if (errno != ERANGE || len <= groups.size() * sizeof(gid_t)) return ThrowSyscallError(env, "getsockopt(SO_PEERGROUPS)", errno);
    groups.resize(len / sizeof(gid_t));
  }
  Napi::Array result = Napi::Array::New(env, groups.size());
  for (uint32_t i = 0; i < groups.size(); i++) result.Set(i, Napi::Number::New(env, groups[i]));
  return result;
}

void InitUnixSocket(Napi::Env env, Napi::Object exports) {
  exports.Set("unixConnect", Napi::Function::New(env, UnixConnect));
  exports.Set("sendFds", Napi::Function::New(env, SendFds));
  exports.Set("recvFds", Napi::Function::New(env, RecvFds));
  exports.Set("peerCred", Napi::Function::New(env, PeerCred));
  exports.Set("peerGroups", Napi::Function::New(env, PeerGroups));
}
