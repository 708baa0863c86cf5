"""The domain: leads, the agreement and business time. Imports nothing from infrastructure."""
