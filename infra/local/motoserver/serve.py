"""moto server for the local stack, with DynamoDB requests served one at a time.

Started by infra/local/services instead of the `moto_server` script, with the virtualenv's python:

    .tools/venv/bin/python3 infra/local/motoserver/serve.py -H 127.0.0.1 -p 5055

It builds moto's WSGI application exactly as `moto_server` does (moto/server.py) and changes two
things (and adds a third), pinned to the moto version in infra/local/requirements.txt (docs/decisions/0020):

1. SerializeDynamoDB: one lock around every DynamoDB request (X-Amz-Target "DynamoDB_…" or
   "DynamoDBStreams_…"). moto's DynamoDB backend is not thread-safe (a TransactWriteItems deep-copies
   tables while other threads write them; a conditional put checks, then writes, without a lock).
   Requests of one at a time give the per-item serializability that DynamoDB's condition expressions
   and transactions have in AWS. SQS long polls, S3, SES and Scheduler stay concurrent.

2. install_transaction_patch: moto 5.2.5's transact_write_items deep-copies every table a
   transaction touches (once per action) so it can roll back, which makes a transaction's cost grow
   with the table. The patched version snapshots only the items the transaction touches and
   restores exactly those on rollback. test_serve.py fails if moto's original changes.

3. SerializeDynamoDB also answers a TransactWriteItems retry by its ClientRequestToken, as DynamoDB
   does for 10 minutes (moto ignores the token): a retry of a transaction that committed gets that
   success again instead of failing its own conditions.

LIBERATION_MOTO_TX_PATCH=off leaves moto's own transact_write_items in place (to measure the
difference; see docs/performance.md). Requests are serialized either way.
"""

import argparse
import copy
import hashlib
import inspect
import io
import json
import os
import signal
import sys
import threading
import time
from typing import Any

import moto

# The patch below copies moto internals; a different moto must be looked at again, not trusted.
MOTO_VERSION = "5.2.5"
if moto.__version__ != MOTO_VERSION:
    raise SystemExit(
        f"infra/local/motoserver/serve.py is written for moto {MOTO_VERSION}, found {moto.__version__}: "
        "check the patched internals (test_serve.py) and update MOTO_VERSION with requirements.txt"
    )

from moto.dynamodb.exceptions import (  # noqa: E402
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend  # noqa: E402
from moto.dynamodb.models.table import Table  # noqa: E402
from moto.dynamodb.comparisons import get_filter_expression  # noqa: E402

# X-Amz-Target prefixes of DynamoDB's JSON API (DynamoDB_20120810.PutItem, …) and of its streams.
DYNAMODB_TARGETS = ("DynamoDB_", "DynamoDBStreams_")

# sha256 of inspect.getsource(...) in moto 5.2.5 of what the patch replaces or relies on:
# transact_write_items is copied by patched_transact_write_items (same steps, other rollback);
# get_keys_value, and Table's get_item/put_item/delete_item define where an item lives
# (table.items[hash] or table.items[hash][range]), which _Snapshots.restore writes back into. If one
# changes, the copy must be compared with the new code before these fingerprints are updated.
FINGERPRINTS = {
    "DynamoDBBackend.transact_write_items": "81db2cb7d94e39c90b3a2077e1f4bb41a449c558ef9b1b1e2910fdaa39978ad4",
    "DynamoDBBackend.get_keys_value": "1f948797496ddc2cd4e4752e29e470d19ce757ca3406e07fed6bd90b331c1caa",
    "Table.get_item": "b08e98fe37b7e5836afe03b010d637ef50df5dea6cbecd9cf8816eef326a21cd",
    "Table.put_item": "de23933013ef842639046c19bcf7e418bce0474d810f6719368be4cedce11d47",
    "Table.delete_item": "1594f7b07616c8cb8cdf0fbf58d6f54eeac83f25d7ac7b14e832a08e10efd8f9",
}

_original_transact_write_items = DynamoDBBackend.transact_write_items


def source_sha256(fn: Any) -> str:
    return hashlib.sha256(inspect.getsource(fn).encode()).hexdigest()


# How long DynamoDB remembers a TransactWriteItems ClientRequestToken (its documented 10 minutes).
CLIENT_TOKEN_TTL = 600.0
TRANSACT_WRITE_TARGET = "DynamoDB_20120810.TransactWriteItems"


class SerializeDynamoDB:
    """WSGI middleware: DynamoDB requests run one at a time, everything else passes through.

    It also gives TransactWriteItems the idempotency DynamoDB gives it and moto 5.2.5 does not: the
    AWS SDKs fill in a ClientRequestToken and resend it on a retry, and a retry of a transaction
    whose first attempt committed (the answer lost to a reset connection under load) must answer
    that success again, not run the transaction a second time and fail its own conditions. A token
    seen with another request body is refused with IdempotentParameterMismatchException, as in AWS.
    """

    def __init__(self, app: Any, clock: Any = time.monotonic):
        self.app = app
        self.lock = threading.Lock()
        self.clock = clock
        # token -> (expires, sha256 of the request body, status, headers, body) of a success
        self.tokens: dict[str, tuple[float, str, str, list[tuple[str, str]], bytes]] = {}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith(DYNAMODB_TARGETS):
            return self.app(environ, start_response)
        token, digest = None, ""
        if target == TRANSACT_WRITE_TARGET:
            token, digest = self._token(environ)
        with self.lock:
            now = self.clock()
            if token is not None:
                self.tokens = {t: v for t, v in self.tokens.items() if v[0] > now}
                seen = self.tokens.get(token)
                if seen is not None:
                    if seen[1] != digest:
                        return self._mismatch(start_response)
                    start_response(seen[2], list(seen[3]))
                    return [seen[4]]
            answer: list[Any] = []

            def recording_start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
                answer[:] = [status, list(headers)]
                return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

            result = self.app(environ, recording_start_response)
            try:
                # The body is produced under the lock too: a lazy iterable would otherwise read the
                # tables after another request has started writing them.
                body = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            if token is not None and answer and answer[0].startswith("200"):
                self.tokens[token] = (now + CLIENT_TOKEN_TTL, digest, answer[0], answer[1], body)
        return [body]

    @staticmethod
    def _token(environ: dict[str, Any]) -> tuple[str | None, str]:
        """The request's ClientRequestToken and body digest; the body is put back for moto."""
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        raw = environ["wsgi.input"].read(length) if length > 0 else b""
        environ["wsgi.input"] = io.BytesIO(raw)
        try:
            token = json.loads(raw or b"{}").get("ClientRequestToken")
        except (ValueError, AttributeError):
            token = None
        return (token if isinstance(token, str) and token else None), hashlib.sha256(raw).hexdigest()

    @staticmethod
    def _mismatch(start_response: Any) -> list[bytes]:
        body = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException",
                           "message": "the ClientRequestToken was used with another request"}).encode()
        start_response("400 Bad Request", [("Content-Type", "application/x-amz-json-1.0"),
                                           ("Content-Length", str(len(body)))])
        return [body]


class _Snapshots:
    """The items a transaction touches, as they were before it touched them."""

    def __init__(self) -> None:
        # (table, hash key, range key or None, deep copy of the item or None if it was absent), in
        # the order taken; restored in reverse, so an item remembered twice ends as it first was.
        self.items: list[tuple[Table, Any, Any, Any]] = []
        # Tables with a stream: moto appends stream records as it writes, so these are copied whole
        # (moto's own strategy) to roll the records back too. Our table has no stream.
        self.tables: dict[str, Table] = {}

    def remember(self, backend: DynamoDBBackend, table_name: str, key: dict[str, Any]) -> None:
        table = backend.get_table(table_name)
        if table.stream_shard is not None:
            return  # copied whole before the transaction started
        hash_key, range_key = backend.get_keys_value(table, key)
        self.items.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))

    def restore(self, backend: DynamoDBBackend) -> None:
        for table, hash_key, range_key, item in reversed(self.items):
            if range_key is not None:
                if item is None:
                    table.items[hash_key].pop(range_key, None)
                else:
                    table.items[hash_key][range_key] = item
            elif item is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = item
        for table_name, table in self.tables.items():
            backend.tables[table_name] = table


def patched_transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    """moto 5.2.5's DynamoDBBackend.transact_write_items with one change: instead of a deep copy of
    every touched table, a deep copy of every touched item is kept for the rollback. Every other line
    is moto's, in moto's order (including that later actions still run after a failed condition and
    are then rolled back)."""
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    snapshots = _Snapshots()
    for item in transact_items:
        _, op = next(iter(item.items()))
        table_name = op.get("TableName")
        if (
            table_name
            and table_name in self.tables
            and table_name not in snapshots.tables
            and self.tables[table_name].stream_shard is not None
        ):
            snapshots.tables[table_name] = copy.deepcopy(self.tables[table_name])

    target_items: set[tuple[str, str]] = set()

    def check_unicity(table_name: str, key: dict[str, Any]) -> None:
        item = (str(table_name), str(dict(sorted(key.items()))))
        if item in target_items:
            raise MultipleTransactionsException()
        target_items.add(item)

    errors: list[tuple[str, str, dict[str, Any]] | tuple[None, None, None]] = []
    for item in transact_items:
        original_item: dict[str, Any] | None = None
        if len(list(item.keys())) > 1:
            raise TransactWriteSingleOpException

        try:
            op_type, op = next(iter(item.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")

            table_name = op["TableName"]
            condition_expression = op.get("ConditionExpression")
            expression_attribute_names = op.get("ExpressionAttributeNames")
            expression_attribute_values = op.get("ExpressionAttributeValues")
            return_values_on_condition_check_failure = op.get("ReturnValuesOnConditionCheckFailure")

            if op_type == "Put":
                attrs = op["Item"]
                table = self.get_table(table_name)
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]

            check_unicity(table_name, key)

            current = self.get_item(table_name, key)
            # The only added line: get_item has validated the table and the key, nothing is written
            # yet; keep the item as it is now.
            snapshots.remember(self, table_name, key)
            if condition_expression is not None:
                condition_op = get_filter_expression(
                    condition_expression,
                    expression_attribute_names,
                    expression_attribute_values,
                )
                if not condition_op.expr(current):
                    if return_values_on_condition_check_failure == "ALL_OLD" and current:
                        original_item = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=original_item)

            if op_type == "Put":
                attrs = op["Item"]
                self.put_item(
                    table_name,
                    attrs,
                    condition_expression=condition_expression,
                    expression_attribute_names=expression_attribute_names,
                    expression_attribute_values=expression_attribute_values,
                )
            elif op_type == "Delete":
                self.delete_item(
                    table_name,
                    key,
                    condition_expression=condition_expression,
                    expression_attribute_names=expression_attribute_names,
                    expression_attribute_values=expression_attribute_values,
                )
            elif op_type == "Update":
                update_expression = op["UpdateExpression"]
                self.update_item(
                    table_name,
                    key,
                    update_expression=update_expression,
                    condition_expression=condition_expression,
                    expression_attribute_names=expression_attribute_names,
                    expression_attribute_values=expression_attribute_values,
                )
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            snapshots.restore(self)
            raise
        except ConditionalCheckFailed as e:
            errors.append(("ConditionalCheckFailed", str(e.message), original_item))  # type: ignore
        except Exception as e:  # noqa: E722 as moto: other errors are reported per action
            errors.append((type(e).__name__, str(e), original_item))  # type: ignore

    if any(code is not None for code, _, _ in errors):
        snapshots.restore(self)
        raise TransactionCanceledException(errors)


def patched_internals() -> dict[str, Any]:
    """The moto functions FINGERPRINTS describes (the originals, even after the patch)."""
    return {
        "DynamoDBBackend.transact_write_items": _original_transact_write_items,
        "DynamoDBBackend.get_keys_value": DynamoDBBackend.get_keys_value,
        "Table.get_item": Table.get_item,
        "Table.put_item": Table.put_item,
        "Table.delete_item": Table.delete_item,
    }


def changed_internals() -> list[str]:
    """Names of the patched or relied-on moto functions whose source is not the one pinned."""
    return [name for name, fn in patched_internals().items() if source_sha256(fn) != FINGERPRINTS[name]]


def install_transaction_patch() -> None:
    """Replace moto's transact_write_items; refuse if what the copy relies on has changed."""
    changed = changed_internals()
    if changed:
        raise SystemExit(
            f"moto internals the transaction patch relies on have changed: {', '.join(changed)}; "
            "compare them with infra/local/motoserver/serve.py and update the copy and FINGERPRINTS"
        )
    DynamoDBBackend.transact_write_items = patched_transact_write_items  # type: ignore[method-assign]


def transaction_patch_enabled(environ: Any = os.environ) -> bool:
    return environ.get("LIBERATION_MOTO_TX_PATCH", "on").lower() not in ("off", "0", "false", "no")


def build_app() -> Any:
    """moto_server's application (moto/server.py main), wrapped."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    app = DomainDispatcherApplication(create_backend_app)
    app.debug = True  # type: ignore[attr-defined]
    return SerializeDynamoDB(app)


def signal_handler(signum: Any, frame: Any) -> None:
    sys.exit(0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1", help="address to bind")
    parser.add_argument("-p", "--port", type=int, default=int(os.environ.get("MOTO_PORT", 5000)), help="port")
    args = parser.parse_args(argv)
    if "MOTO_PORT" not in os.environ:
        os.environ["MOTO_PORT"] = str(args.port)  # as moto_server: some responses embed the port

    if transaction_patch_enabled():
        install_transaction_patch()
    else:
        print("LIBERATION_MOTO_TX_PATCH=off: moto's own transact_write_items (table copies)", file=sys.stderr)

    signal.signal(signal.SIGINT, signal_handler)
    signal.signal(signal.SIGTERM, signal_handler)

    from werkzeug.serving import run_simple
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    run_simple(args.host, args.port, build_app(), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
