"""The next step the audit detail shows for the lifecycle's flags: a deleted vendor payment is not advised
as a deleted bill (whose code it contains), and a bill returned to draft says nothing is written."""

from __future__ import annotations

from zbsn.tui.widgets.audit_detail import next_step


def test_a_deleted_payment_asks_for_its_details_to_be_reversed_not_for_an_invoice_to_be_cancelled() -> None:
    assert next_step("PAYMENT_DELETED_IN_ZOHO", "flagged").startswith("Reverse its payment details")
    assert next_step("DELETED_IN_ZOHO", "flagged").startswith("Cancel its invoice in ServiceNow")


def test_a_bill_returned_to_draft_says_nothing_is_written_until_it_is_approved_again() -> None:
    step = next_step("RETURNED_TO_DRAFT_IN_ZOHO", "flagged")
    assert step.startswith("Nothing is written while the bill waits for approval in Zoho")
    assert "approved again" in step


def test_the_fx_and_owner_failures_say_who_fixes_them_and_where() -> None:
    assert next_step("MISSING_EXCHANGE_RATE", "failed").startswith("Set the bill's exchange rate in Zoho")
    assert "FX rate staging" in next_step("FX_STAGING_UNAVAILABLE", "failed")
    assert "active ServiceNow user" in next_step("UNKNOWN_BUSINESS_OWNER", "failed")
