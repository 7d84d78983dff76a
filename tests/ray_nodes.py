"""Ray nodes on loopback addresses, for the tests and the benchmarks: `ray start --block` processes, waited for and
stopped. Ray rewrites 127.0.0.1 to the machine's interface address, so the nodes take other loopback addresses."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

HEAD, SECOND = "127.0.0.2", "127.0.0.3"


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def start_node(*args: str) -> subprocess.Popen[bytes]:
    """`ray start ARGS --disable-usage-stats --block`, quiet, in a session of its own (so it can be stopped whole)."""
    ray_bin = str(Path(sys.executable).parent / "ray")
    return subprocess.Popen([ray_bin, "start", *args, "--disable-usage-stats", "--block"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"},
                            start_new_session=True)


def wait_nodes(address: str, count: int, seconds: float = 90) -> None:
    """Until a driver on HEAD joins the cluster at `address` and counts `count` live nodes."""
    deadline = time.monotonic() + seconds
    probe = ("import ray,sys; ray.init(address=sys.argv[1], _node_ip_address=sys.argv[2], log_to_driver=False);"
             "print(sum(n['Alive'] for n in ray.nodes()))")
    while time.monotonic() < deadline:
        done = subprocess.run([sys.executable, "-c", probe, address, HEAD], capture_output=True, text=True)
        if done.returncode == 0 and done.stdout.strip() == str(count):
            return
        time.sleep(1)
    raise TimeoutError(f"the Ray cluster at {address} did not reach {count} live nodes")


def stop_node(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the node's session, SIGKILL 5 s later if it is still there (a `--block` head can wait 30 s and more
    on its workers before it exits)."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
