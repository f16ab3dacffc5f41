#!/usr/bin/env bash
# Seeds each fuzz target's corpus from the shared vectors and models (../../shared beside the checkout).
set -euo pipefail
cd "$(dirname "$0")"
SHARED=${SHARED:-../../shared}
python3 - "$SHARED" <<'PY'
import json, os, sys, hashlib
shared = sys.argv[1]
def put(target, data):
    d = os.path.join("corpus", target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)
messages = json.load(open(os.path.join(shared, "vectors/messages.json")))
for m in messages:
    body = m["json"].encode()
    put("decode_down", body)
    put("json_value", body)
    topic = m["topic_template"].replace("{ProductId}", "CS0SLTKSYA").replace("{DeviceName}", "dev1")
    put("topic_parse", topic.encode())
for name in ("env-monitor.json", "all-types.json"):
    text = open(os.path.join(shared, "models", name), "rb").read()
    put("model_parse", text)
    put("json_value", text)
PY
echo "seeded: $(ls corpus | tr '\n' ' ')"
