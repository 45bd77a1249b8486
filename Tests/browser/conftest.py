"""Browser tests of the Signoff web app, as a person on a phone would use it.

One `signoff serve --demo` runs for the whole session, on a free loopback port with its own
data folder (a private PostgreSQL cluster). Playwright drives Debian's chromium in a phone-sized
context (390x844, zh-CN, Asia/Shanghai). Test set-up that is not what the test is about
(filing passes, creating a second signer) goes through the JSON API.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "browser-" + uuid.uuid4().hex[:10]
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("SIGNOFF_CHROMIUM", "/usr/bin/chromium")

PHONE = dict(
    viewport={"width": 390, "height": 844},
    device_scale_factor=3,
    is_mobile=True,
    has_touch=True,
    locale="zh-CN",
    timezone_id="Asia/Shanghai",
)


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def binary():
    return _binary()


def _binary():
    explicit = os.environ.get("SIGNOFF_BIN")
    if explicit:
        return explicit
    path = subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout.strip()
    return os.path.join(path, "signoff")


class Server:
    def __init__(self, base, data_dir=None):
        self.base = base
        # The service's data folder (its signing key), for `signoff keys sample`.
        self.data_dir = data_dir

    def url(self, path):
        return self.base + path

    def call(self, method, path, body=None, token=None, headers=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", "Bearer " + token)
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                text = response.read().decode()
                return response.status, (json.loads(text) if text else None)
        except urllib.error.HTTPError as error:
            text = error.read().decode()
            return error.code, (json.loads(text) if text.startswith("{") else text)

    def token(self, login):
        status, body = self.call("POST", "/auth/login", {"login": login, "password": PASSWORD})
        assert status == 200, body
        return body["token"]

    def ready_passes(self, grid_worker, count):
        """Files `count` travel passes for parked, cleared vehicles of the grid worker's grid."""
        token = self.token(grid_worker)
        status, keys = self.call("GET", "/keys", token=token)
        assert status == 200, keys
        filed = []
        for key in keys["keys"]:
            if len(filed) == count:
                break
            status, body = self.call("POST", "/passes", {"vehicle_id": key["vehicle_id"]}, token=token,
                                     headers={"Idempotency-Key": str(uuid.uuid4())})
            if status == 201:
                filed.append({"id": body["id"], "plate": body["plate"], "vehicle_id": key["vehicle_id"]})
        assert len(filed) == count, f"only {len(filed)} vehicles of {grid_worker} could apply"
        return filed

    def pass_state(self, pass_id, login="admin"):
        status, body = self.call("GET", f"/passes/{pass_id}", token=self.token(login))
        assert status == 200, body
        return body

    def audit(self, subject_id, login="admin"):
        status, body = self.call("GET", f"/audit?subject={subject_id}", token=self.token(login))
        assert status == 200, body
        return body


@pytest.fixture(scope="session")
def server():
    port = _free_port()
    data = tempfile.mkdtemp(prefix="signoff-browser-")
    os.chmod(data, 0o755)
    log = open(os.path.join(data, "serve.log"), "w")
    process = subprocess.Popen(
        [_binary(), "serve", "--demo", "--port", str(port), "--data-dir", os.path.join(data, "cluster"),
         "--demo-password", PASSWORD],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while True:
        if process.poll() is not None:
            log.flush()
            raise RuntimeError("signoff serve exited:\n" + open(os.path.join(data, "serve.log")).read()[-4000:])
        try:
            with urllib.request.urlopen(base + "/ready", timeout=2) as response:
                if response.status == 200:
                    break
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("signoff serve did not become ready")
        time.sleep(0.5)
    try:
        yield Server(base, data_dir=os.path.join(data, "cluster"))
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM}


@pytest.fixture
def phone(browser, server):
    """Opens phone-sized browser contexts; `phone("gw01")` is one signed in as gw01."""
    contexts = []

    def open_phone(login=None):
        context = browser.new_context(**PHONE)
        contexts.append(context)
        page = context.new_page()
        if login:
            sign_in(page, server, login)
        return page

    yield open_phone
    for context in contexts:
        context.close()


def sign_in(page, server, login, password=PASSWORD):
    page.goto(server.url("/app/login"))
    page.get_by_label("账号或手机号").fill(login)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/app/login" not in url)


def screenshot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)
