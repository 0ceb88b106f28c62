"""HTTP/2 from `kinesis-load serve`: with `--tls-cert/--tls-key` over HTTPS (ALPN h2), and on plain HTTP with prior
knowledge (h2c), as well as HTTP/1.1, so that
SubscribeToShard works as the Java SDK and the KCL use it, over HTTP/2. The HTTP/2 client here is
httpx with h2; the certificate is made for the test with `cryptography`."""
import base64
import datetime
import ipaddress
import json
import ssl
import subprocess

import boto3
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.eventstream import EventStreamBuffer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import ACCESS_KEY, SECRET_KEY, Server, binary


@pytest.fixture
def tls_server(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    server = Server("--stream", "h2:1", "--auth", f"{ACCESS_KEY}:{SECRET_KEY}", "--tls-cert", str(cert_file), "--tls-key", str(key_file))
    server.cert = str(cert_file)
    yield server
    server.stop()


def signed(url, target, body):
    request = AWSRequest(method="POST", url=url + "/", data=body, headers={
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"Kinesis_20131202.{target}"})
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "kinesis", "us-east-1").add_auth(request)
    # Over HTTP/2 the host travels as :authority.
    return {k: v for k, v in request.headers.items() if k.lower() != "host"}


def test_subscribe_to_shard_over_http2(tls_server):
    assert tls_server.url.startswith("https://127.0.0.1:")
    kinesis = boto3.client("kinesis", endpoint_url=tls_server.url, region_name="us-east-1", aws_access_key_id=ACCESS_KEY,
                           aws_secret_access_key=SECRET_KEY, verify=tls_server.cert)
    arn = kinesis.describe_stream_summary(StreamName="h2")["StreamDescriptionSummary"]["StreamARN"]
    consumer = kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="java-like")["Consumer"]["ConsumerARN"]
    for index in range(3):
        kinesis.put_record(StreamName="h2", Data=f"h{index}".encode(), PartitionKey="k")

    with httpx.Client(http2=True, verify=ssl.create_default_context(cafile=tls_server.cert), timeout=30) as client:
        body = b'{"StreamName": "h2"}'
        answer = client.post(tls_server.url + "/", content=body, headers=signed(tls_server.url, "DescribeStreamSummary", body))
        assert answer.http_version == "HTTP/2" and answer.status_code == 200
        assert answer.json()["StreamDescriptionSummary"]["StreamName"] == "h2"

        body = ('{"ConsumerARN": "%s", "ShardId": "shardId-000000000000", "StartingPosition": {"Type": "TRIM_HORIZON"}}' % consumer).encode()
        with client.stream("POST", tls_server.url + "/", content=body, headers=signed(tls_server.url, "SubscribeToShard", body)) as response:
            assert response.http_version == "HTTP/2"
            assert response.status_code == 200
            assert response.headers["content-type"] == "application/vnd.amazon.eventstream"
            buffer, types, data = EventStreamBuffer(), [], []
            for chunk in response.iter_raw():
                buffer.add_data(chunk)
                for message in buffer:
                    types.append(message.headers[":event-type"])
                    if types[-1] == "SubscribeToShardEvent":
                        data += [base64.b64decode(r["Data"]) for r in json.loads(message.payload)["Records"]]
                if len(data) >= 3:
                    break
    assert types[0] == "initial-response"
    assert data == [b"h0", b"h1", b"h2"]


def test_tls_files_that_cannot_be_read_are_named(tmp_path):
    missing = str(tmp_path / "nope.pem")
    result = subprocess.run([binary(), "serve", "--port", "0", "--tls-cert", missing, "--tls-key", missing], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0 and f"cannot read a PEM certificate from {missing}" in result.stderr
    result = subprocess.run([binary(), "serve", "--port", "0", "--tls-cert", missing], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0 and "--tls-cert and --tls-key go together" in result.stderr


def test_plain_http_speaks_http2_with_prior_knowledge_as_well_as_http1(server):
    """The Java SDK's Netty client speaks HTTP/2 to an http:// endpoint with prior knowledge (h2c)."""
    kinesis = server.client()
    kinesis.create_stream(StreamName="h2c", ShardCount=1)
    arn = kinesis.describe_stream_summary(StreamName="h2c")["StreamDescriptionSummary"]["StreamARN"]
    consumer = kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="netty")["Consumer"]["ConsumerARN"]
    kinesis.put_record(StreamName="h2c", Data=b"over h2c", PartitionKey="k")
    with httpx.Client(http1=False, http2=True, timeout=30) as client:
        body = b'{"StreamName": "h2c"}'
        answer = client.post(server.url + "/", content=body, headers=signed(server.url, "DescribeStreamSummary", body))
        assert (answer.http_version, answer.status_code) == ("HTTP/2", 200)
        body = ('{"ConsumerARN": "%s", "ShardId": "shardId-000000000000", "StartingPosition": {"Type": "TRIM_HORIZON"}}' % consumer).encode()
        with client.stream("POST", server.url + "/", content=body, headers=signed(server.url, "SubscribeToShard", body)) as response:
            assert (response.http_version, response.status_code) == ("HTTP/2", 200)
            buffer, data = EventStreamBuffer(), []
            for chunk in response.iter_raw():
                buffer.add_data(chunk)
                for message in buffer:
                    if message.headers[":event-type"] == "SubscribeToShardEvent":
                        data += [base64.b64decode(r["Data"]) for r in json.loads(message.payload)["Records"]]
                if data:
                    break
    assert data == [b"over h2c"]
    # And HTTP/1.1 on the same port, as before.
    assert kinesis.list_streams()["StreamNames"] == ["fixture", "h2c"]
