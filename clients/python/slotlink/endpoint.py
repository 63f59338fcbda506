"""An endpoint: one registration with the host's slotlink proxy, and its private slot."""
from __future__ import annotations

import ctypes
import os
import threading
from typing import Iterator, List, NamedTuple, Optional, Union

from ._lib import (
    SLOTLINK_AGAIN,
    SLOTLINK_MORE,
    SLOTLINK_OK,
    MessageStruct,
    Options,
    Stats,
    Undeliverable as _UndeliverableStruct,
    lib,
)
from .errors import Error, code_name, code_number, last_error

Data = Union[bytes, bytearray, memoryview, str]

#: How long one blocking wait in libslotlink lasts before Python looks at signals (Ctrl-C).
_WAIT_SLICE_MS = 200


def _bytes(data: Data) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    raise TypeError("message data must be bytes, bytearray, memoryview or str")


_addresses: dict = {}


def _address(to: str) -> bytes:
    """`to` as the ASCII bytes libslotlink takes (it checks the form); cached, as sends repeat destinations."""
    raw = _addresses.get(to)
    if raw is None:
        try:
            raw = to.encode("ascii")
        except (AttributeError, UnicodeEncodeError):
            raise Error("SLOTLINK_ERR_INVALID_ADDRESS", f"invalid address {to!r}: expected \"name\" or \"name@node\" (ASCII)") from None
        if len(_addresses) > 1024:
            _addresses.clear()
        _addresses[to] = raw
    return raw


def _timeout_ms(timeout: Optional[float]) -> int:
    if timeout is None:
        return -1
    if timeout < 0:
        raise ValueError("timeout must be >= 0 seconds, or None to wait forever")
    return int(timeout * 1000)


class Undeliverable(NamedTuple):
    """A send the proxy could not deliver: to whom, and why (``code`` such as SLOTLINK_ERR_NO_ROUTE)."""

    to: str
    code: str
    message: str


class Message:
    """A message received by an endpoint.

    ``sender`` is the sender's instance address (``name~slotId.generation@node``): replies go
    there. ``data`` is the payload. ``is_request`` tells whether the sender waits for a reply.
    """

    __slots__ = ("_endpoint", "sender", "data", "is_request", "request_id", "_answered")

    def __init__(self, endpoint: "Endpoint", sender: str, data: bytes, is_request: bool, request_id: int) -> None:
        self._endpoint = endpoint
        self.sender = sender
        self.data = data
        self.is_request = is_request
        self.request_id = request_id
        self._answered = False

    def text(self) -> str:
        """The payload as UTF-8 text."""
        return self.data.decode("utf-8")

    def _struct(self) -> MessageStruct:
        if not self.is_request:
            raise Error("SLOTLINK_ERR_INVALID_ADDRESS", f"message from {self.sender} is not a request: there is nobody waiting for a reply")
        if self._answered:
            raise Error("SLOTLINK_ERR_CLOSED", f"request {self.request_id} from {self.sender} was already answered")
        self._answered = True
        return MessageStruct(self.sender.encode("ascii"), None, 0, 1, self.request_id)

    def reply(self, data: Data = b"", *, more: bool = False) -> None:
        """Answers this request with ``data`` (once). ``more`` batches like :meth:`Endpoint.send`."""
        payload = _bytes(data)
        self._endpoint._check(lib.slotlink_reply(self._endpoint._handle(), ctypes.byref(self._struct()), payload, len(payload), SLOTLINK_MORE if more else 0))

    def fail(self, message: str, code: str = "SLOTLINK_ERR_REMOTE") -> None:
        """Answers this request with an error: the requester's request raises Error(code, message)."""
        self._endpoint._check(lib.slotlink_reply_error(self._endpoint._handle(), ctypes.byref(self._struct()), code_number(code), message.encode("utf-8"), 0))

    def __repr__(self) -> str:
        kind = "request" if self.is_request else "message"
        return f"<slotlink {kind} from {self.sender}: {len(self.data)} bytes>"


class Endpoint:
    """A registration with the proxy under a name, and the private slot that comes with it.

    Use from any number of threads (libslotlink locks); close it once, last. After
    ``os.fork()`` the child must connect anew: the parent's endpoint refuses to work there.
    """

    def __init__(self, handle: int) -> None:
        self._ep: Optional[int] = handle
        self._pid = os.getpid()
        self._tls = threading.local()  # each thread's out-pointer for slotlink_receive
        self._senders: dict = {}  # sender addresses decoded once
        self.address: str = lib.slotlink_address(handle).decode()
        """This process's own address, ``name~slotId.generation@node``."""
        self.node: str = lib.slotlink_node(handle).decode()
        """The proxy's node name."""
        self.name: str = self.address.split("~", 1)[0]
        self.max_message_bytes: int = lib.slotlink_max_message_bytes(handle)
        """The largest payload the proxy accepts."""

    # ---- internals ----

    def _handle(self) -> int:
        if self._ep is None:
            raise Error("SLOTLINK_ERR_CLOSED", "the endpoint is closed")
        return self._ep

    @staticmethod
    def _check(rc: int) -> int:
        if rc not in (SLOTLINK_OK, SLOTLINK_AGAIN):
            raise last_error(rc)
        return rc

    # ---- sending ----

    def send(self, to: str, data: Data, *, more: bool = False) -> None:
        """Sends ``data`` to ``to`` (``"name"``, ``"name@node"``, ``"~proxy"``).

        Returns once the message is in the slot; blocks while the slot is full (back pressure).
        ``more=True`` batches: the cell is committed by a later call without ``more``, by
        :meth:`flush`, or before anything blocks; flush within a millisecond or so.
        A destination nobody holds is reported later by :meth:`undeliverable`.
        """
        payload = _bytes(data)
        self._check(lib.slotlink_send(self._handle(), _address(to), payload, len(payload), SLOTLINK_MORE if more else 0))

    def try_send(self, to: str, data: Data, *, more: bool = False) -> bool:
        """Sends only if the slot has room for the whole message now; False otherwise (nothing sent)."""
        payload = _bytes(data)
        rc = self._check(lib.slotlink_try_send(self._handle(), _address(to), payload, len(payload), SLOTLINK_MORE if more else 0))
        return rc == SLOTLINK_OK

    def flush(self) -> None:
        """Commits what ``more=True`` sends left in the open cell."""
        self._check(lib.slotlink_flush(self._handle()))

    def request(self, to: str, data: Data = b"", *, timeout: Optional[float] = 30.0) -> bytes:
        """Sends a request and returns the reply's payload.

        Raises Error with ``code`` SLOTLINK_ERR_REQUEST_TIMEOUT after ``timeout`` seconds
        (None: wait forever), or the replier's error (SLOTLINK_ERR_NO_ROUTE, ..._RECEIVER_GONE,
        ..._REMOTE, ...).
        """
        payload = _bytes(data)
        reply = ctypes.c_void_p()
        size = ctypes.c_size_t()
        self._check(lib.slotlink_request(self._handle(), _address(to), payload, len(payload), _timeout_ms(timeout), ctypes.byref(reply), ctypes.byref(size)))
        try:
            return ctypes.string_at(reply, size.value) if size.value else b""
        finally:
            lib.slotlink_free(reply)

    # ---- receiving ----

    def receive(self, timeout: Optional[float] = None) -> Optional[Message]:
        """The next message (a send or a request), waiting up to ``timeout`` seconds (None: forever).

        Returns None when nothing came in time. Raises Error SLOTLINK_ERR_CLOSED once the
        endpoint has ended and everything committed to it was taken (see :attr:`close_reason`).
        """
        tls = self._tls
        ref = getattr(tls, "ref", None)
        if ref is None:
            tls.out = ctypes.POINTER(MessageStruct)()
            ref = tls.ref = ctypes.byref(tls.out)
        handle = self._handle()
        left = _timeout_ms(timeout)
        # Waits in slices, so Ctrl-C (signals) reach Python while it is blocked.
        slice_ms = _WAIT_SLICE_MS if left < 0 or left > _WAIT_SLICE_MS else left
        while True:
            rc = lib.slotlink_receive(handle, ref, slice_ms)
            if rc == SLOTLINK_OK:
                return self._take(tls.out)
            self._check(rc)
            if left >= 0:
                left -= slice_ms
                if left <= 0:
                    return None
                slice_ms = min(slice_ms, left)

    def _take(self, out) -> Message:
        try:
            return self._message(out.contents)
        finally:
            lib.slotlink_message_free(out)

    def _message(self, m: MessageStruct) -> Message:
        raw = m.sender
        sender = self._senders.get(raw)
        if sender is None:
            if len(self._senders) > 1024:
                self._senders.clear()
            sender = self._senders[raw] = raw.decode("ascii")
        return Message(self, sender, ctypes.string_at(m.data, m.len), bool(m.is_request), m.request_id)

    def receive_many(self, max_messages: int = 256, timeout: Optional[float] = None) -> List[Message]:
        """Up to ``max_messages`` messages that are ready, waiting up to ``timeout`` seconds for the
        first (None: forever); an empty list when nothing came in time. One call into the library
        for many messages: the fast way to drain a busy endpoint from Python.
        Raises Error SLOTLINK_ERR_CLOSED as :meth:`receive`."""
        tls = self._tls
        batch = getattr(tls, "batch", None)
        if batch is None or len(batch) < max_messages:
            batch = tls.batch = (ctypes.POINTER(MessageStruct) * max_messages)()
            tls.count = ctypes.c_size_t()
        count = tls.count
        handle = self._handle()
        left = _timeout_ms(timeout)
        slice_ms = _WAIT_SLICE_MS if left < 0 or left > _WAIT_SLICE_MS else left
        while True:
            rc = lib.slotlink_receive_many(handle, batch, max_messages, ctypes.byref(count), slice_ms)
            if rc == SLOTLINK_OK:
                n = count.value
                try:
                    return [self._message(batch[i].contents) for i in range(n)]
                finally:
                    lib.slotlink_messages_free(batch, n)
            self._check(rc)
            if left >= 0:
                left -= slice_ms
                if left <= 0:
                    return []
                slice_ms = min(slice_ms, left)

    def __iter__(self) -> Iterator[Message]:
        """Messages in arrival order, blocking for each; ends when the endpoint ends."""
        while True:
            try:
                batch = self.receive_many()
            except Error as err:
                if err.code == "SLOTLINK_ERR_CLOSED":
                    return
                raise
            yield from batch

    def undeliverable(self) -> List[Undeliverable]:
        """Reports of sends the proxy could not deliver, oldest first (each is returned once)."""
        out = []
        u = _UndeliverableStruct()
        while lib.slotlink_next_undeliverable(self._handle(), ctypes.byref(u)) == SLOTLINK_OK:
            out.append(Undeliverable(u.to.decode("ascii", "replace"), code_name(u.code), u.message.decode("utf-8", "replace")))
        return out

    # ---- event loops ----

    def fileno(self) -> int:
        """A descriptor to poll for reading; when readable, call :meth:`process`."""
        return lib.slotlink_fd(self._handle())

    def process(self) -> None:
        """Does what is due without blocking (see slotlink_process in slotlink.h)."""
        rc = lib.slotlink_process(self._handle())
        if rc not in (SLOTLINK_OK, SLOTLINK_AGAIN) and code_name(rc) != "SLOTLINK_ERR_CLOSED":
            raise last_error(rc)

    # ---- state ----

    @property
    def close_reason(self) -> Optional[Error]:
        """None while open; else why the endpoint ended (e.g. SLOTLINK_ERR_PROXY_SHUTDOWN)."""
        if self._ep is None:
            return Error("SLOTLINK_ERR_CLOSED", "the endpoint is closed")
        code = lib.slotlink_end_code(self._ep)
        return None if code == SLOTLINK_OK else Error(code_name(code), "the endpoint has ended")

    def stats(self) -> dict:
        """A snapshot of the endpoint's counters."""
        s = Stats()
        lib.slotlink_get_stats(self._handle(), ctypes.byref(s))
        return {name: getattr(s, name) for name, _ in Stats._fields_}

    def close(self) -> None:
        """Commits what is open, leaves the proxy (the name is free again), and frees the slot."""
        if self._ep is not None:
            ep, self._ep = self._ep, None
            lib.slotlink_close(ep)

    def __enter__(self) -> "Endpoint":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        # Only the process that connected ends the registration (a forked child's copy is freed by the library).
        if getattr(self, "_ep", None) is not None:
            self.close()

    def __repr__(self) -> str:
        return f"<slotlink.Endpoint {self.address}{' closed' if self._ep is None else ''}>"


def connect(name: str, *, socket: Optional[str] = None, group: bool = False, timeout: float = 10.0,
            max_inbox_bytes: int = 0, _protocol_version: int = 0) -> Endpoint:
    """Registers this process with its slotlink proxy as ``name`` and returns the endpoint.

    ``socket`` is the proxy's registration socket (default: $SLOTLINK_SOCKET, else the
    proxy's per-user default). ``group=True`` joins the group ``name``: requests to it are
    balanced over its members. Raises Error: SLOTLINK_ERR_PROXY_UNAVAILABLE, ..._NAME_TAKEN,
    ..._INVALID_NAME, ..._PROXY_FULL, ...
    """
    opts = Options(socket.encode() if socket is not None else None, 1 if group else 0, int(timeout * 1000), max_inbox_bytes, _protocol_version)
    handle = ctypes.c_void_p()
    rc = lib.slotlink_connect_ex(ctypes.byref(handle), name.encode("utf-8"), ctypes.byref(opts))
    if rc != SLOTLINK_OK:
        raise last_error(rc)
    return Endpoint(handle.value)
