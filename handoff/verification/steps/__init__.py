"""Step definitions, one module per feature (`common` for the steps they all share)."""
