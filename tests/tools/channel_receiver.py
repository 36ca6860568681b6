#!/usr/bin/env python3
"""channel_receiver - local Slack and PagerDuty endpoints for txw-notifier

webhook_receiver.py's receiver (the same records, the same failures on
purpose: --fail-first, --fail-mode, --status), which first checks each body
against what the real service requires and answers 400 (recorded as "400",
the problems on stderr) when it falls short:
  --format slack      an incoming-webhook message: "text", and "blocks" of
                      known types within Block Kit's limits (header: a
                      plain_text of at most 150 characters; section: text or
                      at most 10 fields of at most 2000; context: at most 10
                      elements of at most 2000);
  --format pagerduty  an Events API v2 event: a 32-character routing_key,
                      event_action trigger/acknowledge/resolve, a dedup_key
                      of at most 255, and for a trigger a payload with a
                      summary of 1 to 1024 characters, a source, a severity
                      of critical/error/warning/info and an ISO 8601
                      timestamp.
check_slack and check_pagerduty return the list of problems, so the tests
can call them directly. Usage:
  channel_receiver.py --format slack --port 19081 --out slack.jsonl [--fail-first 2]
"""
import io
import json
import sys
from datetime import datetime

import receiver
import webhook_receiver as wr

TEXT_TYPES = ("plain_text", "mrkdwn")
BLOCK_TYPES = ("header", "section", "context", "divider", "actions", "image", "input",
               "rich_text", "file", "video")


def text_problems(where, obj, limit, types=TEXT_TYPES):
    if not isinstance(obj, dict) or obj.get("type") not in types:
        return [f"{where}: not a text object of type {'/'.join(types)}"]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [f"{where}: text missing or empty"]
    if len(text) > limit:
        return [f"{where}: {len(text)} characters, Slack allows {limit}"]
    return []


def check_slack(body):
    if not isinstance(body, dict):
        return ["not a JSON object"]
    problems = []
    if not isinstance(body.get("text"), str) or not body["text"]:
        problems.append("text (the notification fallback) missing")
    blocks = body.get("blocks")
    if not isinstance(blocks, list) or not 1 <= len(blocks) <= 50:
        return problems + ["blocks must be an array of 1 to 50 blocks"]
    for i, block in enumerate(blocks):
        kind = block.get("type") if isinstance(block, dict) else None
        where = f"blocks[{i}]"
        if kind not in BLOCK_TYPES:
            problems.append(f"{where}: unknown block type {kind!r}")
        elif kind == "header":
            problems += text_problems(where + ".text", block.get("text"), 150, ("plain_text",))
        elif kind == "section":
            if "text" not in block and "fields" not in block:
                problems.append(f"{where}: a section needs text or fields")
            if "text" in block:
                problems += text_problems(where + ".text", block["text"], 3000)
            fields = block.get("fields", [])
            if not isinstance(fields, list) or len(fields) > 10:
                problems.append(f"{where}.fields: at most 10")
            else:
                for j, field in enumerate(fields):
                    problems += text_problems(f"{where}.fields[{j}]", field, 2000)
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
                problems.append(f"{where}.elements: 1 to 10")
            else:
                for j, element in enumerate(elements):
                    problems += text_problems(f"{where}.elements[{j}]", element, 2000)
    return problems


def check_pagerduty(body):
    if not isinstance(body, dict):
        return ["not a JSON object"]
    problems = []
    key = body.get("routing_key")
    if not isinstance(key, str) or len(key) != 32:
        problems.append("routing_key must be the 32-character integration key")
    action = body.get("event_action")
    if action not in ("trigger", "acknowledge", "resolve"):
        problems.append(f"event_action {action!r} is not trigger, acknowledge or resolve")
    dedup = body.get("dedup_key")
    if not isinstance(dedup, str) or not 1 <= len(dedup) <= 255:
        problems.append("dedup_key must be 1 to 255 characters")
    if action != "trigger":
        return problems
    payload = body.get("payload")
    if not isinstance(payload, dict):
        return problems + ["a trigger needs a payload"]
    summary = payload.get("summary")
    if not isinstance(summary, str) or not 1 <= len(summary) <= 1024:
        problems.append("payload.summary must be 1 to 1024 characters")
    if not isinstance(payload.get("source"), str) or not payload["source"]:
        problems.append("payload.source missing")
    if payload.get("severity") not in ("critical", "error", "warning", "info"):
        problems.append(f"payload.severity {payload.get('severity')!r} is not one of the four")
    if "timestamp" in payload:
        try:
            datetime.fromisoformat(payload["timestamp"].replace("Z", "+00:00"))
        except (AttributeError, ValueError):
            problems.append("payload.timestamp is not ISO 8601")
    if "custom_details" in payload and not isinstance(payload["custom_details"], dict):
        problems.append("payload.custom_details must be an object")
    return problems


CHECKS = {"slack": check_slack, "pagerduty": check_pagerduty}
FORMAT = None


class Handler(wr.Handler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            problems = CHECKS[FORMAT](json.loads(raw))
        except ValueError:
            problems = ["the body is not JSON"]
        if problems:
            print(f"400: {'; '.join(problems)}", file=sys.stderr, flush=True)
            wr.record("400", self.headers, raw, None)
            self.answer(400)
            return
        # The body checked, the webhook receiver answers as it would; it reads
        # the body again from a copy, and the connection goes on after it.
        connection, self.rfile = self.rfile, io.BytesIO(raw)
        try:
            super().do_POST()
        finally:
            self.rfile = connection


def main():
    global FORMAT
    p = receiver.parser("checks Slack or PagerDuty bodies, records them")
    p.add_argument("--format", required=True, choices=sorted(CHECKS))
    wr.add_failure_options(p)
    args = p.parse_args()
    FORMAT = args.format
    wr.configure(args)
    receiver.serve(receiver.HTTPServer, Handler, args.port)


if __name__ == "__main__":
    main()
