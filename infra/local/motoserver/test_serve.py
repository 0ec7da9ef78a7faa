"""Tests of serve.py against the installed moto (run by motoserver_test.go, or by hand:
cd infra/local/motoserver && ../../../.tools/venv/bin/python3 -m unittest -v test_serve).

They fail when moto is not the pinned version, when the moto code the transaction patch copies or
relies on changes, and when the patched transactions behave differently from moto's own."""

import copy
import io
import json
import os
import random
import re
import threading
import time
import unittest
from typing import Any

import boto3
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends

import serve

HERE = os.path.dirname(os.path.abspath(__file__))
REQUIREMENTS = os.path.join(HERE, "..", "requirements.txt")

# The tests use moto in this process (mock_aws). A custom endpoint in the environment (`make test`
# exports AWS_ENDPOINT_URL for its running moto) would send boto3 past the mock to that server.
for _name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL")]:
    del os.environ[_name]


class PinTest(unittest.TestCase):
    def test_moto_is_the_pinned_version(self) -> None:
        with open(REQUIREMENTS) as f:
            pinned = re.search(r"^moto\[server\]==(\S+)$", f.read(), re.M)
        self.assertIsNotNone(pinned, "requirements.txt pins moto[server]")
        self.assertEqual(pinned.group(1), serve.MOTO_VERSION, "serve.MOTO_VERSION matches requirements.txt")
        import moto

        self.assertEqual(moto.__version__, serve.MOTO_VERSION)

    def test_patched_internals_are_unchanged(self) -> None:
        self.assertEqual(serve.changed_internals(), [],
                         "moto code the transaction patch copies or relies on has changed; see serve.FINGERPRINTS")
        self.assertEqual(set(serve.FINGERPRINTS), set(serve.patched_internals()))

    def test_a_changed_internal_is_refused(self) -> None:
        saved = dict(serve.FINGERPRINTS)
        try:
            serve.FINGERPRINTS["Table.put_item"] = "0" * 64
            self.assertEqual(serve.changed_internals(), ["Table.put_item"])
            with self.assertRaises(SystemExit) as cm:
                serve.install_transaction_patch()
            self.assertIn("Table.put_item", str(cm.exception.code))
        finally:
            serve.FINGERPRINTS.clear()
            serve.FINGERPRINTS.update(saved)
        self.assertIs(DynamoDBBackend.transact_write_items, serve._original_transact_write_items)

    def test_patch_switch(self) -> None:
        self.assertTrue(serve.transaction_patch_enabled({}))
        self.assertTrue(serve.transaction_patch_enabled({"LIBERATION_MOTO_TX_PATCH": "on"}))
        for off in ("off", "OFF", "0", "false", "no"):
            self.assertFalse(serve.transaction_patch_enabled({"LIBERATION_MOTO_TX_PATCH": off}), off)


class SerializeTest(unittest.TestCase):
    """The middleware runs DynamoDB requests (and their response bodies) one at a time."""

    def run_concurrently(self, target: str, n: int = 8) -> tuple[int, list[bytes]]:
        lock = threading.Lock()
        state = {"active": 0, "max": 0}
        # Non-DynamoDB requests must all be inside the app at once to pass this barrier.
        barrier = threading.Barrier(n) if not target.startswith(serve.DYNAMODB_TARGETS) else None

        def app(environ: dict[str, Any], start_response: Any) -> Any:
            start_response("200 OK", [("Content-Type", "text/plain")])

            def body() -> Any:
                with lock:
                    state["active"] += 1
                    state["max"] = max(state["max"], state["active"])
                if barrier is not None:
                    barrier.wait(timeout=10)
                else:
                    time.sleep(0.005)  # widen the window in which an overlap would be seen
                yield b"part1,"
                yield b"part2"
                with lock:
                    state["active"] -= 1

            return body()

        mw = serve.SerializeDynamoDB(app)
        bodies: list[bytes] = []
        errors: list[BaseException] = []

        def call() -> None:
            try:
                result = mw({"HTTP_X_AMZ_TARGET": target}, lambda status, headers: None)
                bodies.append(b"".join(result))
            except BaseException as e:  # noqa: B036 reported below
                errors.append(e)

        threads = [threading.Thread(target=call) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        return state["max"], bodies

    def test_dynamodb_requests_run_one_at_a_time(self) -> None:
        for target in ("DynamoDB_20120810.TransactWriteItems", "DynamoDB_20120810.PutItem",
                       "DynamoDBStreams_20120810.GetRecords"):
            most, bodies = self.run_concurrently(target)
            self.assertEqual(most, 1, target)
            self.assertEqual(bodies, [b"part1,part2"] * 8)

    def test_other_requests_stay_concurrent(self) -> None:
        for target in ("AmazonSQS.ReceiveMessage", ""):
            most, _ = self.run_concurrently(target)
            self.assertEqual(most, 8, repr(target))


def key(pk: str, sk: str | None = None) -> dict[str, Any]:
    k = {"PK": {"S": pk}}
    if sk is not None:
        k["SK"] = {"S": sk}
    return k


class ClientRequestTokenTest(unittest.TestCase):
    """SerializeDynamoDB answers a TransactWriteItems retry by its ClientRequestToken, as DynamoDB."""

    def setUp(self) -> None:
        self.calls = 0
        self.status = "200 OK"
        self.now = 1000.0

        def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
            self.calls += 1
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            start_response(self.status, [("Content-Type", "application/x-amz-json-1.0")])
            return [b"answer %d to " % self.calls + body]

        self.mw = serve.SerializeDynamoDB(app, clock=lambda: self.now)

    def call(self, body: dict[str, Any], target: str = serve.TRANSACT_WRITE_TARGET) -> tuple[str, bytes]:
        raw = json.dumps(body).encode()
        got: list[str] = []
        out = self.mw({"HTTP_X_AMZ_TARGET": target, "CONTENT_LENGTH": str(len(raw)), "wsgi.input": io.BytesIO(raw)},
                      lambda status, headers: got.append(status))
        return got[0], b"".join(out)

    def test_a_retry_with_the_token_gets_the_first_answer(self) -> None:
        req = {"ClientRequestToken": "tok-1", "TransactItems": [{"Put": {"TableName": "t"}}]}
        first = self.call(req)
        self.assertEqual(first[0], "200 OK")
        self.assertIn(b'"tok-1"', first[1])  # moto read the whole body after the middleware did
        self.assertEqual(self.call(req), first)
        self.assertEqual(self.calls, 1)

    def test_another_body_with_the_token_is_refused(self) -> None:
        self.call({"ClientRequestToken": "tok-2", "TransactItems": [1]})
        status, body = self.call({"ClientRequestToken": "tok-2", "TransactItems": [2]})
        self.assertEqual(status, "400 Bad Request")
        self.assertIn(b"IdempotentParameterMismatchException", body)
        self.assertEqual(self.calls, 1)

    def test_what_is_not_remembered_runs_again(self) -> None:
        # no token; a failed first attempt; another operation; a token older than 10 minutes
        self.call({"TransactItems": [1]})
        self.call({"TransactItems": [1]})
        self.assertEqual(self.calls, 2)
        self.status = "400 Bad Request"
        self.call({"ClientRequestToken": "tok-3"})
        self.status = "200 OK"
        self.call({"ClientRequestToken": "tok-3"})
        self.assertEqual(self.calls, 4)
        self.call({"ClientRequestToken": "tok-4"}, target="DynamoDB_20120810.PutItem")
        self.call({"ClientRequestToken": "tok-4"}, target="DynamoDB_20120810.PutItem")
        self.assertEqual(self.calls, 6)
        self.call({"ClientRequestToken": "tok-5"})
        self.now += serve.CLIENT_TOKEN_TTL + 1
        self.call({"ClientRequestToken": "tok-5"})
        self.assertEqual(self.calls, 8)


class TransactionsTest(unittest.TestCase):
    """The patched transact_write_items, through boto3 and moto's in-process backend."""

    def setUp(self) -> None:
        self.mock = mock_aws()
        self.mock.start()
        self.addCleanup(self.mock.stop)
        self.addCleanup(setattr, DynamoDBBackend, "transact_write_items", serve._original_transact_write_items)
        serve.install_transaction_patch()
        self.assertIs(DynamoDBBackend.transact_write_items, serve.patched_transact_write_items)
        self.db = boto3.client("dynamodb", region_name="us-east-1")

    def create(self, name: str, range_key: bool = True, stream: bool = False) -> str:
        attrs = [{"AttributeName": "PK", "AttributeType": "S"}]
        schema = [{"AttributeName": "PK", "KeyType": "HASH"}]
        if range_key:
            attrs.append({"AttributeName": "SK", "AttributeType": "S"})
            schema.append({"AttributeName": "SK", "KeyType": "RANGE"})
        extra: dict[str, Any] = {}
        if stream:
            extra["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
        self.db.create_table(TableName=name, AttributeDefinitions=attrs, KeySchema=schema,
                             BillingMode="PAY_PER_REQUEST", **extra)
        # The table is in this process's moto, whose methods the tests patch — not in a server.
        self.assertIn(name, dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tables)
        return name

    def items(self, table: str) -> list[dict[str, Any]]:
        out = self.db.scan(TableName=table, ConsistentRead=True)["Items"]
        return sorted(out, key=lambda i: (i["PK"]["S"], i.get("SK", {}).get("S", "")))

    def seed(self, table: str, range_key: bool = True) -> None:
        for pk in ("a", "b", "c"):
            for sk in (("1", "2") if range_key else (None,)):
                item = {**key(pk, sk), "n": {"N": "1"}, "tags": {"L": [{"S": "x"}]}}
                self.db.put_item(TableName=table, Item=item)

    def failing_transaction(self, table: str, range_key: bool, fail_at: int) -> list[dict[str, Any]]:
        sk = (lambda s: s) if range_key else (lambda s: None)
        actions: list[dict[str, Any]] = [
            # an existing item changed in place (moto's update mutates the stored item)
            {"Update": {"TableName": table, "Key": key("a", sk("1")),
                        "UpdateExpression": "SET n = n + :one, tags = list_append(tags, :t)",
                        "ExpressionAttributeValues": {":one": {"N": "1"}, ":t": {"L": [{"S": "y"}]}}}},
            # a new item
            {"Put": {"TableName": table, "Item": {**key("new", sk("9")), "n": {"N": "5"}}}},
            # an existing item deleted
            {"Delete": {"TableName": table, "Key": key("b", sk("1"))}},
            # a new item created by an update
            {"Update": {"TableName": table, "Key": key("upd", sk("9")), "UpdateExpression": "SET n = :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}},
            # an existing item replaced
            {"Put": {"TableName": table, "Item": {**key("c", sk("1")), "n": {"N": "7"}}}},
        ]
        failing = {"ConditionCheck": {"TableName": table, "Key": key("a", sk("2")),
                                      "ConditionExpression": "n = :two",
                                      "ExpressionAttributeValues": {":two": {"N": "2"}}}}
        if not range_key:
            failing["ConditionCheck"]["Key"] = key("zzz-missing")
            failing["ConditionCheck"]["ConditionExpression"] = "attribute_exists(PK)"
            del failing["ConditionCheck"]["ExpressionAttributeValues"]
        actions.insert(fail_at, failing)
        return actions

    def test_a_failed_transaction_leaves_nothing_behind(self) -> None:
        for range_key in (True, False):
            for fail_at in (0, 3, 5):
                with self.subTest(range_key=range_key, fail_at=fail_at):
                    table = self.create(f"t-{range_key}-{fail_at}", range_key)
                    self.seed(table, range_key)
                    before = self.items(table)
                    with self.assertRaises(ClientError) as cm:
                        self.db.transact_write_items(TransactItems=self.failing_transaction(table, range_key, fail_at))
                    err = cm.exception.response
                    self.assertEqual(err["Error"]["Code"], "TransactionCanceledException")
                    codes = [r["Code"] for r in err["CancellationReasons"]]
                    self.assertEqual(codes, ["None"] * fail_at + ["ConditionalCheckFailed"] + ["None"] * (5 - fail_at))
                    self.assertEqual(self.items(table), before)

    def test_a_successful_transaction_applies_everything(self) -> None:
        table = self.create("ok")
        self.seed(table)
        self.db.transact_write_items(TransactItems=self.failing_transaction(table, True, 0)[1:])
        got = {(i["PK"]["S"], i["SK"]["S"]): i for i in self.items(table)}
        self.assertEqual(got[("a", "1")]["n"], {"N": "2"})
        self.assertEqual(got[("a", "1")]["tags"], {"L": [{"S": "x"}, {"S": "y"}]})
        self.assertEqual(got[("new", "9")]["n"], {"N": "5"})
        self.assertNotIn(("b", "1"), got)
        self.assertEqual(got[("upd", "9")]["n"], {"N": "1"})
        self.assertEqual(got[("c", "1")]["n"], {"N": "7"})

    def test_a_validation_error_midway_rolls_back(self) -> None:
        table = self.create("dup")
        self.seed(table)
        before = self.items(table)
        actions = [
            {"Put": {"TableName": table, "Item": {**key("z", "1"), "n": {"N": "1"}}}},
            {"Update": {"TableName": table, "Key": key("a", "1"), "UpdateExpression": "SET n = :v",
                        "ExpressionAttributeValues": {":v": {"N": "100"}}}},
            {"Delete": {"TableName": table, "Key": key("a", "1")}},  # a second action on one item
        ]
        with self.assertRaises(ClientError) as cm:
            self.db.transact_write_items(TransactItems=actions)
        self.assertEqual(cm.exception.response["Error"]["Code"], "ValidationException")
        self.assertEqual(self.items(table), before)

    def test_a_table_with_a_stream_rolls_back_too(self) -> None:
        table = self.create("streamed", stream=True)
        self.seed(table)
        before = self.items(table)
        with self.assertRaises(ClientError):
            self.db.transact_write_items(TransactItems=self.failing_transaction(table, True, 5))
        self.assertEqual(self.items(table), before)

    def test_only_touched_items_are_copied(self) -> None:
        """The cost of the rollback copy does not grow with the table: a 3-action transaction on a
        table of 500 items deep-copies the touched items, never a table (moto's own copies the
        table once per action)."""
        table = self.create("big")
        self.db.put_item(TableName=table, Item={**key("hot", "1"), "n": {"N": "0"}})
        for start in range(0, 500, 25):
            self.db.batch_write_item(RequestItems={table: [
                {"PutRequest": {"Item": {**key(f"p{i}", "1"), "n": {"N": str(i)}}}} for i in range(start, start + 25)]})
        real = copy.deepcopy

        def top_level_copies(impl: Any) -> list[str]:
            copied: list[str] = []
            depth = [0]

            def counting(x: Any, memo: Any = None, *args: Any) -> Any:
                if depth[0] == 0:
                    copied.append(type(x).__name__)
                depth[0] += 1
                try:
                    return real(x, memo, *args)
                finally:
                    depth[0] -= 1

            DynamoDBBackend.transact_write_items = impl  # type: ignore[method-assign]
            copy.deepcopy = counting  # every copy in the process, moto's included
            try:
                self.db.transact_write_items(TransactItems=[
                    {"Update": {"TableName": table, "Key": key("hot", "1"), "UpdateExpression": "SET n = n + :one",
                                "ExpressionAttributeValues": {":one": {"N": "1"}}}},
                    {"Put": {"TableName": table, "Item": {**key("fresh", "1")}}},
                    {"ConditionCheck": {"TableName": table, "Key": key("p7", "1"),
                                        "ConditionExpression": "attribute_exists(PK)"}},
                ])
            finally:
                copy.deepcopy = real
            return copied

        # Patched: the snapshot of "hot", moto's update_item copying "hot" (its old image), the
        # snapshot of the absent "fresh" (None), the snapshot of "p7".
        self.assertEqual(top_level_copies(serve.patched_transact_write_items), ["Item", "Item", "NoneType", "Item"])
        # moto's own: the whole table, once per action, then the same update_item copy.
        self.assertEqual(top_level_copies(serve._original_transact_write_items), ["Table"] * 3 + ["Item"])

    def test_same_outcomes_as_moto_for_random_transactions(self) -> None:
        """Random transactions (conditions passing and failing, puts, updates, deletes, duplicate
        keys) run on two identical tables, one with moto's transact_write_items, one with the patch:
        every answer and every final item must be the same."""
        rnd = random.Random(20261130)
        tables = {"orig": self.create("orig"), "patched": self.create("patched")}
        impl = {"orig": serve._original_transact_write_items, "patched": serve.patched_transact_write_items}
        keys = [(pk, sk) for pk in "abcd" for sk in "123"]

        def action(table: str, k: tuple[str, str]) -> dict[str, Any]:
            kind = rnd.choice(["Put", "Update", "Delete", "ConditionCheck"])
            cond: dict[str, Any] = {}
            roll = rnd.random()
            if roll < 0.3:
                cond = {"ConditionExpression": "attribute_exists(PK)"}
            elif roll < 0.5:
                cond = {"ConditionExpression": "attribute_not_exists(PK)"}
            elif roll < 0.7:
                cond = {"ConditionExpression": "n < :lim", "ExpressionAttributeValues": {":lim": {"N": "3"}}}
            if kind == "ConditionCheck" and not cond:
                cond = {"ConditionExpression": "attribute_exists(PK)"}
            if kind == "Put":
                return {"Put": {"TableName": table, "Item": {**key(*k), "n": {"N": str(rnd.randint(0, 4))}}, **cond}}
            if kind == "Update":
                values = {":one": {"N": "1"}, **cond.pop("ExpressionAttributeValues", {})}
                return {"Update": {"TableName": table, "Key": key(*k),
                                   "UpdateExpression": "SET n = if_not_exists(n, :one) + :one",
                                   "ExpressionAttributeValues": values, **cond}}
            return {kind: {"TableName": table, "Key": key(*k), **cond}}

        outcomes = {"ok": 0, "TransactionCanceledException": 0, "ValidationException": 0}
        for _ in range(150):
            picked = rnd.sample(keys, rnd.randint(1, 5))
            if rnd.random() < 0.15:
                picked.append(picked[0])  # two actions on one item: a validation error
            seed = rnd.random()
            answers = {}
            for name, table in tables.items():
                rnd_state = rnd.getstate()
                rnd.seed(seed)
                actions = [action(table, k) for k in picked]
                rnd.setstate(rnd_state)
                DynamoDBBackend.transact_write_items = impl[name]  # type: ignore[method-assign]
                try:
                    self.db.transact_write_items(TransactItems=actions)
                    answers[name] = ("ok", None)
                except ClientError as e:
                    answers[name] = (e.response["Error"]["Code"],
                                     [r["Code"] for r in e.response.get("CancellationReasons", [])])
            self.assertEqual(answers["orig"], answers["patched"])
            outcomes[answers["orig"][0]] += 1
            self.assertEqual(self.items(tables["orig"]), self.items(tables["patched"]))
        # The run exercised every path.
        for name, n in outcomes.items():
            self.assertGreaterEqual(n, 10, f"{name}: {outcomes}")


if __name__ == "__main__":
    unittest.main()
