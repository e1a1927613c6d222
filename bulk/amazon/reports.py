"""Reports API 2021-06-30 through the one door to Amazon: ask, wait, download.

A restricted report type's document is downloaded with a Restricted Data Token from the
Tokens API (createRestrictedDataToken for that document's path; docs/amazon.md, "Roles and
restricted data"). Only `[amazon] restricted_data = true` asks for one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from sp_api.api import Reports, Tokens

from bulk.access import REPORT_ROLES, RESTRICTED_REPORTS
from bulk.amazon.lookup import REPORT_GIVE_UP_SECONDS, REPORT_POLL_SECONDS
from bulk.amazon.protocol import AccessDeniedError
from bulk.errors import AmazonError

T = TypeVar("T")


class Door(Protocol):
    """AmazonAccount._call: one operation through the rate limit and bounded retries."""

    def __call__(self, operation: str, fn: Callable[[], T], idempotent: bool = True) -> T: ...


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ReportReader:
    """Creates a report, polls it until Amazon has built it, and downloads its document."""

    def __init__(
        self,
        call: Door,
        reports: Reports,
        tokens: Tokens,
        poll_interval: float,
        poll_sleep: Callable[[float], None],
    ) -> None:
        self._call = call
        self.reports = reports
        self.tokens = tokens
        self.poll_interval = poll_interval
        self.poll_sleep = poll_sleep

    def document(
        self,
        report_type: str,
        marketplace_ids: Sequence[str],
        progress: Callable[[str], None],
        **extra: Any,
    ) -> str:
        """The report's text; a 403 names the role the report type needs (bulk.access)."""
        try:
            return self._document(report_type, marketplace_ids, progress, **extra)
        except AccessDeniedError as e:
            role = REPORT_ROLES.get(report_type, ("",))[0]
            raise AccessDeniedError(
                f"{e}; report {report_type} needs Amazon's role {role}"
            ) from None

    def _document(
        self,
        report_type: str,
        marketplace_ids: Sequence[str],
        progress: Callable[[str], None],
        **extra: Any,
    ) -> str:
        res = self._call(
            "createReport",
            lambda: self.reports.create_report(
                reportType=report_type, marketplaceIds=list(marketplace_ids), **extra
            ),
        )
        report_id = str(res.payload["reportId"])
        interval = min(self.poll_interval, float(REPORT_POLL_SECONDS))
        waited = 0.0
        while True:
            res = self._call("getReport", lambda: self.reports.get_report(report_id))
            status = str(res.payload.get("processingStatus", ""))
            progress(status)
            if status == "DONE":
                break
            if status in ("CANCELLED", "FATAL"):
                raise AmazonError(
                    f"Amazon could not produce report {report_type} ({status}); "
                    "try again later or check Seller Central's Account Health page"
                )
            if waited > REPORT_GIVE_UP_SECONDS:
                raise AmazonError(
                    f"report {report_type} was not ready after "
                    f"{REPORT_GIVE_UP_SECONDS // 60} minutes; run again later"
                )
            self.poll_sleep(interval)
            waited += interval
        document_id = str(res.payload["reportDocumentId"])
        if report_type in RESTRICTED_REPORTS:
            return self._restricted_document(document_id)
        doc = self._call(
            "getReportDocument",
            lambda: self.reports.get_report_document(document_id, download=True),
        )
        return str(doc.payload.get("document", ""))

    def _restricted_document(self, document_id: str) -> str:
        """getReportDocument with a Restricted Data Token for exactly this document's path."""
        path = f"/reports/2021-06-30/documents/{document_id}"
        res = self._call(
            "createRestrictedDataToken",
            lambda: self.tokens.create_restricted_data_token(
                restrictedResources=[{"method": "GET", "path": path}]
            ),
        )
        token = str(res.payload.get("restrictedDataToken", ""))

        def download() -> Any:
            # The library sends `restricted_data_token` instead of the LWA token while set.
            self.reports.restricted_data_token = token
            try:
                return self.reports.get_report_document(document_id, download=True)
            finally:
                self.reports.restricted_data_token = None

        doc = self._call("getReportDocument", download)
        return str(doc.payload.get("document", ""))
