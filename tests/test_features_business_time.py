"""Business time and due instants, from features/business_time.feature.

The steps are `handoff.verification.steps.business_time`, which `handoff sla verify` runs too.
"""

from __future__ import annotations

from pytest_bdd import scenarios

from handoff.verification.steps.business_time import *  # noqa: F403  (the steps of these features)
from handoff.verification.steps.business_time import FEATURES

scenarios(*FEATURES)
