#!/usr/bin/env python3
"""The live sales board (GET /board) in a real browser: headless Chromium driven over the DevTools
protocol on a pipe (--remote-debugging-pipe: commands on fd 3, replies on fd 4, NUL-terminated JSON).
Python 3 standard library only.

    run_board_test.py LEDGERD                      the test (ctest: board)
    run_board_test.py LEDGERD --demo-screenshot F  load the demo network, open the board, save a PNG to F

The test starts ledgerd on a fresh data directory, builds a small network over the API, places an
order, opens /board#token=<admin token> and checks that the page shows what GET /v1/boards/sales says
(orders, units, revenue in cents) and names the SKU among the top SKUs; places a second order and
checks that the page follows by itself (event stream, no reload); checks that a dealer token falls
back to polling with its own figures, and that a wrong token shows an error instead of numbers.
Any mismatch fails with the page's text, its console errors and exceptions. Chromium and ledgerd
are always stopped.

Environment: CHROMIUM (the browser binary, default: chromium on PATH), BOARD_KEEP=1 keeps the temp
directories, BOARD_SCREENSHOT=FILE saves a screenshot of the board after the checks.
"""
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

T0 = time.monotonic()
DAY_US = 86400 * 1_000_000
CHINA_US = 8 * 3600 * 1_000_000

FIRST_LOAD_S = 30   # slow shared CI machines: the first page load, chromium start-up
UPDATE_S = 20       # a change through the API reaching the page by itself


def log(msg):
    print(f"[board {time.monotonic() - T0:6.1f}s] {msg}", flush=True)


class Fail(Exception):
    pass


def now_us():
    return time.time_ns() // 1000


def china_day_start(us):
    return (us + CHINA_US) // DAY_US * DAY_US - CHINA_US


# ---------------------------------------------------------------- ledgerd and its API

NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Ledgerd:
    def __init__(self, binary, demo=False):
        self.binary = binary
        self.dir = tempfile.mkdtemp(prefix="board-ledgerd-")
        self.data = os.path.join(self.dir, "data")
        self.log_path = os.path.join(self.dir, "ledgerd.log")
        self.proc = None
        self.port = None
        self.demo = demo
        self.admin = None

    def start(self, timeout):
        deadline = time.monotonic() + timeout
        for attempt in range(5):  # a free port can be taken between choosing and binding it
            self.port = free_port()
            args = [self.binary, "--data", self.data, "--listen", f"127.0.0.1:{self.port}", "--quiet"]
            if not self.demo:
                args.append("--no-demo")
            logf = open(self.log_path, "ab")
            self.proc = subprocess.Popen(args, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
            logf.close()
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    status, _, _ = self.request("GET", "/healthz", timeout=2)
                    token_file = os.path.join(self.data, "admin.token")
                    if status == 200 and os.path.exists(token_file):
                        with open(token_file) as f:
                            self.admin = f.read().strip()
                        if self.admin:
                            return
                except OSError:
                    pass
                time.sleep(0.1)
            if self.proc.poll() is None:
                raise Fail(f"ledgerd did not answer /healthz within {timeout}s\n{self.log_tail()}")
            log(f"ledgerd exited with {self.proc.returncode} (attempt {attempt + 1}); retrying on another port")
        raise Fail(f"ledgerd would not start\n{self.log_tail()}")

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def request(self, method, path, body=None, token=None, headers=None, timeout=30):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", "Bearer " + token)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with NO_PROXY.open(req, timeout=timeout) as r:
                raw, status, hdrs = r.read(), r.status, r.headers
        except urllib.error.HTTPError as e:
            raw, status, hdrs = e.read(), e.code, e.headers
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode(errors="replace")
        return status, hdrs, parsed

    def call(self, method, path, body=None, token=None, ok=(200, 201)):
        status, hdrs, parsed = self.request(method, path, body, token or self.admin)
        if status not in ok:
            raise Fail(f"{method} {path} answered {status}: {json.dumps(parsed)}\nbody sent: {json.dumps(body)}")
        return int(hdrs.get("X-Ledger-Seq") or 0), parsed

    def sales_totals(self, from_us, token=None, min_seq=0):
        """What the page must show: GET /v1/boards/sales for the page's query, summed over its rows."""
        total = {"orders": 0, "units": 0, "revenue_cents": 0, "discount_cents": 0}
        after, seq = None, 0
        while True:
            path = f"/v1/boards/sales?group_by=region,channel&bucket=day&from_us={from_us}&limit=1000"
            if min_seq:
                path += f"&min_seq={min_seq}"
            if after:
                path += "&after=" + urllib.request.quote(after, safe="")
            s, body = self.call("GET", path, token=token, ok=(200,))
            seq = max(seq, s)
            for row in body["rows"]:
                for k in total:
                    total[k] += row[k]
            after = body.get("next")
            if not after:
                return total, seq

    def stop(self):
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=10)

    def log_tail(self, n=40):
        try:
            with open(self.log_path, errors="replace") as f:
                return "--- ledgerd log (tail) ---\n" + "".join(f.readlines()[-n:])
        except OSError:
            return ""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- Chromium over the DevTools pipe

class Chrome:
    def __init__(self):
        self.exe = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
        if not self.exe:
            raise Fail("no chromium on PATH: install Debian's chromium package (scripts/setup does)")
        self.profile = tempfile.mkdtemp(prefix="board-chromium-")
        self.proc = None
        self.next_id = 0
        self.replies = {}
        self.cond = threading.Condition()
        self.closed = False
        self.exceptions = []   # (session, text)
        self.console = []      # (session, level, text)
        self.write_lock = threading.Lock()

    def start(self):
        to_r, to_w = os.pipe()
        from_r, from_w = os.pipe()
        # Chromium reads commands on fd 3 and writes replies on fd 4. The child's ends are moved above
        # 9 first, so the shell's redirections below cannot clobber one with the other.
        child_r = fcntl.fcntl(to_r, fcntl.F_DUPFD_CLOEXEC, 10)
        child_w = fcntl.fcntl(from_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_r)
        os.close(from_w)
        flags = [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
            f"--user-data-dir={self.profile}", "--no-first-run", "--no-default-browser-check",
            "--disable-extensions", "--disable-background-networking", "--disable-sync",
            "--disable-component-update", "--disable-default-apps", "--mute-audio", "--no-proxy-server",
            "--disable-dev-shm-usage", "--disable-background-timer-throttling",
            "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows",
            "--disable-features=Translate,MediaRouter,OptimizationHints", "--window-size=1400,1000",
            "about:blank",
        ]
        self.stderr_path = os.path.join(self.profile, "chromium.stderr")
        errf = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            ["bash", "-c", f'exec "$@" 3<&{child_r} 4>&{child_w} {child_r}<&- {child_w}>&-', "chromium", self.exe, *flags],
            pass_fds=(child_r, child_w), stdin=subprocess.DEVNULL, stdout=errf, stderr=errf, start_new_session=True)
        errf.close()
        os.close(child_r)
        os.close(child_w)
        self.to_chrome = to_w
        self.from_chrome = from_r
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        version = self.send("Browser.getVersion", timeout=FIRST_LOAD_S)
        log(f"chromium {version.get('product')} (pid {self.proc.pid})")

    def _read(self):
        buf = b""
        while True:
            try:
                chunk = os.read(self.from_chrome, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                with self.cond:
                    self.closed = True
                    self.cond.notify_all()
                return
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                try:
                    msg = json.loads(raw)
                except ValueError:
                    continue
                if "id" in msg:
                    with self.cond:
                        self.replies[msg["id"]] = msg
                        self.cond.notify_all()
                else:
                    self._event(msg)

    def _event(self, msg):
        method, p, session = msg.get("method"), msg.get("params", {}), msg.get("sessionId")
        if method == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            text = (d.get("exception") or {}).get("description") or d.get("text", "")
            self.exceptions.append((session, f"{text} at {d.get('url', '')}:{d.get('lineNumber')}"))
        elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "warning", "assert"):
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
            self.console.append((session, p.get("type"), args))
        elif method == "Log.entryAdded":
            e = p.get("entry", {})
            if e.get("level") in ("error", "warning"):
                self.console.append((session, e.get("level"), f"{e.get('text', '')} {e.get('url', '')}".strip()))

    def send(self, method, params=None, session=None, timeout=30):
        with self.cond:
            self.next_id += 1
            mid = self.next_id
        msg = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        data = json.dumps(msg).encode() + b"\0"
        with self.write_lock:
            while data:
                try:
                    n = os.write(self.to_chrome, data)
                except OSError as e:
                    raise Fail(f"chromium went away ({e}) sending {method}\n{self.stderr_tail()}")
                data = data[n:]
        deadline = time.monotonic() + timeout
        with self.cond:
            while mid not in self.replies:
                if self.closed:
                    raise Fail(f"chromium closed the DevTools pipe during {method}\n{self.stderr_tail()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Fail(f"chromium did not answer {method} within {timeout}s\n{self.stderr_tail()}")
                self.cond.wait(left)
            reply = self.replies.pop(mid)
        if "error" in reply:
            raise Fail(f"DevTools {method} failed: {reply['error']}")
        return reply.get("result", {})

    def open(self, url):
        """A new tab on url; returns its flat session id, with Runtime, Log and Page enabled."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Page"):
            self.send(f"{domain}.enable", session=session)
        self.send("Page.navigate", {"url": url}, session=session, timeout=FIRST_LOAD_S)
        return session

    def evaluate(self, session, expression):
        r = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=session)
        if "exceptionDetails" in r:
            raise Fail(f"evaluating in the page failed: {r['exceptionDetails']}")
        return r.get("result", {}).get("value")

    def screenshot(self, session, path, width=1400):
        metrics = self.send("Page.getLayoutMetrics", session=session)
        height = int((metrics.get("cssContentSize") or metrics.get("contentSize"))["height"])
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": min(max(height, 600), 6000), "deviceScaleFactor": 1, "mobile": False},
                  session=session)
        time.sleep(0.3)
        import base64
        png = self.send("Page.captureScreenshot", {"format": "png"}, session=session, timeout=60)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(png))
        self.send("Emulation.clearDeviceMetricsOverride", session=session)

    def stderr_tail(self, n=20):
        try:
            with open(self.stderr_path, errors="replace") as f:
                lines = [l for l in f if "dbus" not in l]  # no system bus in containers: noise
                return "--- chromium stderr (tail) ---\n" + "".join(lines[-n:])
        except (OSError, AttributeError):
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            try:
                self.send("Browser.close", timeout=5)
            except Fail:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        if self.proc:
            try:  # chromium's own children (zygote, renderers, utilities) share its process group
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        for fd in ("to_chrome", "from_chrome"):
            try:
                os.close(getattr(self, fd))
            except (OSError, AttributeError):
                pass


# ---------------------------------------------------------------- the page

SNAPSHOT = r"""(() => {
  const g = (id) => document.getElementById(id);
  if (!document.body || !g('status') || location.pathname !== '/board') return null;  // not loaded yet
  const kpi = (id) => { const e = g(id); return e ? { text: e.textContent.trim(), value: e.dataset.value ?? null,
                                                     cents: e.dataset.cents ?? null } : null; };
  const err = g('error');
  return {
    state: document.body.dataset.state ?? null,
    status: g('status') ? g('status').dataset.state : null,
    seq: g('seq') ? (g('seq').dataset.seq ?? null) : null,
    from_us: document.body.dataset.fromUs ?? null,
    orders: kpi('total-orders'), units: kpi('total-units'), revenue: kpi('total-revenue-cents'),
    top_skus: g('top-skus') ? [...g('top-skus').querySelectorAll('tbody tr[data-key]')].map((tr) => tr.dataset.key) : null,
    alerts: g('alerts') ? [...g('alerts').querySelectorAll('li[data-seq]')].map((li) => li.innerText) : null,
    error: err && !err.hidden ? err.textContent : '',
    hash: location.hash, marker: window.__boardMarker ?? null,
    stored_token: (() => { try { return sessionStorage.getItem('ledger.board.token') !== null; } catch (e) { return null; } })(),
  };
})()"""


class Page:
    def __init__(self, chrome, session, name):
        self.chrome, self.session, self.name = chrome, session, name
        self.last = None

    def snapshot(self):
        self.last = self.chrome.evaluate(self.session, SNAPSHOT)
        return self.last

    def text(self):
        try:
            return self.chrome.evaluate(self.session, "document.body ? document.body.innerText : ''")
        except Fail as e:
            return f"(could not read the page: {e})"

    def wait(self, what, predicate, timeout):
        """Polls the page until predicate(snapshot) holds; fails with the page's state otherwise."""
        deadline = time.monotonic() + timeout
        started = time.monotonic()
        delay = 0.05
        while True:
            snap = self.snapshot()
            if snap is not None and predicate(snap):
                log(f"{self.name}: {what} after {time.monotonic() - started:.2f}s")
                return snap
            if time.monotonic() >= deadline:
                raise Fail(f"{self.name}: timed out after {timeout}s waiting for: {what}\n"
                           f"last snapshot: {json.dumps(snap, indent=1)}")
            time.sleep(delay)
            delay = min(delay * 1.5, 0.25)


def page_totals(snap):
    if not snap or not snap["orders"] or snap["orders"]["value"] is None or snap["revenue"]["cents"] is None:
        return None
    return {"orders": int(snap["orders"]["value"]), "units": int(snap["units"]["value"]),
            "revenue_cents": int(snap["revenue"]["cents"])}


def same_totals(snap, expected):
    t = page_totals(snap)
    return t is not None and all(t[k] == expected[k] for k in t)


def check_text_matches(snap):
    """The numbers people read are the numbers in the data attributes."""
    for key in ("orders", "units"):
        text = snap[key]["text"].replace(",", "")
        if text != snap[key]["value"]:
            raise Fail(f"total-{key} shows '{snap[key]['text']}' but holds {snap[key]['value']}")
    cents = int(snap["revenue"]["cents"])
    want = f"{cents / 100:,.2f}"
    if want not in snap["revenue"]["text"]:
        raise Fail(f"total-revenue-cents shows '{snap['revenue']['text']}', expected yuan {want} for {cents} cents")


# ---------------------------------------------------------------- the scenario

def build_network(ld):
    ld.call("PUT", "/v1/regions/R1", {"name": "East"})
    ld.call("PUT", "/v1/regions/R2", {"name": "West"})
    ld.call("PUT", "/v1/warehouses/W1", {"name": "Chengdu", "region": "R1", "lat": 30.57, "lon": 104.06,
                                          "daily_capacity_cases": 500})
    ld.call("PUT", "/v1/dealers/D1", {"name": "Dealer one", "region": "R1", "territory": ["R1"],
                                       "credit_limit_cents": 100_000_000})
    ld.call("PUT", "/v1/dealers/D2", {"name": "Dealer two", "region": "R2", "territory": ["R2"],
                                       "credit_limit_cents": 100_000_000})
    ld.call("PUT", "/v1/skus/SKU-BOARD-1", {"name": "Sauce 53%", "case_units": 6,
                                             "prices": {"wholesale_cents": 70000, "supply_cents": 85000,
                                                        "retail_cents": 100000}})
    floor = {"wholesale_cents": 18000, "supply_cents": 18000, "retail_cents": 18000}
    ld.call("PUT", "/v1/skus/SKU-BOARD-2", {"name": "Light 42%", "case_units": 6,
                                             "prices": {"wholesale_cents": 20000, "supply_cents": 25000,
                                                        "retail_cents": 30000}, "floor_cents": floor})
    ld.call("POST", "/v1/stock/receipts", {"warehouse": "W1", "ref": "BOARD-R1",
                                           "lines": [{"sku": "SKU-BOARD-1", "qty": 600},
                                                     {"sku": "SKU-BOARD-2", "qty": 600}]})


def place_order(ld, oid, buyer, region, channel, lines):
    body = {"id": oid, "type": "spot", "buyer": buyer, "seller": "hq", "channel": channel,
            "ship_to": {"region": region, "lat": 30.6, "lon": 104.1}, "lines": lines,
            "promised_by_us": now_us() + 3 * DAY_US}
    seq, reply = ld.call("POST", "/v1/orders", body, ok=(201,))
    log(f"placed {oid}: {reply.get('status')} total {reply.get('total_cents')} cents (seq {seq})")
    return seq


def run_test(binary):
    ld = Ledgerd(binary)
    chrome = Chrome()
    pages = []
    try:
        ld.start(timeout=FIRST_LOAD_S)
        log(f"ledgerd on {ld.base}, data {ld.data}")
        build_network(ld)
        seq1 = place_order(ld, "O-BOARD-1", "dealer:D1", "R1", "dealer_storefront",
                           [{"sku": "SKU-BOARD-1", "qty": 12, "unit_price_cents": 70000}])
        day = china_day_start(now_us())
        expected1, _ = ld.sales_totals(day, min_seq=seq1)
        if expected1["orders"] != 1 or expected1["units"] != 12 or expected1["revenue_cents"] != 840000:
            raise Fail(f"the API's sales board does not count the order: {expected1}")

        chrome.start()
        main = Page(chrome, chrome.open(f"{ld.base}/board#token={ld.admin}"), "admin tab")
        pages.append(main)
        snap = main.wait("the totals are shown", lambda s: page_totals(s) is not None and s["seq"] is not None,
                         FIRST_LOAD_S)
        from_us = int(snap["from_us"])
        if from_us not in (day, china_day_start(now_us())):
            raise Fail(f"the page reads from_us={from_us}, not the start of today in China time ({day})")
        expected1, _ = ld.sales_totals(from_us, min_seq=seq1)
        if not same_totals(snap, expected1):
            raise Fail(f"the page shows {page_totals(snap)}, the API says {expected1} for from_us={from_us}")
        check_text_matches(snap)
        if int(snap["seq"]) < seq1:
            raise Fail(f"the page says it is consistent with seq {snap['seq']}, before the order's seq {seq1}")
        snap = main.wait("the top-SKU table names SKU-BOARD-1", lambda s: "SKU-BOARD-1" in (s["top_skus"] or []), 5)
        if snap["hash"]:
            raise Fail(f"the token stays in the address bar: location.hash = {snap['hash']!r}")
        if not snap["stored_token"]:
            raise Fail("the token is not kept in sessionStorage")
        main.wait("the event stream is live", lambda s: s["status"] == "live", FIRST_LOAD_S)
        log(f"page matches the API: {expected1}, seq {snap['seq']}")

        if snap["alerts"]:
            raise Fail(f"alerts shown before any was raised: {snap['alerts']}")

        # A second order, one line under its floor price (a price alert): the page must follow by itself.
        chrome.evaluate(main.session, "window.__boardMarker = 'no-reload'")
        seq2 = place_order(ld, "O-BOARD-2", "dealer:D2", "R2", "regional_storefront",
                           [{"sku": "SKU-BOARD-2", "qty": 6, "unit_price_cents": 15000},
                            {"sku": "SKU-BOARD-1", "qty": 6, "unit_price_cents": 71000}])
        expected2, _ = ld.sales_totals(from_us, min_seq=seq2)
        if expected2 == expected1:
            raise Fail(f"the API's sales board did not change after the second order: {expected2}")
        t_placed = time.monotonic()
        snap = main.wait(f"the totals follow the second order to {expected2}",
                         lambda s: same_totals(s, expected2), UPDATE_S)
        log(f"page updated {time.monotonic() - t_placed:.2f}s after the order was placed")
        if snap["marker"] != "no-reload":
            raise Fail("the page reloaded instead of updating itself")
        check_text_matches(snap)
        if int(snap["seq"]) < seq2:
            raise Fail(f"the page shows seq {snap['seq']}, before the second order's seq {seq2}")
        if "SKU-BOARD-2" not in snap["top_skus"]:
            raise Fail(f"the top-SKU table does not name SKU-BOARD-2: {snap['top_skus']}")
        _, alerts = ld.call("GET", f"/v1/alerts?min_seq={seq2}", ok=(200,))
        if not any(a["subject"] == "order:O-BOARD-2" for a in alerts["rows"]):
            raise Fail(f"the API raised no alert for the order under its floor: {alerts}")
        main.wait("the alert list shows the price alert",
                  lambda s: any("order:O-BOARD-2" in a for a in s["alerts"] or []), 5)

        # A dealer's token: no event stream for its role, so the page polls, and shows the dealer's own sales.
        _, tok = ld.call("POST", "/v1/tokens", {"role": "dealer", "scope": "D1"}, ok=(200, 201))
        dealer_expected, _ = ld.sales_totals(from_us, token=tok["token"], min_seq=seq2)
        dealer = Page(chrome, chrome.open(f"{ld.base}/board#token={tok['token']}"), "dealer tab")
        pages.append(dealer)
        snap = dealer.wait("the dealer's page polls and shows the dealer's totals",
                           lambda s: s["status"] == "polling" and same_totals(s, dealer_expected), FIRST_LOAD_S)
        if dealer_expected == expected2:
            raise Fail(f"the dealer sees all sales: {dealer_expected}")

        # A wrong token: an error state, never numbers.
        bad = Page(chrome, chrome.open(f"{ld.base}/board#token=t000000000000.wrong"), "wrong-token tab")
        pages.append(bad)
        snap = bad.wait("the wrong token shows an error", lambda s: s["state"] == "error" and s["error"], FIRST_LOAD_S)
        if page_totals(snap) is not None or any(ch.isdigit() for ch in snap["orders"]["text"] + snap["revenue"]["text"]):
            raise Fail(f"the wrong token still shows numbers: {snap['orders']} {snap['revenue']}")
        if "401" not in snap["error"] and "refused" not in snap["error"]:
            raise Fail(f"the error does not say the token was refused: {snap['error']!r}")
        log(f"wrong token: {snap['error']!r}")

        # The main page is still live and right after all this.
        main.wait("the admin tab still matches the API", lambda s: same_totals(s, expected2) and s["status"] == "live", 5)

        problems = [e for e in chrome.exceptions]
        csp = [c for c in chrome.console if "Content Security Policy" in c[2] or "Refused to" in c[2]]
        if problems or csp:
            raise Fail("the page raised errors:\n" + "\n".join(map(str, problems + csp)))
        if os.environ.get("BOARD_SCREENSHOT"):
            chrome.screenshot(main.session, os.environ["BOARD_SCREENSHOT"])
            log(f"screenshot in {os.environ['BOARD_SCREENSHOT']}")
        log("PASS")
    except Fail as e:
        report = [f"FAIL: {e}"]
        for p in pages:
            report.append(f"--- {p.name}: page text ---\n{p.text()[:4000]}")
        if chrome.exceptions:
            report.append("--- page exceptions ---\n" + "\n".join(f"{s}: {t}" for s, t in chrome.exceptions))
        if chrome.console:
            report.append("--- console / log errors ---\n" + "\n".join(f"{s} {l}: {t}" for s, l, t in chrome.console))
        report.append(ld.log_tail())
        report.append(chrome.stderr_tail())
        print("\n".join(report), file=sys.stderr, flush=True)
        return 1
    finally:
        chrome.stop()
        ld.stop()
        if not os.environ.get("BOARD_KEEP"):
            shutil.rmtree(ld.dir, ignore_errors=True)
            shutil.rmtree(chrome.profile, ignore_errors=True)
    return 0


def demo_screenshot(binary, path):
    """The board on the demo network (the default first start): for looking at it."""
    ld = Ledgerd(binary, demo=True)
    chrome = Chrome()
    try:
        log("starting ledgerd with the demo network (this takes a while)")
        ld.start(timeout=180)
        log(f"ledgerd on {ld.base}")
        chrome.start()
        page = Page(chrome, chrome.open(f"{ld.base}/board#token={ld.admin}"), "demo tab")
        page.wait("the board is live", lambda s: page_totals(s) is not None and s["status"] == "live", 60)
        # Some live activity for the picture: orders, two of them under the SKU's floor (price alerts).
        for i, price in enumerate((100, 150000, 120, 200000)):
            body = {"id": f"O-SHOT-{i}", "type": "spot", "buyer": f"dealer:D-000{i + 1}", "seller": "hq",
                    "channel": "regional_storefront" if i % 2 else "o2o",
                    "ship_to": {"region": "R01", "lat": 30.6, "lon": 104.0},
                    "lines": [{"sku": f"SKU-00{i + 1}", "qty": 12, "unit_price_cents": price}],
                    "promised_by_us": now_us() + 3 * DAY_US}
            status, _, reply = ld.request("POST", "/v1/orders", body, ld.admin)
            log(f"demo order O-SHOT-{i}: {status} {reply.get('status') if isinstance(reply, dict) else reply}")
        time.sleep(2)
        snap = page.snapshot()
        day = int(snap["from_us"])
        api, _ = ld.sales_totals(day)
        log(f"page {page_totals(snap)} api {api}, seq {snap['seq']}, alerts shown {snap['alerts']}")
        chrome.screenshot(page.session, path, width=int(os.environ.get("BOARD_WIDTH", "1400")))
        log(f"screenshot in {path}")
        for s, t in chrome.exceptions:
            log(f"exception: {t}")
        for s, l, t in chrome.console:
            log(f"console {l}: {t}")
        return 0
    except Fail as e:
        print(f"FAIL: {e}\n{ld.log_tail()}", file=sys.stderr)
        return 1
    finally:
        chrome.stop()
        ld.stop()
        if not os.environ.get("BOARD_KEEP"):
            shutil.rmtree(ld.dir, ignore_errors=True)
            shutil.rmtree(chrome.profile, ignore_errors=True)


def main(argv):
    # ctest's timeout and Ctrl-C: unwind so the finally blocks stop chromium and ledgerd.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if len(argv) == 2:
        return run_test(argv[1])
    if len(argv) == 4 and argv[2] == "--demo-screenshot":
        return demo_screenshot(argv[1], argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
