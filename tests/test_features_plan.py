"""The reverse funnel as the agreement states it, from features/plan.feature.

The steps are `handoff.verification.steps.plan`, which `handoff sla verify` runs too.
"""

from __future__ import annotations

from pytest_bdd import scenarios

from handoff.verification.steps.plan import *  # noqa: F403  (the steps of these features)
from handoff.verification.steps.plan import FEATURES

scenarios(*FEATURES)
