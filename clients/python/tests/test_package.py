"""
The slotlink Python package against a real proxy (its socket in $SLOTLINK_TEST_SOCKET;
test/conformance/python-package.test.ts starts the proxy and runs this with unittest):
the blocking endpoint, its errors, iteration, fork, and the asyncio form.
"""
import asyncio
import os
import threading
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


if __name__ == "__main__":
    unittest.main()
