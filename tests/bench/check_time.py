#!/usr/bin/env python3
"""check_time: CPU time of `optout check --image FILE`, this build against a base client.

Issue 12's budget is "checking an image <= 3x today's client time", today
being the client before issue 12 (plain PDQ hash + its 8 dihedral variants).
This runs both clients as users run them, one process per copy, against one
real optoutd of this build on loopback (temp data dir), with the corpus's
originals registered, alternating the clients per file (and which goes first)
so that both see the same load and the same page cache.

  tests/bench/check_time.py --base BASE_OPTOUT --corpus PHOTOS \
      [--client NAME=OPTOUT ...] [--build build] [--every N] [--rounds R]

  BASE_OPTOUT  the base client's `optout` binary (e.g. built in a worktree
               at ec41fec^, the commit before issue 12's first)
  PHOTOS       a corpus laid out like tests/testdata/photos (edits.tsv,
               images/GROUP__FAMILY.jpg, images/GROUP__orig.jpg)
  --client     another client timed in the same command (e.g. main's
               build before a change), with its ratio to the base
  --every N    check every Nth copy of edits.tsv only (default 1: all)

CPU time is user + system of each child process from wait4() (all its
threads; exact to the microsecond, unlike /usr/bin/time's 10 ms). Printed
per copy, for each client: the whole process (start, gRPC channel, GetInfo,
file read, decode, hashing, Check); the fixed part, `optout check --sha256`
of the same client (start, channel, one Check), run beside each image; and
their difference, the image part (decode, hashing, the larger request).
Both ratios new/base are printed, with the load average before and after
and the copies each client matched (a check that the clients are the ones
meant: the base client matches far fewer edited copies).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time


def run(argv):
    """Runs argv; returns (exit code, stdout, CPU seconds, wall seconds)."""
    start = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)  # Popen must not wait again
    p.stdout.close()
    wall = time.monotonic() - start
    return p.returncode, out, usage.ru_utime + usage.ru_stime, wall


def matched(out):
    try:
        return bool(json.loads(out)["results"][0]["matched"])
    except (ValueError, KeyError, IndexError, TypeError):
        return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", required=True, help="the base client's optout binary")
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--build", default="build")
    ap.add_argument("--client", action="append", default=[], metavar="NAME=OPTOUT")
    ap.add_argument("--every", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=1)
    args = ap.parse_args()

    new = os.path.join(args.build, "client/optout")
    optoutd = os.path.join(args.build, "service/optoutd")
    clients = {"base": args.base}
    for c in args.client:
        name, _, path = c.partition("=")
        clients[name] = path
    clients["new"] = new
    for b in list(clients.values()) + [optoutd]:
        if not os.access(b, os.X_OK):
            sys.exit(f"check_time: missing {b}")
    copies, groups = [], set()
    with open(os.path.join(args.corpus, "edits.tsv")) as f:
        next(f)
        for line in f:
            name = line.split("\t")[0]
            if name:
                copies.append(os.path.join(args.corpus, name))
                groups.add(os.path.basename(name).split("__")[0])
    copies = copies[:: args.every]

    work = tempfile.mkdtemp(prefix="optout-check-time-")
    port_file = os.path.join(work, "port")
    server = subprocess.Popen(
        [optoutd, "--listen=127.0.0.1:0", f"--data_dir={work}/data",
         f"--secret_file={work}/secret", f"--port_file={port_file}",
         "--register_rate_per_peer=0", "--anonymous_items_per_minute=1000000000"],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "optoutd.log"), "w"))
    try:
        for _ in range(600):
            if os.path.exists(port_file) and os.path.getsize(port_file) > 0:
                break
            time.sleep(0.1)
        else:
            sys.exit("check_time: optoutd did not start")
        address = "127.0.0.1:" + open(port_file).read().strip()
        for g in sorted(groups):
            orig = os.path.join(args.corpus, "images", f"{g}__orig.jpg")
            rc, _, _, _ = run([new, "--server", address, "--json", "register", "--image", orig,
                               "--no-receipt"])
            if rc != 0:
                sys.exit(f"check_time: register {orig} failed ({rc})")

        cpu = {k: 0.0 for k in clients}
        fixed = {k: 0.0 for k in clients}
        wall = {k: 0.0 for k in clients}
        hits = {k: 0 for k in clients}
        failed = {k: 0 for k in clients}
        sha = "00" * 32
        load_before = os.getloadavg()
        n = 0
        for r in range(args.rounds):
            for i, path in enumerate(copies):
                names = list(clients)
                shift = (i + r) % len(names)
                order = names[shift:] + names[:shift]
                for k in order:
                    rc, out, c, w = run([clients[k], "--server", address, "--json", "check",
                                         "--image", path])
                    cpu[k] += c
                    wall[k] += w
                    hits[k] += matched(out)
                    failed[k] += rc != 0
                for k in reversed(order):
                    _, _, c, _ = run([clients[k], "--server", address, "--json", "check",
                                      "--sha256", sha])
                    fixed[k] += c
                n += 1
        load_after = os.getloadavg()
    finally:
        server.terminate()
        server.wait()
        subprocess.run(["rm", "-rf", work])

    ms = lambda total: 1000.0 * total / n
    print(f"check_time: {len(copies)} copies x {args.rounds} round(s), {len(groups)} originals "
          f"registered; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after")
    width = max(6, max(len(k) for k in clients))
    print(f"{'client':{width}} {'whole ms':>9} {'fixed ms':>9} {'image ms':>9} {'wall ms':>8} "
          f"{'matched':>8} {'errors':>6}")
    for k in clients:
        print(f"{k:{width}} {ms(cpu[k]):9.2f} {ms(fixed[k]):9.2f} {ms(cpu[k] - fixed[k]):9.2f} "
              f"{ms(wall[k]):8.1f} {hits[k] // args.rounds:5d}/{len(copies):<3d} "
              f"{failed[k]:5d}")
    for k in clients:
        if k == "base":
            continue
        print(f"ratio {k}/base (CPU per copy): whole process x{cpu[k] / cpu['base']:.2f}, "
              f"image part x{(cpu[k] - fixed[k]) / (cpu['base'] - fixed['base']):.2f} "
              f"(budget x3)")


if __name__ == "__main__":
    main()
