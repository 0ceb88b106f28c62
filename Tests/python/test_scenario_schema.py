"""The shipped scenarios follow Scenarios/schema/scenario.schema.json, and the schema rejects what
`kinesis-load validate` rejects at the same place."""
import glob
import json
import os

import jsonschema
import pytest

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "Scenarios")
SCHEMA = json.load(open(os.path.join(ROOT, "schema", "scenario.schema.json")))
FILES = sorted(glob.glob(os.path.join(ROOT, "*.json")))


@pytest.mark.parametrize("path", FILES, ids=os.path.basename)
def test_shipped_scenario_follows_the_schema(path):
    jsonschema.validate(json.load(open(path)), SCHEMA)


def test_schema_rejects_an_unknown_key_and_a_bad_executor():
    scenario = json.load(open(os.path.join(ROOT, "quickstart.json")))
    scenario["stream"]["shard"] = 2
    with pytest.raises(jsonschema.ValidationError) as error:
        jsonschema.validate(scenario, SCHEMA)
    assert list(error.value.absolute_path) == ["stream"]
    scenario = json.load(open(os.path.join(ROOT, "quickstart.json")))
    scenario["load"]["executor"] = "ramping-arival-rate"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(scenario, SCHEMA)
