"""Unit tests of checks.py (run by checks_test.go with the project's virtualenv)."""

import types
import unittest

import checks

no_internals = getattr(checks.no_internals, "__wrapped__", checks.no_internals)


def response(text):
    return types.SimpleNamespace(text=text)


def case(**sent):
    base = dict(path="/courses", path_parameters=None, query=None, headers=None, cookies=None, body=None)
    base.update(sent)
    return types.SimpleNamespace(**base)


class NoInternals(unittest.TestCase):
    def test_a_leak_fails(self):
        for body in ('{"error":{"message":"boto3 said no"}}', '{"error":{"message":"payments.CreateRefundRequest"}}',
                     '{"error":{"message":"at /work/main/shared/x.go:12"}}'):
            with self.assertRaises(AssertionError, msg=body):
                no_internals(None, response(body), case())

    def test_the_random_request_id_is_not_searched(self):
        body = '{"error":{"code":"invalid","message":"cursor is invalid","requestId":"sZiEuem5+boTOA=="}}'
        self.assertIsNone(no_internals(None, response(body), case()))

    def test_the_requests_own_words_are_not_held_against_the_server(self):
        body = '{"error":{"code":"invalid","message":"unknown field \\"moto\\""}}'
        self.assertIsNone(no_internals(None, response(body), case(body={"moto": 1})))


if __name__ == "__main__":
    unittest.main()
