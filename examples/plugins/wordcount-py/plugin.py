#!/usr/bin/env python3
"""wordcount 1.0.0: a wfreload plugin without Node, to show the protocol is language-neutral."""
import json
import os
import sys

MANIFEST = {
    "name": "wordcount",
    "version": "1.0.0",
    "protocolVersion": 1,
    "contract": {"steps": [{"type": "count"}]},
}

if os.environ.get("WFRELOAD_PLUGIN_MAGIC_COOKIE") != "f3c1a4b0-wfreload-plugin-protocol-1":
    print("This is a wfreload plugin (wordcount 1.0.0); start it with `wfctl plugin try-activate wordcount <dir>` or a host program, not by hand.", file=sys.stderr)
    sys.exit(1)


def handle(method, params):
    if method == "initialize":
        return MANIFEST
    if method == "health":
        return {"status": "ok"}
    if method == "invoke":
        if params.get("step") != "count":
            raise ValueError("unknown step %r" % params.get("step"))
        text = str((params.get("input") or {}).get("text", ""))
        return {"output": {"words": len(text.split()), "chars": len(text)}}
    if method == "shutdown":
        return {}
    raise ValueError("unknown method %r" % method)


print("wordcount 1.0.0 ready", file=sys.stderr, flush=True)
# Reading until EOF means the plugin exits when the host closes stdin or dies.
for line in sys.stdin:
    request = json.loads(line)
    reply = {"jsonrpc": "2.0", "id": request.get("id")}
    try:
        reply["result"] = handle(request.get("method"), request.get("params") or {})
    except Exception as error:  # every failure becomes a JSON-RPC error reply
        reply["error"] = {"code": -32603, "message": str(error)}
    sys.stdout.write(json.dumps(reply) + "\n")
    sys.stdout.flush()
    if request.get("method") == "shutdown":
        break
