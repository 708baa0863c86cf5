"""The agreement's clauses in Gherkin, installed as `handoff.features` (data only)."""
