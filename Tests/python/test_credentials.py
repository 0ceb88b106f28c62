"""Every credential source of the chain, through the real binary: `kinesis-load streams list`
against `kinesis-load serve --auth KEY:SECRET` succeeds only when the source delivered that key
pair. The sources' services are fakes on 127.0.0.1 that check what the real ones check: the
IMDSv2 session token, the ECS authorization header, the web identity token, the SSO bearer
token, and that AssumeRole is signed (SigV4, service sts) with the source profile's key."""
import hashlib
import json
import os
import stat
import subprocess
import threading
import time
import urllib.parse
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import ACCESS_KEY, SECRET_KEY, Server, binary

SESSION_TOKEN = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN"
WEB_IDENTITY_TOKEN = "eyJhbGciOiJSUzI1NiJ9.web-identity-token-value"
SSO_TOKEN = "sso-access-token-value"
ECS_AUTH = "ecs-authorization-token-value"
IMDS_TOKEN = "imds-session-token-value"
SOURCE_KEY = "AKIDSOURCEKEY"
MIDDLE_KEY = "AKIDMIDDLEKEY"
FINAL_ROLE = "arn:aws:iam::123456789012:role/final"
MIDDLE_ROLE = "arn:aws:iam::123456789012:role/middle"
EXPIRES = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def sts_xml(action, key, secret):
    return (f'<{action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><{action}Result><Credentials>'
            f"<AccessKeyId>{key}</AccessKeyId><SecretAccessKey>{secret}</SecretAccessKey>"
            f"<SessionToken>{SESSION_TOKEN}</SessionToken><Expiration>{EXPIRES}</Expiration>"
            f"</Credentials></{action}Result></{action}Response>")


class Fake(BaseHTTPRequestHandler):
    calls = []

    def log_message(self, *args):
        pass

    def answer(self, status, body, content_type="application/json"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def credentials_json(self, key=ACCESS_KEY):
        return json.dumps({"Code": "Success", "AccessKeyId": key, "SecretAccessKey": SECRET_KEY,
                           "Token": SESSION_TOKEN, "Expiration": EXPIRES})

    def do_PUT(self):
        Fake.calls.append(("PUT", self.path))
        if self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            return self.answer(200, IMDS_TOKEN, "text/plain")
        self.answer(400, "")

    def do_GET(self):
        Fake.calls.append(("GET", self.path))
        url = urllib.parse.urlparse(self.path)
        if url.path.startswith("/latest/meta-data/iam/security-credentials/"):
            if self.headers.get("X-aws-ec2-metadata-token") != IMDS_TOKEN:
                return self.answer(401, "")
            role = url.path.rsplit("/", 1)[1]
            return self.answer(200, "test-role\n" if role == "" else self.credentials_json(), "text/plain")
        if url.path == "/ecs/redirect":
            # Sends credentials' Authorization on to another host, if followed.
            self.send_response(302)
            self.send_header("Location", "http://elsewhere.example/ecs/credentials")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if url.path == "/ecs/trickle":
            # Headers at once, then a byte a second: a deadline on the head alone never fires.
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "400")
            self.end_headers()
            try:
                for _ in range(40):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(1)
            except OSError:
                pass
            return
        if url.path == "/ecs/credentials":
            if self.headers.get("Authorization") != ECS_AUTH:
                return self.answer(403, "")
            return self.answer(200, self.credentials_json())
        if url.path == "/sso/federation/credentials":
            query = urllib.parse.parse_qs(url.query)
            if self.headers.get("x-amz-sso_bearer_token") != SSO_TOKEN:
                return self.answer(401, '{"message":"Session token not found or invalid"}')
            if query.get("role_name") != ["Developer"] or query.get("account_id") != ["123456789012"]:
                return self.answer(403, '{"message":"No access"}')
            expiration = int((datetime.now(timezone.utc) + timedelta(hours=1)).timestamp() * 1000)
            return self.answer(200, json.dumps({"roleCredentials": {
                "accessKeyId": ACCESS_KEY, "secretAccessKey": SECRET_KEY, "sessionToken": SESSION_TOKEN, "expiration": expiration}}))
        self.answer(404, "")

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        action = form.get("Action", [""])[0]
        Fake.calls.append(("POST", action))
        error = lambda code, message: self.answer(  # noqa: E731
            403, f"<ErrorResponse><Error><Code>{code}</Code><Message>{message}</Message></Error></ErrorResponse>", "text/xml")
        if action == "AssumeRoleWithWebIdentity":
            if form.get("WebIdentityToken") != [WEB_IDENTITY_TOKEN]:
                return error("InvalidIdentityToken", "The web identity token is not valid")
            if form.get("RoleArn") != [FINAL_ROLE] or not form.get("RoleSessionName"):
                return error("AccessDenied", "Not authorized to assume this role")
            return self.answer(200, sts_xml(action, ACCESS_KEY, SECRET_KEY), "text/xml")
        if action == "AssumeRole":
            authorization = self.headers.get("Authorization", "")
            signer = authorization.split("Credential=", 1)[-1].split("/", 1)[0]
            if not authorization.startswith("AWS4-HMAC-SHA256 ") or "/us-east-1/sts/aws4_request" not in authorization \
                    or "Signature=" not in authorization or not self.headers.get("X-Amz-Date"):
                return error("MissingAuthenticationToken", "Request is missing Authentication Token")
            role = form.get("RoleArn", [""])[0]
            allowed = {MIDDLE_ROLE: {SOURCE_KEY}, FINAL_ROLE: {SOURCE_KEY, MIDDLE_KEY}}
            if signer not in allowed.get(role, set()):
                return error("AccessDenied", f"{signer} may not assume {role}")
            if role == FINAL_ROLE and form.get("ExternalId", ["none"]) != ["ext-42"] and signer == SOURCE_KEY:
                return error("AccessDenied", "ExternalId required")
            key = ACCESS_KEY if role == FINAL_ROLE else MIDDLE_KEY
            return self.answer(200, sts_xml(action, key, SECRET_KEY if key == ACCESS_KEY else "middle-secret"), "text/xml")
        error("InvalidAction", action)


@pytest.fixture(scope="module")
def fake():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Fake)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def serve():
    s = Server("--stream", "fixture:1", "--auth", f"{ACCESS_KEY}:{SECRET_KEY}")
    yield s
    s.stop()


def streams_list(serve, home, env):
    """Runs `streams list` with only `env` as the credential setup; returns (exit code, output)."""
    environment = {"PATH": os.environ["PATH"], "HOME": str(home), "AWS_REGION": "us-east-1",
                   "AWS_EC2_METADATA_DISABLED": "true", **env}
    result = subprocess.run([binary(), "streams", "list", "--endpoint", serve.url], env=environment,
                            capture_output=True, text=True, timeout=60)
    return result.returncode, result.stdout + result.stderr


def write_config(home, config="", credentials=""):
    aws = home / ".aws"
    aws.mkdir(exist_ok=True)
    (aws / "config").write_text(config)
    (aws / "credentials").write_text(credentials)


def assert_no_secret(output):
    for secret in (SECRET_KEY, SESSION_TOKEN, WEB_IDENTITY_TOKEN, SSO_TOKEN, ECS_AUTH, IMDS_TOKEN):
        assert secret not in output


def test_web_identity_from_the_environment(serve, fake, tmp_path):
    token = tmp_path / "token"
    token.write_text(WEB_IDENTITY_TOKEN + "\n")
    code, output = streams_list(serve, tmp_path, {
        "AWS_WEB_IDENTITY_TOKEN_FILE": str(token), "AWS_ROLE_ARN": FINAL_ROLE, "AWS_ENDPOINT_URL_STS": fake + "/sts"})
    assert code == 0, output
    assert "fixture" in output


def test_a_wrong_web_identity_token_is_refused_without_showing_it(serve, fake, tmp_path):
    token = tmp_path / "token"
    token.write_text("not-the-token")
    code, output = streams_list(serve, tmp_path, {
        "AWS_WEB_IDENTITY_TOKEN_FILE": str(token), "AWS_ROLE_ARN": FINAL_ROLE, "AWS_ENDPOINT_URL_STS": fake + "/sts"})
    assert code != 0
    assert "AssumeRoleWithWebIdentity of arn:aws:iam::123456789012:role/final failed: InvalidIdentityToken" in output
    assert "not-the-token" not in output


def test_assume_role_with_a_source_profile_signs_with_the_source(serve, fake, tmp_path):
    write_config(tmp_path, config=f"[profile app]\nrole_arn = {FINAL_ROLE}\nsource_profile = base\nexternal_id = ext-42\n"
                                  "role_session_name = ci-run\nduration_seconds = 3600\n",
                 credentials=f"[base]\naws_access_key_id = {SOURCE_KEY}\naws_secret_access_key = source-secret\n")
    code, output = streams_list(serve, tmp_path, {"AWS_PROFILE": "app", "AWS_ENDPOINT_URL_STS": fake + "/sts"})
    assert code == 0, output
    assert_no_secret(output)


def test_chained_roles(serve, fake, tmp_path):
    write_config(tmp_path, config=f"[profile app]\nrole_arn = {FINAL_ROLE}\nsource_profile = middle\n"
                                  f"[profile middle]\nrole_arn = {MIDDLE_ROLE}\nsource_profile = base\n",
                 credentials=f"[base]\naws_access_key_id = {SOURCE_KEY}\naws_secret_access_key = source-secret\n")
    code, output = streams_list(serve, tmp_path, {"AWS_PROFILE": "app", "AWS_ENDPOINT_URL_STS": fake + "/sts"})
    assert code == 0, output


def test_a_cycle_of_source_profiles_is_named(serve, fake, tmp_path):
    write_config(tmp_path, config=f"[profile a]\nrole_arn = {FINAL_ROLE}\nsource_profile = b\n"
                                  f"[profile b]\nrole_arn = {MIDDLE_ROLE}\nsource_profile = a\n")
    code, output = streams_list(serve, tmp_path, {"AWS_PROFILE": "a", "AWS_ENDPOINT_URL_STS": fake + "/sts"})
    assert code != 0
    assert "cycle through source_profile: a -> b -> a" in output


def test_mfa_serial_is_a_clear_not_supported(serve, fake, tmp_path):
    write_config(tmp_path, config=f"[profile app]\nrole_arn = {FINAL_ROLE}\nsource_profile = base\n"
                                  "mfa_serial = arn:aws:iam::123456789012:mfa/me\n",
                 credentials=f"[base]\naws_access_key_id = {SOURCE_KEY}\naws_secret_access_key = source-secret\n")
    code, output = streams_list(serve, tmp_path, {"AWS_PROFILE": "app"})
    assert code != 0
    assert "mfa_serial" in output and "not supported" in output


def test_credential_process(serve, tmp_path):
    script = tmp_path / "creds.sh"
    script.write_text("#!/bin/sh\n" + "echo '" + json.dumps({
        "Version": 1, "AccessKeyId": ACCESS_KEY, "SecretAccessKey": SECRET_KEY, "SessionToken": SESSION_TOKEN,
        "Expiration": EXPIRES}) + "'\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    write_config(tmp_path, config=f"[profile tool]\ncredential_process = {script}\n")
    code, output = streams_list(serve, tmp_path, {"AWS_PROFILE": "tool"})
    assert code == 0, output


def sso_profile(home, fake, expires):
    write_config(home, config="[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Developer\n"
                              "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n")
    cache = home / ".aws" / "sso" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha1(b"corp").hexdigest() + ".json"
    (cache / name).write_text(json.dumps({"accessToken": SSO_TOKEN, "expiresAt": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                          "startUrl": "https://corp.awsapps.com/start", "region": "us-east-1"}))


def test_sso_reads_the_cli_cache_and_asks_the_portal(serve, fake, tmp_path):
    sso_profile(tmp_path, fake, datetime.now(timezone.utc) + timedelta(hours=2))
    code, output = streams_list(serve, tmp_path, {"AWS_PROFILE": "dev", "AWS_ENDPOINT_URL_SSO": fake + "/sso"})
    assert code == 0, output


def test_an_expired_sso_login_says_to_log_in(serve, fake, tmp_path):
    sso_profile(tmp_path, fake, datetime.now(timezone.utc) - timedelta(minutes=1))
    code, output = streams_list(serve, tmp_path, {"AWS_PROFILE": "dev", "AWS_ENDPOINT_URL_SSO": fake + "/sso"})
    assert code != 0
    assert "aws sso login --profile dev" in output
    assert_no_secret(output)


def test_ecs_container_credentials_with_a_token_file(serve, fake, tmp_path):
    token = tmp_path / "ecs-token"
    token.write_text(ECS_AUTH)
    code, output = streams_list(serve, tmp_path, {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": fake + "/ecs/credentials", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token)})
    assert code == 0, output


def test_ecs_without_the_authorization_is_refused(serve, fake, tmp_path):
    code, output = streams_list(serve, tmp_path, {"AWS_CONTAINER_CREDENTIALS_FULL_URI": fake + "/ecs/credentials"})
    assert code != 0
    assert "HTTP 403" in output


def test_instance_metadata_with_an_imdsv2_token(serve, fake, tmp_path):
    Fake.calls.clear()
    code, output = streams_list(serve, tmp_path, {
        "AWS_EC2_METADATA_DISABLED": "false", "AWS_EC2_METADATA_SERVICE_ENDPOINT": fake})
    assert code == 0, output
    assert Fake.calls[0] == ("PUT", "/latest/api/token")


def test_nothing_configured_lists_every_source(serve, tmp_path):
    code, output = streams_list(serve, tmp_path, {})
    assert code != 0
    for source in ("the environment", "web identity", "profile 'default'", "container credentials",
                   "AWS_EC2_METADATA_DISABLED"):
        assert source in output, output


def test_ecs_redirects_are_refused_and_name_the_host(serve, fake, tmp_path):
    code, output = streams_list(serve, tmp_path, {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": fake + "/ecs/redirect", "AWS_CONTAINER_AUTHORIZATION_TOKEN": ECS_AUTH})
    assert code != 0
    assert "HTTP 302, a redirect to elsewhere.example" in output and "127.0.0.1" in output
    assert_no_secret(output)


def test_ecs_a_trickled_answer_is_cut_off(serve, fake, tmp_path):
    started = time.monotonic()
    code, output = streams_list(serve, tmp_path, {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": fake + "/ecs/trickle", "AWS_CONTAINER_AUTHORIZATION_TOKEN": ECS_AUTH})
    assert code != 0
    assert "did not answer in full within" in output
    assert time.monotonic() - started < 20, "the limit covers the body, not just the head"


def test_a_credential_process_that_hangs_is_stopped_with_the_command(serve, tmp_path):
    pid_file = tmp_path / "child.pid"
    script = tmp_path / "hang.sh"
    script.write_text(f"#!/bin/sh\necho $$ > {pid_file}\nexec sleep 1000\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    write_config(tmp_path, config=f"[profile tool]\ncredential_process = {script}\n")
    environment = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "AWS_REGION": "us-east-1",
                   "AWS_EC2_METADATA_DISABLED": "true", "AWS_PROFILE": "tool"}
    command = subprocess.Popen([binary(), "streams", "list", "--endpoint", serve.url], env=environment,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while not pid_file.exists() or not pid_file.read_text().strip():
        assert time.monotonic() < deadline, "the credential process never started"
        time.sleep(0.05)
    child = int(pid_file.read_text())
    command.send_signal(15)
    assert command.wait(timeout=10) == 143
    # The child is gone (killed and reaped), not left running.
    deadline = time.monotonic() + 5
    while os.path.exists(f"/proc/{child}") and "zombie" not in open(f"/proc/{child}/status").read():
        assert time.monotonic() < deadline, "the credential process outlived the command"
        time.sleep(0.05)


def test_a_credential_process_that_prints_too_much_is_stopped(serve, tmp_path):
    script = tmp_path / "flood.sh"
    script.write_text("#!/bin/sh\nyes | head -c 300000000\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    write_config(tmp_path, config=f"[profile tool]\ncredential_process = {script}\n")
    started = time.monotonic()
    code, output = streams_list(serve, tmp_path, {"AWS_PROFILE": "tool"})
    assert code != 0
    assert "printed more than 64000 bytes" in output
    assert time.monotonic() - started < 20


def test_unreadable_aws_files_are_named_not_skipped(serve, tmp_path):
    aws = tmp_path / ".aws"
    aws.mkdir()
    (aws / "credentials").write_text("[default]\naws_access_key_id = AKIDX\nthis line is not ini\n")
    code, output = streams_list(serve, tmp_path, {})
    assert code != 0
    assert "credentials line 3 is neither a [section] nor a key = value" in output
    (aws / "credentials").write_bytes(b"\x00\xff\xfe binary")
    code, output = streams_list(serve, tmp_path, {})
    assert code != 0 and "is not text" in output
    (aws / "credentials").unlink()
    (aws / "credentials").mkdir()
    code, output = streams_list(serve, tmp_path, {})
    assert code != 0 and "is a directory, not a file" in output


def test_an_aws_profile_that_does_not_exist_is_said(serve, tmp_path):
    write_config(tmp_path, config="[profile real]\nregion = us-east-1\n")
    code, output = streams_list(serve, tmp_path, {"AWS_PROFILE": "typo"})
    assert code != 0
    assert "profile 'typo' does not exist" in output
