"""Encoded-query escaping and the builder: values can never add conditions."""

from __future__ import annotations

import pytest

from zbsn.core.servicenow.query import ME_FILTER, EncodedQuery, eq, escape_value, in_, like, ne, starts_with


def test_a_caret_is_doubled_so_it_stays_inside_the_value() -> None:
    assert escape_value("Acme^ORactive=false") == "Acme^^ORactive=false"
    assert escape_value("^NQsys_id!=x^") == "^^NQsys_id!=x^^"


def test_the_injection_payload_stays_one_condition() -> None:
    query = EncodedQuery().eq("name", "Acme^ORactive=false")
    assert query.render() == "name=Acme^^ORactive=false"
    # Split on single carets only (as ServiceNow does): one condition survives.
    assert query.render().replace("^^", "\0").split("^") == ["name=Acme\0ORactive=false"]


@pytest.mark.parametrize(
    "value",
    [
        "line\nbreak",
        "cr\rhere",
        "nul\x00",
        "tab\tcharacter",
        "",
        "javascript:gs.getUserID()",
        "  JavaScript:x",
    ],
)
def test_values_that_cannot_be_made_safe_are_refused(value: str) -> None:
    with pytest.raises(ValueError):
        escape_value(value)
    with pytest.raises(ValueError):
        EncodedQuery().eq("name", value)


@pytest.mark.parametrize("field", ["name^ORactive", "na me", "1abc", "name=x", "", "a..b"])
def test_field_names_are_checked(field: str) -> None:
    with pytest.raises(ValueError):
        eq(field, "x")


def test_in_refuses_commas_and_empty_lists() -> None:
    with pytest.raises(ValueError):
        in_("number", ["a,b"])
    with pytest.raises(ValueError):
        in_("number", [])


def test_builder_renders_every_operator_and_ordering() -> None:
    query = (
        EncodedQuery()
        .eq("active", "true")
        .ne("state", "x^y")
        .in_("number", ["A1", "B^2"])
        .starts_with("name", "Ac")
        .like("company.name", "me")
        .or_(eq("tax_id", "1"), eq("tax_id", "2"))
        .order_by("name")
        .order_by("sys_created_on", descending=True)
    )
    assert str(query) == (
        "active=true^state!=x^^y^numberINA1,B^^2^nameSTARTSWITHAc^company.nameLIKEme"
        "^tax_id=1^ORtax_id=2^ORDERBYname^ORDERBYDESCsys_created_on"
    )


def test_and_merges_queries_and_loose_conditions() -> None:
    base = EncodedQuery().eq("a", "1").order_by("sys_id")
    merged = EncodedQuery().and_(base, ne("b", "2"), like("c", "3"), starts_with("d", "4"))
    assert merged.render() == "a=1^b!=2^cLIKE3^dSTARTSWITH4^ORDERBYsys_id"
    assert base.render() == "a=1^ORDERBYsys_id"  # immutable


def test_or_needs_a_condition() -> None:
    with pytest.raises(ValueError):
        EncodedQuery().or_()


def test_not_in_and_the_me_filter() -> None:
    query = EncodedQuery().not_in("state", ["resolved", "bypassed"]).dynamic("user", ME_FILTER)
    assert query.render() == f"stateNOT INresolved,bypassed^userDYNAMIC{ME_FILTER}"
    with pytest.raises(ValueError, match="dynamic filter"):
        EncodedQuery().dynamic("user", "javascript:gs.getUserID()")
    with pytest.raises(ValueError):
        EncodedQuery().not_in("state", ["a,b"])
    with pytest.raises(ValueError):
        EncodedQuery().not_in("state", [])
