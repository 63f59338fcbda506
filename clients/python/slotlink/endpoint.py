"""An endpoint: one registration with the host's slotlink proxy, and its private slot.

Messages leave libslotlink through one inbox, publications among them. One thread at a time
takes from the library (two taking at once could file a subscription's publications out of
order, if a subscription is made while one waits); once the endpoint has subscriptions, that
thread takes a batch and files each message
where it belongs (the endpoint's own messages, or a subscription's publications), while the
others wait to be handed theirs: a thread iterating a subscription and one receiving the
endpoint's messages each get theirs as soon as either takes them from the library.
"""
from __future__ import annotations

import collections
import ctypes
import os
import threading
import time
from typing import Callable, Deque, Dict, Iterator, List, NamedTuple, Optional, Union

from ._lib import (
    KIND_PUBLISH,
    KIND_REQUEST,
    POLICY_BLOCK,
    POLICY_DROP_OLDEST,
    SLOTLINK_AGAIN,
    SLOTLINK_MORE,
    SLOTLINK_OK,
    MessageStruct,
    Options,
    Stats,
    SubscribeOptions,
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


def _subject(subject: str, what: str) -> bytes:
    """`subject` as the ASCII bytes libslotlink takes (it checks the rules)."""
    try:
        return subject.encode("ascii")
    except (AttributeError, UnicodeEncodeError):
        raise Error("SLOTLINK_ERR_INVALID_SUBJECT", f"invalid {what} {subject!r}: expected tokens of printable ASCII separated by dots, like \"prices.eu.fr\"") from None


#: Bytes of received messages the endpoint holds for its application (its own, and what
#: ``block`` subscriptions hold) before it stops taking more from the library, unless
#: connect() was given max_inbox_bytes: as libslotlink's own default.
_DEFAULT_HELD_BYTES = 16 * 1024 * 1024
_POLICIES = {"block": POLICY_BLOCK, "drop-oldest": POLICY_DROP_OLDEST}


class Undeliverable(NamedTuple):
    """A send the proxy could not deliver: to whom, and why (``code`` such as SLOTLINK_ERR_NO_ROUTE)."""

    to: str
    code: str
    message: str


class Message:
    """A message received by an endpoint.

    ``kind`` is ``"send"``, ``"request"`` or ``"publish"``. ``sender`` is the sender's
    instance address (``name~slotId.generation@node``): replies go there (``""`` for a
    publication). ``data`` is the payload. ``is_request`` tells whether the sender waits for a
    reply. A publication has its ``subject`` (as published) and ``subscription``, the id of
    the :class:`Subscription` it matched.
    """

    __slots__ = ("_endpoint", "sender", "data", "is_request", "request_id", "kind", "subject", "subscription", "_answered")

    def __init__(self, endpoint: "Endpoint", sender: str, data: bytes, is_request: bool, request_id: int,
                 kind: str = "send", subject: str = "", subscription: int = 0) -> None:
        self._endpoint = endpoint
        self.sender = sender
        self.data = data
        self.is_request = is_request
        self.request_id = request_id
        self.kind = kind
        self.subject = subject
        self.subscription = subscription
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
        if self.kind == "publish":
            return f"<slotlink publication to {self.subject}: {len(self.data)} bytes>"
        kind = "request" if self.is_request else "message"
        return f"<slotlink {kind} from {self.sender}: {len(self.data)} bytes>"


class _Queue:
    """Messages held for one taker (the endpoint's own, or a subscription's), under the
    endpoint's lock. ``counted``: its bytes count against the endpoint's bound (all but a
    drop-oldest subscription's, which has its own)."""

    __slots__ = ("items", "bytes", "ended", "counted")

    def __init__(self, counted: bool = True) -> None:
        self.items: Deque[Message] = collections.deque()
        self.bytes = 0
        self.ended = False
        self.counted = counted


class Subscription:
    """Publications that match a pattern, in arrival order (see :meth:`Endpoint.subscribe`).

    Iterate it (blocking for each), or take them with :meth:`receive`; :meth:`unsubscribe`
    (or leaving a ``with`` block) ends it. ``dropped`` counts the publications dropped because
    the application fell behind (``drop-oldest``: at the proxy, in libslotlink, and here).
    """

    def __init__(self, endpoint: "Endpoint", sid: int, subject: str, policy: str, max_queued_bytes: int) -> None:
        self._endpoint = endpoint
        self.id = sid
        """The endpoint's number for it: publications carry it (``Message.subscription``)."""
        self.subject = subject
        """The pattern subscribed to."""
        self.policy = policy
        self.max_queued_bytes = max_queued_bytes
        self.received = 0
        """Publications handed to this subscription."""
        self._queue = _Queue(counted=policy == "block")
        self._dropped_here = 0
        self._dropped_before = 0  # libslotlink's count, kept when the subscription ended

    @property
    def is_open(self) -> bool:
        return not self._queue.ended

    @property
    def dropped(self) -> int:
        """Publications dropped because the application fell behind (drop-oldest only)."""
        ep = self._endpoint
        live = lib.slotlink_subscription_dropped(ep._ep, self.id) if ep._ep is not None and ep._subs.get(self.id) is self else 0
        return self._dropped_before + live + self._dropped_here

    def _put(self, m: Message) -> None:
        """A publication for it (the endpoint's lock held)."""
        q = self._queue
        self.received += 1
        q.items.append(m)
        q.bytes += len(m.data)
        if q.counted:
            self._endpoint._held += len(m.data)
            return
        while q.bytes > self.max_queued_bytes and len(q.items) > 1:
            old = q.items.popleft()
            q.bytes -= len(old.data)
            self._dropped_here += 1

    def _end(self) -> None:
        """Nothing more for it (the endpoint's lock held): what it holds is dropped."""
        q = self._queue
        if q.ended:
            return
        q.ended = True
        if q.counted:
            self._endpoint._held -= q.bytes
        q.items.clear()
        q.bytes = 0

    def receive(self, timeout: Optional[float] = None) -> Optional[Message]:
        """The next publication, waiting up to ``timeout`` seconds (None: forever); None when
        none came in time. Raises Error SLOTLINK_ERR_CLOSED once it has ended (unsubscribed, or
        the endpoint ended and everything was taken)."""
        got = self._endpoint._collect(self._queue, 1, timeout)
        return got[0] if got else None

    def receive_many(self, max_messages: int = 256, timeout: Optional[float] = None) -> List[Message]:
        """Up to ``max_messages`` publications that are ready, waiting up to ``timeout`` for the first."""
        return self._endpoint._collect(self._queue, max_messages, timeout)

    def __iter__(self) -> Iterator[Message]:
        """Publications in arrival order, blocking for each; ends when the subscription ends."""
        return _until_closed(self.receive_many)

    def unsubscribe(self) -> None:
        """Ends the subscription: once this returns, nothing more comes out of it (what it held is dropped)."""
        self._endpoint._unsubscribe(self)

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc: object) -> None:
        self.unsubscribe()

    def __repr__(self) -> str:
        return f"<slotlink.Subscription {self.id} to {self.subject}{'' if self.is_open else ' ended'}>"


class Endpoint:
    """A registration with the proxy under a name, and the private slot that comes with it.

    Use from any number of threads (libslotlink locks); close it once, last. After
    ``os.fork()`` the child must connect anew: the parent's endpoint refuses to work there.
    """

    def __init__(self, handle: int, max_held_bytes: int = _DEFAULT_HELD_BYTES) -> None:
        self._ep: Optional[int] = handle
        self._pid = os.getpid()
        self._tls = threading.local()  # each thread's out-pointer for slotlink_receive
        self._senders: dict = {}  # sender addresses decoded once
        self._subjects: dict = {}  # publication subjects decoded once
        # The demultiplexer (see the module's docstring): under _lock, the endpoint's own
        # messages, the subscriptions by id, whether a thread is taking a batch from the library,
        # and the bytes held for the application (but what drop-oldest subscriptions hold).
        self._lock = threading.Condition()
        self._own = _Queue()
        self._subs: Dict[int, Subscription] = {}
        self._pulling = False
        self._held = 0
        self._max_held = max_held_bytes
        self._ignored = 0  # publications for subscriptions ended while they were on their way
        self._subscribed = False  # ever: before, nothing taken from the library can be a publication
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

    # ---- publish and subscribe ----

    def publish(self, subject: str, data: Data, *, more: bool = False) -> None:
        """Publishes ``data`` to ``subject`` (tokens separated by dots, no wildcards): every
        subscription whose pattern matches it, on this host and on every peer, receives it;
        nobody subscribed is not an error. Returns once it is in the slot, as :meth:`send`.
        Raises Error SLOTLINK_ERR_INVALID_SUBJECT for a subject that breaks the rules."""
        payload = _bytes(data)
        self._check(lib.slotlink_publish(self._handle(), _subject(subject, "subject"), payload, len(payload), SLOTLINK_MORE if more else 0))

    def subscribe(self, pattern: str, policy: str = "block", max_queued_bytes: Optional[int] = None, *,
                  timeout: float = 10.0) -> Subscription:
        """Subscribes to ``pattern``, where the token ``*`` matches one token and a last ``>``
        one or more (``"prices.eu.>"``), and returns the :class:`Subscription` once the proxy
        has it in effect: every publication published from then on that matches reaches it.

        ``policy="block"`` (the default) holds publishers back while this process falls behind;
        ``"drop-oldest"`` never does: past ``max_queued_bytes`` (default 256 KiB) waiting, at the
        proxy and here each, the oldest are dropped and counted (``Subscription.dropped``).
        Raises Error SLOTLINK_ERR_INVALID_SUBJECT (a pattern that breaks the rules),
        SLOTLINK_ERR_TOO_MANY_SUBSCRIPTIONS (the proxy's limit, 4 096 per process).
        """
        if policy not in _POLICIES:
            raise ValueError(f"policy must be 'block' or 'drop-oldest', not {policy!r}")
        if max_queued_bytes is not None and (not isinstance(max_queued_bytes, int) or max_queued_bytes < 1):
            raise ValueError("max_queued_bytes must be a positive whole number of bytes")
        raw = _subject(pattern, "subscription subject")
        opts = SubscribeOptions(_POLICIES[policy], max_queued_bytes or 0, max(1, int(timeout * 1000)))
        sid = ctypes.c_uint32()
        handle = self._handle()
        # Under the lock: a thread taking messages from the library meanwhile cannot file a
        # publication for the new id before the Subscription is there to take it.
        with self._lock:
            self._subscribed = True
            self._check(lib.slotlink_subscribe(handle, raw, ctypes.byref(opts), ctypes.byref(sid)))
            sub = Subscription(self, sid.value, pattern, policy, max_queued_bytes or 256 * 1024)
            self._subs[sub.id] = sub
        return sub

    def _unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            if self._subs.pop(sub.id, None) is None:
                return
            if self._ep is not None:
                sub._dropped_before = lib.slotlink_subscription_dropped(self._ep, sub.id)
                lib.slotlink_unsubscribe(self._ep, sub.id)
            sub._end()
            self._lock.notify_all()

    # ---- receiving ----

    def _pull(self, max_messages: int, timeout_ms: int) -> List[Message]:
        """Up to ``max_messages`` messages straight from libslotlink, waiting up to ``timeout_ms``
        (one slice) for the first; [] when none came. Raises Error SLOTLINK_ERR_CLOSED once the
        endpoint has ended and the library holds nothing more."""
        tls = self._tls
        batch = getattr(tls, "batch", None)
        if batch is None or len(batch) < max_messages:
            batch = tls.batch = (ctypes.POINTER(MessageStruct) * max_messages)()
            tls.count = ctypes.c_size_t()
        count = tls.count
        rc = lib.slotlink_receive_many(self._handle(), batch, max_messages, ctypes.byref(count), timeout_ms)
        if rc != SLOTLINK_OK:
            self._check(rc)
            return []
        n = count.value
        try:
            return [self._message(batch[i].contents) for i in range(n)]
        finally:
            lib.slotlink_messages_free(batch, n)

    def _message(self, m: MessageStruct) -> Message:
        if m.kind == KIND_PUBLISH:
            raw = m.subject
            subject = self._subjects.get(raw)
            if subject is None:
                if len(self._subjects) > 1024:
                    self._subjects.clear()
                subject = self._subjects[raw] = raw.decode("ascii")
            return Message(self, "", ctypes.string_at(m.data, m.len), False, 0, "publish", subject, m.subscription_id)
        raw = m.sender
        sender = self._senders.get(raw)
        if sender is None:
            if len(self._senders) > 1024:
                self._senders.clear()
            sender = self._senders[raw] = raw.decode("ascii")
        is_request = m.kind == KIND_REQUEST
        return Message(self, sender, ctypes.string_at(m.data, m.len), is_request, m.request_id, "request" if is_request else "send")

    def _file(self, batch: List[Message]) -> None:
        """Files what was taken from the library where it belongs (the lock held)."""
        own = self._own
        for m in batch:
            if m.kind != "publish":
                own.items.append(m)
                own.bytes += len(m.data)
                self._held += len(m.data)
                continue
            sub = self._subs.get(m.subscription)
            if sub is None:
                self._ignored += 1  # unsubscribed while it was on its way
            else:
                sub._put(m)
        self._lock.notify_all()

    def _collect(self, queue: _Queue, max_messages: int, timeout: Optional[float]) -> List[Message]:
        """Up to ``max_messages`` of ``queue``'s messages, waiting up to ``timeout`` for the
        first: taken from what is held, or from the library by this thread (filing the rest
        for the others) while no other thread does. Raises Error SLOTLINK_ERR_CLOSED once the
        queue has ended (or the endpoint has, and everything was taken)."""
        left = _timeout_ms(timeout)
        deadline = None if left < 0 else time.monotonic() + left / 1000
        lock = self._lock
        pulled = False  # with no time to wait, still take what the library has, once
        while True:
            with lock:
                while True:
                    if queue.items:
                        out = []
                        while queue.items and len(out) < max_messages:
                            m = queue.items.popleft()
                            queue.bytes -= len(m.data)
                            out.append(m)
                        if queue.counted:
                            self._held -= sum(len(m.data) for m in out)
                        if self._held < self._max_held:
                            lock.notify_all()  # a puller held back by the bound may go on
                        return out
                    if queue.ended:
                        raise Error("SLOTLINK_ERR_CLOSED", "the subscription has ended" if queue is not self._own else "the endpoint is closed")
                    if self._ep is None:
                        raise Error("SLOTLINK_ERR_CLOSED", "the endpoint is closed")
                    wait = None if deadline is None else deadline - time.monotonic()
                    if wait is not None and wait <= 0 and pulled:
                        return []
                    if not self._pulling and self._held < self._max_held:
                        self._pulling = True
                        break
                    if wait is not None and wait <= 0:
                        return []
                    # Another thread takes from the library (or the bound is reached): wait to be handed ours.
                    lock.wait(_WAIT_SLICE_MS / 1000 if wait is None else min(wait, _WAIT_SLICE_MS / 1000))
            slice_ms = _WAIT_SLICE_MS if wait is None else max(0, min(_WAIT_SLICE_MS, int(wait * 1000)))
            pulled = True
            try:
                batch = self._pull(256, slice_ms)
            except Error as err:
                with lock:
                    self._pulling = False
                    if err.code == "SLOTLINK_ERR_CLOSED":
                        # The endpoint has ended and the library holds nothing more: so does every queue, once taken.
                        self._own.ended = True
                        for sub in self._subs.values():
                            sub._queue.ended = True
                    lock.notify_all()
                if err.code != "SLOTLINK_ERR_CLOSED":
                    raise
                continue
            with lock:
                self._pulling = False
                self._file(batch)

    def receive(self, timeout: Optional[float] = None) -> Optional[Message]:
        """The next message (a send or a request), waiting up to ``timeout`` seconds (None: forever).

        Returns None when nothing came in time. Raises Error SLOTLINK_ERR_CLOSED once the
        endpoint has ended and everything committed to it was taken (see :attr:`close_reason`).
        Publications go to their :class:`Subscription`, not here.
        """
        if self._subs or self._own.items:
            got = self._collect(self._own, 1, timeout)
            return got[0] if got else None
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
            if not self._take_token():  # a subscription made meanwhile by another thread
                got = self._collect(self._own, 1, None if left < 0 else left / 1000)
                return got[0] if got else None
            filed = None
            try:
                rc = lib.slotlink_receive(handle, ref, slice_ms)
                if rc == SLOTLINK_OK:
                    m = self._take(tls.out)
                    if m.kind != "publish":
                        return m
                    filed = [m]
                else:
                    self._check(rc)
            finally:
                self._give_token(filed)
            if filed:
                continue
            if left >= 0:
                left -= slice_ms
                if left <= 0:
                    return None
                slice_ms = min(slice_ms, left)

    def _take_token(self) -> bool:
        """Takes the right to read from the library without the demultiplexer: only while no
        subscription exists, nothing is held, and no other thread reads (two readers filing
        what they took could reorder a subscription's publications). False: use _collect."""
        with self._lock:
            if self._subs or self._own.items or self._pulling:
                return False
            self._pulling = True
            return True

    def _give_token(self, filed: Optional[List[Message]]) -> None:
        """Gives the right back, first filing what was taken for subscriptions made meanwhile."""
        with self._lock:
            if filed:
                self._file(filed)
            self._pulling = False
            self._lock.notify_all()

    def _take(self, out) -> Message:
        try:
            return self._message(out.contents)
        finally:
            lib.slotlink_message_free(out)

    def receive_many(self, max_messages: int = 256, timeout: Optional[float] = None) -> List[Message]:
        """Up to ``max_messages`` messages that are ready, waiting up to ``timeout`` seconds for the
        first (None: forever); an empty list when nothing came in time. One call into the library
        for many messages: the fast way to drain a busy endpoint from Python.
        Raises Error SLOTLINK_ERR_CLOSED as :meth:`receive`."""
        left = _timeout_ms(timeout)
        while True:
            if not self._take_token():
                return self._collect(self._own, max_messages, None if left < 0 else left / 1000)
            # No subscriptions: straight from the library, one thread at a time.
            slice_ms = _WAIT_SLICE_MS if left < 0 or left > _WAIT_SLICE_MS else left
            filed = None
            try:
                batch = self._pull(max_messages, slice_ms)
                if self._subscribed and any(m.kind == "publish" for m in batch):  # a subscription made meanwhile by another thread
                    filed = batch
            finally:
                self._give_token(filed)
            if filed:
                continue
            if batch:
                return batch
            if left >= 0:
                left -= slice_ms
                if left <= 0:
                    return []

    def __iter__(self) -> Iterator[Message]:
        """Messages (sends and requests) in arrival order, blocking for each; ends when the endpoint ends."""
        return _until_closed(self.receive_many)

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
        """A snapshot of the endpoint's counters (libslotlink's, and its subscriptions)."""
        s = Stats()
        handle = self._handle()
        lib.slotlink_get_stats(handle, ctypes.byref(s))
        out = {name: getattr(s, name) for name, _ in Stats._fields_}
        out["subscriptions"] = len(self._subs)
        out["publications_ignored"] = lib.slotlink_publications_ignored(handle) + self._ignored
        return out

    def close(self) -> None:
        """Commits what is open, leaves the proxy (the name is free again, its subscriptions end), and frees the slot."""
        if self._ep is not None:
            with self._lock:
                for sub in self._subs.values():
                    sub._dropped_before = lib.slotlink_subscription_dropped(self._ep, sub.id)
                    sub._end()
                self._subs.clear()
                self._own.ended = True
                self._lock.notify_all()
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
    return Endpoint(handle.value, max_inbox_bytes or _DEFAULT_HELD_BYTES)


def _until_closed(receive_many: Callable[[], List[Message]]) -> Iterator[Message]:
    """The messages `receive_many` gives, batch after batch, until it says SLOTLINK_ERR_CLOSED."""
    while True:
        try:
            batch = receive_many()
        except Error as err:
            if err.code == "SLOTLINK_ERR_CLOSED":
                return
            raise
        yield from batch
