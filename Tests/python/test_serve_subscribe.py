"""SubscribeToShard (enhanced fan-out) through boto3's `subscribe_to_shard`, which reads AWS's event
stream over HTTP/1.1, against `kinesis-load serve`."""
import threading

import pytest
from botocore.exceptions import ClientError, EventStreamError


def consumer_arn(kinesis, stream, name="fanout"):
    arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    return kinesis.register_stream_consumer(StreamARN=arn, ConsumerName=name)["Consumer"]["ConsumerARN"]


def test_events_carry_records_in_order_with_a_continuation_and_refuse_a_second_subscription(server):
    kinesis = server.client()
    kinesis.create_stream(StreamName="efo", ShardCount=1)
    consumer = consumer_arn(kinesis, "efo")
    sequence_numbers = [kinesis.put_record(StreamName="efo", Data=f"r{i}".encode(), PartitionKey="k")["SequenceNumber"] for i in range(3)]
    response = kinesis.subscribe_to_shard(ConsumerARN=consumer, ShardId="shardId-000000000000", StartingPosition={"Type": "TRIM_HORIZON"})
    got, continuation = [], None
    for event in response["EventStream"]:
        shard_event = event["SubscribeToShardEvent"]
        got += [(r["SequenceNumber"], r["Data"]) for r in shard_event["Records"]]
        continuation = shard_event["ContinuationSequenceNumber"]
        assert shard_event["MillisBehindLatest"] >= 0
        if len(got) >= 3:
            break
    assert got == list(zip(sequence_numbers, [b"r0", b"r1", b"r2"]))
    assert continuation == sequence_numbers[-1]
    with pytest.raises(ClientError) as refused:
        kinesis.subscribe_to_shard(ConsumerARN=consumer, ShardId="shardId-000000000000", StartingPosition={"Type": "LATEST"})
    assert refused.value.response["Error"]["Code"] == "ResourceInUseException"
    response["EventStream"].close()


def test_records_written_during_a_subscription_arrive_live(server):
    kinesis = server.client()
    kinesis.create_stream(StreamName="live", ShardCount=1)
    consumer = consumer_arn(kinesis, "live")
    response = kinesis.subscribe_to_shard(ConsumerARN=consumer, ShardId="shardId-000000000000", StartingPosition={"Type": "LATEST"})
    events = iter(response["EventStream"])
    first = next(events)["SubscribeToShardEvent"]  # sent at once, empty
    assert first["Records"] == []
    writer = threading.Thread(target=lambda: [server.client().put_record(StreamName="live", Data=f"x{i}".encode(), PartitionKey="k")
                                              for i in range(5)])
    writer.start()
    got = []
    for event in events:
        got += [r["Data"] for r in event["SubscribeToShardEvent"]["Records"]]
        if len(got) >= 5:
            break
    writer.join()
    assert got == [f"x{i}".encode() for i in range(5)]
    response["EventStream"].close()


def test_a_closed_shard_ends_with_its_children_and_errors_arrive_as_exceptions(server):
    kinesis = server.client()
    kinesis.create_stream(StreamName="split", ShardCount=1)
    consumer = consumer_arn(kinesis, "split")
    kinesis.put_record(StreamName="split", Data=b"before", PartitionKey="k")
    kinesis.split_shard(StreamName="split", ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**127))
    response = kinesis.subscribe_to_shard(ConsumerARN=consumer, ShardId="shardId-000000000000", StartingPosition={"Type": "TRIM_HORIZON"})
    events = [event["SubscribeToShardEvent"] for event in response["EventStream"]]  # ends by itself
    assert [r["Data"] for e in events for r in e["Records"]] == [b"before"]
    assert sorted(child["ShardId"] for child in events[-1]["ChildShards"]) == ["shardId-000000000001", "shardId-000000000002"]
    assert "ContinuationSequenceNumber" not in events[-1]

    kinesis.create_stream(StreamName="doomed", ShardCount=1)
    doomed = consumer_arn(kinesis, "doomed")
    response = kinesis.subscribe_to_shard(ConsumerARN=doomed, ShardId="shardId-000000000000", StartingPosition={"Type": "LATEST"})
    events = iter(response["EventStream"])
    next(events)
    kinesis.delete_stream(StreamName="doomed", EnforceConsumerDeletion=True)
    with pytest.raises(EventStreamError) as ended:
        for _ in events:
            pass
    assert ended.value.response["Error"]["Code"] == "ResourceNotFoundException"
    # Before the stream starts, errors are ordinary answers.
    with pytest.raises(ClientError) as missing:
        kinesis.subscribe_to_shard(ConsumerARN=consumer.replace("/consumer/fanout:", "/consumer/other:"), ShardId="shardId-000000000000", StartingPosition={"Type": "LATEST"})
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
