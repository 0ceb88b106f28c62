"""Answers of `kinesis-load serve` that must match AWS's to the letter (issue: the endpoint every
SDK can use). Each case names what AWS sends."""
import json
import urllib.request

from botocore.exceptions import ClientError


def raw_post(server, target, body):
    request = urllib.request.Request(server.url + "/", data=body.encode(), method="POST", headers={
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"Kinesis_20131202.{target}",
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDPYTEST/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=0"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def test_a_number_where_a_string_is_expected_is_awss_truncating_big_number():
    from conftest import Server
    s = Server("--stream", "fixture:1")
    try:
        status, body = raw_post(s, "DescribeStreamSummary", '{"StreamName": 5}')
        assert status == 400
        assert body == {"__type": "SerializationException",
                        "Message": "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String"}
    finally:
        s.stop()


def test_shard_ids_are_read_as_the_number_after_the_last_dash(server):
    kinesis = server.client()
    kinesis.create_stream(StreamName="ids", ShardCount=2)
    for given in ("shardId-000000000001", "shard-1", "anything-1", "shardId-1"):
        iterator = kinesis.get_shard_iterator(StreamName="ids", ShardId=given, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        assert kinesis.get_records(ShardIterator=iterator)["Records"] == []
    try:
        kinesis.get_shard_iterator(StreamName="ids", ShardId="anything-5", ShardIteratorType="TRIM_HORIZON")
        raise AssertionError("shard 5 does not exist")
    except ClientError as error:
        assert error.response["Error"]["Code"] == "ResourceNotFoundException"
        assert error.response["Error"]["Message"] == \
            "Shard shardId-000000000005 in stream ids under account 000000000000 does not exist"


def test_describe_stream_and_its_summary_carry_enhanced_monitoring(server):
    kinesis = server.client()
    kinesis.create_stream(StreamName="monitored", ShardCount=1)
    assert kinesis.describe_stream(StreamName="monitored")["StreamDescription"]["EnhancedMonitoring"] == [{"ShardLevelMetrics": []}]
    assert kinesis.describe_stream_summary(StreamName="monitored")["StreamDescriptionSummary"]["EnhancedMonitoring"] == \
        [{"ShardLevelMetrics": []}]
