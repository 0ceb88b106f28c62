"""`run --dashboard`: the live page in a real browser (headless Chromium, driven over the DevTools
protocol): its figures change while the run goes, its charts are there, and once the run is over
it shows the final report, whose figures equal summary.json. The test keeps a screenshot of the
final page in Reports/screenshots/live-page.png (the README shows a copy)."""
import base64
import json
import pathlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

import websocket

from conftest import binary

ROOT = pathlib.Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """Headless Chromium with one page, driven over the DevTools protocol."""

    def __init__(self, profile):
        port = free_port()
        self.process = subprocess.Popen(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", f"--remote-debugging-port={port}",
             f"--user-data-dir={profile}", "--window-size=1100,1400", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as answer:
                    pages = [t for t in json.load(answer) if t["type"] == "page"]
                if pages:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "chromium did not open its DevTools port within 60 s"
            time.sleep(0.2)
        self.socket = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=30, suppress_origin=True)
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                assert "error" not in message, message
                return message["result"]

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def close(self):
        self.socket.close()
        self.process.terminate()
        self.process.wait(timeout=10)


FIGURES = "Object.fromEntries(['state','seconds','started','delivered','failed','dropped','throttled']" \
          ".map(k => [k, document.getElementById(k).textContent]))"


def test_the_live_page_changes_during_the_run_and_ends_as_the_final_report(tmp_path):
    scenario = json.loads((ROOT / "Scenarios" / "quickstart.json").read_text())
    scenario["load"] = {"executor": "constant-arrival-rate", "rate": 500, "duration": "8s"}
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(scenario))
    port = free_port()
    run = subprocess.Popen(
        [binary(), "run", str(path), "--db", str(tmp_path / "m.sqlite"), "--reports", str(tmp_path / "reports"),
         "--dashboard", str(port), "--linger", "120s", "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    browser = Browser(tempfile.mkdtemp(dir=tmp_path))
    try:
        browser.call("Page.enable")
        browser.call("Page.navigate", url=f"http://127.0.0.1:{port}/")
        seen = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            figures = browser.evaluate(f"document.getElementById('state') ? {FIGURES} : null")
            if figures and figures["state"] == "running":
                seen.append(int(figures["started"]))
            if figures and figures["state"] == "final report":
                break
            assert run.poll() is None, run.stdout.read()
            time.sleep(0.3)
        else:
            raise AssertionError(f"the page never showed the final report; it showed {figures}")
        # While the run went, the page updated itself: it showed several different, growing counts.
        distinct = sorted(set(seen))
        assert len(distinct) >= 3, f"the figures the page showed while running: {seen}"
        assert seen == sorted(seen), "a later poll showed fewer events started"
        # (A run's first second is stored after it ends: the page may show 0 started at first;
        # once the schedule is done the run drains, still running, with all 4,000 started.)
        assert 0 <= distinct[0] < distinct[-1] <= 4000
        history = browser.evaluate("document.getElementById('history').children.length")
        assert history >= 3, "the page polled fewer than three times"

        # The end: the final report, with the figures summary.json has, and its charts.
        summary = json.loads(next((tmp_path / "reports").glob("*/summary.json")).read_text())
        final = browser.evaluate(FIGURES)
        totals = summary["totals"]
        assert (int(final["started"]), int(final["delivered"]), int(final["failed"]), int(final["dropped"])) == (
            totals["started"], totals["succeeded"], totals["failed"], totals["dropped"]) == (4000, 4000, 0, 0)
        assert int(final["throttled"]) == sum(s["throttled"] for s in summary["shards"])
        assert browser.evaluate("document.querySelectorAll('#report figure svg').length") >= 4
        verdicts = browser.evaluate("[...document.querySelectorAll('#verdicts span')].map(s => s.textContent)")
        assert len(verdicts) == len(summary["thresholds"])
        for threshold in summary["thresholds"]:
            word = "pass" if threshold["passed"] else "FAIL"
            assert f"{word} {threshold['metric']} {threshold['expression']} ({threshold['observedText']})" in verdicts
        assert browser.evaluate("document.title") == f"kinesis-load: run {summary['run']['id']} report"

        shot = base64.b64decode(browser.call("Page.captureScreenshot", format="png")["data"])
        assert shot[:8] == b"\x89PNG\r\n\x1a\n"
        kept = ROOT / "Reports" / "screenshots"
        kept.mkdir(parents=True, exist_ok=True)
        (kept / "live-page.png").write_bytes(shot)

        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=20) == 0, run.stdout.read()
    finally:
        browser.close()
        if run.poll() is None:
            run.kill()


def test_the_live_page_names_the_hot_shard_while_the_run_goes_and_dashboard_takes_no_port(tmp_path):
    """`--dashboard` with no port picks a free one and prints it; /live names the hot shard while
    the run is still going, and at the end the same shards summary.json calls hot."""
    scenario = json.loads((ROOT / "Scenarios" / "hot-shard.json").read_text())
    scenario["load"] = {"executor": "constant-arrival-rate", "rate": 2000, "duration": "6s"}
    path = tmp_path / "hot.json"
    path.write_text(json.dumps(scenario))
    run = subprocess.Popen(
        [binary(), "run", str(path), "--db", str(tmp_path / "m.sqlite"), "--reports", str(tmp_path / "reports"),
         "--dashboard", "--linger", "60s", "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = run.stdout.readline()
        assert line.startswith("live page at http://127.0.0.1:"), line
        url = line.split(" at ", 1)[1].strip()

        def live():
            with urllib.request.urlopen(url + "live", timeout=5) as answer:
                return json.load(answer)

        hot_while_running = None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            snapshot = live()
            if snapshot["state"] == "running" and snapshot["hotShards"] and hot_while_running is None:
                hot_while_running = snapshot
            if snapshot["state"] == "finished":
                break
            time.sleep(0.3)
        assert hot_while_running is not None, "the hot shard was not named while the run went"
        summary = json.loads(next((tmp_path / "reports").glob("*/summary.json")).read_text())
        hot = [s["shardId"] for s in summary["shards"] if s["hot"]]
        assert hot and [h.split(" ", 1)[0] for h in snapshot["hotShards"]] == hot
        assert [h.split(" ", 1)[0] for h in hot_while_running["hotShards"]][0] in hot
        run.send_signal(signal.SIGTERM)
        run.wait(timeout=20)
    finally:
        if run.poll() is None:
            run.kill()
