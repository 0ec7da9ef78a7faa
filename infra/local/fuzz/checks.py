"""Schemathesis checks of our own, loaded by infra/local/fuzz/schemathesis.toml (`hooks`).

no_internals: no response body may name a Go type or package of ours, a source file or path, a
stack trace, or an AWS / moto / Stripe error. Text the request itself sent (an unknown field name
echoed in "unknown field ...") is not held against the server.
"""

import json
import os
import re

import schemathesis

# Go packages of this module (the fuzz test passes the list; a default keeps the check useful alone).
_PACKAGES = [p for p in os.environ.get("FUZZ_GO_PACKAGES", "").split(",") if p] or [
    "apperr", "audit", "auth", "billing", "httpapi", "manifest", "payments", "platform", "registry",
    "store", "webhook", "main",
]

LEAKS = [
    # A Go type or identifier of ours: payments.CreateRefundRequest, billing.checkoutRequest, *store.Item
    ("a Go identifier of ours", re.compile(r"\b(?:%s)\.[A-Za-z_][A-Za-z0-9_]*" % "|".join(map(re.escape, _PACKAGES)))),
    # Go type syntax and the standard library's decoding errors.
    ("a Go type", re.compile(r"\b(?:u?int(?:8|16|32|64)|float(?:32|64))\b|\bmap\[\w+\]|\[\]\w+|\bstruct ?\{|\bGo (?:type|value|struct)")),
    ("a Go decoding error", re.compile(r"\bjson: |\bjsontext: |cannot unmarshal|reflect\.|strconv\.")),
    # Source files, paths and stack traces.
    ("a source file", re.compile(r"[A-Za-z0-9_]\.go(?::\d+)?\b")),
    ("a file system path", re.compile(r"(?:^|[\s\"'(=])/(?:home|root|usr|tmp|work|var|opt|Users|private|go)/")),
    ("a stack trace", re.compile(r"goroutine \d+|\bpanic\b|runtime error|\bTraceback\b")),
    # AWS SDK, DynamoDB, moto, Stripe internals and secrets.
    ("an AWS error", re.compile(r"arn:aws:|amazonaws\.com|operation error|api error|https response error|RequestID:|StatusCode:|"
                                r"Exception\b|ConditionalCheckFailed|ValidationException|ResourceNotFound|ProvisionedThroughput|"
                                r"\bdynamodb\b|\bDynamoDB\b|\bboto|\bmoto\b|smithy", re.IGNORECASE)),
    ("a Stripe internal", re.compile(r"\bsk_(?:test|live)_|\bwhsec_|\bstripe-mock\b|127\.0\.0\.1:\d+/v1/")),
]


def _request_text(case) -> str:
    parts = [case.path or ""]
    for value in (case.path_parameters, case.query, case.headers, case.cookies):
        if value:
            parts.append(json.dumps(value, default=str, ensure_ascii=False))
    if case.body is not None:
        try:
            parts.append(json.dumps(case.body, default=str, ensure_ascii=False))
        except (TypeError, ValueError):
            parts.append(str(case.body))
    return "\n".join(parts)


# The error shape's requestId is random base64 made by the gateway: it can spell anything ("+boTOA==")
# and names nothing of the server's, so its value is not searched.
_REQUEST_ID = re.compile(r'"requestId"\s*:\s*"[A-Za-z0-9+/=_-]*"')


@schemathesis.check
def no_internals(ctx, response, case):
    """Fail when a response body shows what only the server should know."""
    body = _REQUEST_ID.sub('"requestId":""', response.text or "")
    if not body:
        return None
    sent = None
    for what, pattern in LEAKS:
        for match in pattern.finditer(body):
            text = match.group(0)
            if sent is None:
                sent = _request_text(case)
            if text in sent:
                continue  # the request's own words, echoed back
            raise AssertionError(f"The response body names {what}: {text!r}\n\n{body[:500]}")
    return None
