"""`kinesis-load serve --data-dir`: streams and records survive a restart, and a crash (SIGKILL in
the middle of concurrent writes) loses nothing that was acknowledged."""
import threading

from botocore.exceptions import BotoCoreError, ClientError

from conftest import Server


def read_all(kinesis, stream):
    found = {}
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator:
            page = kinesis.get_records(ShardIterator=iterator)
            for record in page["Records"]:
                found[(shard["ShardId"], record["SequenceNumber"])] = record["Data"]
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    return found


def test_a_crash_during_writes_loses_nothing_acknowledged(tmp_path):
    data_dir = str(tmp_path / "data")
    server = Server("--data-dir", data_dir, "--stream", "durable:4")
    acknowledged = {}
    lock = threading.Lock()
    enough = threading.Event()

    def writer(number):
        kinesis = server.client(validate=False)
        batch = 0
        while True:
            entries = [{"Data": f"w{number}-b{batch}-e{i}".encode(), "PartitionKey": f"k{number}-{i}"} for i in range(50)]
            try:
                answer = kinesis.put_records(StreamName="durable", Records=entries)
            except (BotoCoreError, ClientError, OSError):
                return  # the server is gone: this batch was never acknowledged
            with lock:
                for entry, result in zip(entries, answer["Records"]):
                    if "SequenceNumber" in result:
                        acknowledged[(result["ShardId"], result["SequenceNumber"])] = entry["Data"]
                if len(acknowledged) >= 3000:
                    enough.set()
            batch += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    assert enough.wait(60), "the writers did not get 3,000 records acknowledged"
    server.process.kill()  # SIGKILL, in the middle of writes
    server.process.wait()
    for thread in threads:
        thread.join(30)
    restarted = Server("--data-dir", data_dir, "--stream", "durable:4")
    try:
        assert "records restored" in restarted.banner
        found = read_all(restarted.client(), "durable")
        missing = [key for key in acknowledged if found.get(key) != acknowledged[key]]
        assert not missing, f"{len(missing)} of {len(acknowledged)} acknowledged records are missing after the crash"
        assert len(found) >= len(acknowledged)
    finally:
        restarted.stop()


def test_streams_and_settings_survive_a_clean_restart(tmp_path):
    data_dir = str(tmp_path / "data")
    first = Server("--data-dir", data_dir)
    try:
        kinesis = first.client()
        kinesis.create_stream(StreamName="kept", ShardCount=1)
        kinesis.increase_stream_retention_period(StreamName="kept", RetentionPeriodHours=48)
        kinesis.put_record(StreamName="kept", Data=b"hello", PartitionKey="k")
    finally:
        first.stop()
    second = Server("--data-dir", data_dir)
    try:
        assert "1 stream, 1 record restored" in second.banner
        kinesis = second.client()
        assert kinesis.describe_stream_summary(StreamName="kept")["StreamDescriptionSummary"]["RetentionPeriodHours"] == 48
        assert list(read_all(kinesis, "kept").values()) == [b"hello"]
    finally:
        second.stop()
