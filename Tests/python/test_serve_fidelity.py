"""Answers of `kinesis-load serve` that must match AWS's to the letter (issue: the endpoint every
SDK can use). Each case names what AWS sends."""
import json
import time
import urllib.request

import pytest
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


# ---- The families of differences, each with AWS's exact strings (as recorded by kinesalite's
# ---- tests against AWS, and the SDK issues cited). A raw client, so nothing is corrected on the way.

SIGNED = {"Authorization": "AWS4-HMAC-SHA256 Credential=AKIDPYTEST/20260101/us-east-1/kinesis/aws4_request, "
                           "SignedHeaders=host, Signature=0", "X-Amz-Date": "20260101T000000Z"}


def raw(server, target=None, body=b"", method="POST", content_type="application/x-amz-json-1.1", headers=None, path="/"):
    all_headers = dict(SIGNED)
    if content_type:
        all_headers["Content-Type"] = content_type
    if target:
        all_headers["X-Amz-Target"] = f"Kinesis_20131202.{target}"
    all_headers.update(headers or {})
    all_headers = {k: v for k, v in all_headers.items() if v is not None}
    data = body.encode() if isinstance(body, str) else body
    request = urllib.request.Request(server.url + path, data=data if method != "GET" else None, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def open_server():
    from conftest import Server
    s = Server("--stream", "fixture:2")
    yield s
    s.stop()


def answer(server, target, document, **kwargs):
    status, _, body = raw(server, target, json.dumps(document), **kwargs)
    return status, json.loads(body)


def test_wrong_types_are_worded_as_awss_deserializer_words_them(open_server):
    s = open_server
    assert answer(s, "ListShards", {"StreamName": "fixture", "StreamCreationTimestamp": "yesterday"}) == (400, {
        "__type": "SerializationException", "Message": "class java.lang.String can not be converted to milliseconds since epoch"})
    assert answer(s, "ListShards", {"StreamName": "fixture", "StreamCreationTimestamp": True}) == (400, {
        "__type": "SerializationException", "Message": "class java.lang.Boolean can not be converted to milliseconds since epoch"})
    assert answer(s, "PutRecord", {"StreamName": "fixture", "PartitionKey": "k", "Data": "+/+="}) == (400, {
        "__type": "SerializationException",
        "Message": "'+/+=' can not be converted to a Blob: Invalid last non-pad Base64 character dectected"})
    assert answer(s, "PutRecord", {"StreamName": "fixture", "PartitionKey": "k", "Data": "+/8="})[0] == 200
    assert answer(s, "CreateStream", {"StreamName": "t", "ShardCount": 1, "Tags": {"a": 5}}) == (400, {
        "__type": "SerializationException",
        "Message": "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String"})
    # An integer beyond a Java int is held to 2147483647, then fails the member's range.
    assert answer(s, "GetRecords", {"ShardIterator": "x", "Limit": 1e20}) == (400, {
        "__type": "ValidationException",
        "message": "1 validation error detected: Value '2147483647' at 'limit' failed to satisfy constraint: "
                   "Member must have value less than or equal to 10000"})


def test_checks_come_in_awss_order_serialization_validation_authentication_existence(open_server):
    s = open_server
    unsigned = {"Authorization": None, "X-Amz-Date": None}
    assert answer(s, "DescribeStreamSummary", {"StreamName": 5}, headers=unsigned)[1]["__type"] == "SerializationException"
    assert answer(s, "DescribeStreamSummary", {"StreamName": "bad name!"}, headers=unsigned)[1]["__type"] == "ValidationException"
    assert answer(s, "DescribeStreamSummary", {"StreamName": "missing"}, headers=unsigned) == (400, {
        "__type": "MissingAuthenticationTokenException", "message": "Missing Authentication Token"})
    assert answer(s, "DescribeStreamSummary", {"StreamName": "missing"})[1]["__type"] == "ResourceNotFoundException"
    # A shard id is read before the stream is looked up.
    assert answer(s, "GetShardIterator", {"StreamName": "missing", "ShardId": "shard-5", "ShardIteratorType": "LATEST"})[1] == {
        "__type": "ResourceNotFoundException", "message": "Shard shardId-000000000005 in stream missing under account 000000000000 does not exist"}
    assert answer(s, "GetShardIterator", {"StreamName": "missing", "ShardId": "abc", "ShardIteratorType": "LATEST"})[1] == {
        "__type": "ResourceNotFoundException", "message": "Could not find shard abc in stream missing under account 000000000000."}
    assert answer(s, "SplitShard", {"StreamName": "missing", "ShardToSplit": "abc", "NewStartingHashKey": "5"})[1]["message"] == \
        "Could not find shard abc in stream missing under account 000000000000."
    assert answer(s, "MergeShards", {"StreamName": "missing", "ShardToMerge": "shardId-0", "AdjacentShardToMerge": "x"})[1]["message"] == \
        "Could not find shard x in stream missing under account 000000000000."
    assert answer(s, "SplitShard", {"StreamName": "missing", "ShardToSplit": "shardId-0", "NewStartingHashKey": "5"})[1]["message"] == \
        "Stream missing under account 000000000000 not found."


def test_sequence_numbers_and_timestamps_are_checked_as_aws_checks_them(open_server):
    s = open_server
    first = answer(s, "PutRecord", {"StreamName": "fixture", "PartitionKey": "a", "Data": "eA==", "ExplicitHashKey": "0"})[1]
    second = answer(s, "PutRecord", {"StreamName": "fixture", "PartitionKey": "a", "Data": "eA==",
                                     "ExplicitHashKey": str(2**127 + 1)})[1]
    assert (first["ShardId"], second["ShardId"]) == ("shardId-000000000000", "shardId-000000000001")
    # SequenceNumberForOrdering: 0 and real numbers are accepted; others are refused in AWS's words.
    assert answer(s, "PutRecord", {"StreamName": "fixture", "PartitionKey": "a", "Data": "eA==", "SequenceNumberForOrdering": "0"})[0] == 200
    assert answer(s, "PutRecord", {"StreamName": "fixture", "PartitionKey": "a", "Data": "eA==",
                                   "SequenceNumberForOrdering": first["SequenceNumber"]})[0] == 200
    bogus = "9" * 56
    assert answer(s, "PutRecord", {"StreamName": "fixture", "PartitionKey": "a", "Data": "eA==", "SequenceNumberForOrdering": bogus})[1] == {
        "__type": "InvalidArgumentException",
        "message": f"ExclusiveMinimumSequenceNumber {bogus} used in PutRecord on stream fixture under account 000000000000 is invalid."}
    # StartingSequenceNumber 0 reads as a sequence number of shard 0.
    iterator = {"StreamName": "fixture", "ShardIteratorType": "AT_SEQUENCE_NUMBER"}
    assert answer(s, "GetShardIterator", {**iterator, "ShardId": "shardId-000000000001", "StartingSequenceNumber": "0"})[1] == {
        "__type": "InvalidArgumentException",
        "message": "Invalid StartingSequenceNumber. It encodes shardId-000000000000, while it was used in a call to a shard with shardId-000000000001"}
    assert answer(s, "GetShardIterator", {**iterator, "ShardId": "shardId-000000000000", "StartingSequenceNumber": "0"}) == (500, {
        "__type": "InternalFailure"})
    assert answer(s, "GetShardIterator", {**iterator, "ShardId": "shardId-000000000000",
                                          "StartingSequenceNumber": second["SequenceNumber"]})[1]["message"] == \
        "Invalid StartingSequenceNumber. It encodes shardId-000000000001, while it was used in a call to a shard with shardId-000000000000"
    status, body = answer(s, "GetShardIterator", {"StreamName": "fixture", "ShardId": "shardId-000000000000",
                                                  "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": time.time() + 3600})
    assert status == 400 and body["__type"] == "InvalidArgumentException"
    assert body["message"].startswith("The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: ")


def test_connection_level_answers_are_awss(open_server):
    s = open_server
    # An empty body.
    status, _, body = raw(s, "ListStreams", b"")
    assert (status, json.loads(body)) == (400, {"__type": "SerializationException"})
    status, _, body = raw(s, "NoSuchThing", b"")
    assert (status, json.loads(body)) == (400, {"__type": "UnknownOperationException"})
    # Not JSON: no empty Message.
    status, _, body = raw(s, "ListStreams", b"not json")
    assert (status, json.loads(body)) == (400, {"__type": "SerializationException"})
    # Methods other than POST, and forms, get AWS's XML.
    denied = (b"<AccessDeniedException>\n  <Message>Unable to determine service/operation name to be authorized</Message>\n"
              b"</AccessDeniedException>\n")
    for method in ("GET", "PUT", "DELETE"):
        status, _, body = raw(s, "ListStreams", b"{}", method=method)
        assert (status, body) == (403, denied), method
    assert raw(s, None, b"Action=ListStreams", content_type="application/x-www-form-urlencoded")[::2] == (403, denied)
    assert raw(s, "ListStreams", b"Action=ListStreams", content_type="application/x-www-form-urlencoded")[::2] == \
        (404, b"<UnknownOperationException/>\n")
    # application/json is wrapped in Output: 404 for a JSON object, 400 for anything else.
    status, _, body = raw(s, "ListStreams", b"{}", content_type="application/json")
    assert (status, json.loads(body)) == (404, {"Output": {"__type": "com.amazon.coral.service#UnknownOperationException"}, "Version": "1.0"})
    status, _, body = raw(s, "ListStreams", b"[1]", content_type="application/json")
    assert (status, json.loads(body)) == (400, {"Output": {"__type": "com.amazon.coral.service#SerializationException"}, "Version": "1.0"})
    # CORS: preflight and the headers on every answer to a browser.
    status, headers, body = raw(s, None, b"", method="OPTIONS", content_type=None, headers={
        "Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-amz-target"})
    assert (status, body) == (200, b"")
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert headers["Access-Control-Allow-Methods"] == "POST"
    assert headers["Access-Control-Allow-Headers"] == "content-type,x-amz-target"
    assert headers["Access-Control-Max-Age"] == "172800"
    status, headers, _ = raw(s, "ListStreams", b"{}", headers={"Origin": "http://localhost:3000"})
    assert status == 200 and headers["Access-Control-Allow-Origin"] == "*"
    assert headers["Access-Control-Expose-Headers"] == \
        "x-amzn-RequestId,x-amzn-ErrorType,x-amz-request-id,x-amz-id-2,x-amzn-ErrorMessage,Date"


def test_without_auth_a_request_still_needs_a_well_formed_signature(open_server):
    s = open_server
    def error(headers, path="/"):
        status, _, body = raw(s, "ListStreams", b"{}", headers=headers, path=path)
        return status, json.loads(body)
    assert error({"Authorization": None}) == (400, {"__type": "MissingAuthenticationTokenException", "message": "Missing Authentication Token"})
    partial = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kinesis/aws4_request"
    assert error({"Authorization": partial, "X-Amz-Date": None}) == (400, {
        "__type": "IncompleteSignatureException",
        "message": "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. "
                   "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=" + partial})
    assert error({"Authorization": None}, path="/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20260101T000000Z") == (400, {
        "__type": "IncompleteSignatureException",
        "message": "AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string parameters must include "
                   "'X-Amz-Signature'. AWS query-string parameters must include 'X-Amz-SignedHeaders'. Re-examine the query-string parameters."})
    assert error({}, path="/?X-Amz-Algorithm=AWS4-HMAC-SHA256") == (400, {
        "__type": "InvalidSignatureException",
        "message": "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."})
    # The signature itself is not checked without --auth.
    assert raw(s, "ListStreams", b"{}")[0] == 200
