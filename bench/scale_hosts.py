"""The scale benchmark's workers as separate hosts: network namespaces on a bridge, or own hostnames.

As root with `ip netns` working, worker N runs in a network namespace of its own, joined to a bridge by
a veth pair (the host is 10.231.0.1, worker N is 10.231.0.1N), and in a UTS namespace with hostname
scale-worker-N; `Relay` carries its PostgreSQL connections to a server listening on loopback only.
Else each worker gets its own hostname (`unshare --uts`), else nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import threading

HOST_IP = "10.231.0.1"
BRIDGE = "mmscalebr"
NAMESPACE = "mmscale{}"


def worker_ip(n: int) -> str:
    return f"10.231.0.1{n}"


def sh(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True, timeout=20)


class Hosts:
    """How workers are made to look like separate hosts: 'netns', 'uts' or 'none'."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.mode = "none"
        self.address = "127.0.0.1"  # where workers reach the simulator and PostgreSQL

    def set_up(self) -> None:
        self.tear_down()
        if os.geteuid() == 0 and shutil.which("ip"):
            try:
                sh("ip", "link", "add", BRIDGE, "type", "bridge")
                sh("ip", "addr", "add", f"{HOST_IP}/24", "dev", BRIDGE)
                sh("ip", "link", "set", BRIDGE, "up")
                for n in range(1, self.workers + 1):
                    ns, host_end, ns_end = NAMESPACE.format(n), f"mmsv{n}h", f"mmsv{n}n"
                    sh("ip", "netns", "add", ns)
                    sh("ip", "link", "add", host_end, "type", "veth", "peer", "name", ns_end)
                    sh("ip", "link", "set", host_end, "master", BRIDGE)
                    sh("ip", "link", "set", host_end, "up")
                    sh("ip", "link", "set", ns_end, "netns", ns)
                    sh("ip", "netns", "exec", ns, "ip", "addr", "add", f"{worker_ip(n)}/24", "dev", ns_end)
                    sh("ip", "netns", "exec", ns, "ip", "link", "set", ns_end, "up")
                    sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
                self.mode, self.address = "netns", HOST_IP
                return
            except (subprocess.SubprocessError, OSError):
                self.tear_down()
        if shutil.which("unshare") and _unshare_works():
            self.mode = "uts"

    def tear_down(self) -> None:
        if os.geteuid() != 0 or not shutil.which("ip"):
            return
        for n in range(1, 5):
            subprocess.run(["ip", "netns", "del", NAMESPACE.format(n)], capture_output=True, timeout=20)
        subprocess.run(["ip", "link", "del", BRIDGE], capture_output=True, timeout=20)

    def command(self, n: int, argv: list[str]) -> list[str]:
        """`argv` as worker `n`: in its namespaces and with its own hostname where that works."""
        quoted = " ".join(_quote(a) for a in argv)
        own_host = ["unshare", "--uts", "sh", "-c", f"hostname scale-worker-{n} && exec {quoted}"]
        if self.mode == "netns":
            return ["ip", "netns", "exec", NAMESPACE.format(n), *own_host]
        return own_host if self.mode == "uts" else argv

    def describe(self) -> str:
        if self.mode == "netns":
            return (
                f"network namespaces (ip netns + veth on bridge {BRIDGE}, host {HOST_IP}) "
                "and hostnames (unshare --uts)"
            )
        return "own hostnames only (unshare --uts)" if self.mode == "uts" else "plain processes (one host)"


def _quote(arg: str) -> str:
    return "'" + arg.replace("'", "'\"'\"'") + "'"


def _unshare_works() -> bool:
    done = subprocess.run(
        ["unshare", "--uts", "sh", "-c", "hostname mm-probe && hostname"], capture_output=True, timeout=20
    )
    return done.returncode == 0 and done.stdout.strip() == b"mm-probe"


class Relay:
    """TCP relay from `listen` to PostgreSQL on loopback (the server listens on 127.0.0.1 only)."""

    def __init__(self, listen: str, port: int, target: tuple[str, int]) -> None:
        self.listen, self.port, self.target = listen, port, target
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    def __enter__(self) -> Relay:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._client, self.listen, self.port), self.loop
        ).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
