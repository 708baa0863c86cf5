Feature: Follow-up and speed to lead
  Once sales accepts a lead, the agreement may ask for a number of follow-up attempts
  within some days, so that no accepted lead goes cold; and both teams watch how soon
  sales first contacts a lead after marketing hands it over ("speed to lead").

  The stories take place in March 2026 under the 2026 growth agreement, here with a
  follow-up clause: 2 attempts within 7 days of the acceptance. "An accepted lead" was
  handed to Sam on Monday 2 March at 10:00 and accepted by him at 11:00.

  Background:
    Given it is now 1 March 2026 at 08:00
    And the 2026 growth agreement asks for 2 follow-up attempts within 7 days

  Rule: An accepted lead gets the agreed follow-up within the days after its acceptance
    The follow-up is met by the agreed number of contacts, or by a proposal, within that
    many calendar days after the acceptance. It is pending while the window is open, and
    missed once it has closed; compliance is met / (met + missed). The days are the
    agreement's calendar days: a week after Monday at 11:00 ends the next Monday at 11:00,
    local time, even when the clocks change in between.

    Example: Two calls within the week meet the follow-up
      Given it is now Monday 16 March 2026 at 09:00
      And an accepted lead "acme"
      When Sam contacts the lead by phone on Tuesday at 10:00
      And Sam contacts the lead by email on Thursday at 10:00
      Then the March 2026 follow-up reads 1 accepted, 1 met, 0 missed, 0 pending and compliance 100%

    Example: A proposal within the week meets it too
      Given it is now Monday 16 March 2026 at 09:00
      And a lead "acme" with a proposal of 30000
      Then the March 2026 follow-up reads 1 met and compliance 100%

    Example: One call is not enough once the week is over
      Given it is now Monday 16 March 2026 at 09:00
      And an accepted lead "acme"
      When Sam contacts the lead by phone on Tuesday at 10:00
      Then the March 2026 follow-up reads 0 met, 1 missed and compliance 0%

    Example: The clocks go forward during the week, and the week still ends at 11:00
      Given it is now Monday 16 March 2026 at 09:00
      And an accepted lead "acme"
      When Sam contacts the lead by phone on Tuesday at 10:00
      And Sam contacts the lead by email on Monday 9 March 2026 at 11:30
      Then the March 2026 follow-up reads 0 met, 1 missed and compliance 0%

    Example: While the week is open, the follow-up is pending
      Given it is now Thursday at 12:00
      And an accepted lead "acme"
      When Sam contacts the lead by phone on Tuesday at 10:00
      Then the March 2026 follow-up reads 1 pending, 0 missed and compliance null

  Rule: Speed to lead is the business hours from a handoff to the first contact after it
    Only a contact made before the lead is rejected or handed again counts for that
    handoff; a handoff not contacted yet has no speed. The report gives the median and
    the 90th percentile (the value that 90 % of the handoffs reach or beat).

    Example: Sam calls an hour and a half after the handoff
      Given it is now Tuesday at 09:00
      And a handed lead "acme"
      When Sam contacts the lead by phone on Monday at 11:30
      Then the March 2026 speed to lead reads 1 contacted, median 1.50 hours and 90th percentile 1.50 hours

    Example: A lead sent back before any call is timed from its new handoff
      Given it is now Wednesday at 12:00
      And a rejected lead "acme"
      When Maria requalifies the lead on Tuesday at 09:00
      And Li hands the lead again to Ola on Tuesday at 10:00
      And Ola contacts the lead by phone on Wednesday at 10:00
      Then the March 2026 speed to lead reads 1 contacted, median 8.00 hours and 90th percentile 8.00 hours

  Rule: Follow-up and speed to lead are measured by the terms that judge the lead
    As with the decision window (see "No silent rewriting of the past"), a revision
    signed later does not change how a handoff or an acceptance already recorded is
    measured, unless both sides sign it as a restatement: otherwise a revision of the
    office hours or of the follow-up clause would rewrite figures both teams have seen.

    Example: Later office hours do not change the speed of a call already recorded
      Given it is now Tuesday at 09:00
      And a handed lead "acme"
      When Sam contacts the lead by phone on Monday at 11:30
      And it is now Tuesday at 12:00
      And the agreement is revised to open from 11:00 to 17:00
      Then the March 2026 speed to lead reads 1 contacted, median 1.50 hours and 90th percentile 1.50 hours

    Example: A restatement of the office hours times that call again
      Given it is now Tuesday at 09:00
      And a handed lead "acme"
      When Sam contacts the lead by phone on Monday at 11:30
      And it is now Tuesday at 12:00
      And the agreement is revised to open from 11:00 to 17:00, as a restatement because "the office opened late all month"
      Then the March 2026 speed to lead reads 1 contacted, median 0.50 hours and 90th percentile 0.50 hours

    Example: A laxer follow-up signed later does not meet a follow-up already missed
      Given it is now Monday 16 March 2026 at 09:00
      And an accepted lead "acme"
      When Sam contacts the lead by phone on Tuesday at 10:00
      And it is now Monday 16 March 2026 at 10:00
      And the agreement is revised to ask for 1 follow-up attempt within 7 days
      Then the March 2026 follow-up reads 0 met, 1 missed and compliance 0%

    Example: A follow-up clause restated for the past judges it again
      Given it is now Monday 16 March 2026 at 09:00
      And an accepted lead "acme"
      When Sam contacts the lead by phone on Tuesday at 10:00
      And it is now Monday 16 March 2026 at 10:00
      And the agreement is revised to ask for 1 follow-up attempt within 7 days, as a restatement because "one call was the practice"
      Then the March 2026 follow-up reads 1 met, 0 missed and compliance 100%
