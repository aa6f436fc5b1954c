#!/usr/bin/env python3
"""Issue 13: offline checks of the cluster deployment files (no cluster, no
kubectl): deploy/k8s/*.yaml and deploy/cluster/compose.yaml parse as YAML
and hang together.

Kubernetes: every object has apiVersion, kind and metadata.name; there are a
NATS and an optoutd StatefulSet (3 replicas each) with a headless Service
named by serviceName, a PodDisruptionBudget and Services whose selectors
match the pods; selectors match the pod labels; named ports exist; every
volumeMount names a volume or volumeClaimTemplate; optoutd's readiness,
startup and liveness probes ask the gRPC health service on its gRPC port;
its --cluster_nats names every NATS pod on the headless Service's client
port, and --cluster_snapshot_from every optoutd pod on the admin port.
Compose: three NATS services routed to each other, three optoutd services
with the same --cluster_nats, distinct node names and published ports,
named volumes declared. Both: every optoutd flag given is one optoutd knows
(optoutd --helpfull).

  check_cluster_manifests.py SOURCE_DIR OPTOUTD
"""
import re
import subprocess
import sys
from pathlib import Path

import yaml

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
    return condition


def optoutd_flags(optoutd):
    out = subprocess.run([optoutd, "--helpfull"], capture_output=True, text=True)
    return set(re.findall(r"^\s*--([a-z_]+)", out.stdout + out.stderr, re.M))


def flags_of(args):
    return {m.group(1): m.group(2) for a in args if (m := re.match(r"--([a-z_]+)(?:=(.*))?$", a))}


def check_known(args, known, where):
    for name in flags_of(args):
        check(name in known, f"{where}: optoutd has no flag --{name}")


def labels_match(selector, labels):
    return all(labels.get(k) == v for k, v in selector.items())


def check_k8s(k8s_dir, known):
    objects = []
    for path in sorted(k8s_dir.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc is None:
                continue
            where = f"{path.name}: {doc.get('kind')} {doc.get('metadata', {}).get('name')}"
            check(doc.get("apiVersion") and doc.get("kind") and doc.get("metadata", {}).get("name"),
                  f"{where}: apiVersion, kind and metadata.name are required")
            objects.append((where, doc))
    by_kind = {}
    for where, doc in objects:
        by_kind.setdefault(doc["kind"], []).append((where, doc))
    sets = {d["metadata"]["name"]: (w, d) for w, d in by_kind.get("StatefulSet", [])}
    services = {d["metadata"]["name"]: (w, d) for w, d in by_kind.get("Service", [])}
    for name in ("nats", "optoutd"):
        if not check(name in sets, f"no StatefulSet {name}"):
            continue
        where, sts = sets[name]
        spec = sts["spec"]
        check(spec.get("replicas") == 3, f"{where}: 3 replicas expected")
        pod = spec["template"]
        labels = pod["metadata"].get("labels", {})
        check(labels_match(spec["selector"]["matchLabels"], labels),
              f"{where}: selector does not match the pod labels")
        headless = services.get(spec.get("serviceName"))
        if check(headless is not None, f"{where}: serviceName {spec.get('serviceName')} is no Service"):
            check(headless[1]["spec"].get("clusterIP") == "None",
                  f"{where}: serviceName must be a headless Service")
        volumes = {v["name"] for v in pod["spec"].get("volumes", [])}
        volumes |= {t["metadata"]["name"] for t in spec.get("volumeClaimTemplates", [])}
        containers = pod["spec"]["containers"] + pod["spec"].get("initContainers", [])
        for c in containers:
            check(c.get("image"), f"{where}: container {c.get('name')} has no image")
            for m in c.get("volumeMounts", []):
                check(m["name"] in volumes, f"{where}: volumeMount {m['name']} names no volume")
        pdbs = [d for _, d in by_kind.get("PodDisruptionBudget", [])
                if labels_match(d["spec"]["selector"]["matchLabels"], labels)]
        check(len(pdbs) == 1, f"{where}: one PodDisruptionBudget expected, found {len(pdbs)}")
        for p in pdbs:
            check(("minAvailable" in p["spec"]) != ("maxUnavailable" in p["spec"]),
                  f"{where}: its PodDisruptionBudget needs minAvailable or maxUnavailable")
        ports = {p["name"]: p["containerPort"] for c in pod["spec"]["containers"]
                 for p in c.get("ports", [])}
        for swhere, svc in services.values():
            if labels_match(svc["spec"].get("selector", {"-": "-"}), labels):
                for p in svc["spec"]["ports"]:
                    t = p.get("targetPort", p["port"])
                    check(t in ports or t in ports.values(), f"{swhere}: targetPort {t} not on the pods")
    if "optoutd" in sets and "nats" in sets:
        where, sts = sets["optoutd"]
        c = sts["spec"]["template"]["spec"]["containers"][0]
        args = c.get("command", []) + c.get("args", [])
        check_known(args[1:], known, where)
        ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
        for probe in ("readinessProbe", "startupProbe", "livenessProbe"):
            grpc = c.get(probe, {}).get("grpc")
            if check(grpc is not None, f"{where}: {probe} must ask the gRPC health service"):
                check(grpc["port"] in (ports.get("grpc"), "grpc"), f"{where}: {probe} not on the gRPC port")
        flags = flags_of(args)
        nats_headless = sets["nats"][1]["spec"]["serviceName"]
        want = {f"nats://nats-{i}.{nats_headless}:4222" for i in range(3)}
        check(set(flags.get("cluster_nats", "").split(",")) == want,
              f"{where}: --cluster_nats must name {sorted(want)}")
        headless = sts["spec"]["serviceName"]
        admin_port = ports.get("admin")
        check(flags.get("admin_listen") == f"0.0.0.0:{admin_port}", f"{where}: --admin_listen on the admin port")
        want = {f"optoutd-{i}.{headless}:{admin_port}" for i in range(3)}
        check(set(flags.get("cluster_snapshot_from", "").split(",")) == want,
              f"{where}: --cluster_snapshot_from must name {sorted(want)}")
        for f in ("admin_tls_cert_file", "admin_tls_key_file", "admin_tls_client_ca_file"):
            check(f in flags, f"{where}: the admin listener is off loopback: --{f} needed")
    return len(objects)


def check_compose(path, known):
    doc = yaml.safe_load(path.read_text())
    services = doc.get("services", {})
    nats = [n for n in services if n.startswith("nats-")]
    nodes = [n for n in services if n.startswith("optoutd-")]
    check(len(nats) == 3, f"{path.name}: 3 NATS services expected")
    check(len(nodes) == 3, f"{path.name}: 3 optoutd services expected")
    for n in nats:
        cmd = services[n]["command"]
        routes = cmd[cmd.index("--routes") + 1].split(",")
        check(sorted(routes) == sorted(f"nats://{o}:6222" for o in nats if o != n),
              f"{path.name}: {n} must route to the other NATS servers")
    names, published, cluster_nats = set(), set(), set()
    declared = set(doc.get("volumes", {}) or {})
    for n in nodes:
        s = services[n]
        args = s["entrypoint"][1:] + s.get("command", [])
        check_known(args, known, f"{path.name}: {n}")
        flags = flags_of(args)
        names.add(flags.get("node_name"))
        cluster_nats.add(flags.get("cluster_nats"))
        published.update(s.get("ports", []))
        peers = flags.get("cluster_snapshot_from", "").split(",")
        check(sorted(peers) == sorted(f"{o}:50052" for o in nodes if o != n),
              f"{path.name}: {n}: --cluster_snapshot_from must name the other nodes' admin port")
        for v in s.get("volumes", []):
            source = v.split(":")[0]
            check(source.startswith(".") or source in declared, f"{path.name}: volume {source} not declared")
    check(len(names) == 3 and None not in names, f"{path.name}: distinct --node_name per node")
    check(len(published) == 3, f"{path.name}: distinct published ports per node")
    check(cluster_nats == {",".join(f"nats://{n}:4222" for n in sorted(nats))},
          f"{path.name}: every node's --cluster_nats must name the three NATS servers")


def main():
    source, optoutd = Path(sys.argv[1]), sys.argv[2]
    known = optoutd_flags(optoutd)
    check(len(known) > 20, "optoutd --helpfull listed no flags")
    count = check_k8s(source / "deploy" / "k8s", known)
    check_compose(source / "deploy" / "cluster" / "compose.yaml", known)
    for f in failures:
        print("FAIL:", f)
    if failures:
        return 1
    print(f"deploy/k8s ({count} objects) and deploy/cluster/compose.yaml: consistent")
    return 0


if __name__ == "__main__":
    sys.exit(main())
