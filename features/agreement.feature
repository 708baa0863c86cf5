Feature: The agreement between marketing and sales, version by version
  The service level agreement is a TOML document that both directors sign. Each time it
  is applied it becomes a new version; versions are never edited, so a step recorded in
  March is always judged by the promises that held in March.

  Dates are whole days in the agreement's own time zone (Chicago time here). Maria and
  Li work in marketing, Sam and Ola in sales; Pat is not on either team. "The agreement
  applies from ..." means both sides have signed it.

  Rule: The version in force at an instant is the latest-applied one whose dates contain it
    An agreement is revised when the numbers say so; the revision takes over from its
    first day, and the earlier version keeps governing what happened before.

    Example: An agreement is in force between its first and last day
      Given the agreement "2026 H1 growth agreement" applies from 1 January 2026 to 30 June 2026
      Then on 15 March 2026 at 10:00 the agreement in force is "2026 H1 growth agreement"
      And on 1 July 2026 at 10:00 no agreement is in force

    Example: The last day counts until local midnight
      Given the agreement "2026 H1 growth agreement" applies from 1 January 2026 to 30 June 2026
      Then on 30 June 2026 at 23:30 the agreement in force is "2026 H1 growth agreement"
      And on 31 December 2025 at 23:30 no agreement is in force

    Example: An agreement without an end date stays in force
      Given the agreement "Standing agreement" applies from 1 January 2026 onwards
      Then on 31 December 2030 at 12:00 the agreement in force is "Standing agreement"

    Example: A revision takes over mid-year
      Given the agreement "2026 growth agreement" applies from 1 January 2026 onwards
      And the agreement "2026 H2 revision" applies from 1 July 2026 onwards
      Then on 30 June 2026 at 17:00 the agreement in force is "2026 growth agreement"
      And on 1 July 2026 at 09:00 the agreement in force is "2026 H2 revision"

    Example: Where versions overlap, the one applied last wins
      Given the agreement "2026 plan" applies from 1 January 2026 onwards
      And the agreement "2026 H1 correction" applies from 1 January 2026 to 30 June 2026
      Then on 16 March 2026 at 10:00 the agreement in force is "2026 H1 correction"
      And on 17 August 2026 at 10:00 the agreement in force is "2026 plan"

    Example: Each step carries the agreement in force when it happened
      Given the agreement "2026 H1 growth agreement" applies from 1 January 2026 to 30 June 2026
      And the agreement "2026 H2 revision" applies from 1 July 2026 onwards
      When Maria captures lead "ACME-7" from "webinar" on 2 July 2026 at 10:00
      Then the lead's "captured" occurred on 2 July 2026 at 10:00
      And it was recorded under the "2026 H2 revision"

    Example: A step taken while no agreement is in force carries none
      Given the agreement "2026 H1 growth agreement" applies from 1 January 2026 to 30 June 2026
      When Maria captures lead "ACME-8" from "webinar" on 1 September 2026 at 10:00
      Then the lead's "captured" occurred on 1 September 2026 at 10:00
      And it was recorded under no agreement

  Rule: A malformed agreement is refused with the key at fault and the reason
    A signed agreement must mean exactly one thing. A typo in a key, a rate above 100%,
    a closing time before the opening or one person on both sides of the team would
    silently change the promises, so the whole file is refused and no version is recorded.

    Scenario Outline: An agreement with <key> set to <value> is refused
      When Maria applies the agreement with <key> = <value>
      Then it is refused, saying "<reason>"
      And no agreement version is recorded

      Examples:
        | key                               | value               | reason                                                                                                      |
        | bonus                             | 5                   | bonus: unknown key                                                                                          |
        | sales.bonus_per_deal              | 500                 | sales.bonus_per_deal: unknown key                                                                           |
        | goal.revenue                      | "a lot"             | goal.revenue: must be a number                                                                              |
        | goal.revenue                      | 1200000.005         | goal.revenue: must be money to the cent (at most 2 decimals), got 1200000.005                               |
        | goal.average_deal                 | 29999.999           | goal.average_deal: must be money to the cent (at most 2 decimals), got 29999.999                            |
        | effective_from                    | "first of January"  | effective_from: must be a date                                                                              |
        | effective_to                      | "2026-12-31"        | effective_to: must be a date (YYYY-MM-DD), got '2026-12-31' (in quotes it is a text: write it without them) |
        | sales.decide_within_hours         | "8"                 | sales.decide_within_hours: must be a number, got '8' (in quotes it is a text: write it without them)        |
        | sales.decide_within_hours         | 0.000000001         | sales.decide_within_hours: must be at least one minute (0.0167 hours), got 0.000000001                      |
        | marketing.qualified_per_month     | 40.5                | marketing.qualified_per_month: must be a whole number                                                       |
        | calendar.workdays                 | "mon-fri"           | calendar.workdays: must be a list                                                                           |
        | marketing.rates.visit_to_captured | 1.5                 | marketing.rates.visit_to_captured: must be a rate                                                           |
        | sales.rates.proposal_to_won       | -0.35               | sales.rates.proposal_to_won: must be a rate                                                                 |
        | timezone                          | "Central Time"      | timezone: unknown time zone                                                                                 |
        | timezone                          | "localtime"         | timezone: unknown time zone                                                                                 |
        | effective_to                      | 2025-12-31          | effective_to: is before effective_from                                                                      |
        | calendar.hours                    | ["17:00", "09:00"]  | calendar.hours: must be increasing                                                                          |
        | calendar.hours                    | ["09:00", "09:00"]  | calendar.hours: must be increasing                                                                          |
        | sales.follow_up                   | { attempts = 2 }    | sales.follow_up.within_days: is required                                                                    |
        | sales.follow_up                   | { within_days = 7 } | sales.follow_up.attempts: is required                                                                       |
        | effective_from                    | 2026-01-01T09:00:00 | effective_from: must be a date (YYYY-MM-DD), got 2026-01-01T09:00:00                                        |
        | team.sales                        | ["sam", "maria"]    | team: 'maria' is on both sides                                                                              |
        | team.sales                        | []                  | team.sales: must name at least one person                                                                   |
        | team.sales                        | ["sa\u200bm"]       | team.sales: the name holds an invisible character                                                           |

    Example: An agreement without a decision window is refused
      When Maria applies the agreement without sales.decide_within_hours
      Then it is refused, saying "sales.decide_within_hours: is required"
      And no agreement version is recorded

    Example: A valid agreement is recorded as version 1
      When Maria applies the agreement with name = "2026 growth agreement"
      Then the agreement history lists version 1 "2026 growth agreement", applied by maria

  Rule: When the agreement names a team, only marketing members record marketing's steps and only sales members record sales' steps
    Each side answers for its own promises: marketing for what it captures, qualifies
    and hands over; sales for its decisions, follow-ups, proposals and results.

    Example: A salesperson cannot hand a lead over
      Given the 2026 growth agreement is in force
      And a qualified lead "ACME-1"
      When Sam hands the lead to Ola on Monday at 14:00
      Then it is refused, saying "'sam' may not record handed"
      And nothing is written

    Example: A marketer cannot accept a lead for sales
      Given the 2026 growth agreement is in force
      And a handed lead "ACME-1"
      When Maria accepts the lead on Monday at 15:30
      Then it is refused, saying "'maria' may not record accepted"
      And nothing is written

    Example: Someone outside both teams cannot capture a lead
      Given the 2026 growth agreement is in force
      When Pat captures lead "ACME-9" from "webinar" on Monday at 09:00
      Then it is refused, saying "'pat' may not record captured"
      And nothing is written

    Example: Any member of sales may close a deal
      Given the 2026 growth agreement is in force
      And a lead "ACME-1" with a proposal of 30000
      When Ola wins the deal on Friday at 16:00
      Then the deal is won for 30000

    Example: Without a team, anyone may record any step
      Given the 2026 growth agreement without a team is in force
      And a handed lead "ACME-1"
      When Pat accepts the lead on Monday at 15:30
      Then the lead is accepted

    Example: The team applies only while its agreement is in force
      Given the 2026 growth agreement is in force
      When Pat captures lead "OLD-1" from "trade show" on 31 December 2025 at 10:00
      Then the lead is captured

  Rule: Without a team, an applied version is in force at once
    An agreement that names no team is a note of the promises, not a contract between two
    named sides: whoever applies it puts it in force.

    Example: Pat applies an agreement without a team and it is in force at once
      When Pat applies the agreement without team
      Then on Monday at 10:00 the agreement in force is "2026 growth agreement"
      And the agreement history lists version 1 "2026 growth agreement", applied by pat

  Rule: When the agreement names a team, a version is in force only once both sides have signed it
    The agreement is a contract between marketing and sales: neither side may change the
    other's promises alone. A member of one side proposes a version and signs it for that
    side; a member of the other side signs it too, and from that moment it is in force.
    A team named in the version in force binds its next version too, even one whose file
    names no team.

    Example: Maria proposes the H2 agreement; it is not in force until Sam signs it
      Given the agreement "2026 H1 growth agreement" applies from 1 January 2026 to 30 June 2026
      And it is now 22 June 2026 at 10:00
      When Maria proposes the agreement "2026 H2 revision" from 1 July 2026 onwards
      Then on 2 July 2026 at 10:00 no agreement is in force
      When Sam signs version 2 on 23 June 2026 at 09:00
      Then on 2 July 2026 at 10:00 the agreement in force is "2026 H2 revision"
      And the agreement history shows version 2 proposed by maria, signed by maria for marketing and sam for sales

    Example: A lax agreement signed by sales alone changes nothing
      Given the 2026 growth agreement is in force
      When Sam applies the agreement with sales.decide_within_hours = 800
      Then on Monday at 10:00 sales must decide within 8 business hours
      And the agreement history shows version 2 awaiting a signature from marketing

    Example: An agreement without a team cannot escape the team in force
      Given the 2026 growth agreement is in force
      When Sam applies the agreement without team
      Then the agreement history shows version 2 awaiting a signature from marketing
      And on Monday at 10:00 the agreement in force is version 1

    Example: Steps recorded before the second signature stay under the earlier version
      Given the 2026 growth agreement is in force
      And Maria has proposed the agreement "2026 growth agreement, faster decisions" on Monday at 09:00
      And it is now Monday at 10:00
      When Li captures lead "ACME-3" from "webinar" on Monday at 10:00
      And Sam signs version 2 on Monday at 11:00
      And Li captures lead "ACME-4" from "webinar" on Monday at 11:00
      Then lead "ACME-3" was recorded under the "2026 growth agreement"
      And lead "ACME-4" was recorded under the "2026 growth agreement, faster decisions"

    Example: The second signature must come from the other side
      Given the 2026 growth agreement is in force
      When Maria applies the agreement with sales.decide_within_hours = 4
      And Li signs version 2 on Monday at 09:00
      Then it is refused, saying "version 2 is already signed for marketing; it needs a signature from sales (sam, ola)"
      And the agreement history shows version 2 awaiting a signature from sales

    Example: Someone outside both teams can neither propose nor sign
      Given the 2026 growth agreement is in force
      When Pat applies the agreement with sales.decide_within_hours = 4
      Then it is refused, saying "'pat' is on neither side of the team (marketing: maria, li; sales: sam, ola)"
      And the agreement history lists only version 1

    Example: A version in force needs no further signature
      Given the 2026 growth agreement is in force
      When Ola signs version 1 on Monday at 09:00
      Then it is refused, saying "version 1 is already in force"

    Example: A proposal overtaken by another version must be proposed again
      Given the 2026 growth agreement is in force
      When Maria applies the agreement with sales.decide_within_hours = 6
      And Sam applies the agreement with sales.decide_within_hours = 7
      And Li signs version 3 on Monday at 09:00
      And Sam signs version 2 on Monday at 10:00
      Then it is refused, saying "version 2 was overtaken by version 3"
      And on Monday at 11:00 sales must decide within 7 business hours

  Rule: Applying terms identical to a recorded version writes nothing
    A second copy of the same promises would read as a revision in the history, and
    nobody could tell which copy the teams meant.

    Example: Maria applies the same agreement twice
      Given the 2026 growth agreement is in force
      When Maria applies the agreement with name = "2026 growth agreement"
      Then she is told it is identical to version 1
      And the agreement history lists only version 1

  Rule: A file can be checked against the version in force without recording anything
    Before anyone signs, both sides want to see exactly which promises would change. The
    file is compared with the version in force on its first day (or, when none is, the
    last version to come into force).

    Example: Sam checks a lax agreement before proposing it
      Given the 2026 growth agreement is in force
      When Sam checks the agreement with sales.decide_within_hours = 800
      Then the check shows sales.decide_within_hours changing from 8 to 800
      And the agreement history lists only version 1

  Rule: When the agreement names a team, leads are handed only to its sales side
    A lead handed to someone outside sales is handed to nobody: no one on the team is
    bound to decide on it in time, and the handoff would count for no one.

    Example: Li cannot hand a lead to someone outside sales
      Given the 2026 growth agreement is in force
      And a qualified lead "ACME-1"
      When Li hands the lead to Bob on Monday at 10:00
      Then it is refused, saying "'bob' is not on the sales side of the agreement '2026 growth agreement' (sam, ola)"
      And nothing is written

    Example: Without a team, a lead may be handed to anyone
      Given the 2026 growth agreement without a team is in force
      And a qualified lead "ACME-1"
      When Li hands the lead to Bob on Monday at 10:00
      Then the lead is handed to Bob
