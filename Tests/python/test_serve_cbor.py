"""CBOR (`application/x-amz-cbor-1.1`), as the Java SDKs and the KCL speak it by default, read and
written by an independent CBOR library (cbor2). AWS's CBOR carries blobs as byte strings and
timestamps as tag 1 holding epoch milliseconds (aws-sdk-java-v2 #4661; LocalStack #11071)."""
import time
import urllib.request

import botocore.session
import cbor2
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import ACCESS_KEY, SECRET_KEY

CBOR = "application/x-amz-cbor-1.1"


def loads(data):
    # An operation that answers nothing (CreateStream) has an empty body, as AWS's.
    if data == b"":
        return None
    # cbor2 reads tag 1 as RFC 8949's seconds; keep AWS's milliseconds as they came.
    return cbor2.loads(data, semantic_decoders={1: lambda value, immutable: cbor2.CBORTag(1, value)})


def call(server, target, document, sign=True, raw=None):
    body = raw if raw is not None else cbor2.dumps(document)
    headers = {"Content-Type": CBOR, "X-Amz-Target": f"Kinesis_20131202.{target}"}
    request = AWSRequest(method="POST", url=server.url + "/", data=body, headers=headers)
    if sign:
        SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "kinesis", "us-east-1").add_auth(request)
    prepared = urllib.request.Request(server.url + "/", data=body, method="POST", headers=dict(request.headers.items()))
    try:
        with urllib.request.urlopen(prepared, timeout=10) as response:
            return response.status, response.headers["Content-Type"], loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], loads(error.read())


def test_records_round_trip_as_byte_strings_with_millisecond_timestamps(server):
    status, content_type, answer = call(server, "CreateStream", {"StreamName": "cbor", "ShardCount": 1})
    assert (status, content_type, answer) == (200, CBOR, None), "an empty answer, labelled CBOR"
    payload = bytes(range(256))
    before_ms = int(time.time() * 1000)
    status, _, put = call(server, "PutRecord", {"StreamName": "cbor", "Data": payload, "PartitionKey": "k"})
    assert status == 200 and put["ShardId"] == "shardId-000000000000"
    # AT_TIMESTAMP with tag 1 in milliseconds, as the Java SDK writes it.
    status, _, iterator = call(server, "GetShardIterator", {
        "StreamName": "cbor", "ShardId": "shardId-000000000000", "ShardIteratorType": "AT_TIMESTAMP",
        "Timestamp": cbor2.CBORTag(1, before_ms - 1000)})
    assert status == 200
    status, _, page = call(server, "GetRecords", {"ShardIterator": iterator["ShardIterator"]})
    assert status == 200
    [record] = page["Records"]
    assert record["Data"] == payload and isinstance(record["Data"], bytes)
    assert record["SequenceNumber"] == put["SequenceNumber"]
    arrival = record["ApproximateArrivalTimestamp"]
    assert isinstance(arrival, cbor2.CBORTag) and arrival.tag == 1
    assert before_ms - 1000 <= arrival.value <= int(time.time() * 1000) + 1000, "epoch milliseconds"
    assert isinstance(page["MillisBehindLatest"], int)
    # A timestamp after the record's arrival finds nothing.
    status, _, later = call(server, "GetShardIterator", {
        "StreamName": "cbor", "ShardId": "shardId-000000000000", "ShardIteratorType": "AT_TIMESTAMP",
        "Timestamp": cbor2.CBORTag(1, arrival.value + 1)})
    assert call(server, "GetRecords", {"ShardIterator": later["ShardIterator"]})[2]["Records"] == []
    status, _, summary = call(server, "DescribeStreamSummary", {"StreamName": "cbor"})
    created = summary["StreamDescriptionSummary"]["StreamCreationTimestamp"]
    assert created.tag == 1 and abs(created.value - before_ms) < 60_000


def test_put_records_takes_indefinite_length_maps_and_byte_strings(server):
    call(server, "CreateStream", {"StreamName": "indef", "ShardCount": 2})
    # Jackson's CBOR generator (the Java SDK's) writes maps and arrays of indefinite length.
    entry = b"\xbf" + cbor2.dumps("Data") + b"\x5f\x42ab\x41c\xff" + cbor2.dumps("PartitionKey") + cbor2.dumps("p") + b"\xff"
    body = b"\xbf" + cbor2.dumps("StreamName") + cbor2.dumps("indef") + cbor2.dumps("Records") + b"\x9f" + entry + entry + b"\xff\xff"
    status, _, answer = call(server, "PutRecords", None, raw=body)
    assert status == 200 and answer["FailedRecordCount"] == 0 and len(answer["Records"]) == 2
    shard = answer["Records"][0]["ShardId"]
    iterator = call(server, "GetShardIterator", {"StreamName": "indef", "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"})[2]
    assert [r["Data"] for r in call(server, "GetRecords", {"ShardIterator": iterator["ShardIterator"]})[2]["Records"]] == [b"abc", b"abc"]


def test_a_closed_shard_s_last_page_names_its_children_in_cbor_as_in_json(server):
    import boto3
    kinesis = boto3.client("kinesis", endpoint_url=server.url, region_name="us-east-1",
                           aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
    kinesis.create_stream(StreamName="cbor-split", ShardCount=1)
    kinesis.put_record(StreamName="cbor-split", Data=b"\x00\xff before", PartitionKey="k")
    kinesis.split_shard(StreamName="cbor-split", ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**127))
    for _ in range(100):
        if kinesis.describe_stream_summary(StreamName="cbor-split")["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE":
            break
        time.sleep(0.05)

    def last_page(read):
        iterator = kinesis.get_shard_iterator(StreamName="cbor-split", ShardId="shardId-000000000000",
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records = []
        while True:
            page = read(iterator)
            records += page["Records"]
            if page.get("NextShardIterator") is None:
                return records, page
            iterator = page["NextShardIterator"]

    cbor_records, cbor_page = last_page(lambda it: call(server, "GetRecords", {"ShardIterator": it})[2])
    json_records, json_page = last_page(lambda it: kinesis.get_records(ShardIterator=it))
    assert [r["Data"] for r in cbor_records] == [r["Data"] for r in json_records] == [b"\x00\xff before"]
    assert cbor_page["ChildShards"] == json_page["ChildShards"]
    assert sorted(child["ShardId"] for child in cbor_page["ChildShards"]) == ["shardId-000000000001", "shardId-000000000002"]


def test_errors_come_back_in_cbor(server):
    status, content_type, answer = call(server, "DescribeStream", {"StreamName": "missing"})
    assert (status, content_type) == (400, CBOR)
    assert answer == {"__type": "ResourceNotFoundException", "message": "Stream missing under account 000000000000 not found."}
    status, _, answer = call(server, "GetRecords", {"ShardIterator": "", "Limit": 0})
    assert answer["__type"] == "ValidationException"
    assert answer["message"].startswith("2 validation errors detected: Value '' at 'shardIterator' failed to satisfy constraint")
    status, _, answer = call(server, "ListStreams", None, raw=b"\xa1\x63abc")  # a map whose value is missing
    assert (status, answer["__type"]) == (400, "SerializationException")
    status, _, answer = call(server, "ListStreams", {}, sign=False)
    assert (status, answer["__type"]) == (400, "MissingAuthenticationTokenException")


def test_every_operation_answers_cbor(server):
    model = botocore.session.get_session().get_service_model("kinesis")
    for operation in model.operation_names:
        status, content_type, answer = call(server, operation, {})
        assert content_type == CBOR, operation
        assert status == 200 or answer["__type"] != "UnknownOperationException", operation


def test_subscribe_to_shard_in_cbor_sends_cbor_events(server):
    import http.client
    from urllib.parse import urlsplit
    from botocore.eventstream import EventStreamBuffer
    call(server, "CreateStream", {"StreamName": "efo", "ShardCount": 1})
    arn = call(server, "DescribeStreamSummary", {"StreamName": "efo"})[2]["StreamDescriptionSummary"]["StreamARN"]
    consumer = call(server, "RegisterStreamConsumer", {"StreamARN": arn, "ConsumerName": "java"})[2]["Consumer"]["ConsumerARN"]
    call(server, "PutRecord", {"StreamName": "efo", "Data": b"\x00\xffbinary", "PartitionKey": "k"})
    body = cbor2.dumps({"ConsumerARN": consumer, "ShardId": "shardId-000000000000", "StartingPosition": {"Type": "TRIM_HORIZON"}})
    request = AWSRequest(method="POST", url=server.url + "/", data=body, headers={
        "Content-Type": CBOR, "X-Amz-Target": "Kinesis_20131202.SubscribeToShard"})
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "kinesis", "us-east-1").add_auth(request)
    parts = urlsplit(server.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    connection.request("POST", "/", body=body, headers=dict(request.headers.items()))
    response = connection.getresponse()
    assert response.status == 200 and response.getheader("Content-Type") == "application/vnd.amazon.eventstream"
    buffer, messages = EventStreamBuffer(), []
    while not any(m.headers.get(":event-type") == "SubscribeToShardEvent" and loads(m.payload)["Records"] for m in messages):
        buffer.add_data(response.read1(65536))
        messages += list(buffer)
    connection.close()
    assert messages[0].headers[":event-type"] == "initial-response"
    event = next(m for m in messages if m.headers.get(":event-type") == "SubscribeToShardEvent" and loads(m.payload)["Records"])
    assert event.headers[":content-type"] == CBOR
    [record] = loads(event.payload)["Records"]
    assert record["Data"] == b"\x00\xffbinary"
    assert record["ApproximateArrivalTimestamp"].tag == 1 and record["ApproximateArrivalTimestamp"].value > 10**12
