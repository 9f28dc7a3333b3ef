"""The sync engine: Zoho Books bills, vendors and payments into ServiceNow AP staging, exactly once.

Data flows one way: pull -> normalize -> map -> validate -> stage -> audit. Callers use the facade::

    from zbsn.core.engine.service import EngineService
    service = EngineService(db_engine, zoho_factory, servicenow_factory, clock=None)
    # zoho_factory(profile: SyncProfile) -> ZohoSource (e.g. ZohoBooksClient), sync or async;
    # servicenow_factory(profile) -> ServiceNowTarget (e.g. ServiceNowClient); aclose() is called after use.

    await service.preview(profile_id, date_start=None, date_end=None) -> PreviewReport  # stages nothing
    await service.run(profile_id, mode="changed"|"full", trigger="manual", events=sink, cancel=event)
        -> RunSummary            # raises lock.RunLocked when the profile is already running
    await service.process_webhook_bill(profile_id, bill_payload, event_type, events=None) -> RunSummary
    await service.process_webhook_payment(profile_id, payment_payload, event_type, events=None) -> RunSummary
    await service.replay(profile_id, audit_ids=None, where=ReplayFilter(...), events=None) -> RunSummary
    await service.refresh_statuses(profile_id, events=None) -> RunSummary  # the invoices in ServiceNow
    await service.reconcile(profile_id, date_start=None, date_end=None) -> ReconciliationReport
    service.mappings(profile_id) -> Mappings (cost_centers, gl_accounts, suppliers; blocked_bills per row)
    await service.refresh_mappings(profile_id) -> Mappings
    await service.set_override(profile_id, "cost_center"|"gl_account"|"supplier", zoho_key, sn_value)
    service.clear_override(profile_id, kind, zoho_key)

Modules:
- `service`: the facade above. `runner`: `SyncRunner` (client factories, pacing options) and the order of a
  sync run's stages. `session`: `RunSession`, one run (lock lease and heartbeat, audit writer, counters,
  events, recorded outcome `run_outcome`); stages and replay use only its public methods.
- `stages/`: one module per stage: `preflight` (the instance checked, once per run, before anything is
  staged), `pending` (resend), `masters`, `suppliers`, `bills`, `payments`, `deletions` (a full sweep's
  deleted bills and vendor payments), `webhook`, `webhook_payment`, `statuses` (last: the staged invoices
  followed in ServiceNow, and posted as the ERP); `bill_entries` (a bill's entry; a void or delete is
  flagged for the AP team, never written).
- `sn_status` (a follow-up read -> a ServiceNow status, and who can fix what holds it) and `sn_status_store`
  (which records a refresh follows; storing statuses and their history).
- `incremental`: the shape bills and payments share (cursor, list call, detail call, change marker, entry
  builder) and the stage that walks one; `details` (detail requests, a few at once), `write_pipeline` (batch
  writes in flight), `unchanged` (the one "unchanged" rule, also the preview's), `cursors`, `sweeps` (when
  a stage reads its whole list: deletions are only visible then).
- `bill_lifecycle` (which Zoho statuses are staged; waiting for approval, or flagged when sent back to draft
  after staging) and `bill_changes` (edited after approval, lines removed: flagged, never overwritten).
- `history`: the engine's reads of its audit log (known records, last staged header, pending, staged,
  replay selection, blocked-bill counts). `audit_writer` (+ `audit_problems`, `staging_batch`): the
  exactly-once writes. `entries`: audit entries per kind of record.
- `ports` (what the clients must offer; RunContext, `run_context`), `matching` + `masters` + `alignment` +
  `mapping_index` (mapping rules and the mapping tables; `master_scope` keeps the ServiceNow records of the
  profile's legal entity and ERP source), `transform` (bill -> invoice staging rows, with
  validation; `transform_payments`, `transform_suppliers`, `staging_values`; `columns` names the columns;
  what an invoice needs beside its rows: `fx_rates` (the FX rate staged before a foreign-currency invoice),
  `supplier_legal_entity` (the supplier's legal entity mapping), `business_owner`, `payment_terms`),
  `preview` (+ `invoice_facts`: what the console's invoice pane shows beside the rows), `replay`,
  `reconcile`, `lock`, `collector` (GC threshold during a run), `telemetry` + `events`.
Problems: `problems.ErrorCode` and `Problem` (code, message, subject); a failed record's problems are stored
structured (AuditProblem: code and subject each) beside its error_code/error_message, so the preview, the
blocked-bill counts and the mapping screen count (code, subject) pairs, never message text.

Exactly once: an audit row is committed `pending` with the mapped payload BEFORE each ServiceNow write and
updated AFTER it (plus an AuditAttempt per attempt); staging coalesces on the external key `ZB-<org>-<bill>`;
pending rows are resent first by the next run. A crash at any point leaves no duplicate and no gap.
"""
