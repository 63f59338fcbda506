"""slotlink for asyncio: the endpoint's descriptor sits in the event loop.

    import asyncio, slotlink.aio

    async def main():
        ep = await slotlink.aio.connect("billing", socket="/tmp/sl.sock")
        await ep.send("audit", b"started")
        reply = await ep.request("ledger", b"balance?", timeout=2.0)
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
import ctypes
from typing import AsyncIterator, Dict, List, Optional

from ._lib import SLOTLINK_AGAIN, SLOTLINK_MORE, SLOTLINK_OK, lib
from .endpoint import Data, Endpoint, Message, Undeliverable, _address, _bytes
from .errors import Error, code_name, last_error

_CLOSED = "SLOTLINK_ERR_CLOSED"


class AsyncEndpoint:
    """An :class:`slotlink.Endpoint` driven by an asyncio event loop. Use it from the loop's thread."""

    def __init__(self, endpoint: Endpoint, loop: asyncio.AbstractEventLoop) -> None:
        self.endpoint = endpoint
        """The underlying blocking endpoint (address, node, stats, undeliverable())."""
        self.address = endpoint.address
        self._loop = loop
        self._messages: "asyncio.Queue[Optional[Message]]" = asyncio.Queue()
        self._requests: Dict[int, "asyncio.Future[bytes]"] = {}
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
                m = self.endpoint.receive(timeout=0)
                if m is None:
                    break
                self._messages.put_nowait(m)
        except Error as err:
            if err.code != _CLOSED:
                raise
        handle = self.endpoint._handle()
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
        for fut in list(self._requests.values()) + self._space:
            if not fut.done():
                fut.set_exception(Error(_CLOSED, f"endpoint {self.address} ended: {reason}"))

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

    async def receive(self) -> Optional[Message]:
        """The next message; None once the endpoint has ended and everything was taken."""
        if self._ended and self._messages.empty():
            return None
        m = await self._messages.get()
        if m is None:
            self._messages.put_nowait(None)  # later callers see the end too
        return m

    def __aiter__(self) -> AsyncIterator[Message]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Message]:
        while True:
            m = await self.receive()
            if m is None:
                return
            yield m

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


__all__ = ["connect", "AsyncEndpoint", "code_name"]
