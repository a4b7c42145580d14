#!/usr/bin/env python3
"""A real browser against examples/http_server.

Headless Chromium loads the example's page, whose EventSource streams the
`events` log. The server ends every stream after a second
(--max-stream-duration=1), so the browser's automatic reconnect, with its
Last-Event-ID, must resume at the right offset. The page reports every event
it receives (sequence number, offset, connections opened) to a listener here;
the test passes when the page saw offsets 0..N-1 in order, each exactly once,
across at least two connections.

Usage: browser_test.py PATH_TO_HTTP_SERVER
"""

import http.server
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

EVENTS = 60
DEADLINE_SECONDS = 60


class Reports(http.server.BaseHTTPRequestHandler):
    received = []  # (n, offset, opens)
    changed = threading.Condition()

    def do_GET(self):  # noqa: N802 (the handler's name)
        query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        if "n" in query:
            with Reports.changed:
                Reports.received.append((int(query["n"][0]),
                                         int(query["offset"][0]),
                                         int(query["opens"][0])))
                Reports.changed.notify_all()
        self.send_response(204)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    server_binary = sys.argv[1]
    listener = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Reports)
    threading.Thread(target=listener.serve_forever, daemon=True).start()
    report_url = "http://127.0.0.1:%d/r" % listener.server_address[1]

    server = subprocess.Popen(
        [server_binary, "--port=0", "--rate=10", "--events=%d" % EVENTS,
         "--max-stream-duration=1"],
        stdout=subprocess.PIPE, text=True)
    profile = tempfile.mkdtemp()
    browser = None
    try:
        first = server.stdout.readline().strip()
        prefix = "listening on "
        assert first.startswith(prefix), "unexpected first line: %r" % first
        page = first[len(prefix):] + "/?report=" + urllib.parse.quote(report_url)
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        assert chromium, "chromium is not installed (./bazelw installs it)"
        browser = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--user-data-dir=" + profile,
             "--remote-debugging-port=0", page],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        deadline = time.monotonic() + DEADLINE_SECONDS
        with Reports.changed:
            while len(Reports.received) < EVENTS:
                left = deadline - time.monotonic()
                assert left > 0, ("the page reported %d of %d events: %r" %
                                  (len(Reports.received), EVENTS,
                                   sorted(Reports.received)))
                Reports.changed.wait(left)
            received = sorted(Reports.received)

        sequence = [n for n, _, _ in received]
        offsets = [offset for _, offset, _ in received]
        opens = max(o for _, _, o in received)
        assert sequence == list(range(EVENTS)), "sequence: %r" % sequence
        assert offsets == list(range(EVENTS)), (
            "offsets lost, repeated or out of order: %r" % offsets)
        assert opens >= 2, "the browser never reconnected (opens=%d)" % opens
        print("PASS: %d events in order, each once, over %d connections" %
              (EVENTS, opens))
    finally:
        if browser is not None:
            browser.kill()
            browser.wait(timeout=10)
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        listener.shutdown()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
