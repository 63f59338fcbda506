"""slotlink for asyncio: the endpoint's descriptor sits in the event loop.

    import asyncio, slotlink.aio

    async def main():
        ep = await slotlink.aio.connect("billing", socket="/tmp/sl.sock")
        await ep.send("audit", b"started")
        reply = await ep.request("ledger", b"balance?", timeout=2.0)
        async with await ep.subscribe("prices.>") as prices:
            await ep.publish("prices.eu", b"42")
            async for msg in prices:          # msg.subject == "prices.eu"
                break
        async for msg in ep:
            if msg.is_request:
                msg.reply(b"ok")

Sends and requests started in one turn of the loop share cells and are committed at the
end of the turn (as the Node client does). ``msg.reply()`` is the blocking endpoint's: it
returns at once unless the slot is full. The loop is woken through slotlink_fd(): by the
proxy's doorbell, the registration socket, or the library itself.
"""
from __future__ import annotations

import asyncio
import collections
import ctypes
from typing import AsyncIterator, Awaitable, Callable, Deque, Dict, List, Optional

from ._lib import SLOTLINK_AGAIN, SLOTLINK_MORE, SLOTLINK_OK, SubscribeOptions, lib
from .endpoint import _POLICIES, Data, Endpoint, Message, Undeliverable, _address, _bytes, _subject
from .errors import Error, code_name, last_error

_CLOSED = "SLOTLINK_ERR_CLOSED"


class AsyncSubscription:
    """A subscription of an :class:`AsyncEndpoint`: ``async for`` its publications, in arrival
    order; :meth:`unsubscribe` (or leaving ``async with``) ends it. As
    :class:`slotlink.Subscription`, for the loop's thread."""

    def __init__(self, endpoint: "AsyncEndpoint", sid: int, subject: str, policy: str, max_queued_bytes: int) -> None:
        self._endpoint = endpoint
        self.id = sid
        self.subject = subject
        self.policy = policy
        self.max_queued_bytes = max_queued_bytes
        self.received = 0
        self._items: Deque[Message] = collections.deque()
        self._bytes = 0
        self._ended = False
        self._waiters: List["asyncio.Future[None]"] = []
        self._dropped_here = 0
        self._dropped_before = 0

    @property
    def is_open(self) -> bool:
        return not self._ended

    @property
    def dropped(self) -> int:
        """Publications dropped because the application fell behind (drop-oldest only)."""
        ep = self._endpoint.endpoint._ep
        live = lib.slotlink_subscription_dropped(ep, self.id) if ep is not None and not self._ended else 0
        return self._dropped_before + live + self._dropped_here

    def _wake(self) -> None:
        for w in self._waiters:
            if not w.done():
                w.set_result(None)
        self._waiters.clear()

    def _put(self, m: Message) -> None:
        self.received += 1
        self._items.append(m)
        self._bytes += len(m.data)
        if self.policy == "drop-oldest":
            while self._bytes > self.max_queued_bytes and len(self._items) > 1:
                self._bytes -= len(self._items.popleft().data)
                self._dropped_here += 1
        self._wake()

    def _end(self, drop: bool) -> None:
        if self._ended:
            return
        ep = self._endpoint.endpoint._ep
        if ep is not None:
            self._dropped_before = lib.slotlink_subscription_dropped(ep, self.id)
        self._ended = True
        if drop:
            self._items.clear()
            self._bytes = 0
        self._wake()

    async def receive(self) -> Optional[Message]:
        """The next publication; None once the subscription has ended (and, if the endpoint
        ended, everything it held was taken)."""
        while not self._items:
            if self._ended:
                return None
            waiter = self._endpoint._loop.create_future()
            self._waiters.append(waiter)
            await waiter
        m = self._items.popleft()
        self._bytes -= len(m.data)
        return m

    def __aiter__(self) -> AsyncIterator[Message]:
        return _until_none(self.receive)

    def unsubscribe(self) -> None:
        """Ends the subscription: nothing more comes out of it (what it held is dropped)."""
        self._endpoint._unsubscribe(self)

    async def __aenter__(self) -> "AsyncSubscription":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.unsubscribe()


class AsyncEndpoint:
    """An :class:`slotlink.Endpoint` driven by an asyncio event loop. Use it from the loop's thread."""

    def __init__(self, endpoint: Endpoint, loop: asyncio.AbstractEventLoop) -> None:
        self.endpoint = endpoint
        """The underlying blocking endpoint (address, node, stats, undeliverable())."""
        self.address = endpoint.address
        self._loop = loop
        self._messages: "asyncio.Queue[Optional[Message]]" = asyncio.Queue()
        self._requests: Dict[int, "asyncio.Future[bytes]"] = {}
        self._subs: Dict[int, AsyncSubscription] = {}
        self._subscribing: Dict[int, "asyncio.Future[None]"] = {}
        self._space: List["asyncio.Future[None]"] = []
        self._flush_scheduled = False
        self._ended = False
        self._fd = endpoint.fileno()
        loop.add_reader(self._fd, self._on_ready)
        self._on_ready()

    # ---- the loop's side ----

    def _on_ready(self) -> None:
        if self._ended:
            return
        try:
            self.endpoint.process()
            while True:
                batch = self.endpoint._pull(256, 0)
                if not batch:
                    break
                for m in batch:
                    if m.kind != "publish":
                        self._messages.put_nowait(m)
                    elif m.subscription in self._subs:
                        self._subs[m.subscription]._put(m)
                    # else: unsubscribed while it was on its way
        except Error as err:
            if err.code != _CLOSED:
                raise
        handle = self.endpoint._handle()
        for sid, fut in list(self._subscribing.items()):
            rc = lib.slotlink_subscription_status(handle, sid)
            if rc == SLOTLINK_AGAIN:
                continue
            del self._subscribing[sid]
            if not fut.done():
                if rc == SLOTLINK_OK:
                    fut.set_result(None)
                else:
                    fut.set_exception(last_error(rc))
        for rid, fut in list(self._requests.items()):
            reply = ctypes.c_void_p()
            size = ctypes.c_size_t()
            rc = lib.slotlink_request_result(handle, rid, ctypes.byref(reply), ctypes.byref(size))
            if rc == SLOTLINK_AGAIN:
                continue
            del self._requests[rid]
            if not fut.done():
                if rc == SLOTLINK_OK:
                    fut.set_result(ctypes.string_at(reply, size.value) if size.value else b"")
                else:
                    fut.set_exception(last_error(rc))
            lib.slotlink_free(reply)
        for fut in self._space:
            if not fut.done():
                fut.set_result(None)
        self._space.clear()
        if self.endpoint.close_reason is not None and self._messages.empty():
            self._end()

    def _end(self) -> None:
        if self._ended:
            return
        self._ended = True
        self._loop.remove_reader(self._fd)
        self._messages.put_nowait(None)
        reason = self.endpoint.close_reason or Error(_CLOSED, "the endpoint is closed")
        for fut in list(self._requests.values()) + list(self._subscribing.values()) + self._space:
            if not fut.done():
                fut.set_exception(Error(_CLOSED, f"endpoint {self.address} ended: {reason}"))
        for sub in self._subs.values():
            sub._end(drop=False)  # what it holds can still be taken

    def _schedule_flush(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        if not self._ended:
            self.endpoint.flush()

    async def _wait_for_space(self) -> None:
        self._flush()
        fut = self._loop.create_future()
        self._space.append(fut)
        await fut

    # ---- the application's side ----

    async def send(self, to: str, data: Data) -> None:
        """Sends ``data`` to ``to``; waits (without blocking the loop) while the slot is full."""
        payload = _bytes(data)
        while True:
            try:
                if self.endpoint.try_send(to, payload, more=True):
                    self._schedule_flush()
                    return
            except Error as err:
                if err.code != "SLOTLINK_ERR_MESSAGE_TOO_LARGE" or len(payload) > self.endpoint.max_message_bytes:
                    raise
                # Larger than the whole ring: written cell by cell by a worker thread.
                await self._loop.run_in_executor(None, self.endpoint.send, to, payload)
                return
            await self._wait_for_space()

    async def request(self, to: str, data: Data = b"", *, timeout: Optional[float] = 30.0) -> bytes:
        """Sends a request and returns the reply's payload; raises :class:`slotlink.Error` as the blocking form."""
        payload = _bytes(data)
        rid = ctypes.c_uint32()
        while True:
            rc = lib.slotlink_request_start(self.endpoint._handle(), _address(to), payload, len(payload), SLOTLINK_MORE, ctypes.byref(rid))
            if rc == SLOTLINK_OK:
                break
            if rc != SLOTLINK_AGAIN:
                err = last_error(rc)
                if err.code == "SLOTLINK_ERR_MESSAGE_TOO_LARGE" and len(payload) <= self.endpoint.max_message_bytes:
                    return await self._loop.run_in_executor(None, lambda: self.endpoint.request(to, payload, timeout=timeout))
                raise err
            await self._wait_for_space()
        self._schedule_flush()
        fut: "asyncio.Future[bytes]" = self._loop.create_future()
        self._requests[rid.value] = fut
        try:
            return await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            self._requests.pop(rid.value, None)
            lib.slotlink_request_cancel(self.endpoint._handle(), rid.value)
            raise Error("SLOTLINK_ERR_REQUEST_TIMEOUT", f'request to "{to}" got no reply within {int((timeout or 0) * 1000)} ms') from None

    async def publish(self, subject: str, data: Data) -> None:
        """Publishes ``data`` to ``subject`` (see :meth:`slotlink.Endpoint.publish`); waits
        (without blocking the loop) while the slot is full."""
        payload = _bytes(data)
        raw = _subject(subject, "subject")
        while True:
            rc = lib.slotlink_try_publish(self.endpoint._handle(), raw, payload, len(payload), SLOTLINK_MORE)
            if rc == SLOTLINK_OK:
                self._schedule_flush()
                return
            if rc != SLOTLINK_AGAIN:
                err = last_error(rc)
                if err.code == "SLOTLINK_ERR_MESSAGE_TOO_LARGE" and len(payload) <= self.endpoint.max_message_bytes:
                    # Larger than the whole ring: written cell by cell by a worker thread.
                    await self._loop.run_in_executor(None, self.endpoint.publish, subject, payload)
                    return
                raise err
            await self._wait_for_space()

    async def subscribe(self, pattern: str, policy: str = "block", max_queued_bytes: Optional[int] = None, *,
                        timeout: float = 10.0) -> AsyncSubscription:
        """Subscribes to ``pattern`` (see :meth:`slotlink.Endpoint.subscribe`) and returns the
        :class:`AsyncSubscription` once the proxy has it in effect."""
        if policy not in _POLICIES:
            raise ValueError(f"policy must be 'block' or 'drop-oldest', not {policy!r}")
        if max_queued_bytes is not None and (not isinstance(max_queued_bytes, int) or max_queued_bytes < 1):
            raise ValueError("max_queued_bytes must be a positive whole number of bytes")
        opts = SubscribeOptions(_POLICIES[policy], max_queued_bytes or 0, 0)
        sid = ctypes.c_uint32()
        rc = lib.slotlink_subscribe_start(self.endpoint._handle(), _subject(pattern, "subscription subject"), ctypes.byref(opts), ctypes.byref(sid))
        if rc != SLOTLINK_OK:
            raise last_error(rc)
        # Publications for it may come before the proxy's answer: it takes them from now on.
        sub = AsyncSubscription(self, sid.value, pattern, policy, max_queued_bytes or 256 * 1024)
        self._subs[sub.id] = sub
        fut: "asyncio.Future[None]" = self._loop.create_future()
        self._subscribing[sub.id] = fut
        self._on_ready()  # the answer may be in already
        try:
            await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            self._subscribing.pop(sub.id, None)
            self._unsubscribe(sub)
            raise Error("SLOTLINK_ERR_REGISTRATION", f'the proxy did not answer the subscription to "{pattern}" within {int(timeout * 1000)} ms') from None
        except BaseException:
            self._subs.pop(sub.id, None)
            sub._end(drop=True)
            raise
        return sub

    def _unsubscribe(self, sub: AsyncSubscription) -> None:
        if self._subs.pop(sub.id, None) is None:
            return
        ep = self.endpoint._ep
        sub._end(drop=True)
        if ep is not None:
            lib.slotlink_unsubscribe(ep, sub.id)

    async def receive(self) -> Optional[Message]:
        """The next message (a send or a request: publications go to their subscription);
        None once the endpoint has ended and everything was taken."""
        if self._ended and self._messages.empty():
            return None
        m = await self._messages.get()
        if m is None:
            self._messages.put_nowait(None)  # later callers see the end too
        return m

    def __aiter__(self) -> AsyncIterator[Message]:
        return _until_none(self.receive)

    def undeliverable(self) -> List[Undeliverable]:
        """Reports of sends the proxy could not deliver (see :meth:`slotlink.Endpoint.undeliverable`)."""
        return self.endpoint.undeliverable()

    def close(self) -> None:
        """Commits what is open and leaves the proxy."""
        if not self._ended:
            self._end()
        self.endpoint.close()

    async def __aenter__(self) -> "AsyncEndpoint":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


async def connect(name: str, **options) -> AsyncEndpoint:
    """Registers as ``name`` (options as :func:`slotlink.connect`) and returns an :class:`AsyncEndpoint`."""
    from .endpoint import connect as connect_blocking

    loop = asyncio.get_running_loop()
    ep = await loop.run_in_executor(None, lambda: connect_blocking(name, **options))
    return AsyncEndpoint(ep, loop)


__all__ = ["connect", "AsyncEndpoint", "AsyncSubscription", "code_name"]


async def _until_none(receive: Callable[[], Awaitable[Optional[Message]]]) -> AsyncIterator[Message]:
    """What `receive` gives, one after another, until it gives None (the end)."""
    while True:
        m = await receive()
        if m is None:
            return
        yield m
