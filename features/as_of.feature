Feature: Replaying a past report
  Every report can be read again exactly as it stood at a past instant, for the
  monthly review and for an audit: only events recorded by then count, and
  pending or overdue is judged at that instant.

  Background:
    Given it is now 1 March 2026 at 08:00
    And the 2026 growth agreement without a team is in force

  Rule: A report as of an instant ignores what was recorded after it
    Paperwork entered late changes March after the fact; what the March report said
    on April 2nd must still be the answer to "what did we see on April 2nd".

    Example: A March win entered on April 5th
      Given it is now 30 March 2026 at 12:00
      And a lead "acme" with a proposal of 30000
      When the win of 31 March 2026 at 16:00 is recorded on 5 April 2026 at 10:00
      Then the March 2026 report as of 2 April 2026 at 09:00 counts 0 won
      And the March 2026 report counts 1 won

  Rule: Pending and overdue are judged at the as-of instant
    The replay shows the handoff as it was then: overdue, not yet decided late.

    Example: A late acceptance was an overdue handoff the day before
      Given it is now Monday at 10:05
      And a handed lead "acme"
      When the acceptance of Wednesday at 11:00 is recorded on Wednesday at 11:00
      Then the March 2026 report as of Tuesday at 12:00 reads 1 overdue
      And the March 2026 report reads 1 decided late

  Rule: A report is replayed only as of an instant that has passed
    A report "as of" a day still to come would judge as overdue the handoffs that
    are pending today: a forecast nobody was shown, not a replay.

    Example: The March report asked as of a day still to come
      Given it is now Monday at 10:05
      And a handed lead "acme"
      When the March 2026 report is asked for as of Friday at 12:00
      Then it is refused, saying "is in the future"
