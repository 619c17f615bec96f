"""The promise-critical modules of ``make mutants`` and the quick tests that exercise each
(data only; the runner is ``run_mutants``)."""

from __future__ import annotations

# All of ``tests/unit/supervisor``, file by file so that the quick tests of the tree come
# first and the property tests (two thirds of the time) last: pytest keeps a directory in
# name order. A new file there is added here too.
_SUPERVISION_SUITE = tuple(
    f"tests/unit/supervisor/test_{name}.py"
    for name in (
        "supervisor_core",
        "supervisor_containment",
        "supervisor_stop",
        "supervisor_stats",
        "supervisor_report",
        "intensity_boundary",
        "supervisor_intensity",
        "supervisor_backoff",
        "supervisor_history",
        "supervisor_faults",
        "supervisor_bus",
        "supervisor_exports",
        "supervisor_properties",
    )
)

MODULES: dict[str, tuple[str, ...]] = {
    # the small ones first
    "health": (
        "tests/unit/test_health.py",
        "tests/unit/web/test_web_status_routes.py",
        "tests/unit/ops/test_health_table.py",
        "tests/unit/ops/test_watchdog_actor.py",
    ),
    "supervisor/_intensity": (
        "tests/unit/supervisor/test_intensity_boundary.py",
        "tests/unit/supervisor/test_supervisor_intensity.py",
    ),
    "spool/machine": (
        "tests/unit/spool/test_spool_machine.py",
        "tests/integration/test_spool_jobs.py",
    ),
    "wix/webhook": (
        "tests/unit/wix/test_wix_webhook.py",
        "tests/unit/wix/test_wix_webhook_hostile.py",
        "tests/unit/wix/test_wix_webhook_jws.py",
        "tests/unit/wix/test_wix_webhook_edges.py",
    ),
    "printing/protocol": (
        "tests/unit/printing/test_printing_protocol.py",
        "tests/unit/printing",
    ),
    "supervisor/_backoff": (
        "tests/unit/supervisor/test_supervisor_backoff.py",
        "tests/unit/supervisor/test_supervisor_exports.py",
    ),
    "supervisor/_outcome": (
        "tests/unit/supervisor/test_supervisor_containment.py",
        "tests/unit/supervisor/test_supervisor_core.py",
    ),
    "supervisor/_history": ("tests/unit/supervisor/test_supervisor_history.py",),
    "supervisor/bus": ("tests/unit/supervisor/test_supervisor_bus.py",),
    "supervisor/faults": (
        "tests/unit/supervisor/test_supervisor_faults.py",
        "tests/unit/supervisor/test_supervisor_exports.py",
    ),
    "supervisor/_stats": ("tests/unit/supervisor/test_supervisor_stats.py",),
    "supervisor/_child": _SUPERVISION_SUITE,
    "supervisor/_supervisor": _SUPERVISION_SUITE,
    "supervisor/_nesting": ("tests/unit/supervisor",),
    "supervisor/_events": ("tests/unit/supervisor",),
    "supervisor/_handle": ("tests/unit/supervisor",),
    "supervisor/_report": ("tests/unit/supervisor",),
    "supervisor/_spec": ("tests/unit/supervisor",),
    "spool/schema": (
        "tests/unit/spool/test_spool_schema.py",
        # the data migrations: waiting mails into deliveries, alerts' facts, old pruning
        "tests/integration/test_spool_alerts.py::test_migration_turns_waiting_mails_into_mail_deliveries",
        "tests/integration/test_spool_slips.py::test_alert_slips_migration_keeps_alerts_and_adds_their_facts",
        "tests/integration/test_spool_storage.py",
        "tests/integration/test_spool_tombstones.py",  # also a backup's snapshot stamp
    ),
    "spool/db": (
        "tests/integration/test_spool_guarantees.py",
        "tests/integration/test_spool_storage.py",
        "tests/integration/test_spool_misc.py::test_job_history_newest_first",  # record_event
        "tests/integration/test_spool_jobs.py",  # job_from_row, fetch_job
    ),
    "spool/db_jobs": (
        "tests/integration/test_spool_jobs.py",
        "tests/integration/test_spool_slips.py",  # order tickets before alert slips
        "tests/integration/test_spool_misc.py::test_queue_stats_age_on_the_clock",
        "tests/integration/test_spool_misc.py::test_job_history_newest_first",
    ),
    "spool/db_orders": (
        "tests/integration/test_spool_guarantees.py",
        "tests/integration/test_spool_schedule.py",  # held pre-orders, the payment method
        "tests/integration/test_spool_orders.py",
        "tests/integration/test_spool_accept.py",
        "tests/integration/test_spool_slips.py::test_slips_are_no_orders",
        "tests/integration/test_spool_slips.py::test_a_slip_job_is_the_first_revision_of_its_row",
        "tests/integration/test_spool_misc.py::test_unprinted_orders_after_their_grace",
        "tests/integration/test_spool_misc.py"
        "::test_recent_orders_show_ticket_states_and_no_customer_details",
        "tests/integration/test_spool_misc.py::test_job_history_newest_first",
        "tests/integration/test_spool_tombstones.py",  # revisions of buried orders
        "tests/integration/test_spool_jobs.py",  # reprints
    ),
    "spool/db_memory": (
        "tests/integration/test_spool_tombstones.py",
        "tests/integration/test_spool_accept.py",  # fingerprints and targets of a stored order
        "tests/integration/test_spool_alerts.py",  # pruning sent alerts
        "tests/integration/test_spool_slips.py",  # pruning alert slips
        "tests/integration/test_spool_misc.py",  # pruning webhook ids
    ),
    "spool/db_misc": (
        "tests/integration/test_spool_misc.py",
        "tests/integration/test_spool_storage.py",
    ),
    "spool/revisions": (
        "tests/unit/spool/test_spool_revisions.py",
        "tests/integration/test_spool_schedule.py",  # held pre-orders, payment method
        "tests/integration/test_spool_accept.py",
    ),
    "spool/horizons": (
        "tests/integration/test_spool_tombstones.py",
        "tests/unit/spool/test_spool_revisions.py",
        "tests/integration/test_spool_storage.py",
        "tests/integration/test_spool_misc.py",  # the cursors table
        "tests/integration/test_backup_restore.py",
    ),
    "spool/client": (
        "tests/integration/test_spool_client.py",
        "tests/integration/test_spool_storage.py",  # paused intake, unwritable disk, closed
        "tests/integration/test_spool_orders.py",
        "tests/integration/test_spool_slips.py",
        "tests/integration/test_spool_alerts.py",
        "tests/integration/test_spool_tombstones.py",  # prune, known revisions, quarantine
        "tests/integration/test_spool_jobs.py",
        "tests/integration/test_spool_misc.py",
    ),
    "spool/types": (
        "tests/unit/spool",
        "tests/integration/test_spool_slips.py",  # the slip's kind and source
        "tests/integration/test_spool_accept.py",
        "tests/integration/test_spool_jobs.py",
        "tests/integration/test_spool_misc.py::test_queue_stats_age_on_the_clock",
        "tests/integration/test_spool_misc.py::test_recent_orders_show_ticket_states_and_no_customer_details",
        "tests/integration/test_spool_misc.py::test_statistics",
        "tests/integration/test_spool_storage.py::test_paused_intake_still_prints_the_tickets_of_orders_already_held",
        "tests/integration/test_spool_tombstones.py::test_a_quarantined_order_is_kept_once_and_known_at_its_revision",
        "tests/integration/test_spool_alerts.py::test_an_alert_without_facts_is_kept_with_none",
    ),
    "spool/db_alerts": (
        "tests/integration/test_spool_alerts.py",
        # the alert's facts, read back after the migration that added them
        "tests/integration/test_spool_slips.py::test_alert_slips_migration_keeps_alerts_and_adds_their_facts",
    ),
    "spool/db_slips": ("tests/integration/test_spool_slips.py",),
    "spool/lock": (
        "tests/integration/test_backup_restore.py",
        "tests/integration/test_spool_storage.py",
    ),
    "spool/reserve": (
        "tests/unit/spool/test_spool_storage_verdict.py",
        "tests/integration/test_spool_storage.py",
    ),
    "spool/storage": (
        "tests/unit/spool/test_spool_storage_verdict.py",
        "tests/integration/test_spool_storage.py",
    ),
    # The service-wide intake tests (test_intake_edges, _service, _real_shapes: 50 s a run)
    # kill nothing this file does not: it calls intake as the poller, webhook and scheduler do.
    "actors/intake": ("tests/integration/test_intake_contract.py",),
    "actors/fetcher": (
        "tests/integration/test_poll_mark_order.py",
        "tests/integration/test_fetcher_progress.py",
        "tests/integration/test_intake_service.py",
    ),
    "actors/printer": (
        "tests/integration/test_tree_restarts.py",
        "tests/integration/test_status_bits.py",
        "tests/integration/test_printing_service.py",
        "tests/integration/test_printing_attention.py",  # set aside after n tries, proof warning
        "tests/integration/test_printer_poison.py",  # render failures, print latency
        "tests/integration/test_dashboard_actions.py",  # a pause outlasts a restart
        # an alert slip printed (the whole file takes a minute)
        "tests/integration/test_alert_slips_service.py"
        "::test_order_tickets_waiting_at_the_counter_print_before_the_slip",
        "tests/integration/test_printer_pacing.py",  # retry and probe rhythm, actor name
        "tests/integration/test_printer_late_proof.py",  # ids that come back late
        "tests/unit/printing/test_printer_retry_delay.py",  # the cap of the doublings
    ),
    "printing/network": (
        "tests/integration/test_printing_network_edges.py",
        "tests/integration/test_printing_network.py",
        "tests/integration/test_printing_truth.py",
        "tests/integration/test_printing_slow_proof.py",
        "tests/integration/test_printer_late_proof.py",  # a probe's late id wakes the actor
    ),
    "printing/proof": (
        "tests/integration/test_printing_slow_proof.py",
        "tests/integration/test_printing_truth.py",
    ),
}
"""Module (under ``src/wixprint``, no ``.py``) → the quick tests that exercise it, fastest
first (the runner stops at the first failure)."""
