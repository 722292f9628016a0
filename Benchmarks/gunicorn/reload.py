"""gunicorn's HUP reload of N sync workers, measured as CorralBench's `reload` scenario does:
one client on loopback sending HTTP/1.0 requests one after another from before the reload to
after it; the reload timed from the HUP until every old worker has exited and N new ones run.

    pip install gunicorn; python3 Benchmarks/gunicorn/reload.py [WORKERS] [RUNS]

Prints one JSON line like CorralBench's."""
import json, os, signal, socket, statistics, subprocess, sys, threading, time

WORKERS = int(sys.argv[1]) if len(sys.argv) > 1 else 64
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def get(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            return s.recv(64).startswith(b"HTTP/1.")
    except OSError:
        return False


def children(pid):
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid and fields[0] != "Z":
                    found.append(int(name))
            except (OSError, IndexError, ValueError):
                pass
    return set(found)


def one_run():
    port = free_port()
    master = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(WORKERS), "-b", f"127.0.0.1:{port}", "--chdir", HERE,
         "--log-level", "warning", "app:app"])
    try:
        deadline = time.monotonic() + 60
        while len(children(master.pid)) < WORKERS or not get(port):
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.05)
        old = children(master.pid)
        counts = {"ok": 0, "failed": 0}
        stop = threading.Event()

        def load():
            while not stop.is_set():
                counts["ok" if get(port) else "failed"] += 1

        thread = threading.Thread(target=load)
        thread.start()
        time.sleep(0.2)
        began = time.monotonic()
        master.send_signal(signal.SIGHUP)
        while True:
            now = children(master.pid)
            if not (now & old) and len(now) >= WORKERS:
                break
            if time.monotonic() - began > 120:
                raise RuntimeError("the reload did not finish")
            time.sleep(0.002)
        took = (time.monotonic() - began) * 1000
        stop.set()
        thread.join()
        return took, counts
    finally:
        master.send_signal(signal.SIGTERM)
        master.wait(timeout=60)


durations, requests, failed = [], 0, 0
for _ in range(RUNS):
    took, counts = one_run()
    durations.append(took)
    requests += counts["ok"] + counts["failed"]
    failed += counts["failed"]
print(json.dumps({
    "scenario": "reload-gunicorn", "workers": WORKERS, "runs": RUNS,
    "reload_ms": {"median": round(statistics.median(durations), 3), "min": round(min(durations), 3),
                  "max": round(max(durations), 3)},
    "requests": requests, "failed_requests": failed,
    "method": "gunicorn sync workers on one socket; HUP; timed until no old worker is left and "
              f"{WORKERS} run; one client sending requests throughout",
}, sort_keys=True))
