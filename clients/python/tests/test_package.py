"""
The slotlink Python package against a real proxy (its socket in $SLOTLINK_TEST_SOCKET;
test/conformance/python-package.test.ts starts the proxy and runs this with unittest):
the blocking endpoint, its errors, iteration, fork, publish and subscribe, and the asyncio form.
"""
import asyncio
import os
import struct
import threading
import time
import unittest

import slotlink
import slotlink.aio

SOCKET = os.environ["SLOTLINK_TEST_SOCKET"]


class BlockingEndpoint(unittest.TestCase):
    def test_request_to_the_proxy_and_errors_with_codes(self):
        with slotlink.connect("py-basic", socket=SOCKET) as ep:
            self.assertRegex(ep.address, r"^py-basic~\d+\.\d+@")
            self.assertEqual(ep.request("~proxy", b"hello", timeout=2.0), b"hello")
            with self.assertRaises(slotlink.Error) as caught:
                ep.request("nobody", b"x", timeout=2.0)
            self.assertEqual(caught.exception.code, "SLOTLINK_ERR_NO_ROUTE")
            with self.assertRaises(slotlink.Error) as caught:
                slotlink.connect("py-basic", socket=SOCKET)
            self.assertEqual(caught.exception.code, "SLOTLINK_ERR_NAME_TAKEN")

    def test_a_request_nobody_answers_times_out(self):
        with slotlink.connect("py-silent", socket=SOCKET), slotlink.connect("py-asker", socket=SOCKET) as asker:
            with self.assertRaises(slotlink.Error) as caught:
                asker.request("py-silent", b"anyone?", timeout=0.2)
            self.assertEqual(caught.exception.code, "SLOTLINK_ERR_REQUEST_TIMEOUT")

    def test_iteration_replies_and_a_request_answered_once(self):
        with slotlink.connect("py-server", socket=SOCKET) as server, slotlink.connect("py-client", socket=SOCKET) as client:
            got = []

            def serve():
                for msg in server:
                    got.append((msg.sender, msg.data, msg.is_request))
                    if msg.is_request:
                        msg.reply(b"ok:" + msg.data)
                        with self.assertRaises(slotlink.Error):
                            msg.reply(b"twice")
                        return

            t = threading.Thread(target=serve)
            t.start()
            client.send("py-server", b"one", more=True)
            client.send("py-server", "two")
            self.assertEqual(client.request("py-server", b"three", timeout=5.0), b"ok:three")
            t.join(5)
            self.assertEqual([g[1] for g in got], [b"one", b"two", b"three"])
            self.assertTrue(all(g[0] == client.address for g in got))
            self.assertEqual([g[2] for g in got], [False, False, True])

    def test_receive_many_takes_what_is_ready_in_order(self):
        with slotlink.connect("py-many-rx", socket=SOCKET) as rx, slotlink.connect("py-many-tx", socket=SOCKET) as tx:
            for i in range(500):
                tx.send("py-many-rx", str(i), more=True)
            tx.flush()
            got = []
            while len(got) < 500:
                batch = rx.receive_many(128, timeout=5.0)
                self.assertTrue(0 < len(batch) <= 128)
                got.extend(batch)
            self.assertEqual([m.data for m in got], [str(i).encode() for i in range(500)])
            self.assertEqual(rx.receive_many(16, timeout=0.05), [])

    def test_a_forked_child_connects_anew(self):
        ep = slotlink.connect("py-parent", socket=SOCKET)
        pid = os.fork()
        if pid == 0:
            ok = False
            try:
                ep.send("~proxy", b"x")
            except slotlink.Error as err:
                ok = err.code == "SLOTLINK_ERR_CLOSED"
            ep.close()
            with slotlink.connect("py-child", socket=SOCKET) as own:
                ok = ok and own.request("~proxy", b"c", timeout=2.0) == b"c"
            os._exit(0 if ok else 1)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)
        self.assertEqual(ep.request("~proxy", b"p", timeout=2.0), b"p")
        ep.close()


def seq(msg):
    return struct.unpack_from("<I", msg.data)[0]


class PublishSubscribe(unittest.TestCase):
    def test_wildcards_copies_per_subscription_and_messages_apart(self):
        with slotlink.connect("py-ps-sub", socket=SOCKET) as sub, slotlink.connect("py-ps-pub", socket=SOCKET) as pub:
            star = sub.subscribe("py.*.new")
            rest = sub.subscribe("py.>")
            subjects = ["py.eu.new", "py.eu.old", "py", "other.eu.new", "py.us.new"]
            for i in range(100):
                pub.publish(subjects[i % 5], struct.pack("<I", i), more=i < 99)
            pub.send("py-ps-sub", b"plain")
            got_star = [star.receive(timeout=5.0) for _ in range(40)]
            got_rest = rest.receive_many(100, timeout=5.0)
            while len(got_rest) < 60:
                got_rest += rest.receive_many(100, timeout=5.0)
            self.assertEqual([seq(m) for m in got_star], [i for i in range(100) if i % 5 in (0, 4)])
            self.assertEqual([seq(m) for m in got_rest], [i for i in range(100) if i % 5 in (0, 1, 4)])
            self.assertEqual({(m.kind, m.sender, m.is_request, m.subscription) for m in got_star}, {("publish", "", False, star.id)})
            self.assertEqual({m.subscription for m in got_rest}, {rest.id})
            self.assertEqual([m.subject for m in got_rest[:3]], ["py.eu.new", "py.eu.old", "py.us.new"])
            plain = sub.receive(timeout=5.0)  # publications never come out of the endpoint itself
            self.assertEqual((plain.kind, plain.data, plain.sender), ("send", b"plain", pub.address))
            self.assertIsNone(star.receive(timeout=0.05))
            # timeout=0 takes what is there without waiting. Written by the subscriber itself before
            # its request, the publication and the send are in its inbox once the reply is.
            sub.publish("py.eu.new", struct.pack("<I", 100))
            sub.send("py-ps-sub", b"plain again")
            sub.request("~proxy", b"sync", timeout=5.0)
            self.assertEqual(seq(star.receive(timeout=0)), 100)
            self.assertEqual(sub.receive(timeout=0).data, b"plain again")
            self.assertIsNone(star.receive(timeout=0))

    def test_rules_are_checked_before_anything_is_sent(self):
        with slotlink.connect("py-ps-rules", socket=SOCKET) as ep:
            for pattern in ["", "a..b", ".a", "a.", "a.>.b", "a.b*", "a b", "a.\u00e9", "x" * 256]:
                with self.assertRaises(slotlink.Error, msg=pattern) as caught:
                    ep.subscribe(pattern)
                self.assertEqual(caught.exception.code, "SLOTLINK_ERR_INVALID_SUBJECT")
            for subject in ["a.*", "a.>", "a..b", ""]:
                with self.assertRaises(slotlink.Error, msg=subject) as caught:
                    ep.publish(subject, b"x")
                self.assertEqual(caught.exception.code, "SLOTLINK_ERR_INVALID_SUBJECT")
            with self.assertRaises(ValueError):
                ep.subscribe("a.b", policy="newest")
            self.assertEqual(ep.stats()["subscriptions"], 0)

    def test_a_subscription_and_the_endpoint_taken_from_two_threads(self):
        with slotlink.connect("py-ps-two", socket=SOCKET) as ep, slotlink.connect("py-ps-two-tx", socket=SOCKET) as tx:
            sub = ep.subscribe("two.x")
            plain = []

            def take_plain():
                while len(plain) < 500:
                    plain.extend(ep.receive_many(64, timeout=5.0))

            t = threading.Thread(target=take_plain)
            t.start()
            for i in range(500):  # interleaved: each thread is handed what the other took for it
                tx.send("py-ps-two", struct.pack("<I", i), more=True)
                tx.publish("two.x", struct.pack("<I", i), more=i % 50 != 49)
            pubs = []
            while len(pubs) < 500:
                pubs.extend(sub.receive_many(64, timeout=5.0))
            t.join(10)
            self.assertEqual([seq(m) for m in pubs], list(range(500)))
            self.assertEqual([seq(m) for m in plain], list(range(500)))

    def test_after_unsubscribe_nothing_more_comes_out(self):
        with slotlink.connect("py-ps-unsub", socket=SOCKET) as ep, slotlink.connect("py-ps-unsub-tx", socket=SOCKET) as tx:
            keep = ep.subscribe("un.x")
            with ep.subscribe("un.*") as gone:
                for i in range(5):
                    tx.publish("un.x", struct.pack("<I", i))
                self.assertEqual(seq(gone.receive(timeout=5.0)), 0)
            self.assertFalse(gone.is_open)
            with self.assertRaises(slotlink.Error) as caught:
                gone.receive(timeout=1.0)
            self.assertEqual(caught.exception.code, "SLOTLINK_ERR_CLOSED")
            self.assertEqual(list(gone), [])
            for i in range(5, 10):
                tx.publish("un.x", struct.pack("<I", i))
            got = []
            while len(got) < 10:
                got.extend(keep.receive_many(16, timeout=5.0))
            self.assertEqual([seq(m) for m in got], list(range(10)))
            self.assertEqual(ep.stats()["subscriptions"], 1)

    def test_drop_oldest_never_holds_the_publisher_back_and_counts_what_it_dropped(self):
        with slotlink.connect("py-ps-slow", socket=SOCKET) as ep, slotlink.connect("py-ps-fast", socket=SOCKET) as tx:
            sub = ep.subscribe("slow.x", policy="drop-oldest", max_queued_bytes=4096)
            total = 2000
            for i in range(total):  # the subscriber reads nothing meanwhile: the publisher is not held back
                tx.publish("slow.x", struct.pack("<I", i) + bytes(1020), more=i % 64 != 63)
            tx.flush()
            taken = []
            deadline = time.monotonic() + 20
            while len(taken) + sub.dropped < total and time.monotonic() < deadline:
                taken.extend(sub.receive_many(256, timeout=0.2))
            self.assertEqual(len(taken) + sub.dropped, total, "each publication taken or counted as dropped")
            self.assertGreater(sub.dropped, 0)
            seqs = [seq(m) for m in taken]
            self.assertEqual(seqs, sorted(seqs), "what is left arrives in order")
            self.assertEqual(seqs[-1], total - 1, "the newest is kept")


class AsyncioEndpoint(unittest.TestCase):
    def test_requests_sends_and_iteration_in_one_loop(self):
        async def main():
            server = await slotlink.aio.connect("py-aio-server", socket=SOCKET)
            client = await slotlink.aio.connect("py-aio-client", socket=SOCKET)
            seen = []

            async def serve():
                async for msg in server:
                    if msg.is_request:
                        msg.reply(msg.data.upper())
                    else:
                        seen.append(msg.data)
                        if len(seen) == 1001:
                            return

            serving = asyncio.ensure_future(serve())
            replies = await asyncio.gather(*(client.request("py-aio-server", f"r{i}".encode(), timeout=5) for i in range(100)))
            self.assertEqual(replies, [f"R{i}".encode() for i in range(100)])
            self.assertEqual(await client.request("~proxy", b"x" * (1 << 20), timeout=5), b"x" * (1 << 20))
            for i in range(1000):
                await client.send("py-aio-server", str(i))
            await client.send("py-aio-server", b"y" * (1 << 20))  # more than the ring: sent cell by cell
            await asyncio.wait_for(serving, 10)
            self.assertEqual(seen[:1000], [str(i).encode() for i in range(1000)])
            self.assertEqual(seen[1000], b"y" * (1 << 20))
            with self.assertRaises(slotlink.Error) as caught:
                await client.request("nobody", b"x", timeout=2)
            self.assertEqual(caught.exception.code, "SLOTLINK_ERR_NO_ROUTE")
            client.close()
            server.close()

        asyncio.run(main())

    def test_publish_and_subscribe_in_one_loop(self):
        async def main():
            sub = await slotlink.aio.connect("py-aio-sub", socket=SOCKET)
            pub = await slotlink.aio.connect("py-aio-pub", socket=SOCKET)
            prices = await sub.subscribe("aio.prices.>")
            eu = await sub.subscribe("aio.prices.eu")
            for i in range(300):
                await pub.publish("aio.prices.eu" if i % 2 else "aio.prices.us.ny", struct.pack("<I", i))
            await pub.send("py-aio-sub", b"plain")
            got = []
            async for m in prices:
                got.append((m.subject, seq(m)))
                if len(got) == 300:
                    break
            self.assertEqual(got, [("aio.prices.eu" if i % 2 else "aio.prices.us.ny", i) for i in range(300)])
            self.assertEqual([seq(await eu.receive()) for _ in range(150)], list(range(1, 300, 2)))
            self.assertEqual((await sub.receive()).data, b"plain")
            with self.assertRaises(slotlink.Error) as caught:
                await sub.subscribe("aio.>.x")
            self.assertEqual(caught.exception.code, "SLOTLINK_ERR_INVALID_SUBJECT")
            async with eu:
                pass
            self.assertFalse(eu.is_open)
            self.assertIsNone(await eu.receive())
            prices.unsubscribe()
            sub.close()
            pub.close()

        asyncio.run(main())


if __name__ == "__main__":
    unittest.main()
