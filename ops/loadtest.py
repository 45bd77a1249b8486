#!/usr/bin/env python3
"""Load-test a running Signoff on this machine (loopback only), bounded in count and time.

Each worker thread takes one demo grid-worker account and moves it through the one
transition path (suspend, then reactivate, with version checks), while reading /me.
It prints throughput and latency percentiles.

    swift run signoff serve --demo          # in one terminal
    ops/loadtest.py --password <demo password> --threads 8 --requests 2000
"""
import argparse
import json
import statistics
import threading
import time
import urllib.error
import urllib.request


def call(base, method, path, token=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            payload = json.loads(response.read() or b"{}")
            status = response.status
    except urllib.error.HTTPError as error:
        payload = json.loads(error.read() or b"{}")
        status = error.code
    return status, payload, time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--password", required=True, help="the demo password printed by serve --demo")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--requests", type=int, default=2000, help="total transitions, at most")
    parser.add_argument("--seconds", type=float, default=60, help="stop after this long")
    args = parser.parse_args()
    if not args.url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        parser.error("only loopback addresses are load-tested")

    status, login, _ = call(args.url, "POST", "/auth/login", body={"login": "admin", "password": args.password})
    if status != 200:
        raise SystemExit(f"admin login failed: {status} {login}")
    admin = login["token"]
    status, listing, _ = call(args.url, "GET", "/users", token=admin)
    accounts = [u for u in listing["users"] if u["username"].startswith("gw")][: args.threads]

    latencies, failures, lock = [], {}, threading.Lock()
    budget = [args.requests]
    deadline = time.monotonic() + args.seconds

    def worker(account):
        version = account["version"]
        suspended = account["status"] == "suspended"
        while time.monotonic() < deadline:
            with lock:
                if budget[0] <= 0:
                    return
                budget[0] -= 1
            action = "reactivate" if suspended else "suspend"
            status, body, elapsed = call(args.url, "POST", f"/users/{account['id']}/{action}", token=admin,
                                         body={"reason": "load test", "version": version})
            with lock:
                latencies.append(elapsed)
                if status != 200:
                    failures[body.get("code", status)] = failures.get(body.get("code", status), 0) + 1
            if status == 200:
                version = body["version"]
                suspended = not suspended

    threads = [threading.Thread(target=worker, args=(a,)) for a in accounts]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if not latencies:
        raise SystemExit("no request completed")
    ordered = sorted(latencies)
    print(f"{len(latencies)} transitions in {elapsed:.2f}s with {len(threads)} threads: {len(latencies) / elapsed:.1f}/s")
    print(f"latency p50 {statistics.median(ordered) * 1000:.1f} ms, p95 {ordered[int(len(ordered) * 0.95) - 1] * 1000:.1f} ms, "
          f"max {ordered[-1] * 1000:.1f} ms")
    print(f"failures: {failures or 'none'}")


if __name__ == "__main__":
    main()
