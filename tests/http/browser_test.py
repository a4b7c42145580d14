#!/usr/bin/env python3
"""A real browser against examples/http_server.

Headless Chromium loads the example's page, whose EventSource streams the
`events` log. The source never stops (10 events a second) and the server ends
every stream after a second (--max-stream-duration=1), so the browser's
automatic reconnect, with its Last-Event-ID, must resume at the right offset.
The page reports every event it receives (its sequence number n, offset,
connections opened) to a listener here. The test passes once the page has
reported events 0..N-1 (N >= EVENTS), some of them over a second connection,
and the event numbered n is offset n for every n: none lost, repeated or out
of order. However late the browser starts, the stream it reads goes on, so a
reconnect always comes.

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


def complete(received):
    """True once events 0..N-1 (N >= EVENTS) are in, some over a reconnect."""
    numbers = sorted(n for n, _, _ in received)
    return (len(numbers) >= EVENTS and numbers == list(range(len(numbers)))
            and any(opens >= 2 for _, _, opens in received))


def main():
    server_binary = sys.argv[1]
    listener = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Reports)
    threading.Thread(target=listener.serve_forever, daemon=True).start()
    report_url = "http://127.0.0.1:%d/r" % listener.server_address[1]

    server = subprocess.Popen(
        [server_binary, "--port=0", "--rate=10", "--max-stream-duration=1"],
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
            # Reports travel as separate requests and may arrive out of
            # order: wait until the page's numbers 0..N-1 are all here.
            while not complete(Reports.received):
                left = deadline - time.monotonic()
                assert left > 0, ("the page reported %r" %
                                  sorted(Reports.received))
                Reports.changed.wait(left)
            received = sorted(Reports.received)

        wrong = [(n, offset) for n, offset, _ in received if offset != n]
        assert not wrong, ("offsets lost, repeated or out of order "
                           "(event number, offset): %r" % wrong[:10])
        opens = max(o for _, _, o in received)
        print("PASS: %d events in order, each once, over %d connections" %
              (len(received), opens))
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
