#!/usr/bin/env python3
"""Signs generated Kinesis requests with botocore's own SigV4 signer at a fixed time and
writes them as test vectors for Tests/KinesisTests (SigV4BotocoreTests).

Deterministic: the same botocore gives the same file, so CI regenerates it and the Swift
test compares our signer with whatever botocore is installed.

    python3 scripts/gen_botocore_sigv4.py Tests/KinesisTests/Fixtures/botocore-sigv4.json
"""
import base64
import datetime
import json
import random
import sys

import botocore
import botocore.auth
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

OPERATIONS = ["PutRecord", "PutRecords", "CreateStream", "DescribeStreamSummary", "ListShards",
              "GetShardIterator", "GetRecords", "DeleteStream", "UpdateShardCount", "ListStreams"]
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2", "sa-east-1"]
ENDPOINTS = ["https://kinesis.{region}.amazonaws.com", "http://127.0.0.1:4567", "http://localhost:5000",
             "https://kinesis.{region}.amazonaws.com:443", "http://127.0.0.1"]


def body_for(operation, rng):
    stream = rng.choice(["orders", "clicks.v2", "metrics_prod", "a-b-c"])
    if operation == "PutRecord":
        data = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 64)))
        return {"StreamName": stream, "Data": base64.b64encode(data).decode(), "PartitionKey": f"user-{rng.randint(0, 10**6)}"}
    if operation == "PutRecords":
        return {"StreamName": stream, "Records": [
            {"Data": base64.b64encode(("é\u2603" * rng.randint(1, 5)).encode()).decode(), "PartitionKey": f"k{i}"}
            for i in range(rng.randint(1, 5))]}
    if operation == "CreateStream":
        return {"StreamName": stream, "ShardCount": rng.randint(1, 8)}
    if operation == "GetShardIterator":
        return {"StreamName": stream, "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"}
    if operation == "GetRecords":
        return {"ShardIterator": "AAAAAAAAAAF" + "x" * rng.randint(10, 80), "Limit": rng.randint(1, 10000)}
    if operation == "UpdateShardCount":
        return {"StreamName": stream, "TargetShardCount": rng.randint(1, 16), "ScalingType": "UNIFORM_SCALING"}
    if operation == "ListStreams":
        return {}
    return {"StreamName": stream}


def main(path):
    rng = random.Random(20131202)
    fixed = datetime.datetime(2026, 11, 29, 2, 24, 30, tzinfo=datetime.timezone.utc)
    vectors = []
    for index in range(30):
        operation = OPERATIONS[index % len(OPERATIONS)]
        region = rng.choice(REGIONS)
        url = rng.choice(ENDPOINTS).format(region=region) + "/"
        token = "FQoGZXIvYXdzE" + "".join(rng.choice("abcdefXYZ0123/+=") for _ in range(40)) if index % 3 == 0 else None
        credentials = Credentials(f"AKIA{rng.randint(10**11, 10**12 - 1)}", f"secret/{rng.getrandbits(64):x}+Key", token)
        body = json.dumps(body_for(operation, rng), separators=(",", ":"), ensure_ascii=False)
        headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"Kinesis_20131202.{operation}"}
        request = AWSRequest(method="POST", url=url, data=body.encode(), headers=headers)
        botocore.auth.get_current_datetime = lambda: fixed
        SigV4Auth(credentials, "kinesis", region).add_auth(request)
        vectors.append({
            "operation": operation, "region": region, "url": url, "body": body,
            "headers": [[k, v] for k, v in headers.items()],
            "accessKeyId": credentials.access_key, "secretAccessKey": credentials.secret_key,
            "sessionToken": token, "epochSeconds": int(fixed.timestamp()),
            "authorization": request.headers["Authorization"],
        })
    with open(path, "w") as out:
        json.dump({"botocore": botocore.__version__, "vectors": vectors}, out, indent=1, ensure_ascii=False)
        out.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
