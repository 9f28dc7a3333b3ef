"""The stages of a run, one module each, all driving a `RunSession` through its public methods.

`pending` (rows an interrupted run left pending, resent first), `masters` (cost centers and GL accounts
aligned), `suppliers` (vendor contacts matched, new suppliers staged when allowed), `bills` and `payments`
(the two incrementally read entities, `incremental.IncrementalEntity`), `deletions` (a full sweep's
cancellations of bills gone from Zoho), `webhook` (one bill a Zoho webhook carried). `bill_entries` builds the
bill entries that need the run's history (cancellations).
"""
