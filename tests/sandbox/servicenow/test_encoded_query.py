"""The encoded-query parser on its own: separators, escaping, operator precedence, invalid terms."""

from __future__ import annotations

from zbsn.sandbox.servicenow.encoded_query import Term, matches, parse, split_tokens

KNOWN = {"name", "active", "code", "priority"}


def _parse(text: str):  # type: ignore[no-untyped-def]
    return parse(text, lambda path: path in KNOWN)


def test_escaped_caret_is_part_of_the_value() -> None:
    assert split_tokens("name=Acme^^ORactive=false") == [("", "name=Acme^ORactive=false")]
    parsed = _parse("name=Acme^^ORactive=false")
    assert parsed.groups == [[[Term("name", "=", "Acme^ORactive=false")]]]


def test_unescaped_or_and_nq_split() -> None:
    parsed = _parse("name=a^ORname=b^active=true^NQcode=x")
    assert parsed.groups == [
        [[Term("name", "=", "a"), Term("name", "=", "b")], [Term("active", "=", "true")]],
        [[Term("code", "=", "x")]],
    ]


def test_orderby_is_not_mistaken_for_or() -> None:
    parsed = _parse("active=true^ORDERBYDESCpriority^ORDERBYname")
    assert parsed.order_by == [("priority", True), ("name", False)]
    assert parsed.groups == [[[Term("active", "=", "true")]]]


def test_invalid_terms_are_collected_not_applied() -> None:
    parsed = _parse("bogus=1^name=a^nameWHATEVERx")
    assert parsed.invalid_terms == ["bogus=1", "nameWHATEVERx"]
    assert matches(parsed, {"name": "a"}.__getitem__)
    assert not matches(parsed, {"name": "b"}.__getitem__)


def test_operators() -> None:
    record = {"name": "Acme Ltd", "active": "true", "code": "", "priority": "10"}
    cases = {
        "nameSTARTSWITHAcme": True,
        "nameENDSWITHLtd": True,
        "nameLIKEme L": True,
        "nameNOT LIKEAcme": False,
        "nameINx,Acme Ltd": True,
        "nameNOT INx,Acme Ltd": False,
        "codeISEMPTY": True,
        "codeISNOTEMPTY": False,
        "priority>9": True,
        "priority<=9": False,
        "name!=Acme Ltd": False,
        "name=acme ltd": False,
        "priorityBETWEEN5@10": True,
        "priorityBETWEEN11@20": False,
        "nameANYTHING": True,
    }
    for query, expected in cases.items():
        assert matches(_parse(query), record.__getitem__) is expected, query
