"""Jobs of a PostgreSQL deployment: many orgs, many workers on any host, one database (issue 18).

procrastinate keeps the jobs in zbsn's own PostgreSQL database (its schema is applied by migration 0006):

- `app`: `job_app(...)`, the procrastinate App with zbsn's tasks and periodic tasks registered.
- `tasks`: what each job does, over a worker's `Services`: a profile's sync, replay and webhook inbox; the
  periodic dispatch of due schedules (replacing the in-process scheduler) and the recovery of the jobs of a
  worker that died.
- `queue`: `JobQueue`, the enqueue side (`zbsn serve` for webhooks, `zbsn sync --enqueue`, the dispatch):
  every job of a profile carries the lock `profile:<id>`, so no two workers ever work one profile at once
  (the run's own database lock, `engine/lock.py`, stays as the safety net), and a sync or an inbox drain is
  queued at most once per profile (a queueing lock).
- `worker`: `run_worker`, one worker process (`zbsn worker`), with graceful shutdown.

SQLite deployments queue nothing: `zbsn serve` keeps its in-process scheduler and inbox processor.
"""
