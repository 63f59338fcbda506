"""slotlink for Python: talk to other processes through the host's slotlink proxy.

    import slotlink
    with slotlink.connect("billing", socket="/tmp/sl.sock") as ep:
        ep.send("audit", b"started")
        reply = ep.request("ledger", b"balance?", timeout=2.0)
        with ep.subscribe("prices.>") as prices:       # "*": one token, a last ">": the rest
            ep.publish("prices.eu", b"42")
            msg = prices.receive(timeout=1.0)          # msg.subject == "prices.eu"
        for msg in ep:
            if msg.is_request:
                msg.reply(b"ok")

Runs over libslotlink (ctypes, standard library only). ``slotlink.aio`` has an asyncio form.
"""
from .endpoint import Endpoint, Message, Subscription, Undeliverable, connect
from .errors import Error

__all__ = ["connect", "Endpoint", "Message", "Subscription", "Undeliverable", "Error"]
__version__ = "0.1.0"
