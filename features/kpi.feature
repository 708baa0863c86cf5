Feature: KPIs for a period
  Marketing and sales review the same numbers, rebuilt from the events of every lead.
  Each report names its basis: flow counts what happened in the period, cohort
  follows the leads captured in it to wherever they went.

  Background:
    Given the 2026 growth agreement without a team is in force

  Rule: In flow, every event in the period counts, so a lead handed twice counts twice
    A recycled lead was real work for both teams each time it was handed; the cohort
    asks a different question (what became of the leads) and counts the lead once.

    Example: A recycled lead in flow and in cohort
      Given a rejected lead "acme"
      When maria requalifies the lead on Tuesday at 09:00
      And li hands the lead again to ola on Tuesday at 09:30
      Then the March 2026 report counts 2 handed and 1 rejected
      And the March 2026 report on the cohort basis counts 1 handed and 1 rejected

  Rule: The cohort follows the leads captured in the period, wherever their later events fall
    A March campaign is judged by what its leads became, even when they close in April.

    Example: A lead captured in March and won in April
      Given a lead "globex" with a proposal of 30000
      When sam wins the deal on 2 April 2026 at 11:00
      Then the March 2026 report on the cohort basis counts 1 captured and 1 won
      And the March 2026 report counts 0 won

  Rule: In flow, a re-sent proposal does not count again
    A proposal sent twice to the same lead is one opportunity; counting it twice would
    dilute proposal_to_won and flatter accepted_to_proposal.

    Example: A proposal sent twice counts once
      Given a lead "initech" with a proposal of 30000
      When sam sends a proposal of 28000 on Tuesday at 10:00
      Then the March 2026 report counts 1 proposal and accepted to proposal 100%

  Rule: A period is whole local days in the time zone of the agreement
    The team works in Chicago: a lead captured at 23:30 on March 31st belongs to
    March, although it is already April 1st in UTC.

    Example: A lead captured just before local midnight at month end
      When maria captures lead "night-owl" from "web" on 31 March 2026 at 23:30
      Then the March 2026 report counts 1 captured
      And the April 2026 report counts 0 captured
