"""The protocol's examples as an installed check: what `handoff sla verify` runs.

- `world`: the story world of the features (the 2026 growth agreement shipped with them,
  the week of Monday 2 March 2026, Maria, Li, Sam and Ola, a test clock);
- `steps/`: the step definitions binding each feature's sentences to the real application
  (tests/ binds the same modules with pytest-bdd, on SQLite and PostgreSQL);
- `protocol`: the features read as clauses (each `Rule:` with its reason and examples);
- `runner`: runs every example against the installed version and tallies them per clause.
"""
