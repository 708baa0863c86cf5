"""Imports from the CRMs teams already have (SPEC §8, `import --from hubspot|salesforce`).

A map of the package:
- `hubspot` reads a HubSpot contacts export, `salesforce` Salesforce's Lead, LeadHistory and
  OpportunityHistory exports; each turns what its CRM says into handoff's steps (`Step`),
  each with the file and line that said it, and refuses what it cannot map, by line.
- `steps` is what both share: reading a CSV export with its line numbers and its instants,
  putting each lead's steps in order (ties in the same second broken by the lifecycle),
  recording the stages a CRM skipped at the instant of the next one, and handing the
  resulting rows to the one importer (`handoff.importer.Importer`), which checks and records
  them exactly as it does a handoff CSV: all or nothing, re-imports skipped and counted.
"""

from __future__ import annotations

from handoff.crm import hubspot, salesforce
from handoff.crm.steps import CrmImport, Reading, import_reading

__all__ = ["CrmImport", "Reading", "export_named_by", "import_reading"]


def export_named_by(header: list[str]) -> str | None:
    """The CRM (`--from`'s value) whose export a header's column names are, if any."""
    names = [name.casefold() for name in header]
    if any(key.casefold() in names for key in hubspot.KEY):
        return "hubspot"
    if salesforce.kind_of(names) is not None:
        return "salesforce"
    return None
