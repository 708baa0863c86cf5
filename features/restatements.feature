Feature: No silent rewriting of the past
  A revised agreement changes the promises from the day it takes effect, but a figure
  both teams have already seen must not change behind their backs: a handoff is judged
  by the terms that were in force when it was recorded. Only a revision that both sides
  sign as a restatement, with a reason, judges past handoffs again; every report then
  names it, and a report replayed from before it shows the figures as first reported.

  The stories take place in the week of Monday 2 March 2026, in Chicago time. The 2026
  growth agreement gives sales 8 business hours (09:00 to 17:00) to decide a handoff;
  "the revision" is the same agreement from 1 March 2026 with 40 business hours instead,
  proposed by Maria (marketing) and signed by Sam (sales). "A handed lead" is one that Li
  handed to Sam on Monday at 10:00 (due on Tuesday at 10:00), recorded on Monday at 13:00.

  Background:
    Given it is now 1 March 2026 at 08:00
    And the 2026 growth agreement is in force
    And it is now Monday at 13:00

  Rule: A revision judges the handoffs recorded after it; earlier ones keep their terms
    Sam accepting a lead a day late stays a breach when a laxer agreement is signed
    afterwards: otherwise either side could sign its way out of a bad month.

    Example: A laxer revision does not excuse a late decision already recorded
      Given a handed lead "acme"
      And it is now Wednesday at 12:00
      When Sam accepts the lead on Wednesday at 10:00
      And it is now Thursday at 09:00
      And Maria and Sam sign the revision
      Then the March 2026 report counts 1 decided late and 0 decided in time
      And the March 2026 report names no restatement

    Example: A handoff recorded after the revision is judged by it
      Given Maria and Sam sign the revision
      And a handed lead "acme"
      And it is now Wednesday at 12:00
      When Sam accepts the lead on Wednesday at 10:00
      Then the March 2026 report counts 0 decided late and 1 decided in time

  Rule: A restatement, signed by both sides with a reason, judges past handoffs again
    Sometimes the old terms were wrong: both sides may agree to restate the past, and
    every report says who restated what, when and why.

    Example: A restatement changes a past verdict, and the report names it
      Given a handed lead "acme"
      And it is now Wednesday at 12:00
      When Sam accepts the lead on Wednesday at 10:00
      And it is now Thursday at 09:00
      And Maria and Sam sign the revision as a restatement because "8 hours ignored the trade fair"
      Then the March 2026 report counts 0 decided late and 1 decided in time
      And the March 2026 report names the restatement signed by Sam because "8 hours ignored the trade fair"
      And the March 2026 report as of Wednesday at 17:00 counts 1 decided late and 0 decided in time
      And the March 2026 report as of Wednesday at 17:00 names no restatement

    Example: A restatement is signed for the reason it was proposed with, or not at all
      A restatement has one reason, the one both sides signed: a signature giving another
      would put one side's reason in the record over the other's.
      Given a handed lead "acme"
      And Maria proposes the revision as a restatement because "8 hours ignored the trade fair"
      When Sam signs the revision as a restatement because "the fair closed the office"
      Then it is refused, saying "proposed as a restatement because “8 hours ignored the trade fair”"
      And the revision is not in force
