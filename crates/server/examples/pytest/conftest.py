"""pytest fixtures for kms-server: copy this file into your tests' conftest.py.

Each pytest process (each pytest-xdist worker too) starts its own kms-server on a free
loopback port, serving your stores (STORES, a --data file) with the admin endpoints on,
and stops it at the end of the session. Each test that uses `kms_server` or `kms_client`
gets the server as it started. The binary is $KMS_SERVER, else `kms-server` on PATH.
Needs boto3 and pytest only.
"""

import json
import os
import pathlib
import queue
import shutil
import subprocess
import threading
import urllib.request

import boto3
import pytest
from botocore.config import Config

# Your stores, in the --data format (crates/server/README.md, "Data file").
STORES = pathlib.Path(__file__).with_name("stores.json")
# The demo configuration's access key (account 111122223333, allowed kms:*) and region.
ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
REGION = "us-east-1"
BANNER = "kms-server listening on "
# How long the server may take to print its banner (it loads STORES first); past that, the
# session fails with the server's log instead of waiting for ever.
START_SECONDS = 60
# The server is on this machine: a proxy of the environment (HTTP_PROXY, a CI machine's
# for its package registries, say) is not used to reach it, by urllib or by botocore.
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class KmsServer:
    def __init__(self, endpoint, log):
        self.endpoint = endpoint  # http://127.0.0.1:PORT
        self.log = log  # its stderr: a line per request, for a failing test's reader

    def admin(self, path, body=None, method="PUT"):
        """Calls /_kms-server/PATH: "stores", "faults", "requests" or "reset"
        (crates/server/README.md, "--admin"), and returns its JSON answer."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.endpoint}/_kms-server/{path}", data=data, method=method
        )
        with DIRECT.open(request) as answer:
            return json.load(answer)


def first_line(process, seconds):
    """The first line of the process's stdout ("" if it exits first), or None when none
    comes within `seconds`: read by a thread, since a pipe's readline cannot time out."""
    lines = queue.Queue()
    reader = threading.Thread(
        target=lambda: lines.put(process.stdout.readline()), daemon=True
    )
    reader.start()
    try:
        return lines.get(timeout=seconds)
    except queue.Empty:
        return None


@pytest.fixture(scope="session")
def kms_server_process(tmp_path_factory):
    binary = os.environ.get("KMS_SERVER") or shutil.which("kms-server")
    if not binary:
        message = "set KMS_SERVER to the kms-server binary, or put it on PATH"
        pytest.fail(message, pytrace=False)
    # stderr goes to a file: a pipe nobody reads fills up, and then holds the server.
    log = tmp_path_factory.mktemp("kms-server") / "stderr.log"
    with open(log, "wb") as stderr:
        process = subprocess.Popen(
            [binary, "--listen", "127.0.0.1:0", "--data", STORES, "--admin"],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    try:
        # The banner's first line says the port; the rest of it (about 1 KiB, and
        # nothing after it) stays in the pipe.
        first = first_line(process, START_SECONDS)
        if first is None:
            message = (
                f"kms-server printed no banner within {START_SECONDS} s "
                f"(START_SECONDS in conftest.py)\n{log.read_text()}"
            )
            pytest.fail(message, pytrace=False)
        if not first.startswith(BANNER):  # e.g. it refused the --data file, and exited
            message = f"kms-server did not start: {first!r}\n{log.read_text()}"
            pytest.fail(message, pytrace=False)
        yield KmsServer(first.removeprefix(BANNER).strip(), log)
    finally:
        # SIGTERM: in-flight requests finish, then it exits.
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


@pytest.fixture
def kms_server(kms_server_process):
    """The server as it started: the stores of STORES, no faults, no requests seen."""
    kms_server_process.admin("reset", method="POST")
    return kms_server_process


@pytest.fixture
def kms_client(kms_server):
    """Makes boto3 KMS clients of the server: kms_client(), or with boto3.client's
    arguments, e.g. kms_client(config=botocore.config.Config(retries=...))."""

    def make(**kwargs):
        # No proxy (proxies={}: not the environment's either), unless the config says one.
        config = Config(proxies={})
        if kwargs.get("config") is not None:
            config = config.merge(kwargs["config"])
        kwargs = {
            "region_name": REGION,
            "aws_access_key_id": ACCESS_KEY_ID,
            "aws_secret_access_key": SECRET_ACCESS_KEY,
            **kwargs,
            "config": config,
        }
        return boto3.client("kms", endpoint_url=kms_server.endpoint, **kwargs)

    return make
