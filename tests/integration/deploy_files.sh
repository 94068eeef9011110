#!/usr/bin/env bash
# The files in deploy/ are valid: the systemd unit passes `systemd-analyze verify` (ExecStart
# pointed at the built binary), the alert rules pass `promtool check rules` and their unit
# tests, the Grafana dashboard is JSON whose queries name only metrics the daemon exports or
# Prometheus itself has, and deploy/logguard.yaml passes `logguardd --check-config`.
# Tools that are not installed are skipped one by one; exit 77 only if none could run.
source "$(dirname "$0")/lib.sh"
ran=0

if command -v systemd-analyze >/dev/null && [[ -x "$BIN/logguardd" ]]; then
  mkdir -p "$WORK/unit"
  sed "s#/usr/local/bin/logguardd#$BIN/logguardd#g" "$ROOT/deploy/logguardd.service" >"$WORK/unit/logguardd.service"
  out=$(systemd-analyze verify "$WORK/unit/logguardd.service" 2>&1) || fail "systemd-analyze verify: $out"
  [[ -z "$out" ]] || fail "systemd-analyze verify warnings: $out"
  log "systemd-analyze verify: clean"; ran=1
else
  log "skipped: systemd-analyze or logguardd missing"
fi

if command -v promtool >/dev/null; then
  promtool check rules "$ROOT/deploy/prometheus/logguard-rules.yml" >&2 || fail "promtool check rules"
  promtool test rules "$ROOT/deploy/prometheus/logguard-rules.test.yml" >&2 || fail "promtool test rules"
  ran=1
else
  log "skipped: promtool (Debian package prometheus)"
fi

# Metric names the rules and the dashboard may use: everything the daemon source registers.
grep -rhoE '"logguard_[a-z0-9_]+"' "$ROOT"/daemon/*/src | tr -d '"' | sort -u >"$WORK/known.txt"
python3 - "$ROOT/deploy/grafana/logguard.json" "$ROOT/deploy/prometheus/logguard-rules.yml" "$WORK/known.txt" <<'PY' || fail "dashboard / rules name unknown metrics"
import json, re, sys
dash = json.load(open(sys.argv[1]))
known = set(open(sys.argv[3]).read().split())
def exprs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("expr", "query") and isinstance(v, str):
                yield v
            else:
                yield from exprs(v)
    elif isinstance(node, list):
        for v in node:
            yield from exprs(v)
texts = list(exprs(dash)) + [l for l in open(sys.argv[2]) if not l.lstrip().startswith("#")]
bad = set()
for t in texts:
    for name in re.findall(r"\blogguard_[a-z0-9_]+", t):
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        if name not in known and base not in known:
            bad.add(name)
if bad:
    print("unknown metrics:", ", ".join(sorted(bad)), file=sys.stderr)
    sys.exit(1)
panels = [p for p in dash["panels"] if p.get("type") != "row"]
print(f"dashboard: {len(panels)} panels, {len(list(exprs(dash)))} queries, all metric names known", file=sys.stderr)
PY
ran=1

if [[ -x "$BIN/logguardd" && -x "$BIN/logguard" ]]; then
  # --check-config also loads the bundle: point model.bundle at a freshly trained one.
  make_bundle
  sed "s#bundle: /var/lib/logguard/models/current#bundle: $BUNDLE#" "$ROOT/deploy/logguard.yaml" >"$WORK/logguard.yaml"
  "$BIN/logguardd" --check-config "$WORK/logguard.yaml" >&2 || fail "logguardd --check-config deploy/logguard.yaml"
  log "logguardd --check-config deploy/logguard.yaml: ok"
  ran=1
fi
((ran)) || skip "no tool available"
log "PASS"
