"""The store rules engine: every condition and every action, rows in, decisions out."""

import datetime as dt
from decimal import Decimal

import pytest

from policies.rules import STORE_DESTINATION, LineFacts, decide, parse_rules
from rma.importing.fields import Problems
from rma.importing.schema import read_policy, read_rules

NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)


def facts(**overrides) -> LineFacts:
    values = {
        "order_total": Decimal("120.00"),
        "line_amount": Decimal("40.00"),
        "department": "Apparel",
        "item_id": "SKU-1",
        "customer_email": "ada@example.com",
        "country": "US",
        "customer_tags": (),
        "reason": None,
        "channel": None,
        "return_moments": (),
        "now": NOW,
    }
    return LineFacts(**(values | overrides))


def rule(when, then=None, name="R"):
    return {"name": name, "when": when, "then": then or [{"action": "require_review"}]}


def reviewed(rule_document, line_facts) -> bool:
    return decide(parse_rules([rule_document]), line_facts).requires_review


@pytest.mark.parametrize(
    ("condition", "line_facts", "expected"),
    [
        ({"field": "order_total", "op": "gt", "value": "200"}, facts(), False),
        (
            {"field": "order_total", "op": "gt", "value": "200"},
            facts(order_total=Decimal("200.01")),
            True,
        ),
        (
            {"field": "order_total", "op": "gt", "value": "200"},
            facts(order_total=Decimal("200")),
            False,
        ),
        (
            {"field": "order_total", "op": "gte", "value": "200"},
            facts(order_total=Decimal("200")),
            True,
        ),
        ({"field": "line_amount", "op": "lt", "value": "40"}, facts(), False),
        ({"field": "line_amount", "op": "lte", "value": "40"}, facts(), True),
        ({"field": "line_amount", "op": "eq", "value": "40.00"}, facts(), True),
        ({"field": "department", "op": "in", "value": ["apparel "]}, facts(), True),
        ({"field": "department", "op": "in", "value": ["Kitchen"]}, facts(), False),
        ({"field": "department", "op": "not_in", "value": ["Kitchen"]}, facts(), True),
        ({"field": "item", "op": "in", "value": ["sku-1"]}, facts(), True),
        ({"field": "item", "op": "in", "value": ["SKU-2"]}, facts(), False),
        ({"field": "reason", "op": "in", "value": ["TOO_SMALL"]}, facts(), False),
        (
            {"field": "reason", "op": "in", "value": ["TOO_SMALL"]},
            facts(reason="TOO_SMALL"),
            True,
        ),
        # An unknown reason (the order page) does not satisfy not_in either.
        ({"field": "reason", "op": "not_in", "value": ["TOO_SMALL"]}, facts(), False),
        (
            {"field": "customer_email", "op": "ends_with", "value": "@EXAMPLE.com"},
            facts(),
            True,
        ),
        (
            {"field": "customer_email", "op": "in", "value": ["bob@example.com"]},
            facts(),
            False,
        ),
        ({"field": "customer_tag", "op": "in", "value": ["vip"]}, facts(), False),
        (
            {"field": "customer_tag", "op": "in", "value": ["vip"]},
            facts(customer_tags=("new", "VIP")),
            True,
        ),
        ({"field": "country", "op": "in", "value": ["us", "ca"]}, facts(), True),
        ({"field": "country", "op": "not_in", "value": ["US"]}, facts(), False),
        ({"field": "channel", "op": "in", "value": ["API"]}, facts(channel="API"), True),
        ({"field": "channel", "op": "in", "value": ["API"]}, facts(channel="PORTAL"), False),
        (
            {"field": "return_count", "op": "gte", "value": 2, "days": 30},
            facts(return_moments=(NOW - dt.timedelta(days=1), NOW - dt.timedelta(days=31))),
            False,
        ),
        (
            {"field": "return_count", "op": "gte", "value": 2, "days": 30},
            facts(return_moments=(NOW - dt.timedelta(days=1), NOW - dt.timedelta(days=29))),
            True,
        ),
    ],
)
def test_each_condition(condition, line_facts, expected):
    assert reviewed(rule([condition]), line_facts) is expected


def test_all_conditions_of_a_rule_must_hold():
    document = rule(
        [
            {"field": "order_total", "op": "gt", "value": "100"},
            {"field": "department", "op": "in", "value": ["Kitchen"]},
        ]
    )
    assert not reviewed(document, facts())
    assert reviewed(document, facts(department="kitchen"))


def test_a_rule_without_conditions_always_fires_and_a_disabled_one_never():
    assert reviewed(rule([]), facts())
    assert not reviewed({**rule([]), "enabled": False}, facts())


def test_each_action_is_decided_and_names_its_rule():
    rules = parse_rules(
        [
            rule([], [{"action": "extend_window", "days": 10}], name="Holidays"),
            rule([], [{"action": "require_review"}], name="Review all"),
            rule([], [{"action": "block", "message": "No returns"}], name="Stop"),
            rule([], [{"action": "set_return_fee", "amount": "2.50"}], name="Fee"),
            rule([], [{"action": "keep_item"}], name="Keep"),
            rule([], [{"action": "route", "destination": "ACME"}], name="To Acme"),
        ]
    )
    decision = decide(rules, facts())
    assert decision.extend_window.rule == "Holidays"
    assert decision.extension_days == 10
    assert [d.rule for d in decision.review] == ["Review all"]
    assert (decision.block.rule, decision.block.value) == ("Stop", "No returns")
    assert (decision.return_fee.rule, decision.return_fee.value) == ("Fee", Decimal("2.50"))
    assert decision.keep_item.rule == "Keep"
    assert (decision.route.rule, decision.route.value) == ("To Acme", "ACME")
    assert decision.fired == ("Holidays", "Review all", "Stop", "Fee", "Keep", "To Acme")
    assert "blocked: No returns (Stop)" in decision.summary()


def test_waive_return_fee_and_first_rule_wins():
    rules = parse_rules(
        [
            rule([], [{"action": "waive_return_fee"}], name="Waive"),
            rule([], [{"action": "set_return_fee", "amount": "9"}], name="Set"),
            rule([], [{"action": "route", "destination": STORE_DESTINATION}], name="Home"),
            rule([], [{"action": "route", "destination": "ACME"}], name="Away"),
        ]
    )
    decision = decide(rules, facts())
    assert (decision.return_fee.rule, decision.return_fee.value) == ("Waive", Decimal(0))
    assert decision.route.value == STORE_DESTINATION


def test_the_longest_extension_wins():
    rules = parse_rules(
        [
            rule([], [{"action": "extend_window", "days": 5}], name="Short"),
            rule([], [{"action": "extend_window", "days": 20}], name="Long"),
        ]
    )
    assert decide(rules, facts()).extend_window.rule == "Long"


def test_no_rules_decide_nothing():
    decision = decide((), facts())
    assert not decision.requires_review and decision.block is None and decision.fired == ()


def problems_of(document) -> list[str]:
    problems = Problems()
    read_rules(document, "policy.rules", problems)
    return problems.messages


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            [rule([{"field": "colour", "op": "in", "value": ["red"]}])],
            "policy.rules[0].when[0].field: 'colour' is not one of",
        ),
        (
            [rule([{"field": "order_total", "op": "in", "value": ["1"]}])],
            "policy.rules[0].when[0].op: 'in' does not compare numbers",
        ),
        (
            [rule([{"field": "department", "op": "gt", "value": "1"}])],
            "policy.rules[0].when[0].op: 'gt' does not compare texts",
        ),
        (
            [rule([{"field": "order_total", "op": "gt", "value": "lots"}])],
            "policy.rules[0].when[0].value:",
        ),
        (
            [rule([{"field": "return_count", "op": "gt", "value": 3}])],
            'policy.rules[0].when[0]: a return_count condition needs "days"',
        ),
        (
            [rule([], [{"action": "block"}])],
            'policy.rules[0].then[0]: a block action needs "message"',
        ),
        (
            [rule([], [{"action": "extend_window"}])],
            'policy.rules[0].then[0]: a extend_window action needs "days"',
        ),
        ([rule([], [{"action": "explode"}])], "policy.rules[0].then[0].action:"),
        ([rule([]), rule([])], "policy.rules[1].name: 'R' is already used by rules[0]"),
        ([{"name": "x", "then": []}], "policy.rules[0].then: must not be empty"),
    ],
)
def test_invalid_rules_name_the_field(document, message):
    assert any(problem.startswith(message) for problem in problems_of(document)), problems_of(
        document
    )


def test_a_valid_rule_is_stored_as_written():
    problems = Problems()
    stored = read_policy(
        {"rules": [rule([{"field": "order_total", "op": "gt", "value": "200"}], name="Big")]},
        "policy",
        problems,
    )
    assert not problems
    assert stored["rules"] == [
        {
            "name": "Big",
            "enabled": True,
            "when": [{"field": "order_total", "op": "gt", "value": "200"}],
            "then": [{"action": "require_review"}],
        }
    ]
    assert decide(parse_rules(stored["rules"]), facts(order_total=Decimal(201))).requires_review


@pytest.mark.parametrize(
    ("reasons", "message"),
    [
        (
            [{"code": "A", "description": "A", "parent": "B"}],
            'policy.reasons[0].parent: "B" is not one of the reasons',
        ),
        (
            [{"code": "A", "description": "A", "parent": "A"}],
            "policy.reasons[0].parent: a reason cannot be its own parent",
        ),
        (
            [
                {"code": "A", "description": "A"},
                {"code": "B", "description": "B", "parent": "A"},
                {"code": "C", "description": "C", "parent": "B"},
            ],
            'policy.reasons[2].parent: "B" is itself a sub-reason',
        ),
        (
            [{"code": "A", "description": "A", "departments": "Mugs"}],
            "policy.reasons[0].departments: must be a list",
        ),
    ],
)
def test_invalid_reasons_name_the_field(reasons, message):
    problems = Problems()
    read_policy({"reasons": reasons}, "policy", problems)
    assert any(problem.startswith(message) for problem in problems.messages), problems.messages
