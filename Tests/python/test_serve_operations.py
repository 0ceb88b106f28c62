"""Every operation of the current Kinesis model, called through boto3 against `kinesis-load serve`
(issue: the endpoint every SDK can use); SubscribeToShard's events are in test_serve_subscribe.py."""
import json

import botocore.session
import pytest
from botocore.exceptions import ClientError

ACCOUNT = "000000000000"


def error_of(call, **kwargs):
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


def test_the_endpoint_answers_every_operation_of_botocores_model(server):
    kinesis = server.client(validate=False)  # send even requests botocore would refuse
    model = botocore.session.get_session().get_service_model("kinesis")
    answers = {}
    for operation in model.operation_names:
        # An empty request: AWS's validation error or an answer, never UnknownOperationException.
        try:
            kinesis._make_api_call(operation, {})
            answers[operation] = "answered"
        except ClientError as error:
            answers[operation] = error.response["Error"]["Code"]
    assert len(answers) == 39
    assert "UnknownOperationException" not in answers.values(), answers
    assert answers["DescribeLimits"] == answers["DescribeAccountSettings"] == "answered"
    assert answers["RegisterStreamConsumer"] == answers["SubscribeToShard"] == "ValidationException"


def test_stream_tags_add_list_page_and_remove(server):
    kinesis = server.client()
    kinesis.create_stream(StreamName="tagged", ShardCount=1, Tags={"team": "payments"})
    kinesis.add_tags_to_stream(StreamName="tagged", Tags={"env": "test", "cost-center": "42"})
    tags = kinesis.list_tags_for_stream(StreamName="tagged")
    assert tags["Tags"] == [{"Key": "cost-center", "Value": "42"}, {"Key": "env", "Value": "test"}, {"Key": "team", "Value": "payments"}]
    assert tags["HasMoreTags"] is False
    page = kinesis.list_tags_for_stream(StreamName="tagged", Limit=1, ExclusiveStartTagKey="cost-center")
    assert page["Tags"] == [{"Key": "env", "Value": "test"}] and page["HasMoreTags"] is True
    kinesis.remove_tags_from_stream(StreamName="tagged", TagKeys=["env", "not-there"])
    assert [t["Key"] for t in kinesis.list_tags_for_stream(StreamName="tagged")["Tags"]] == ["cost-center", "team"]
    code, message = error_of(kinesis.add_tags_to_stream, StreamName="tagged", Tags={"bad*key": "x"})
    assert code == "InvalidArgumentException" and "invalid characters" in message
    too_many = {f"k{i}": "v" for i in range(49)}
    code, message = error_of(kinesis.add_tags_to_stream, StreamName="tagged", Tags=too_many)
    assert code == "InvalidArgumentException" and "more than 50 tags" in message
    code, message = error_of(kinesis.list_tags_for_stream, StreamName="nope")
    assert (code, message) == ("ResourceNotFoundException", f"Stream nope under account {ACCOUNT} not found.")


def test_a_stream_arn_names_the_stream_wherever_a_name_is_accepted(server):
    kinesis = server.client()
    kinesis.create_stream(StreamName="by-arn", ShardCount=2)
    arn = kinesis.describe_stream_summary(StreamName="by-arn")["StreamDescriptionSummary"]["StreamARN"]
    assert arn == f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/by-arn"
    assert kinesis.describe_stream(StreamARN=arn)["StreamDescription"]["StreamName"] == "by-arn"
    put = kinesis.put_record(StreamARN=arn, Data=b"x", PartitionKey="k")
    assert put["ShardId"].startswith("shardId-")
    assert kinesis.put_records(StreamARN=arn, Records=[{"Data": b"y", "PartitionKey": "k"}])["FailedRecordCount"] == 0
    shards = kinesis.list_shards(StreamARN=arn)["Shards"]
    assert len(shards) == 2
    iterator = kinesis.get_shard_iterator(StreamARN=arn, ShardId=put["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=iterator, StreamARN=arn)["Records"]] == [b"x", b"y"]
    kinesis.add_tags_to_stream(StreamARN=arn, Tags={"a": "b"})
    assert kinesis.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "a", "Value": "b"}]
    code, message = error_of(kinesis.describe_stream_summary, StreamARN=f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/missing")
    assert (code, message) == ("ResourceNotFoundException", f"Stream missing under account {ACCOUNT} not found.")
    code, message = error_of(server.client(validate=False).describe_stream_summary, StreamARN="not-an-arn")
    assert code == "ValidationException"
    assert message == ("1 validation error detected: Value 'not-an-arn' at 'streamARN' failed to satisfy constraint: "
                       "Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+")
    code, _ = error_of(kinesis.add_tags_to_stream, Tags={"a": "b"})
    assert code == "InvalidArgumentException"
    kinesis.delete_stream(StreamARN=arn)
    assert "by-arn" not in kinesis.list_streams()["StreamNames"]


def test_encryption_starts_and_stops_and_shows_in_describe(server):
    kinesis = server.client()
    kinesis.create_stream(StreamName="secret", ShardCount=1)
    kinesis.start_stream_encryption(StreamName="secret", EncryptionType="KMS", KeyId="alias/aws/kinesis")
    summary = kinesis.describe_stream_summary(StreamName="secret")["StreamDescriptionSummary"]
    assert (summary["EncryptionType"], summary["KeyId"]) == ("KMS", "alias/aws/kinesis")
    description = kinesis.describe_stream(StreamName="secret")["StreamDescription"]
    assert (description["EncryptionType"], description["KeyId"]) == ("KMS", "alias/aws/kinesis")
    code, _ = error_of(kinesis.stop_stream_encryption, StreamName="secret", EncryptionType="KMS", KeyId="alias/other")
    assert code == "InvalidArgumentException"
    kinesis.stop_stream_encryption(StreamName="secret", EncryptionType="KMS", KeyId="alias/aws/kinesis")
    assert kinesis.describe_stream_summary(StreamName="secret")["StreamDescriptionSummary"]["EncryptionType"] == "NONE"


def test_enhanced_monitoring_reports_current_and_desired_metrics(server):
    kinesis = server.client()
    kinesis.create_stream(StreamName="watched", ShardCount=1)
    enabled = kinesis.enable_enhanced_monitoring(StreamName="watched", ShardLevelMetrics=["IncomingBytes", "OutgoingRecords"])
    assert enabled["CurrentShardLevelMetrics"] == [] and enabled["DesiredShardLevelMetrics"] == ["IncomingBytes", "OutgoingRecords"]
    all_of_them = kinesis.enable_enhanced_monitoring(StreamName="watched", ShardLevelMetrics=["ALL"])
    assert len(all_of_them["DesiredShardLevelMetrics"]) == 7
    disabled = kinesis.disable_enhanced_monitoring(StreamName="watched", ShardLevelMetrics=["IncomingBytes"])
    assert "IncomingBytes" not in disabled["DesiredShardLevelMetrics"] and len(disabled["DesiredShardLevelMetrics"]) == 6
    shown = kinesis.describe_stream_summary(StreamName="watched")["StreamDescriptionSummary"]["EnhancedMonitoring"]
    assert shown == [{"ShardLevelMetrics": disabled["DesiredShardLevelMetrics"]}]


def test_limits_and_account_settings(server):
    kinesis = server.client()
    kinesis.create_stream(StreamName="two", ShardCount=2)
    kinesis.create_stream(StreamName="od", StreamModeDetails={"StreamMode": "ON_DEMAND"})
    limits = kinesis.describe_limits()
    assert limits["ShardLimit"] == 500
    assert limits["OpenShardCount"] == 3  # the fixture's stream and "two"
    assert (limits["OnDemandStreamCount"], limits["OnDemandStreamCountLimit"]) == (1, 50)
    assert kinesis.describe_account_settings()["MinimumThroughputBillingCommitment"]["Status"] == "DISABLED"
    enabled = kinesis.update_account_settings(MinimumThroughputBillingCommitment={"Status": "ENABLED"})
    commitment = enabled["MinimumThroughputBillingCommitment"]
    assert commitment["Status"] == "ENABLED"
    assert (commitment["EarliestAllowedEndAt"] - commitment["StartedAt"]).total_seconds() == 24 * 3600
    early = kinesis.update_account_settings(MinimumThroughputBillingCommitment={"Status": "DISABLED"})
    assert early["MinimumThroughputBillingCommitment"]["Status"] == "ENABLED_UNTIL_EARLIEST_ALLOWED_END"


def test_registered_consumers_register_describe_list_tag_and_deregister(server):
    kinesis = server.client()
    kinesis.create_stream(StreamName="fanout", ShardCount=1)
    arn = kinesis.describe_stream_summary(StreamName="fanout")["StreamDescriptionSummary"]["StreamARN"]
    consumer = kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="reader", Tags={"owner": "me"})["Consumer"]
    assert consumer["ConsumerName"] == "reader"
    assert consumer["ConsumerARN"].startswith(arn + "/consumer/reader:")
    assert consumer["ConsumerStatus"] == "ACTIVE"
    code, message = error_of(kinesis.register_stream_consumer, StreamARN=arn, ConsumerName="reader")
    assert (code, message) == ("ResourceInUseException", f"Consumer reader under stream {arn} already exists.")
    described = kinesis.describe_stream_consumer(ConsumerARN=consumer["ConsumerARN"])["ConsumerDescription"]
    assert described["StreamARN"] == arn and described["ConsumerName"] == "reader"
    assert kinesis.describe_stream_consumer(StreamARN=arn, ConsumerName="reader")["ConsumerDescription"]["ConsumerARN"] == consumer["ConsumerARN"]
    for index in range(3):
        kinesis.register_stream_consumer(StreamARN=arn, ConsumerName=f"more-{index}")
    first = kinesis.list_stream_consumers(StreamARN=arn, MaxResults=2)
    rest = kinesis.list_stream_consumers(StreamARN=arn, NextToken=first["NextToken"])
    assert [c["ConsumerName"] for c in first["Consumers"] + rest["Consumers"]] == ["reader", "more-0", "more-1", "more-2"]
    assert "NextToken" not in rest
    assert kinesis.describe_stream_summary(StreamName="fanout")["StreamDescriptionSummary"]["ConsumerCount"] == 4
    assert kinesis.list_tags_for_resource(ResourceARN=consumer["ConsumerARN"])["Tags"] == [{"Key": "owner", "Value": "me"}]
    kinesis.tag_resource(ResourceARN=consumer["ConsumerARN"], Tags={"tier": "gold"})
    kinesis.untag_resource(ResourceARN=consumer["ConsumerARN"], TagKeys=["owner"])
    assert kinesis.list_tags_for_resource(ResourceARN=consumer["ConsumerARN"])["Tags"] == [{"Key": "tier", "Value": "gold"}]
    code, _ = error_of(kinesis.delete_stream, StreamName="fanout")
    assert code == "ResourceInUseException"
    kinesis.deregister_stream_consumer(ConsumerARN=consumer["ConsumerARN"])
    code, _ = error_of(kinesis.describe_stream_consumer, ConsumerARN=consumer["ConsumerARN"])
    assert code == "ResourceNotFoundException"
    kinesis.delete_stream(StreamName="fanout", EnforceConsumerDeletion=True)


def test_resource_policies_on_streams_and_consumers(server):
    kinesis = server.client()
    kinesis.create_stream(StreamName="shared", ShardCount=1)
    arn = kinesis.describe_stream_summary(StreamName="shared")["StreamDescriptionSummary"]["StreamARN"]
    assert kinesis.get_resource_policy(ResourceARN=arn)["Policy"] == "{}"
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                                                                 "Action": "kinesis:GetRecords", "Resource": arn}]})
    kinesis.put_resource_policy(ResourceARN=arn, Policy=policy)
    assert json.loads(kinesis.get_resource_policy(ResourceARN=arn)["Policy"]) == json.loads(policy)
    code, _ = error_of(kinesis.put_resource_policy, ResourceARN=arn, Policy="not json")
    assert code == "InvalidArgumentException"
    kinesis.delete_resource_policy(ResourceARN=arn)
    assert kinesis.get_resource_policy(ResourceARN=arn)["Policy"] == "{}"


def test_max_record_size_lets_a_stream_take_records_up_to_10_mib(server):
    kinesis = server.client()
    kinesis.create_stream(StreamName="big", ShardCount=1)
    arn = kinesis.describe_stream_summary(StreamName="big")["StreamDescriptionSummary"]["StreamARN"]
    two_mib = b"x" * (2 * 1024 * 1024)
    code, message = error_of(kinesis.put_record, StreamName="big", Data=two_mib, PartitionKey="k")
    assert code == "ValidationException" and "Member must have length less than or equal to 1048576" in message
    kinesis.update_max_record_size(StreamARN=arn, MaxRecordSizeInKiB=4096)
    assert kinesis.describe_stream_summary(StreamName="big")["StreamDescriptionSummary"]["MaxRecordSizeInKiB"] == 4096
    kinesis.put_record(StreamName="big", Data=two_mib, PartitionKey="k")
    code, message = error_of(kinesis.update_max_record_size, StreamARN=arn, MaxRecordSizeInKiB=20000)
    assert code == "ValidationException" and "Member must have value less than or equal to 10240" in message


def test_warm_throughput_is_for_on_demand_streams(server):
    kinesis = server.client()
    kinesis.create_stream(StreamName="od", StreamModeDetails={"StreamMode": "ON_DEMAND"})
    warmed = kinesis.update_stream_warm_throughput(StreamName="od", WarmThroughputMiBps=100)
    assert warmed["WarmThroughput"] == {"TargetMiBps": 100, "CurrentMiBps": 100}
    assert kinesis.describe_stream_summary(StreamName="od")["StreamDescriptionSummary"]["WarmThroughput"]["TargetMiBps"] == 100
    kinesis.create_stream(StreamName="prov", ShardCount=1)
    code, _ = error_of(kinesis.update_stream_warm_throughput, StreamName="prov", WarmThroughputMiBps=100)
    assert code == "InvalidArgumentException"
