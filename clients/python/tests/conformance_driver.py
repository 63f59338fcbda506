"""
The conformance suite's Python driver (test/conformance/): a real slotlink (Python) client
driven over a line protocol, the same as the C and Node drivers'. Each stdin line is
{"id":N,"cmd":"...","args":{...}}; each answer one stdout line {"id":N,"ok":true,"result":
{...}} or {"id":N,"ok":false,"error":{"code":...,"message":...}}; events are {"event":...}
lines. Once connected, a receiver thread takes every message, checks each sender's
sequence and payload pattern and answers requests, while commands run on the main thread.
Each subscription (the test's `key` for it) has a thread taking its publications: a
publication's payload is its publisher's number and its sequence number (u32 each), checked
to arrive in order per publisher, and logged with its subject.
"""
from __future__ import annotations

import json
import os
import statistics
import struct
import sys
import threading
import time

import slotlink

out_lock = threading.Lock()
state = threading.Condition()
ep: slotlink.Endpoint | None = None
respond_mode: str | None = None
verify = True  # check each message's sequence and pattern (benchmarks turn it off)
per_sender: dict[str, int] = {}
received = 0
wanted = 0  # what a collect waits for: wake it only then, not per message
bad: list[str] = []
ended = False
stop_sending = threading.Event()
LOG_MAX = 10000


class Watched:
    """A subscription and what arrived for it, in order (guarded by `state`)."""

    def __init__(self, sub: slotlink.Subscription) -> None:
        self.sub = sub
        self.received = 0
        self.next: dict = {}
        self.bad: list = []
        self.log: list = []


subs: dict = {}


def watch(w: Watched) -> None:
    for m in w.sub:
        with state:
            if len(m.data) < 8:
                if len(w.bad) < 10:
                    w.bad.append(f"a publication of {len(m.data)} bytes")
                continue
            publisher, seq = struct.unpack_from("<II", m.data)
            want = w.next.get(publisher, 0)
            if seq < want and len(w.bad) < 10:
                w.bad.append(f"publisher {publisher}: {seq} after {want - 1}")
            w.next[publisher] = seq + 1
            if len(w.log) < LOG_MAX:
                w.log.append([m.subject, publisher, seq])
            w.received += 1
            state.notify_all()


def emit(obj: dict) -> None:
    line = json.dumps(obj, separators=(",", ":"))
    with out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def fill_payload(size: int, seq: int) -> bytes:
    """As test/helpers/payload.ts: u32 sequence number, then (seq + i) & 0xff."""
    return struct.pack("<I", seq & 0xFFFFFFFF) + _pattern(size, seq)


def _pattern(size: int, seq: int) -> bytes:
    cycle = bytes(range(256))
    start = (seq + 4) & 0xFF
    rep = (cycle[start:] + cycle[:start]) * ((size - 4) // 256 + 1)
    return rep[: size - 4]


def check_payload(data: bytes, want: int) -> str | None:
    if len(data) < 4:
        return f"payload of {len(data)} bytes"
    seq = struct.unpack_from("<I", data)[0]
    if seq != want:
        return f"sequence {seq}, expected {want}"
    if data[4:] != _pattern(len(data), seq):
        return f"payload of message {seq} differs from its pattern"
    return None


def report_undeliverable() -> None:
    for u in ep.undeliverable():
        emit({"event": "undeliverable", "to": u.to, "code": u.code, "message": u.message})


def on_message(m: slotlink.Message) -> None:
    global received
    if m.is_request and respond_mode:
        m.reply(m.data if respond_mode == "echo" else ep.address.encode())
        return
    with state:
        want = per_sender.get(m.sender, 0)
        problem = check_payload(m.data, want) if verify else None
        if problem and len(bad) < 10:
            bad.append(f"from {m.sender}: {problem}")
        per_sender[m.sender] = want + 1
        received += 1
        if wanted and received >= wanted:
            state.notify_all()


def receiver() -> None:
    global ended
    while True:
        try:
            batch = ep.receive_many(256, timeout=0.1)
        except slotlink.Error:
            break
        for m in batch:
            on_message(m)
        report_undeliverable()
    report_undeliverable()
    reason = ep.close_reason
    emit({"event": "close", "code": reason.code if reason else None})
    with state:
        ended = True
        state.notify_all()


def send_many(to: str, count: int, size: int, start: int, pattern: bool, batch: int) -> None:
    """Commits every `batch` messages (more=True between; 0: cells commit as they fill)."""
    same = fill_payload(size, start)
    for i in range(count):
        more = (batch == 0 or i % batch != batch - 1) and i + 1 < count
        ep.send(to, fill_payload(size, start + i) if pattern else same, more=more)


def send_forever(to: str, size: int, report: int) -> None:
    seq = 0
    reported = False
    while not stop_sending.is_set():
        try:
            ep.send(to, fill_payload(size, seq), more=seq % 64 != 63)
        except slotlink.Error:
            return  # ended (e.g. the proxy's drain)
        seq += 1
        if not reported and seq >= report:
            ep.flush()
            reported = True
            emit({"event": "progress", "sent": seq})


def command(cmd: str, a: dict) -> dict:
    global ep, respond_mode, verify, wanted
    if cmd == "connect":
        respond_mode = a.get("respond")
        verify = a.get("verify", True)
        ep = slotlink.connect(a["name"], socket=a.get("socket"), group=bool(a.get("group")), _protocol_version=int(a.get("version", 0)))
        if a.get("consume", True):
            threading.Thread(target=receiver, daemon=True).start()
        return {"address": ep.address, "pid": os.getpid()}
    if cmd == "send":
        send_many(a["to"], int(a.get("count", 1)), int(a.get("size", 64)), int(a.get("start", 0)), a.get("pattern", True), int(a.get("batch", 64)))
        return {"sent": int(a.get("count", 1))}
    if cmd == "trySend":
        return {"accepted": ep.try_send(a["to"], fill_payload(64, int(a.get("start", 0))))}
    if cmd == "sendForever":
        threading.Thread(target=send_forever, args=(a["to"], int(a.get("size", 64)), int(a.get("report", 1000))), daemon=True).start()
        return {}
    if cmd == "stopSending":
        stop_sending.set()
        return {}
    if cmd == "request":
        timeout = float(a.get("timeout", 5000)) / 1000
        size = int(a.get("size", 0))
        if size:
            payload = fill_payload(size, 7)
            reply = ep.request(a["to"], payload, timeout=timeout)
            return {"bytes": len(reply), "intact": reply == payload}
        return {"reply": ep.request(a["to"], a.get("data", "ping"), timeout=timeout).decode("utf-8")}
    if cmd == "hop":
        count = int(a.get("count", 1000))
        warm = int(a.get("warmup", count))
        payload = b"p" * 64
        times = []
        for i in range(warm + count):
            t0 = time.perf_counter()
            ep.request("~proxy", payload, timeout=5)
            if i >= warm:
                times.append((time.perf_counter() - t0) * 1e6)
        return {"medianMicros": statistics.median(times)}
    if cmd == "collect":
        deadline = time.monotonic() + float(a.get("timeout", 30000)) / 1000
        with state:
            wanted = int(a.get("count", 0))
            while received < wanted and not ended and time.monotonic() < deadline:
                state.wait(max(0.0, deadline - time.monotonic()))
            wanted = 0
            return {"received": received, "perSender": dict(per_sender), "bad": list(bad)}
    if cmd == "subscribe":
        sub = ep.subscribe(a.get("subject"), policy=a.get("policy", "block"), max_queued_bytes=a.get("maxQueuedBytes"))
        w = Watched(sub)
        with state:
            subs[a.get("key", a.get("subject"))] = w
        threading.Thread(target=watch, args=(w,), daemon=True).start()
        return {"id": sub.id}
    if cmd == "unsubscribe":
        subs[a["key"]].sub.unsubscribe()
        return {}
    if cmd == "publish":
        names = str(a.get("subject", "")).split(" ")
        count = int(a.get("count", 1))
        size = max(8, int(a.get("size", 8)))
        publisher = int(a.get("publisher", 0))
        start = int(a.get("start", 0))
        pad = bytes(size - 8)
        for i in range(count):
            ep.publish(names[i % len(names)], struct.pack("<II", publisher, start + i) + pad, more=i + 1 < count and i % 64 != 63)
        return {"published": count}
    if cmd == "publications":
        w = subs[a["key"]]
        deadline = time.monotonic() + float(a.get("timeout", 30000)) / 1000
        with state:
            while w.received < int(a.get("count", 0)) and time.monotonic() < deadline:
                state.wait(max(0.0, deadline - time.monotonic()))
            return {"received": w.received, "dropped": w.sub.dropped, "bad": list(w.bad),
                    "subjects": sorted({entry[0] for entry in w.log}), "log": list(w.log)}
    if cmd == "stats":
        s = ep.stats()
        return {"messagesOut": s["messages_out"], "messagesIn": s["messages_in"], "cellsOut": s["cells_out"]}
    raise slotlink.Error("SLOTLINK_ERR_CONFIG", f"unknown command {cmd}")


def main() -> None:
    emit({"event": "ready"})
    for line in sys.stdin:
        msg = json.loads(line)
        try:
            emit({"id": msg["id"], "ok": True, "result": command(msg["cmd"], msg.get("args") or {})})
        except slotlink.Error as err:
            emit({"id": msg["id"], "ok": False, "error": {"code": err.code, "message": err.message}})
    # stdin closed: the test is done with us.
    os._exit(0)


if __name__ == "__main__":
    main()
