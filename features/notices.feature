Feature: Notices to sales before and after a breach
  Sales promises to accept or reject every handed lead within the agreement's number of
  business hours (in the examples, the 2026 growth agreement's 8, from 09:00 to 17:00
  Chicago time, Monday to Friday). A scheduled job, `handoff sla
  notify`, warns the sales team while there is still time to keep that promise,
  tells them when it is broken, and sums it all up each business morning.

  Background:
    Given it is now 1 March 2026 at 08:00
    And the 2026 growth agreement without a team is in force

  Rule: Sales is warned when half, three quarters and nine tenths of the decision window are used
    A warning while there is still time is worth more than an alarm afterwards. The
    window counts business hours only: a lead handed on Monday at 09:00 has used half
    of its 8 hours at 13:00, three quarters at 15:00, nine tenths at 16:12, and is due
    at 17:00. A run that comes late warns at the mark reached, not at every mark passed.

    Example: Nothing to say before half the window is used
      Given a lead "acme" handed to sam on Monday at 09:00
      When the notices are sent on Monday at 12:59
      Then sales has not been warned about "acme"

    Example: Warned at each mark as the window runs out
      Given a lead "acme" handed to sam on Monday at 09:00
      When the notices are sent on Monday at 13:00, 15:00 and 16:12
      Then sales has been warned that "acme" has used 50 %, 75 % and 90 % of its window

    Example: A late run warns once, at the mark reached
      Given a lead "acme" handed to sam on Monday at 09:00
      When the notices are sent on Monday at 16:30
      Then sales has been warned that "acme" has used 90 % of its window

    Example: A decided lead needs no warning
      Given a lead "acme" handed to sam on Monday at 09:00
      And it is now Monday at 12:00
      When sam accepts the lead on Monday at 12:00
      And the notices are sent on Monday at 13:00
      Then sales has not been warned about "acme"

  Rule: Sales is told once when a handoff becomes overdue
    Due at 17:00 means still in time at 17:00; a minute later the promise is broken,
    and the owner's team hears of it once, however often the job runs.

    Example: Told of the breach a minute after the due instant
      Given a lead "acme" handed to sam on Monday at 09:00
      When the notices are sent on Monday at 17:00, 17:01 and 17:30
      Then sales has been warned that "acme" has used 90 % of its window
      And sales has been told once that "acme" is overdue

  Rule: Each notice is sent once, and one that could not be delivered is sent at the next run
    The job runs every few minutes; the team must not hear the same thing twice, nor
    miss a warning because the chat was down for a moment.

    Example: Running again sends nothing new
      Given a lead "acme" handed to sam on Monday at 09:00
      When the notices are sent on Monday at 13:00, 13:05 and 13:10
      Then sales has been warned that "acme" has used 50 % of its window
      And sales has received one digest, for Monday 2 March 2026

    Example: The chat was down at the first run
      Given a lead "acme" handed to sam on Monday at 09:00
      And the sales chat is down
      When the notices are sent on Monday at 13:00
      And the sales chat is back
      And the notices are sent on Monday at 13:10
      Then sales has been warned that "acme" has used 50 % of its window

  Rule: Each business morning sales gets a digest of what is overdue and what is at risk
    The first run after opening time on a business day sends the day's digest, once:
    the handoffs overdue and at risk now, beside the same counts at the previous
    business day's opening, and what became of the handoffs since.

    Example: Monday's digest counts Friday's leftovers
      Given a lead "acme" handed to sam on Thursday 26 February 2026 at 10:00
      And a lead "bolt" handed to ola on Friday 27 February 2026 at 13:00
      When the notices are sent on Monday at 09:00 and 11:00
      Then sales has received one digest, for Monday 2 March 2026
      And the digest reads 1 overdue and 1 at risk
