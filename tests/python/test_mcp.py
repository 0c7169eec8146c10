"""The embedding tools over the Model Context Protocol, driven by the
official MCP Python SDK as the client: `arrowembed mcp` over stdio and
`arrowembed serve`'s /mcp over Streamable HTTP. Every tool is called and
its results checked against the tiny models' transformers references;
every error path answers as the protocol says. Also GET /tools."""
from __future__ import annotations

import asyncio
import json
import subprocess

import numpy as np
import pytest
from mcp import Client, StdioServerParameters
from mcp.shared.exceptions import MCPError

from server_util import request
from test_multi_model import CLS, MEAN, REFS, assert_rows, serve  # noqa: F401  (serve is a fixture)

TIMEOUT_S = 60
TEXTS = REFS[CLS].texts[:4]


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, TIMEOUT_S))


def stdio_params(cli, *extra) -> StdioServerParameters:
    return StdioServerParameters(command=str(cli), args=["mcp", "--model", f"cls={CLS}", "--model", f"mean={MEAN}", *extra])


async def exercise(client: Client) -> dict:
    """Lists the tools and calls each, returning what came back."""
    out = {"tools": (await client.list_tools()).tools}
    out["embed_mean"] = await client.call_tool("embed", {"texts": TEXTS, "model": "mean"})
    out["embed_default"] = await client.call_tool("embed", {"texts": TEXTS[:2]})
    out["similarity"] = await client.call_tool("similarity", {"text": TEXTS[0], "candidates": TEXTS})
    out["bad_type"] = await client.call_tool("embed", {"texts": ["a", 3]})
    out["missing"] = await client.call_tool("similarity", {"text": "a"})
    out["unknown_arg"] = await client.call_tool("embed", {"texts": ["a"], "colour": "red"})
    out["unknown_model"] = await client.call_tool("embed", {"texts": ["a"], "model": "nope"})
    out["too_long"] = await client.call_tool("embed", {"texts": ["a", "unbelievable " * 60]})
    try:
        await client.call_tool("nope", {})
        out["unknown_tool"] = None
    except MCPError as e:
        out["unknown_tool"] = e
    out["protocol"] = client.protocol_version
    out["server"] = client.server_info
    return out


def check(out: dict):
    tools = {t.name: t for t in out["tools"]}
    assert set(tools) == {"embed", "similarity"}  # no collections: no search
    assert tools["embed"].input_schema["required"] == ["texts"]
    assert "similar" in tools["similarity"].description
    assert out["protocol"] in ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")
    assert out["server"].name == "arrowembed"

    mean = out["embed_mean"]
    assert not mean.is_error
    assert mean.structured_content["model"] == "mean"
    assert_rows(mean.structured_content["embeddings"], REFS[MEAN], TEXTS, "embed on mean")
    assert json.loads(mean.content[0].text) == mean.structured_content  # the text block is the same JSON
    default = out["embed_default"].structured_content
    assert default["model"] == "cls"
    assert_rows(default["embeddings"], REFS[CLS], TEXTS[:2], "embed on the default model")

    scores = out["similarity"].structured_content["scores"]
    ref = REFS[CLS]
    want = [float(ref.vector(TEXTS[0]) @ ref.vector(t)) for t in TEXTS]
    assert [s["text"] for s in scores] == TEXTS
    assert np.allclose([s["score"] for s in scores], want, atol=1e-5)

    def error(name):
        r = out[name]
        assert r.is_error, name
        return r.structured_content
    assert error("bad_type")["field"] == "texts[1]"
    assert error("missing") == {"error": "'candidates' is required", "kind": "invalid_input", "field": "candidates"}
    assert error("unknown_arg")["field"] == "colour"
    assert "is not an argument of 'embed'" in error("unknown_arg")["error"]
    assert error("unknown_model")["kind"] == "model_not_found"
    assert "served: cls, mean" in error("unknown_model")["error"]
    assert error("too_long")["kind"] == "too_long" and error("too_long")["field"] == "texts[1]"
    assert isinstance(out["unknown_tool"], MCPError) and out["unknown_tool"].error.code == -32602


def test_stdio_with_the_official_client(cli):
    async def main():
        async with Client(stdio_params(cli)) as client:
            return await exercise(client)
    check(run(main()))


def test_stdio_legacy_handshake(cli):
    async def main():
        async with Client(stdio_params(cli), mode="legacy") as client:
            return await exercise(client)
    check(run(main()))


def test_streamable_http_with_the_official_client(serve):
    s = serve("--model", f"cls={CLS}", "--model", f"mean={MEAN}")

    async def main():
        async with Client(f"http://127.0.0.1:{s.port}/mcp") as client:
            return await exercise(client)
    check(run(main()))
    line = s.wait_for_log(lambda e: e.get("path") == "/mcp" and e.get("status") == 200)
    assert line["method"] == "POST"


def test_streamable_http_transport_rules(serve):
    s = serve("--model", f"cls={CLS}")
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    accept = {"Accept": "application/json, text/event-stream"}
    r = s.request("POST", "/mcp", init, accept)
    assert r.status == 200 and r.json()["result"]["protocolVersion"] == "2025-06-18"
    # Notifications: 202, no body.
    r = s.request("POST", "/mcp", {"jsonrpc": "2.0", "method": "notifications/initialized"}, accept)
    assert r.status == 202 and r.body == b""
    # No server-initiated stream: GET (and DELETE) are not offered.
    r = s.request("GET", "/mcp", None, accept)
    assert r.status == 405 and r.header("allow") == "POST"
    assert s.request("DELETE", "/mcp").status == 405
    # An unsupported protocol version header: 400.
    r = s.request("POST", "/mcp", {"jsonrpc": "2.0", "id": 2, "method": "ping"}, {**accept, "MCP-Protocol-Version": "1999-01-01"})
    assert r.status == 400
    # A browser origin that was not allowed: 403 (DNS rebinding).
    r = s.request("POST", "/mcp", {"jsonrpc": "2.0", "id": 3, "method": "ping"}, {**accept, "Origin": "http://evil.example"})
    assert r.status == 403
    # JSON-RPC errors travel in a 200 response.
    r = s.request("POST", "/mcp", b"not json", {**accept, "Content-Type": "application/json"})
    assert r.status == 200 and r.json()["error"]["code"] == -32700
    r = s.request("POST", "/mcp", {"jsonrpc": "2.0", "id": 4, "method": "resources/list"}, accept)
    assert r.json()["error"]["code"] == -32601


def test_mcp_over_http_needs_the_api_key(serve):
    s = serve("--model", f"cls={CLS}", "--api-key", "k3y")
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    assert s.request("POST", "/mcp", ping).status == 401
    r = s.request("POST", "/mcp", ping, {"Authorization": "Bearer k3y"})
    assert r.status == 200 and r.json()["result"] == {}
    assert s.request("GET", "/tools").status == 401


def test_tools_route_lists_openai_function_tools(serve):
    s = serve("--model", f"cls={CLS}")
    tools = s.get("/tools").json()
    assert [t["function"]["name"] for t in tools] == ["embed", "similarity"]
    assert all(t["type"] == "function" for t in tools)
    params = tools[0]["function"]["parameters"]
    assert params["type"] == "object" and params["required"] == ["texts"] and params["additionalProperties"] is False


def test_stdio_survives_garbage_and_ends_with_its_input(cli):
    lines = [
        "not json",
        json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2099-01-01"}}),
        json.dumps([{"jsonrpc": "2.0", "id": 2, "method": "ping"}, {"jsonrpc": "2.0", "id": 3, "method": "tools/list"}]),
        json.dumps({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "embed", "arguments": "x"}}),
        "\x00\xff garbage",
        json.dumps({"jsonrpc": "2.0", "id": 5, "method": "tools/call",
                    "params": {"name": "similarity", "arguments": {"text": "a", "candidates": ["a"]}}}),
    ]
    proc = subprocess.run([str(cli), "mcp", "-m", str(CLS)], input="\n".join(lines) + "\n", capture_output=True,
                          text=True, timeout=TIMEOUT_S, errors="replace")
    assert proc.returncode == 0, proc.stderr
    answers = [json.loads(line) for line in proc.stdout.splitlines()]
    assert answers[0]["error"]["code"] == -32700 and answers[0]["id"] is None
    assert answers[1]["result"]["protocolVersion"] == "2025-11-25"  # ours, for a version we do not speak
    assert [a["id"] for a in answers[2]] == [2, 3]
    assert answers[3]["error"]["code"] == -32602
    assert answers[4]["error"]["code"] == -32700
    assert answers[5]["result"]["structuredContent"]["scores"][0]["score"] == pytest.approx(1.0, abs=1e-5)
    assert len(answers) == 6


def test_mcp_command_errors(cli):
    proc = subprocess.run([str(cli), "mcp", "-m", "/nonexistent/model.arrow"], capture_output=True, text=True,
                          timeout=TIMEOUT_S, input="")
    assert proc.returncode != 0 and "error" in proc.stderr and "/nonexistent/model.arrow" in proc.stderr
