Feature: Reverse funnel plan
  The agreement states a revenue goal and the rate each side promises at each stage.
  The plan works back from the goal to what each stage must reach, so that both
  sides see in the monthly review how far they are from the numbers they signed.

  Rule: Each stage is the stage below it divided by its rate, rounded up
    Deals, proposals and leads come whole, and a plan that falls one short of the
    goal is no plan: every step rounds up.

    Example: A 1.2M half-year goal with 30k deals
      Given an agreement from 2026-01-01 to 2026-06-30 with a revenue goal of 1200000 and an average deal of 30000
      And its rates are visit_to_captured 0.02, captured_to_qualified 0.30, qualified_to_handed 0.90, handed_to_accepted 0.80, accepted_to_proposal 0.40, proposal_to_won 0.35
      When the plan is drawn up
      Then the whole period needs 40 won, 115 proposal, 288 accepted, 360 handed, 400 qualified, 1334 captured, 66700 visits

    Example: Rates are read as the decimals written, so 480 / 0.8 is 600
      Given an agreement from 2026-01-01 to 2026-12-31 with a revenue goal of 480 and an average deal of 1
      And its rates are handed_to_accepted 0.8
      When the plan is drawn up
      Then the whole period needs 480 accepted, 600 handed

  Rule: A rate the agreement does not state counts as 1
    An agreement may promise only some rates; the stages it says nothing about
    need as many as the stage below them.

    Example: An agreement with a goal and no rates
      Given an agreement from 2026-01-01 to 2026-06-30 with a revenue goal of 100000 and an average deal of 30000
      When the plan is drawn up
      Then the whole period needs 4 won, 4 proposal, 4 accepted, 4 handed, 4 qualified, 4 captured, 4 visits

  Rule: Each month gets the goal prorated by its days, then the same chain
    The monthly joint review compares a month with its share of the goal; a month
    cut by the start or end of the agreement gets only its days.

    Example: March's share of a six-month goal
      Given an agreement from 2026-01-01 to 2026-06-30 with a revenue goal of 1200000 and an average deal of 30000
      And its rates are proposal_to_won 0.35
      When the plan is drawn up
      Then 2026-03 has 31 days, a revenue goal of 205524.86 and needs 7 won, 20 proposal

    Example: An agreement that starts mid-month
      Given an agreement from 2026-01-15 to 2026-03-31 with a revenue goal of 760000 and an average deal of 10000
      When the plan is drawn up
      Then 2026-01 has 17 days, a revenue goal of 170000 and needs 17 won

    Example: A month's deals are counted from its goal to the cent, as the review shows it
      Given an agreement from 2026-01-01 to 2026-12-31 with a revenue goal of 9183871 and an average deal of 30000
      When the plan is drawn up
      Then 2026-01 has 31 days, a revenue goal of 780000 and needs 26 won

  Rule: A report's targets count only the days an agreement is in force on
    The targets a report shows beside the actuals are the plan's, prorated to the
    report's period: the days after the agreement has ended carry no goal, as a
    month cut by its end gets only its days.

    Example: A period that runs past the end of a half-year agreement
      Given an agreement from 2026-01-01 to 2026-06-30 with a revenue goal of 1200000 and an average deal of 30000
      And its rates are proposal_to_won 0.35
      When the targets of a report from 2026-06-15 to 2026-07-15 are read
      Then they hold a revenue goal of 106077.35 and need 4 won, 12 proposal

  Rule: A report over a revision gets each version's targets for the days it is in force
    The agreement is revised when the numbers say so. A period that spans a revision is
    held to each version's goal for the days that version is in force, summed, and to
    each rate both sides promised, averaged over those days: the first day's version
    alone would hold the period to a goal both sides have since changed.

    Example: A month that straddles the revision of a half-year agreement
      Given an agreement from 2026-01-01 to 2026-06-30 with a revenue goal of 1200000 and an average deal of 30000
      And its rates are proposal_to_won 0.35
      And a revision from 2026-07-01 to 2026-12-31 with a revenue goal of 2400000 and an average deal of 30000
      And its rates are proposal_to_won 0.40
      When the targets of a report from 2026-06-16 to 2026-07-15 are read
      Then they hold a revenue goal of 295099.69 and need 11 won, 30 proposal
      And they hold a proposal_to_won rate of 0.375
