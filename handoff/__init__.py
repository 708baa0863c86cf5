"""handoff: the shared, auditable record of the marketing-sales service level agreement."""
