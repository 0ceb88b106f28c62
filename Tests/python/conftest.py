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
        first = self.process.stdout.readline().strip()
        if "listening on" not in first:
            self.process.kill()
            raise RuntimeError(f"kinesis-load serve did not start: {first} {self.process.stdout.read()}")
        self.url = first.rsplit(" ", 1)[1]

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
