// Doorbells: eventfds, and a Watcher that lets the libuv loop wait on one (uv_poll).
#include "doorbell.h"
#include "syscall_error.h"
#include <sys/eventfd.h>
#include <unistd.h>

static Napi::Value EventfdCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) return ThrowSyscallError(env, "eventfd", errno);
  return Napi::Number::New(env, fd);
}

// eventfdWrite(fd): adds 1. EAGAIN (counter saturated) means a wake-up is already pending.
static Napi::Value EventfdWrite(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  REQUIRE_INT(info, 0, fd);
  uint64_t one = 1;
  if (write(static_cast<int>(fd), &one, sizeof one) < 0 && errno != EAGAIN) return ThrowSyscallError(env, "write(eventfd)", errno);
  return env.Undefined();
}

// new Watcher(fd, callback, isEventfd): calls callback(count) on the loop each time fd is
// readable; for an eventfd it drains it first and passes the count, otherwise passes 0. start/stop/close; ref/unref decide whether it keeps the loop alive.
class Watcher : public Napi::ObjectWrap<Watcher> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Watcher", {
      InstanceMethod("start", &Watcher::Start),
      InstanceMethod("stop", &Watcher::Stop),
      InstanceMethod("close", &Watcher::Close),
      InstanceMethod("ref", &Watcher::RefLoop),
      InstanceMethod("unref", &Watcher::UnrefLoop),
    });
  }

  explicit Watcher(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Watcher>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsFunction()) {
      Napi::TypeError::New(env, "new Watcher(fd, callback)").ThrowAsJavaScriptException();
      return;
    }
    fd_ = info[0].As<Napi::Number>().Int32Value();
    isEventfd_ = info.Length() < 3 || info[2].ToBoolean().Value();
    callback_ = Napi::Persistent(info[1].As<Napi::Function>());
    context_ = std::make_unique<Napi::AsyncContext>(env, "slotlink:doorbell");
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    poll_ = new uv_poll_t;
    int rc = uv_poll_init(loop, poll_, fd_);
    if (rc != 0) {
      delete poll_;
      poll_ = nullptr;
      ThrowSyscallError(env, "uv_poll_init", -rc);
      return;
    }
    poll_->data = this;
  }

  ~Watcher() override { CloseHandle(); }

 private:
  Napi::Value Start(const Napi::CallbackInfo& info) {
    if (!poll_) return ThrowTypeError(info.Env(), "watcher is closed");
    int rc = uv_poll_start(poll_, UV_READABLE, OnReadable);
    if (rc != 0) return ThrowSyscallError(info.Env(), "uv_poll_start", -rc);
    if (!active_) { Ref(); active_ = true; }  // keep the JS object alive while polling
    return info.Env().Undefined();
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (poll_) uv_poll_stop(poll_);
    if (active_) { Unref(); active_ = false; }
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Stop(info);
    CloseHandle();
    return info.Env().Undefined();
  }

  Napi::Value RefLoop(const Napi::CallbackInfo& info) {
    if (poll_) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }

  Napi::Value UnrefLoop(const Napi::CallbackInfo& info) {
    if (poll_) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }

  void CloseHandle() {
    if (!poll_) return;
    poll_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    poll_ = nullptr;
  }

  static void OnReadable(uv_poll_t* handle, int status, int) {
    Watcher* self = static_cast<Watcher*>(handle->data);
    if (!self) return;
    uint64_t count = 0;
    if (status == 0 && self->isEventfd_ && read(self->fd_, &count, sizeof count) < 0) {
      if (errno == EAGAIN) return;  // already drained by an explicit read
      status = -errno;
    }
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    // MakeCallback so promises resolved by the callback run before returning to the loop.
    Napi::Value arg = status < 0 ? Napi::Number::New(env, status) : Napi::Number::New(env, static_cast<double>(count));
    self->callback_.MakeCallback(self->Value(), {arg}, *self->context_);
  }

  int fd_ = -1;
  bool isEventfd_ = true;
  bool active_ = false;
  uv_poll_t* poll_ = nullptr;
  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> context_;
};

void InitDoorbell(Napi::Env env, Napi::Object exports) {
  exports.Set("eventfdCreate", Napi::Function::New(env, EventfdCreate));
  exports.Set("eventfdWrite", Napi::Function::New(env, EventfdWrite));
  exports.Set("Watcher", Watcher::Define(env));
}
