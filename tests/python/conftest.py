"""What the Python tests share: a `cairn serve` of their own."""
import contextlib
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def cairn_server(data_dir):
    """Starts the `cairn` binary (CAIRN_BIN, default target/debug/cairn) on
    a free loopback port with `data_dir`, yields its URL once ready, and
    checks it exits 0 on SIGTERM. Embedding models come from
    CAIRN_EMBEDDING__MODELS_DIR (default ./models)."""
    binary = os.environ.get("CAIRN_BIN", str(ROOT / "target/debug/cairn"))
    env = dict(os.environ)
    env.setdefault("CAIRN_EMBEDDING__MODELS_DIR", str(ROOT / "models"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [binary, "--data-dir", str(data_dir), "serve", "--listen", f"127.0.0.1:{port}"],
        stderr=subprocess.DEVNULL, env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=1) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        assert proc.poll() is None, "cairn serve exited early"
        assert time.time() < deadline, "cairn serve did not become ready"
        time.sleep(0.05)
    try:
        yield url
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0, "cairn serve exits 0 on SIGTERM"
