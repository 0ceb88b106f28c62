"""Starts `kinesis-load serve` on a free port of 127.0.0.1 for the tests of this folder."""
import os
import subprocess

import boto3
import pytest
from botocore.config import Config

ACCESS_KEY = "AKIDPYTEST"
SECRET_KEY = "python-test-secret"


def binary():
    path = os.environ.get("KINESIS_LOAD_BIN")
    if not path:
        raise RuntimeError("KINESIS_LOAD_BIN is not set: run scripts/test.sh, which builds kinesis-load and sets it")
    return path


class Server:
    def __init__(self, *args):
        self.process = subprocess.Popen(
            [binary(), "serve", "--port", "0", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        # What serve says before it listens (what --data-dir restored) is kept in `banner`.
        lines = []
        while True:
            line = self.process.stdout.readline()
            if not line or "listening on" in line:
                break
            lines.append(line.strip())
        if "listening on" not in line:
            self.process.kill()
            raise RuntimeError(f"kinesis-load serve did not start: {' '.join(lines)} {self.process.stdout.read()}")
        self.banner = "\n".join(lines)
        self.url = line.strip().rsplit(" ", 1)[1]

    def client(self, secret=SECRET_KEY, validate=True):
        return boto3.client(
            "kinesis", endpoint_url=self.url, region_name="us-east-1", aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=secret,
            config=Config(parameter_validation=validate, retries={"total_max_attempts": 1}))

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture
def server():
    s = Server("--stream", "fixture:1", "--auth", f"{ACCESS_KEY}:{SECRET_KEY}")
    yield s
    s.stop()
