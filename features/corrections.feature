Feature: Correcting the record
  People forget to record a step and mistype values. The record is never edited: every
  correction is an entry of its own, with who made it, when and why, so both teams and an
  auditor can see what was first written, what was corrected, and argue from the same
  facts. Reports use the corrected facts; a report replayed as of an instant before a
  correction shows exactly what it showed then.

  The stories take place in the week of Monday 2 March 2026, in Chicago time, under the
  2026 growth agreement (8 business hours to decide a handoff, 09:00 to 17:00). Maria and
  Li work in marketing, Sam and Ola in sales. "A handed lead" is one that Maria captured
  on Monday at 09:00, qualified at 09:30 and Li handed to Sam at 10:00; an accepted lead
  was then accepted by Sam at 11:00, sent a proposal of 30000 at 12:00 and won at 13:00
  (for 30000). Entries are numbered in the order they
  were recorded, as `handoff lead history` shows them: a handed lead's handoff is entry 3.
  The agreement was signed on 1 March; the lead's steps were recorded on Monday at 13:00.

  Background:
    Given it is now 1 March 2026 at 08:00
    And the 2026 growth agreement is in force
    And it is now Monday at 13:00

  Rule: A missed step is recorded at its true time, with a reason
    The SLA judges when sales decided, not when somebody remembered to type it: a
    forgotten acceptance recorded the next day still counts in time, but only when the
    one who records it says why, and only if the lead's steps, in the order they
    happened, still follow the protocol.

    Example: A forgotten acceptance is recorded the next day at its true time
      Given a handed lead "acme"
      And Sam contacted the lead by phone on Monday at 12:00
      And it is now Tuesday at 09:00
      When Sam records the acceptance of Monday at 11:00 because "accepted on the call, forgot to record it"
      Then the lead is accepted to Sam
      And the March 2026 report counts 1 accepted, 1 decided in time and 0 breached
      And the lead's history reads captured, qualified, handed, contacted and accepted

    Example: A step dated before the lead's latest step needs a reason
      Given a handed lead "acme"
      And Sam contacted the lead by phone on Monday at 12:00
      When Sam accepts the lead on Monday at 11:00
      Then it is refused, saying "give --why"
      And nothing is written

    Example: A missed step that breaks the protocol is refused
      Given an accepted lead "acme"
      And it is now Tuesday at 09:00
      When Sam records the win of Monday at 12:00 because "closed on the spot"
      Then it is refused, saying "won needs a lead in state proposal"
      And nothing is written

    Example: A step that could not have happened then is not told to give a reason
      Given a handed lead "acme"
      When Sam contacts the lead on Monday at 09:45
      Then it is refused, saying "contacted needs a lead in state handed, accepted or proposal"
      And nothing is written

  Rule: A wrong entry is voided or amended by a new entry, never edited
    A step recorded on the wrong lead, or with a mistyped value, is corrected by an entry
    that names it, says what changed and why; the original stays in the history for the
    audit, and every report uses the corrected facts from then on.

    Example: An acceptance recorded on the wrong lead is voided
      Given an accepted lead "acme"
      And it is now Monday at 15:00
      When Sam voids entry 4 because "accepted the wrong lead"
      Then the lead is handed to Sam
      And the lead's history reads captured, qualified, handed, accepted and voided
      And the March 2026 report counts 0 accepted, 1 pending and 0 decided in time

    Example: A mistyped amount is amended
      Given a won lead "acme"
      And it is now Monday at 15:00
      When Sam amends entry 6 to an amount of 25000 because "the discount was left out"
      Then the deal is won for 25000
      And the March 2026 report counts 1 won and revenue won 25000

    Example: A won deal keeps the amount it was won for when its proposal is amended
      A win recorded without an amount takes the proposal's, as it read then; the win is
      an entry of its own. Whoever amends the proposal is told that the win still holds
      the old amount, and amends the win too if the deal closed for the new one.
      Given a won lead "acme"
      And it is now Monday at 15:00
      When Sam amends entry 5 to an amount of 25000 because "the proposal had a typo"
      Then the deal is won for 30000
      And Sam is told that entry 6, the win, still holds 30000
      And the March 2026 report counts 1 won and revenue won 30000

    Example: A correction that would break the protocol is refused
      Given an accepted lead "acme"
      And it is now Monday at 15:00
      When Sam amends entry 4 to Monday at 09:45 because "typed the wrong hour"
      Then it is refused, saying "accepted needs a lead in state handed"
      And nothing is written

    Example: An amendment cannot hand a lead to the name reports give the leads nobody owns
      Given a handed lead "acme"
      And it is now Monday at 15:00
      When Li amends entry 3 to the owner Unassigned because "typed the wrong name"
      Then it is refused, saying "owner 'unassigned' is taken"
      And nothing is written

    Example: Only a step can be voided
      Given an accepted lead "acme"
      And it is now Monday at 15:00
      When Maria voids entry 1 because "not a real inquiry"
      Then it is refused, saying "the capture of a lead cannot be voided"
      And nothing is written

  Rule: Only someone who may record a step may correct it, where it stood and where it goes
    The agreement's team says who records each side's steps. Moving a step to an instant
    the agreement does not cover is a correction too: judged only where the step goes, it
    would let anyone outside the team take a step out of the figures the agreement judges.

    Example: Someone outside the team cannot move a step out of the agreement's reach
      Given a handed lead "acme"
      And it is now Monday at 15:00
      When Bob amends entry 1 to 31 December 2025 at 10:00 because "typed the wrong year"
      Then it is refused, saying "'bob' may not record captured"
      And nothing is written

    Example: Marketing moves its own capture before the agreement began
      Given a handed lead "acme"
      And it is now Monday at 15:00
      When Maria amends entry 1 to 31 December 2025 at 10:00 because "typed the wrong year"
      Then the lead's history reads captured, qualified, handed and amended

  Rule: A report replayed before a correction shows what it showed then
    The monthly review signed what it saw; an audit must be able to see the same numbers,
    and then see what was corrected after.

    Example: The amended revenue, before and after the amendment
      Given a won lead "acme"
      And it is now Tuesday at 09:00
      When Sam amends entry 6 to an amount of 25000 because "the discount was left out"
      Then the March 2026 report as of Monday at 17:00 counts revenue won 30000
      And the March 2026 report counts revenue won 25000

    Example: A forgotten acceptance, before and after it was recorded
      Given a handed lead "acme"
      And it is now Wednesday at 09:00
      When Sam records the acceptance of Monday at 11:00 because "forgot to record it"
      Then the March 2026 report as of Tuesday at 12:00 reads 1 overdue and 0 decided in time
      And the March 2026 report reads 0 overdue and 1 decided in time
