import Foundation
import Hummingbird
import KinesisLoad
import NIOCore

/// `run --dashboard`: a page on 127.0.0.1 that shows the run as it goes. `/` is the page; `/live`
/// is what it polls every second: the HTML report's body built from the figures stored so far
/// (the charts, the thresholds' verdicts so far, the hot shards), with the totals and the state.
/// Once the reports are written, `/live` answers the final report, and the page stops polling.
enum LivePage {
    /// What `/live` answers.
    struct Snapshot: Codable {
        /// "starting" (no run yet), "running" or "finished".
        var state: String
        var run: Int64?
        var scenario: String?
        /// Seconds of the run stored so far.
        var seconds: Int
        var started = 0
        var delivered = 0
        var failed = 0
        var dropped = 0
        var throttled = 0
        var read: Int?
        var hotShards: [String] = []
        var thresholds: [Verdict] = []
        /// The final report's folder, once written.
        var report: String?
        /// The report's body: verdict, charts, details.
        var html: String
    }

    struct Verdict: Codable {
        var metric: String
        var expression: String
        var observed: String
        var passed: Bool
    }

    static func snapshot(_ summary: RunSummary, state: String, report: String?) -> Snapshot {
        Snapshot(
            state: state, run: summary.run.id, scenario: summary.run.scenario, seconds: summary.series.count, started: summary.totals.started,
            delivered: summary.totals.succeeded, failed: summary.totals.failed, dropped: summary.totals.dropped,
            throttled: summary.shards.reduce(0) { $0 + $1.throttled }, read: summary.verification?.read,
            hotShards: summary.shards.filter(\.hot).map { "\($0.shardId) (\($0.why ?? "hot"))" },
            thresholds: summary.thresholds.map { Verdict(metric: $0.metric, expression: $0.expression, observed: $0.observedText, passed: $0.passed) },
            report: report, html: ReportWriter.htmlBody(summary))
    }

    /// Adds `/` and `/live` to `router`, reading the run `session` holds.
    static func routes(_ router: Router<BasicRequestContext>, session: LiveRun) {
        router.get("/") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: page)))
        }
        router.get("live") { _, _ -> Response in
            let snapshot = await session.snapshot()
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            let body = (try? encoder.encode(snapshot)) ?? Data("{}".utf8)
            return Response(
                status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
        }
    }

    /// The page: a status line with the figures, then the report's body, refreshed every second.
    static let page = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>kinesis-load: live</title>
        <style>\(ReportWriter.htmlStyle)
        #live{position:sticky;top:0;background:#fff;border-bottom:1px solid #ccc;padding:.5em 0;z-index:1}
        #live span{margin-right:1.2em;white-space:nowrap;display:inline-block}#live .hot{color:#b00;font-weight:600}#state.running{color:#27c}#state.finished{color:#2a7}
        #live .fail{color:#b00}#live .pass{color:#2a7}</style></head><body>
        <div id="live"><strong>kinesis-load</strong> <span id="state">connecting</span><span>run <b id="run">-</b> <b id="scenario"></b></span>
        <span>second <b id="seconds">0</b></span><span>started <b id="started">0</b></span><span>delivered <b id="delivered">0</b></span>
        <span>failed <b id="failed">0</b></span><span>dropped <b id="dropped">0</b></span><span>throttled <b id="throttled">0</b></span>
        <span id="read-box" hidden>read back <b id="read">0</b></span>
        <div id="hot" class="hot"></div><div id="verdicts"></div></div>
        <div id="report"><p>Waiting for the run's first figures.</p></div>
        <ol id="history" hidden></ol>
        <script>
        const $ = (id) => document.getElementById(id);
        function show(d) {
          $('state').textContent = d.state === 'finished' ? 'final report' : d.state;
          $('state').className = d.state;
          $('run').textContent = d.run ?? '-';
          $('scenario').textContent = d.scenario ?? '';
          for (const k of ['seconds', 'started', 'delivered', 'failed', 'dropped', 'throttled']) $(k).textContent = d[k];
          if (d.read !== null && d.read !== undefined) { $('read-box').hidden = false; $('read').textContent = d.read; }
          $('hot').textContent = d.hotShards.length ? 'hot shard: ' + d.hotShards.join('; ') : '';
          const verdicts = $('verdicts');
          verdicts.replaceChildren(...d.thresholds.map((t) => {
            const s = document.createElement('span');
            s.className = t.passed ? 'pass' : 'fail';
            s.textContent = (t.passed ? 'pass ' : 'FAIL ') + t.metric + ' ' + t.expression + ' (' + t.observed + ')';
            return s;
          }));
          $('report').innerHTML = d.html;
          const item = document.createElement('li');
          item.textContent = d.state + ' ' + d.seconds + ' ' + d.started;
          $('history').append(item);
          document.title = 'kinesis-load: ' + (d.state === 'finished' ? 'run ' + d.run + ' report' : 'live, second ' + d.seconds);
        }
        async function poll() {
          try {
            const answer = await fetch('live', { cache: 'no-store' });
            const d = await answer.json();
            show(d);
            if (d.state === 'finished') return;
          } catch (e) {
            $('state').textContent = 'not reachable (the run has ended?)';
          }
          setTimeout(poll, 1000);
        }
        poll();
        </script></body></html>
        """
}
