Feature: Business time: when a handoff must be decided
  Sales promises to accept or reject every handed lead within a number of business
  hours. Only the agreement's opening hours, on its workdays that are not holidays,
  count; nights, weekends and holidays do not. All of it is read in the agreement's
  time zone, so the clock on the office wall is what counts, also across daylight
  saving changes. Instants in UTC are what the audit trail stores.

  Background:
    Given an agreement in America/Chicago time, open Monday to Friday from 09:00 to 17:00
    And sales must decide within 8 business hours of a handoff

  Rule: The decision window counts only opening hours on workdays
    A lead handed late on Friday has not waited all weekend: sales had only the
    business hours that actually passed.

    Example: A handoff on a Tuesday morning is due the same day at closing
      When a lead is handed on Tuesday 3 March 2026 at 09:00
      Then the decision is due on Tuesday 3 March 2026 at 17:00, Chicago time
      And that is 2026-03-03 at 23:00 UTC

    Example: A handoff on Friday afternoon is due on Monday
      When a lead is handed on Friday 9 January 2026 at 14:00
      Then the decision is due on Monday 12 January 2026 at 14:00, Chicago time
      And that is 2026-01-12 at 20:00 UTC

  Rule: A handoff made outside opening hours starts the clock at the next opening
    Nobody is expected to decide at night; the SLA clock starts when the office opens.

    Example: A lead handed at night is due at the end of the next business day
      When a lead is handed on Tuesday 3 March 2026 at 22:30
      Then the decision is due on Wednesday 4 March 2026 at 17:00, Chicago time
      And that is 2026-03-04 at 23:00 UTC

    Example: A lead handed on Saturday is due at the end of Monday
      When a lead is handed on Saturday 10 January 2026 at 11:00
      Then the decision is due on Monday 12 January 2026 at 17:00, Chicago time
      And that is 2026-01-12 at 23:00 UTC

  Rule: Holidays named in the agreement do not count
    The agreement lists the office's own days off; a handoff before one is not late
    because of it.

    Example: A handoff before Memorial Day is due on Tuesday
      Given 25 May 2026 is a holiday in the agreement
      When a lead is handed on Friday 22 May 2026 at 16:00
      Then the decision is due on Tuesday 26 May 2026 at 16:00, Chicago time
      And that is 2026-05-26 at 21:00 UTC

  Rule: The public holidays of the agreement's country do not count
    With `country_holidays = "US"` nobody has to type in the federal holidays, and
    observed days (a holiday falling on a weekend) are honoured too.

    Example: Independence Day observed on Friday 3 July 2026
      Given the agreement follows the public holidays of "US"
      When a lead is handed on Thursday 2 July 2026 at 11:00
      Then the decision is due on Monday 6 July 2026 at 11:00, Chicago time
      And that is 2026-07-06 at 16:00 UTC

    Example: Thanksgiving 2026
      Given the agreement follows the public holidays of "US"
      When a lead is handed on Wednesday 25 November 2026 at 13:00
      Then the decision is due on Friday 27 November 2026 at 13:00, Chicago time
      And that is 2026-11-27 at 19:00 UTC

  Rule: The public holidays of the agreement's state or region do not count either
    Many days off are a state's or a region's, not the country's: California's Cesar
    Chavez Day, Bavaria's Epiphany. With `country_holidays = "US-CA"` (the country, then
    its region as the holidays calendar names it) the region's public holidays do not
    count, beside the country's.

    Example: Cesar Chavez Day in California
      Given the agreement follows the public holidays of "US-CA"
      When a lead is handed on Monday 30 March 2026 at 11:00
      Then the decision is due on Wednesday 1 April 2026 at 11:00, Chicago time
      And that is 2026-04-01 at 16:00 UTC

  Rule: Opening hours follow the local clock across daylight saving time
    On 8 March 2026 Chicago moves from UTC-6 to UTC-5. The office still opens at 09:00
    on the wall clock, so the due instant keeps its local time and its UTC time moves.

    Example: A handoff on the Friday before the change is due on Monday at the same local time
      When a lead is handed on Friday 6 March 2026 at 15:00
      Then the decision is due on Monday 9 March 2026 at 15:00, Chicago time
      And that is 2026-03-09 at 20:00 UTC

  Rule: An office open round the clock writes its hours from 00:00 to 24:00
    A team that answers leads day and night counts every hour of its workdays, midnight
    included: 24:00 is the end of the day, when the next one begins.

    Example: A lead handed late on Monday is due early on Tuesday
      Given the office is open from 00:00 to 24:00
      When a lead is handed on Monday 2 March 2026 at 22:00
      Then the decision is due on Tuesday 3 March 2026 at 06:00, Chicago time
      And that is 2026-03-03 at 12:00 UTC

    Example: The weekend still does not count
      Given the office is open from 00:00 to 24:00
      When a lead is handed on Friday 6 March 2026 at 20:00
      Then the decision is due on Monday 9 March 2026 at 04:00, Chicago time
      And that is 2026-03-09 at 09:00 UTC

    Example: A decision after midnight counts the hours of the night
      Given the office is open from 00:00 to 24:00
      When a lead is handed on Tuesday 3 March 2026 at 23:00
      And Sam decides on Wednesday 4 March 2026 at 01:30
      Then his response time is 2.5 business hours

  Rule: Response time is the business hours from the handoff to the decision
    Sales is measured only on the hours it could have acted.

    Example: A decision on Monday morning after a Friday afternoon handoff
      When a lead is handed on Friday 6 March 2026 at 15:00
      And Sam decides on Monday 9 March 2026 at 10:00
      Then his response time is 3 business hours

    Example: A decision early in the morning after a handoff at night
      When a lead is handed on Tuesday 3 March 2026 at 22:30
      And Sam decides on Wednesday 4 March 2026 at 09:45
      Then his response time is 0.75 business hours

    Example: A decision at night counts only up to closing time
      When a lead is handed on Tuesday 3 March 2026 at 15:30
      And Sam decides on Tuesday 3 March 2026 at 21:00
      Then his response time is 1.5 business hours
