"""The remit-to address of a payment detail: the vendor's billing address, its country as ISO 3166-1
alpha-2 (sn-ref §7.6 lists Remit-to street, city, state, zip and country (ISO 3166) as mandatory).

Zoho sends the address on the vendor payment (`billing_address`, zoho-ref §4.4) with `country` as a name and,
in most editions, `country_code`; a code wins, a name is looked up among common ones. [INF] `country_code`
is not in every edition's payload (the recorded contact carries it, the OpenAPI file lists it on contacts):
an unknown country name is left empty rather than guessed.
"""

from __future__ import annotations

from zbsn.core.engine.normalize import normalize_name
from zbsn.core.zoho.models import ZohoAddress

# country names as Zoho shows them (and common variants) -> ISO 3166-1 alpha-2
_COUNTRIES = {
    "united kingdom": "GB",
    "u k": "GB",
    "uk": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "ireland": "IE",
    "united states": "US",
    "united states of america": "US",
    "usa": "US",
    "u s a": "US",
    "us": "US",
    "canada": "CA",
    "germany": "DE",
    "deutschland": "DE",
    "france": "FR",
    "spain": "ES",
    "italy": "IT",
    "netherlands": "NL",
    "the netherlands": "NL",
    "belgium": "BE",
    "luxembourg": "LU",
    "switzerland": "CH",
    "austria": "AT",
    "sweden": "SE",
    "norway": "NO",
    "denmark": "DK",
    "finland": "FI",
    "poland": "PL",
    "portugal": "PT",
    "australia": "AU",
    "new zealand": "NZ",
    "india": "IN",
    "singapore": "SG",
    "japan": "JP",
    "china": "CN",
    "hong kong": "HK",
    "united arab emirates": "AE",
    "uae": "AE",
    "saudi arabia": "SA",
    "south africa": "ZA",
    "kenya": "KE",
    "mexico": "MX",
    "brazil": "BR",
}


def iso_country(code: str | None, name: str | None) -> str:
    """The ISO 3166-1 alpha-2 code of a country given as a code or a name ("" when unknown)."""
    text = (code or "").strip().upper()
    if len(text) == 2 and text.isalpha():
        return text
    return _COUNTRIES.get(normalize_name(name), "")


def remit_to_values(address: ZohoAddress | None) -> dict[str, str]:
    """The payment detail's `u_remit_to_*` columns from the vendor's address (empty strings when unknown)."""
    if address is None:
        address = ZohoAddress()
    street = ", ".join(part for part in (address.address, address.street2) if part)
    return {
        "u_remit_to_street": street,
        "u_remit_to_city": address.city or "",
        "u_remit_to_state_or_province": address.state or address.state_code or "",
        "u_remit_to_zip_or_postal_code": address.zip or "",
        "u_remit_to_country": iso_country(address.country_code, address.country),
    }
