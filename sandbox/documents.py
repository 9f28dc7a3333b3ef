"""The vendor invoices attached to a share of the seeded bills: small but real PDF files (a `%PDF-1.4`
header, one page with the bill's text, a cross-reference table and trailer), rebuilt from the bill on demand.

`attach_documents(bills, seed)` picks the bills (its own random stream, so the rest of the company is the
same with or without it); `pdf_bytes(bill, document)` renders the file the Zoho sandbox serves.
"""

from __future__ import annotations

import random

from zbsn.sandbox.company import Bill, BillDocument

DOCUMENT_SHARE = 0.15  # about one bill in seven carries the vendor's invoice
DOCUMENT_ID_PREFIX = "46023700007"  # its own id range: adding documents moves no other id
OVERSIZED_PAD = 48_000  # one document in 40 is padded past this many bytes (the size-limit tests)


def attach_documents(bills: list[Bill], seed: int) -> None:
    """Give about `DOCUMENT_SHARE` of the bills one attached PDF (deterministic for a seed)."""
    rng = random.Random(f"documents-{seed}")
    counter = 0
    for bill in bills:
        if rng.random() >= DOCUMENT_SHARE:
            continue
        counter += 1
        padding = OVERSIZED_PAD if rng.random() < 0.025 else rng.randrange(200, 3000)
        bill.documents.append(
            BillDocument(f"{DOCUMENT_ID_PREFIX}{counter:07d}", f"{bill.bill_number}-invoice.pdf", padding)
        )


def pdf_bytes(bill: Bill, document: BillDocument) -> bytes:
    """The PDF the Zoho sandbox serves for `document` of `bill`."""
    return _render(bill, document, document.padding)


def _render(bill: Bill, document: BillDocument, pad: int) -> bytes:
    text = f"Invoice {bill.bill_number} dated {bill.date.isoformat()} ({document.document_id})"
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET\n% {'x' * pad}\n".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"endstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
